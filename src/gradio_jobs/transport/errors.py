"""The errors that are also httpx's exceptions, as the official client lets them through.

``gradio_client`` lets httpx's own exceptions reach its callers: ``httpx.ConnectError`` when
nothing listens, ``httpx.ReadTimeout`` when the server is too slow, ``httpx.HTTPStatusError``
when the app refuses to serve a file. gradio-jobs raises its typed errors instead, and each
of them is also the httpx exception the official client would have raised, so that
``except httpx.ConnectError`` keeps working.

This module imports httpx, so only the transport imports it; ``gradio_jobs.FileAccessError``
resolves here lazily (``import gradio_jobs`` does not load httpx).
"""

from __future__ import annotations

import os
import socket
import ssl

import httpx

from .._exceptions import LimitExceededError, ServerError, ServerUnreachableError
from ..protocol.responses import detail_of

__all__ = [
    "FileAccessError",
    "ServerTransportError",
    "TooManyRedirectsError",
    "check_download",
    "FileDownloadError",
    "httpx_text",
    "unreachable_error",
]


class ServerTransportError(ServerUnreachableError, httpx.TransportError):
    """A :class:`ServerUnreachableError` that is also httpx's ``TransportError``.

    What is raised is one of its subclasses, each also the httpx exception of the failure
    (``ServerConnectError`` is an ``httpx.ConnectError``, ``ServerReadTimeout`` an
    ``httpx.ReadTimeout``, ...); this class itself stands for a failure of another kind.
    ``message`` says what failed; ``request_sent`` is False only when the request surely
    never left the client (default True); ``request`` is the httpx request that failed
    (default None: unknown).
    """

    def __init__(self, message: str, *, request_sent: bool = True, request: httpx.Request | None = None) -> None:
        """``message``, ``request_sent`` and ``request`` as the class says."""
        ServerUnreachableError.__init__(self, message, request_sent=request_sent)
        httpx.TransportError.__init__(self, message, request=request)


class ServerConnectError(ServerTransportError, httpx.ConnectError):
    """No connection could be opened (nothing listens, DNS failure, TLS failure): also an
    ``httpx.ConnectError``."""


class ServerConnectTimeout(ServerTransportError, httpx.ConnectTimeout):
    """The connection was not opened in time: also an ``httpx.ConnectTimeout``."""


class ServerReadTimeout(ServerTransportError, httpx.ReadTimeout):
    """The server did not answer in time: also an ``httpx.ReadTimeout``."""


class ServerWriteTimeout(ServerTransportError, httpx.WriteTimeout):
    """The request could not be sent in time: also an ``httpx.WriteTimeout``."""


class ServerPoolTimeout(ServerTransportError, httpx.PoolTimeout):
    """No connection of the pool became free in time: also an ``httpx.PoolTimeout``."""


class ServerReadError(ServerTransportError, httpx.ReadError):
    """The connection broke while the answer was read: also an ``httpx.ReadError``."""


class ServerWriteError(ServerTransportError, httpx.WriteError):
    """The connection broke while the request was sent: also an ``httpx.WriteError``."""


class ServerCloseError(ServerTransportError, httpx.CloseError):
    """The connection failed as it was closed: also an ``httpx.CloseError``."""


class ServerRemoteProtocolError(ServerTransportError, httpx.RemoteProtocolError):
    """The server broke the HTTP protocol (e.g. closed the connection mid-answer): also an
    ``httpx.RemoteProtocolError``."""


class ServerLocalProtocolError(ServerTransportError, httpx.LocalProtocolError):
    """The request broke the HTTP protocol: also an ``httpx.LocalProtocolError``."""


class ServerProxyError(ServerTransportError, httpx.ProxyError):
    """The proxy failed: also an ``httpx.ProxyError``."""


class ServerUnsupportedProtocol(ServerTransportError, httpx.UnsupportedProtocol):
    """The URL's scheme is not one httpx speaks: also an ``httpx.UnsupportedProtocol``."""


# The most specific httpx class first: the first one in a failure's MRO decides.
_BY_HTTPX: dict[type[httpx.HTTPError], type[ServerTransportError]] = {
    httpx.ConnectError: ServerConnectError,
    httpx.ConnectTimeout: ServerConnectTimeout,
    httpx.ReadTimeout: ServerReadTimeout,
    httpx.WriteTimeout: ServerWriteTimeout,
    httpx.PoolTimeout: ServerPoolTimeout,
    httpx.ReadError: ServerReadError,
    httpx.WriteError: ServerWriteError,
    httpx.CloseError: ServerCloseError,
    httpx.RemoteProtocolError: ServerRemoteProtocolError,
    httpx.LocalProtocolError: ServerLocalProtocolError,
    httpx.ProxyError: ServerProxyError,
    httpx.UnsupportedProtocol: ServerUnsupportedProtocol,
}


def httpx_text(exc: BaseException) -> str:
    """What the official client shows for ``exc``: its message, or its type's name if it has none.

    A connection that failed with an OS error shows it as the official client's sync httpx
    does (``[Errno 111] Connection refused``); the async stack behind gradio-jobs words it
    ``All connection attempts failed``, keeping the OS error among its causes. A TLS failure
    reads the same in both (``[SSL: CERTIFICATE_VERIFY_FAILED] ...``).
    """
    text = str(exc)
    cause = _os_error(exc)
    number = cause.errno if cause is not None else None
    if number is None or isinstance(cause, ssl.SSLError) or text.startswith("["):
        return text or type(exc).__name__  # TLS failures and the like read the same in both stacks
    if isinstance(cause, socket.gaierror):
        return str(cause)
    return f"[Errno {number}] {os.strerror(number)}"


def _os_error(exc: BaseException) -> OSError | None:
    """The first OS error with an error number among the causes of ``exc`` (None if none)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.errno, int):
            return current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        grouped = getattr(current, "exceptions", None)  # an exception group (Python 3.11+)
        if isinstance(grouped, (list, tuple)):
            todo.extend(e for e in grouped if isinstance(e, BaseException))
    return None


def unreachable_error(exc: httpx.HTTPError, message: str, *, request_sent: bool = True) -> ServerTransportError:
    """The :class:`ServerUnreachableError` for the httpx failure ``exc``: also the httpx
    class of ``exc`` (``ServerConnectError`` for an ``httpx.ConnectError``, ...), with the
    same request. ``message`` is its text; ``request_sent`` (default True) is False only
    when the request surely never left the client."""
    kind = next((_BY_HTTPX[c] for c in type(exc).__mro__ if c in _BY_HTTPX), ServerTransportError)
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # httpx raises it for an error made without its request
        request = None
    return kind(message, request_sent=request_sent, request=request)


class FileDownloadError(httpx.HTTPStatusError, ServerError):
    """A file output could not be downloaded: the server answered with an error status.

    Also the ``httpx.HTTPStatusError`` the official client raises there, with its message
    first. ``message`` is the error's text; ``request`` and ``response`` are httpx's (the
    response already read); ``status_code`` and ``body`` are set from ``response``, as for
    :class:`ServerError`.
    """

    def __init__(self, message: str, *, request: httpx.Request, response: httpx.Response) -> None:
        """``message``, ``request`` and ``response`` as the class says."""
        super().__init__(message, request=request, response=response)
        self.status_code = response.status_code
        self.body = response.text[:2000]


class FileAccessError(FileDownloadError):
    """The app refuses to serve a file output (HTTP 403, "File not allowed": a path outside
    the folders it serves). Arguments as for :class:`FileDownloadError`."""


class TooManyRedirectsError(LimitExceededError, httpx.TooManyRedirects):
    """A request was redirected more often than ``max_redirects`` allows (a redirect loop):
    also the ``httpx.TooManyRedirects`` the official client raises there.

    ``message`` says which request; ``limit`` is the ``max_redirects`` in force and
    ``request`` the httpx request of the last hop (default None: unknown). ``option`` is
    ``"max_redirects"``.
    """

    def __init__(self, message: str, *, limit: int, request: httpx.Request | None = None) -> None:
        """``message``, ``limit`` and ``request`` as the class says."""
        LimitExceededError.__init__(self, message, option="max_redirects", limit=limit, size=limit + 1)
        httpx.TooManyRedirects.__init__(self, message, request=request)


def check_download(response: httpx.Response, what: str) -> None:
    """Raise the error for a file download that failed (``response``, read whole); return
    for a 2xx answer. ``what`` names the download in the message. A 403 raises
    :class:`FileAccessError`, any other error status :class:`FileDownloadError`; their
    message starts with httpx's own, as the official client shows it."""
    if response.is_success:
        return
    try:
        response.raise_for_status()
        official = f"Error '{response.status_code}' for url '{response.url}'"  # a 1xx/3xx answer
    except httpx.HTTPStatusError as exc:
        official = str(exc)
    if response.status_code == 403:
        kind: type[FileDownloadError] = FileAccessError
        reason = "the app refuses to serve this file"
    else:
        kind, reason = FileDownloadError, "the download failed"
    raise kind(
        f"{official}\n({what}: {reason}, {response.status_code}: {detail_of(response.content)})",
        request=response.request,
        response=response,
    )
