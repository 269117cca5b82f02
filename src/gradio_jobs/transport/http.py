"""HTTP requests to the app: one ``httpx.AsyncClient`` per gradio-jobs client."""

from __future__ import annotations

import email.utils
import logging
from datetime import datetime, timezone
from typing import Any, Mapping

import httpx

from .. import __version__
from .._exceptions import QueueFullError, ServerError, ServerUnreachableError
from ..protocol.responses import read_join, read_json, raise_for_status

__all__ = ["HttpTransport"]

logger = logging.getLogger("gradio_jobs")

# A request that gets no answer for 30 s is treated as a frozen server.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


class HttpTransport:
    """The requests a client makes, each mapped to a precise error on failure."""

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        timeout: httpx.Timeout | float | None = None,
        httpx_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        base_headers = {"user-agent": f"gradio-jobs/{__version__}"}
        base_headers.update(headers or {})
        options: dict[str, Any] = {
            "headers": base_headers,
            "verify": verify,
            "timeout": DEFAULT_TIMEOUT if timeout is None else timeout,
            "limits": DEFAULT_LIMITS,
            "follow_redirects": True,
        }
        options.update(httpx_kwargs or {})
        self.client = httpx.AsyncClient(**options)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never went out: safe to send again.
            raise ServerUnreachableError(
                f"{what}: cannot connect to {url} ({type(exc).__name__}: {exc})", request_sent=False
            ) from exc
        except httpx.TimeoutException as exc:
            raise ServerUnreachableError(f"{what}: the server did not answer in time ({url})") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachableError(f"{what}: cannot reach {url} ({type(exc).__name__}: {exc})") from exc

    async def get_json(self, url: str, what: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await self._send("GET", url, what, params=params)
        return read_json(response.status_code, response.content, what)

    async def post_json(self, url: str, body: Any, what: str) -> Any:
        response = await self._send("POST", url, what, json=body)
        return read_json(response.status_code, response.content, what)

    async def post_ok(self, url: str, body: Any, what: str) -> None:
        response = await self._send("POST", url, what, json=body)
        raise_for_status(response.status_code, response.content, what)

    async def join(self, url: str, body: Mapping[str, Any]) -> str:
        response = await self._send("POST", url, "Joining the queue", json=body)
        try:
            return read_join(response.status_code, response.content)
        except (ServerError, QueueFullError) as exc:
            exc.retry_after = _retry_after(response.headers.get("retry-after"))
            raise


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (it may also be an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
