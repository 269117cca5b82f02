"""HTTP requests to the app: one ``httpx.AsyncClient`` per gradio-jobs client."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import inspect
import logging
import os
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, TypeVar

import httpx

from .._exceptions import AuthenticationError, QueueFullError, ServerError, ServerUnreachableError
from .._limits import (
    FILE_IO_THREADS,
    KEEPALIVE_EXPIRY,
    MAX_REQUESTS_IN_FLIGHT,
    MAX_TRANSFERS,
    REQUEST_TIMEOUT,
    STREAM_KEEPALIVE_CONNECTIONS,
    TRANSFER_TIMEOUT,
)
from .._version import __version__
from ..protocol.responses import detail_of, raise_for_status, read_join, read_json
from .addresses import PrivateNetworkGuard
from .errors import httpx_text, unreachable_error

__all__ = ["HttpTransport", "call_extensions", "origin_of", "timeout_of"]

T = TypeVar("T")

logger = logging.getLogger("gradio_jobs")

REQUEST_LIMITS = httpx.Limits(
    max_connections=MAX_REQUESTS_IN_FLIGHT,
    max_keepalive_connections=MAX_REQUESTS_IN_FLIGHT,
    keepalive_expiry=KEEPALIVE_EXPIRY,
)
_DOWNLOAD_LIMITS = httpx.Limits(
    max_connections=MAX_TRANSFERS, max_keepalive_connections=MAX_TRANSFERS, keepalive_expiry=KEEPALIVE_EXPIRY
)
#: ``httpx_kwargs`` that mean the same to a sync client (an async ``transport`` or ``mounts`` do not).
_SYNC_SAFE_KWARGS = frozenset({
    "auth", "cert", "cookies", "default_encoding", "follow_redirects", "headers", "http1", "http2",
    "limits", "max_redirects", "params", "proxy", "proxies", "timeout", "trust_env", "verify",
})
STREAM_LIMITS = httpx.Limits(
    max_connections=None, max_keepalive_connections=STREAM_KEEPALIVE_CONNECTIONS, keepalive_expiry=KEEPALIVE_EXPIRY
)


def timeout_of(limits: tuple[float, float]) -> httpx.Timeout:
    """An httpx timeout from a ``(connect, everything else)`` pair of seconds (see ``_limits``)."""
    connect, rest = limits
    return httpx.Timeout(rest, connect=connect)


def origin_of(url: httpx.URL | str) -> tuple[str, str, int | None]:
    """(scheme, host, port): two URLs with the same origin belong to the same server."""
    url = httpx.URL(url)
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), port


# Headers that carry credentials: sent to the app's own origin only.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-hf-authorization")

# The request extension that carries one call's own headers (``submit(..., headers=...)``):
# scoped like the client's, and a redirect keeps them (httpx copies a request's extensions).
_CALL_HEADERS = "gradio_jobs.call_headers"


def call_extensions(headers: Mapping[str, str] | None) -> dict[str, Any]:
    """The request extensions that send one call's ``headers`` to the app (and nowhere else)."""
    return {_CALL_HEADERS: headers} if headers else {}


class HttpTransport:
    """The requests a client makes, each mapped to a precise error on failure.

    ``app_url`` is the app's address: its credentials (the user's ``headers``, the Hugging
    Face token, the login cookies, ``Authorization``) go to that origin only. Every request,
    including each hop of a redirect, passes a hook that adds them for the app and strips
    them for anyone else (a file URL on another host, a redirect away from the app).

    ``timeout`` (or ``httpx_kwargs["timeout"]``, which wins) is the user's httpx timeout: it
    governs every request, uploads and downloads included (:attr:`transfer_timeout`).
    File downloads pass Private Network Access (``addresses``) unless
    ``allow_private_network`` is true.
    """

    def __init__(
        self,
        app_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        timeout: httpx.Timeout | float | None = None,
        httpx_kwargs: Mapping[str, Any] | None = None,
        allow_private_network: bool = False,
    ) -> None:
        self.app_origin = origin_of(app_url)
        #: Private Network Access for file URLs (``addresses``); ``allow_private_network``
        #: (the ``allow_private_network_files`` option) turns it off.
        self.private_network = PrivateNetworkGuard(app_url, allow=allow_private_network, origin_of=origin_of)
        self._app_headers = dict(headers or {})
        options: dict[str, Any] = {
            "headers": {"user-agent": f"gradio-jobs/{__version__}"},
            "verify": verify,
            "timeout": timeout_of(REQUEST_TIMEOUT) if timeout is None else timeout,
            "limits": REQUEST_LIMITS,
            "follow_redirects": True,
        }
        if isinstance(verify, (str, os.PathLike)):
            # A CA bundle: httpx wants it as an SSL context.
            options["verify"] = ssl.create_default_context(cafile=os.fspath(verify))
        self._verify = options["verify"]
        extra = dict(httpx_kwargs or {})
        user_hooks = {kind: list(fns) for kind, fns in dict(extra.pop("event_hooks", None) or {}).items()}
        hooks = {kind: [_awaitable(h) for h in fns] for kind, fns in user_hooks.items()}
        options.update(extra)
        #: The timeout of uploads and downloads: the user's (``httpx_kwargs["timeout"]`` or
        #: ``timeout``) when given, a number or an ``httpx.Timeout``, else ``TRANSFER_TIMEOUT``.
        if "timeout" in extra or timeout is not None:
            self.transfer_timeout = httpx.Timeout(extra.get("timeout", timeout))
        else:
            self.transfer_timeout = timeout_of(TRANSFER_TIMEOUT)
        # Downloads read their bytes on a file thread with a sync client of the same settings
        # (httpx's asyncio stream reads 64 KiB at a time, pausing the socket in between: a
        # third slower, measured), unless a setting has no sync form (an async transport, an
        # async hook): then they stay on the loop.
        self._sync_options: dict[str, Any] | None = None
        if set(extra) <= _SYNC_SAFE_KWARGS and not any(
            inspect.iscoroutinefunction(h) for fns in user_hooks.values() for h in fns
        ):
            sync_hooks = {kind: list(fns) for kind, fns in user_hooks.items()}
            sync_hooks["request"] = [*sync_hooks.get("request", []), self._scope, self.private_network.check_fetch_sync]
            self._sync_options = {**options, "event_hooks": sync_hooks, "limits": _DOWNLOAD_LIMITS}
        self._sync_client: httpx.Client | None = None
        self._sync_client_lock = threading.Lock()
        # The scoping hook runs last, so nothing another hook adds can leak either.
        user_request_hooks = hooks.get("request", [])
        hooks["request"] = [
            *user_request_hooks, self._scope_credentials, _awaitable(self.private_network.watch_app_request)
        ]
        options["event_hooks"] = hooks
        self.client = httpx.AsyncClient(**options)
        #: The event streams' own client, so a stream never waits behind (or blocks) requests.
        self.stream_client = httpx.AsyncClient(**{**options, "limits": STREAM_LIMITS})
        # Downloads on the loop (see ``stream``) get a client of their own too, made at the
        # first one: every connection of a download client (this one and the sync one) was
        # opened by a file fetch and judged then by Private Network Access, so reusing one
        # never skips the check.
        download_hooks = {
            **hooks, "request": [*user_request_hooks, self._scope_credentials, self.private_network.check_fetch]
        }
        self._download_options = {**options, "event_hooks": download_hooks, "limits": _DOWNLOAD_LIMITS}
        self._download_client: httpx.AsyncClient | None = None
        self._in_flight = asyncio.Semaphore(MAX_REQUESTS_IN_FLIGHT)
        self._transfers = asyncio.Semaphore(MAX_TRANSFERS)
        #: The websockets' TLS context, built on first use (see ``websocket_tls``).
        self._tls: asyncio.Future[ssl.SSLContext] | None = None
        self._file_io: ThreadPoolExecutor | None = None

    @property
    def app_headers(self) -> dict[str, str]:
        """The headers every request to the app carries (the client's own, the user's, the token)."""
        return {"user-agent": f"gradio-jobs/{__version__}", **self._app_headers}

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies sent to the app (the login's, and those given in ``httpx_kwargs``)."""
        return {cookie.name: cookie.value for cookie in self.client.cookies.jar if cookie.value is not None}

    def is_app_url(self, url: httpx.URL | str) -> bool:
        """Whether ``url`` has the app's origin (scheme, host, port): only there do credentials go."""
        return origin_of(url) == self.app_origin

    async def _scope_credentials(self, request: httpx.Request) -> None:
        self._scope(request)

    def _scope(self, request: httpx.Request) -> None:
        """Credentials go to the app's own origin only: added there, stripped anywhere else.

        A call's own headers (see :func:`call_extensions`) are scoped the same way and win
        over the client's.
        """
        call_headers: Mapping[str, str] = request.extensions.get(_CALL_HEADERS) or {}
        if self.is_app_url(request.url):
            for name, value in self._app_headers.items():
                request.headers[name] = value
            for name, value in call_headers.items():  # after: a call's own win
                request.headers[name] = value
            return
        for name in (*self._app_headers, *call_headers, *_CREDENTIAL_HEADERS):
            if name in request.headers:
                del request.headers[name]

    async def websocket_options(
        self, url: str, call_headers: Mapping[str, str] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The ``ws(s)://`` address of the app's http(s) ``url``, with the options for a websocket there.

        ``url`` must be on the app's origin (else ``ValueError``): the options carry its
        credentials (the user's headers, the login cookies) and ``call_headers``, one call's
        own headers, which win over the client's. For ``wss://`` they carry the
        TLS context of this transport's ``verify`` setting, built once, on first use, in a
        file I/O thread (loading CA certificates reads files), and reused for every later
        websocket; for ``ws://`` the ``ssl`` option is None.
        """
        if not self.is_app_url(url):
            raise ValueError(f"{url} is not on the app's origin")
        url = "ws" + url[len("http"):]
        headers = {"user-agent": f"gradio-jobs/{__version__}", **self._app_headers, **(call_headers or {})}
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.client.cookies.jar)
        if cookies:
            headers["cookie"] = cookies
        tls = await self.websocket_tls() if url.startswith("wss://") else None
        return url, {"additional_headers": headers, "ssl": tls}

    async def websocket_tls(self) -> ssl.SSLContext:
        """The TLS context for this transport's ``wss://`` websockets: one per transport.

        ``verify`` as given to the transport decides it: an ``ssl.SSLContext`` (or a CA
        bundle path, turned into one at construction) is used as is; ``False`` gives a
        context that checks neither the certificate nor the host name; ``True`` the
        system's default trust store. Concurrent first calls share one build.
        """
        if self._tls is None:
            self._tls = asyncio.ensure_future(self.run_file_io(_websocket_context, self._verify))
        return await asyncio.shield(self._tls)

    async def login(self, url: str, username: str, password: str) -> None:
        """Log in through the app's login route; its cookies then go with every request."""
        response = await self.send("POST", url, "Logging in", data={"username": username, "password": password})
        if response.status_code in (400, 401, 403):
            app = url.removesuffix("login")  # the official client names the app, not its login route
            raise AuthenticationError(
                f"Could not login to {app}. Invalid credentials. (wrong username or password; "
                f"{response.status_code}: {detail_of(response.content)})",
                status_code=response.status_code,
                body=response.text[:2000],
            )
        raise_for_status(response.status_code, response.content, "Logging in")
        # The event streams and downloads need the session cookies too.
        self.stream_client.cookies = self.client.cookies

    def file_io_executor(self) -> ThreadPoolExecutor:
        """This transport's pool for file-system work and downloads (``FILE_IO_THREADS`` +
        ``MAX_TRANSFERS`` threads named ``gradio-jobs-files``, started only as work comes);
        :meth:`aclose` stops it."""
        if self._file_io is None:
            # Downloads hold a thread each for their whole transfer: small file work gets its own.
            threads = FILE_IO_THREADS + MAX_TRANSFERS
            self._file_io = ThreadPoolExecutor(threads, thread_name_prefix="gradio-jobs-files")
        return self._file_io

    def run_file_io(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run the blocking ``fn(*args)`` on :meth:`file_io_executor`; await the future for its result.

        Must be called from a running event loop. Cancelling the future does not stop a call
        that already started (threads cannot be interrupted): it only stops the waiting.
        """
        return asyncio.get_running_loop().run_in_executor(self.file_io_executor(), fn, *args)

    @property
    def threaded_downloads(self) -> bool:
        """Downloads can run whole on a file thread (see :meth:`sync_stream`)."""
        return self._sync_options is not None

    @contextlib.contextmanager
    def sync_stream(self, method: str, url: str, what: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A streamed response read on the calling (file I/O) thread, never on the loop.

        Same settings as the async clients: TLS, proxies, the login cookies, the user's
        hooks, and credentials sent to the app's origin only (every request and redirect hop
        passes the same scoping, and Private Network Access as in :meth:`stream`). Transport
        failures become :class:`ServerUnreachableError`. Only where :attr:`threaded_downloads`
        is true.
        """
        if self._sync_options is None:
            raise RuntimeError("this transport's settings have no sync form")
        with self._sync_client_lock:
            if self._sync_client is None:
                # Made at the first download, after any login: it starts with the login cookies.
                self._sync_client = httpx.Client(**{**self._sync_options, "cookies": self.client.cookies})
            client = self._sync_client
        with _unreachable(url, what), client.stream(method, url, **kwargs) as response:
            yield response

    @contextlib.asynccontextmanager
    async def transfer_slot(self) -> AsyncIterator[None]:
        """Hold one of the ``MAX_TRANSFERS`` transfer slots of this transport (an async context)."""
        async with self._transfers:
            yield

    async def aclose(self) -> None:
        """Close the connection pools (requests, streams, downloads) and stop the file I/O threads."""
        await self.client.aclose()
        await self.stream_client.aclose()
        download_client, self._download_client = self._download_client, None
        if download_client is not None:
            await download_client.aclose()
        pool, self._file_io = self._file_io, None
        sync_client, self._sync_client = self._sync_client, None
        if pool is not None or sync_client is not None:
            # Joining threads may wait for a write in progress: not on the loop.
            await asyncio.get_running_loop().run_in_executor(None, _shut_down, pool, sync_client)

    async def send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """One request, read whole; transport failures become :class:`ServerUnreachableError`.

        ``what`` names the step in error messages; ``kwargs`` go to ``httpx.AsyncClient.request``.
        At most ``MAX_REQUESTS_IN_FLIGHT`` requests of this transport are sent at once; the
        others wait their turn, in order.
        """
        with _unreachable(url, what):
            async with self._in_flight:
                return await self.client.request(method, url, **kwargs)

    @contextlib.asynccontextmanager
    async def stream(self, method: str, url: str, what: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed response (a download), on the download client's own connections.

        At most ``MAX_TRANSFERS`` at once per transport; arguments as for :meth:`send`.
        Each hop passes Private Network Access (``addresses``): a refused one raises
        :class:`PrivateNetworkError` before anything is sent to it.
        """
        if self._download_client is None:
            # Made at the first download, after any login: it starts with the login cookies.
            self._download_client = httpx.AsyncClient(**{**self._download_options, "cookies": self.client.cookies})
        async with self.transfer_slot():
            with _unreachable(url, what):
                async with self._download_client.stream(method, url, **kwargs) as response:
                    yield response

    async def get_json(self, url: str, what: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET url`` (with query ``params``, if any) and its JSON body; ``what`` names the
        step in error messages. An error status raises the matching gradio-jobs error."""
        response = await self.send("GET", url, what, params=params)
        return read_json(response.status_code, response.content, what)

    async def post_json(self, url: str, body: Any, what: str) -> Any:
        """``POST url`` with the JSON ``body``; the JSON answer (errors as in :meth:`get_json`)."""
        response = await self.send("POST", url, what, json=body)
        return read_json(response.status_code, response.content, what)

    async def post_ok(self, url: str, body: Any, what: str, call_headers: Mapping[str, str] | None = None) -> None:
        """``POST url`` with the JSON ``body``, for its status only (errors as in :meth:`get_json`);
        ``call_headers`` are one call's own headers (default none)."""
        response = await self.send("POST", url, what, json=body, extensions=call_extensions(call_headers))
        raise_for_status(response.status_code, response.content, what)

    async def join(self, url: str, body: Mapping[str, Any], call_headers: Mapping[str, str] | None = None) -> str:
        """``POST queue/join`` (``url``) with the job's ``body`` and the call's own headers
        (``call_headers``, default none); the server's event id.

        A refusal (queue full, server error) carries the server's ``Retry-After`` in seconds,
        if it sent one, as ``retry_after``.
        """
        extensions = call_extensions(call_headers)
        response = await self.send("POST", url, "Joining the queue", json=body, extensions=extensions)
        try:
            return read_join(response.status_code, response.content)
        except (ServerError, QueueFullError) as exc:
            exc.retry_after = _retry_after(response.headers.get("retry-after"))
            raise


def _websocket_context(verify: Any) -> ssl.SSLContext:
    """Build the websockets' TLS context for ``verify`` (blocking: it may read CA files)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        # Nothing is checked, so no certificates need loading.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context()


def _shut_down(pool: ThreadPoolExecutor | None, sync_client: httpx.Client | None) -> None:
    if pool is not None:
        pool.shutdown()
    if sync_client is not None:
        sync_client.close()


def _awaitable(hook: Callable[[Any], Any]) -> Callable[[Any], Awaitable[None]]:
    """The users of the sync ``Client`` write plain hooks; the async httpx client awaits them."""

    async def run(subject: Any) -> None:
        outcome = hook(subject)
        if inspect.isawaitable(outcome):
            await outcome

    return run


@contextlib.contextmanager
def _unreachable(url: str, what: str) -> Iterator[None]:
    """Map httpx's transport failures to :class:`ServerUnreachableError` (each also the httpx
    exception of the failure, its message first, as the official client shows it)."""
    try:
        yield
    except ServerUnreachableError:
        raise  # already mapped (a download's body raised it)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # The request never went out: safe to send again.
        raise unreachable_error(
            exc, f"{httpx_text(exc)} ({what}: cannot connect to {url})", request_sent=False
        ) from exc
    except httpx.TimeoutException as exc:
        raise unreachable_error(exc, f"{httpx_text(exc)} ({what}: the server did not answer in time, {url})") from exc
    except httpx.TransportError as exc:
        raise unreachable_error(exc, f"{httpx_text(exc)} ({what}: cannot reach {url})") from exc


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
