"""HTTP requests to the app: one ``httpx.AsyncClient`` per gradio-jobs client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import inspect
import logging
import os
import ssl
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, TypeVar

import httpx

from .._exceptions import (
    AnswerTooLargeError,
    AuthenticationError,
    ProtocolError,
    QueueFullError,
    ServerError,
    ServerUnreachableError,
    TransferTooSlowError,
)
from .._limits import (
    DECODE_PIECE,
    FILE_IO_THREADS,
    KEEPALIVE_EXPIRY,
    MAX_ANSWER_SIZE,
    MAX_MESSAGE_SIZE,
    MAX_REDIRECTS,
    MAX_REQUESTS_IN_FLIGHT,
    MAX_TRANSFERS,
    MIN_TRANSFER_RATE,
    REQUEST_TIMEOUT,
    STREAM_KEEPALIVE_CONNECTIONS,
    TRANSFER_TIMEOUT,
    TRANSFER_WINDOW,
)
from .._version import __version__
from ..protocol.responses import detail_of, raise_for_status, read_join, read_json
from .addresses import PrivateNetworkGuard
from .errors import TooManyRedirectsError, httpx_text, unreachable_error

__all__ = [
    "BodyDecoder",
    "HttpTransport",
    "RateFloor",
    "ServerLimits",
    "call_extensions",
    "decoded_chunks",
    "decoded_chunks_sync",
    "error_answer",
    "error_answer_sync",
    "origin_of",
    "read_some",
    "timeout_of",
]

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


@dataclasses.dataclass(frozen=True)
class ServerLimits:
    """The bounds a transport holds a server to (the ``ClientOptions`` fields of the same
    names, defaults in ``_limits``; None switches a bound off).

    ``max_message_size``: bytes of one event-stream message (read by the streams and the job
    routes from here). ``max_answer_size``: bytes of an answer read whole, decompressed.
    ``max_redirects``: redirects one request follows. ``min_transfer_rate`` (bytes per
    second) over ``transfer_window`` (seconds): the slowest a body may arrive.
    """

    max_message_size: int | None = MAX_MESSAGE_SIZE
    max_answer_size: int | None = MAX_ANSWER_SIZE
    max_redirects: int = MAX_REDIRECTS
    min_transfer_rate: float | None = MIN_TRANSFER_RATE
    transfer_window: float = TRANSFER_WINDOW

    def rate_floor(self, what: str) -> RateFloor:
        """A fresh :class:`RateFloor` for one body (``what`` names it in the error)."""
        return RateFloor(self.min_transfer_rate, self.transfer_window, what)


class RateFloor:
    """The minimum-progress rule of one body: at least ``rate`` bytes per second, averaged
    over each ``window`` seconds (``rate`` None: no rule). ``what`` names the body in the
    error.

    Call :meth:`add` with each piece's size as it arrives; it raises
    :class:`TransferTooSlowError` when a window closes with too few bytes. The check runs as
    bytes arrive, so a server that stops sending altogether is left to the read timeout; one
    that sends a byte now and then (defeating that timeout) fails within a window and a read.
    ``clock`` (default ``time.monotonic``) is for tests.
    """

    __slots__ = ("_bytes", "_clock", "_rate", "_start", "_what", "_window")

    def __init__(
        self, rate: float | None, window: float, what: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``rate``, ``window``, ``what`` and ``clock`` as the class says."""
        self._rate = rate
        self._window = window
        self._what = what
        self._clock = clock
        self._start = clock()
        self._bytes = 0

    def add(self, size: int) -> None:
        """``size`` more bytes arrived now."""
        if self._rate is None:
            return
        self._bytes += size
        now = self._clock()
        elapsed = now - self._start
        if elapsed < self._window:
            return
        if self._bytes < self._rate * elapsed:
            raise TransferTooSlowError(
                f"{self._what}: the server sent {self._bytes} bytes in {elapsed:.1f} s, slower than "
                f"the minimum of {self._rate:g} bytes/s (min_transfer_rate, over transfer_window="
                f"{self._window:g} s)",
                limit=self._rate,
                size=self._bytes,
            )
        self._start, self._bytes = now, 0


class BodyDecoder:
    """Undoes a body's ``Content-Encoding`` (gzip, deflate) in pieces of at most
    ``DECODE_PIECE`` bytes, so that a size limit stops a compression bomb after one piece
    (httpx's own decoder inflates a whole network read at once, up to ~1000 times its size).

    ``encoding`` is the header's value; :meth:`handles` says whether this class decodes it
    (identity, ``gzip``, ``x-gzip``, ``deflate``): for others (``br``, ``zstd``, several
    encodings) the caller reads httpx's decoded bytes, counting them as they come.
    """

    __slots__ = ("_head", "_inflate", "_raw_deflate_tried", "_started")

    def __init__(self, encoding: str) -> None:
        """A decoder for ``encoding`` (one :meth:`handles`)."""
        kind = encoding.strip().lower()
        self._raw_deflate_tried = kind != "deflate"
        self._started = False
        self._head = b""  # what was fed before the first output (replayed if deflate is raw)
        self._inflate: Any = None
        if kind in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif kind == "deflate":
            self._inflate = zlib.decompressobj()

    @staticmethod
    def handles(encoding: str) -> bool:
        """Whether ``encoding`` (a ``Content-Encoding`` value) is one this class decodes."""
        return encoding.strip().lower() in ("", "identity", "gzip", "x-gzip", "deflate")

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``raw``, the next bytes of the body, each at most ``DECODE_PIECE``."""
        if self._inflate is None:
            for start in range(0, len(raw), DECODE_PIECE):
                yield raw[start:start + DECODE_PIECE]
            return
        data = raw
        if not self._started and not self._raw_deflate_tried:
            self._head += raw
            if len(self._head) > 1 << 16:  # a zlib header was accepted long ago: no raw deflate
                self._raw_deflate_tried, self._head = True, b""
        while data and not self._inflate.eof:
            try:
                piece = self._inflate.decompress(data, DECODE_PIECE)
            except zlib.error as exc:
                if not self._started and not self._raw_deflate_tried:
                    # "deflate" is sent both with and without its zlib header (httpx accepts both).
                    self._raw_deflate_tried = True
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    data, self._head = self._head, b""
                    continue
                raise ProtocolError(f"the server's compressed body is broken ({exc})") from exc
            if piece and not self._started:
                self._started, self._head = True, b""
            rest = self._inflate.unconsumed_tail
            if not piece and len(rest) >= len(data):
                break  # no progress: wait for more input
            data = rest
            if piece:
                yield piece

    def flush(self) -> Iterator[bytes]:
        """The last decoded pieces, at the end of the body."""
        if self._inflate is None or self._inflate.eof:
            return
        while True:
            piece = self._inflate.decompress(self._inflate.unconsumed_tail, DECODE_PIECE)
            if not piece:
                break
            yield piece


async def decoded_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """``response``'s body, decoded, in pieces of at most ``DECODE_PIECE`` bytes where its
    encoding is one :class:`BodyDecoder` handles (else httpx's decoded chunks)."""
    encoding = response.headers.get("content-encoding", "")
    if not BodyDecoder.handles(encoding):
        async for chunk in response.aiter_bytes():
            yield chunk
        return
    decoder = BodyDecoder(encoding)
    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            yield piece
    for piece in decoder.flush():
        yield piece


def decoded_chunks_sync(response: httpx.Response) -> Iterator[bytes]:
    """:func:`decoded_chunks` for a sync response (a download on a file thread)."""
    encoding = response.headers.get("content-encoding", "")
    if not BodyDecoder.handles(encoding):
        yield from response.iter_bytes()
        return
    decoder = BodyDecoder(encoding)
    for raw in response.iter_raw():
        yield from decoder.feed(raw)
    yield from decoder.flush()


async def read_some(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of ``response``'s decoded body (an error answer, read for its
    message): the rest is not read; the connection is closed with the response."""
    parts: list[bytes] = []
    size = 0
    async for chunk in decoded_chunks(response):
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


#: The most of an error answer read for its message.
_ERROR_BODY = 64 << 10


async def error_answer(response: httpx.Response) -> httpx.Response:
    """``response`` (an error status) with at most 64 KiB of its decoded body read, the rest
    left unread: enough for its message, bounded whatever the server sends."""
    return _whole(response, [await read_some(response, _ERROR_BODY)])


def error_answer_sync(response: httpx.Response) -> httpx.Response:
    """:func:`error_answer` for a sync response (a download on a file thread)."""
    parts: list[bytes] = []
    size = 0
    for chunk in decoded_chunks_sync(response):
        parts.append(chunk)
        size += len(chunk)
        if size >= _ERROR_BODY:
            break
    return _whole(response, [b"".join(parts)[:_ERROR_BODY]])


def _whole(response: httpx.Response, parts: Iterable[bytes]) -> httpx.Response:
    """A response like ``response`` whose body is ``parts`` (decoded: no ``Content-Encoding``)."""
    headers = [
        (name, value) for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(parts),
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )


class HttpTransport:
    """The requests a client makes, each mapped to a precise error on failure.

    ``app_url`` is the app's address: its credentials (the user's ``headers``, the Hugging
    Face token, the login cookies, ``Authorization``) go to that origin only. Every request,
    including each hop of a redirect, passes a hook that adds them for the app and strips
    them for anyone else (a file URL on another host, a redirect away from the app).

    ``timeout`` (or ``httpx_kwargs["timeout"]``, which wins) is the user's httpx timeout: it
    governs every request, uploads and downloads included (:attr:`transfer_timeout`).
    File downloads pass Private Network Access (``addresses``) unless
    ``allow_private_network`` is true. ``limits`` (a :class:`ServerLimits`, default: the
    defaults of ``_limits``) bounds what the server may send: redirects per request, the
    size and pace of answers read whole and of downloads, and (read by the streams and job
    routes from :attr:`limits`) the size of one event-stream message.
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
        limits: ServerLimits | None = None,
    ) -> None:
        #: The bounds the server is held to (see :class:`ServerLimits`).
        self.limits = limits if limits is not None else ServerLimits()
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
            "max_redirects": self.limits.max_redirects,
        }
        if isinstance(verify, (str, os.PathLike)):
            # A CA bundle: httpx wants it as an SSL context.
            options["verify"] = ssl.create_default_context(cafile=os.fspath(verify))
        self._verify = options["verify"]
        extra = dict(httpx_kwargs or {})
        user_hooks = {kind: list(fns) for kind, fns in dict(extra.pop("event_hooks", None) or {}).items()}
        hooks = {kind: [_awaitable(h) for h in fns] for kind, fns in user_hooks.items()}
        options.update(extra)
        if isinstance(extra.get("max_redirects"), int):
            self.limits = dataclasses.replace(self.limits, max_redirects=extra["max_redirects"])
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
        with _unreachable(url, what, self.limits.max_redirects), client.stream(method, url, **kwargs) as response:
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
        others wait their turn, in order. The answer is read as it streams in, decompressed
        piece by piece, and stopped at ``max_answer_size`` bytes (:class:`AnswerTooLargeError`)
        or when it trickles in slower than ``min_transfer_rate`` (:class:`TransferTooSlowError`);
        more than ``max_redirects`` redirects raise :class:`TooManyRedirectsError` (see
        :class:`ServerLimits`). The response returned holds the decoded body.
        """
        with _unreachable(url, what, self.limits.max_redirects):
            async with self._in_flight, self.client.stream(method, url, **kwargs) as response:
                return _whole(response, await self._read_answer(response, what))

    async def _read_answer(self, response: httpx.Response, what: str) -> list[bytes]:
        limit = self.limits.max_answer_size
        floor = self.limits.rate_floor(what)
        parts: list[bytes] = []
        size = 0
        async for piece in decoded_chunks(response):
            size += len(piece)
            if limit is not None and size > limit:
                raise AnswerTooLargeError(
                    f"{what}: the server's answer is over the limit of {limit} bytes (max_answer_size)",
                    limit=limit,
                    size=size,
                )
            floor.add(len(piece))
            parts.append(piece)
        return parts

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
            with _unreachable(url, what, self.limits.max_redirects):
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
def _unreachable(url: str, what: str, max_redirects: int = MAX_REDIRECTS) -> Iterator[None]:
    """Map httpx's transport failures to :class:`ServerUnreachableError` (each also the httpx
    exception of the failure, its message first, as the official client shows it), and a
    redirect loop to :class:`TooManyRedirectsError` (``max_redirects``: the limit in force)."""
    try:
        yield
    except ServerUnreachableError:
        raise  # already mapped (a download's body raised it)
    except httpx.TooManyRedirects as exc:
        try:
            request: httpx.Request | None = exc.request
        except RuntimeError:
            request = None
        raise TooManyRedirectsError(
            f"{httpx_text(exc)} ({what}: more than {max_redirects} redirects (max_redirects), {url})",
            limit=max_redirects,
            request=request,
        ) from exc
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
