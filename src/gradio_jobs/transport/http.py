"""HTTP requests to the app: one ``httpx.AsyncClient`` per gradio-jobs client."""

from __future__ import annotations

import asyncio
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
# Idle connections are dropped before the server (uvicorn: 5 s) does, so a request is never
# sent on a connection the server is closing at that moment.
#
# httpcore's pool scans every connection for every waiting request whenever anything
# changes: with thousands of requests queued in it, it spends all its time there (measured:
# 2,000 joins made no progress in 30 s), and each scan costs more per pooled connection.
# So requests queue here instead, in order, and no more reach the pool than it has
# connections; the sessions' long-lived event streams get a pool of their own.
MAX_REQUESTS_IN_FLIGHT = 8
REQUEST_LIMITS = httpx.Limits(
    max_connections=MAX_REQUESTS_IN_FLIGHT, max_keepalive_connections=MAX_REQUESTS_IN_FLIGHT, keepalive_expiry=2.0
)
STREAM_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=8, keepalive_expiry=2.0)


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
            "limits": REQUEST_LIMITS,
            "follow_redirects": True,
        }
        options.update(httpx_kwargs or {})
        self.client = httpx.AsyncClient(**options)
        #: The event streams' own client, so a stream never waits behind (or blocks) requests.
        self.stream_client = httpx.AsyncClient(**{**options, "limits": STREAM_LIMITS})
        self._in_flight = asyncio.Semaphore(MAX_REQUESTS_IN_FLIGHT)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.stream_client.aclose()

    async def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            async with self._in_flight:
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
