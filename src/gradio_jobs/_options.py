"""What both clients accept, in one typed object (the fixed numbers are in ``_limits``)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._limits import (
    DEFAULT_DOWNLOAD_DIR,
    MAX_ANSWER_SIZE,
    MAX_MESSAGE_SIZE,
    MAX_REDIRECTS,
    MIN_TRANSFER_RATE,
    TRANSFER_WINDOW,
)
from ._retry import RetryPolicy, SubmitRetry

if TYPE_CHECKING:
    from .transport.http import ServerLimits

__all__ = ["ClientOptions", "token_fields"]


@dataclass(frozen=True, kw_only=True)
class ClientOptions:
    """The options of :class:`~gradio_jobs.Client` and :class:`~gradio_jobs.AsyncClient`.

    Pass them as keyword arguments to either client (``Client(url, download_files=False)``)
    or build one object and share it (``Client(url, options=ClientOptions(...))``); keywords
    given beside ``options`` override its fields.

    - ``token``: a Hugging Face token, sent as ``x-hf-authorization`` to the app only (also
      the clients' second positional argument, or ``hf_token=``). For a Space id, a token
      stored by ``huggingface-cli login`` is used when none is given. Default None.
    - ``oauth_token``: a Hugging Face token for the app to act on your behalf, for endpoints
      whose function takes a ``gr.OAuthToken``: sent in the body of those jobs only (their
      API description says they take one; ``view_api()`` marks them), never inferred from
      the stored token. Default None.
    - ``auth``: ``(username, password)`` for an app launched with ``auth=``; the client logs
      in when it connects. Default None.
    - ``headers``: extra HTTP headers sent with every request to the app. Default none.
    - ``download_files``: the folder file outputs are downloaded to (default: the
      ``gradio`` folder in the system's temporary directory, or ``GRADIO_TEMP_DIR``), or
      False to get the server's file data instead of local paths.
    - ``max_download_size``: the largest file output, in bytes, the client downloads
      (``FileTooLargeError`` beyond). Default None: no limit. A compressed download is
      counted in decompressed bytes, inflated piece by piece and stopped at the limit (a
      gzip bomb never reaches memory or disk whole).
    - ``allow_private_network_files``: let an app on a public address make the client
      fetch file URLs on loopback, private or link-local addresses (your machine, your
      networks, a cloud metadata service), which it refuses by default
      (``PrivateNetworkError``), as browsers do. An app that is itself on such an address
      may always. Default False.
    - ``verbose``: log a line when connected (through ``logging``; the library never
      prints). Default True.
    - ``ssl_verify``: verify TLS certificates (True), skip it (False, unsafe), or the path
      of a CA bundle. Default True.
    - ``httpx_kwargs``: extra keyword arguments for the ``httpx.AsyncClient`` the client
      makes (``proxy``, ``event_hooks``, ``timeout`` and so on). Default None. A
      ``timeout`` there (seconds or an ``httpx.Timeout``) also governs file uploads and
      downloads, which otherwise wait up to 60 s for each read or write.
    - ``space_timeout``: seconds to wait for a sleeping or building Space to come up; None
      waits for ever. Default 300.
    - ``stream_timeout``: seconds without a complete message on the event stream (no
      message, no heartbeat) after which the connection counts as lost. Default 35 (the
      server sends a heartbeat every 15 s). Only complete messages count: a server that
      trickles the bytes of a message it never finishes fails the stream's pending jobs
      with ``StreamStalledError`` (a ``ConnectionLostError``) once this runs out; plain
      silence loses them as before (``ConnectionLostError``, which ``retry`` may resubmit).
      None: no limit.
    - ``max_message_size``: the largest single event-stream message (an SSE event, a 3.x
      websocket frame), in bytes. Default 64 MiB. Beyond it the pending jobs of that stream
      fail with ``MessageTooLargeError`` (which job the message was for cannot be known
      before it is parsed; the session's stream reopens for later jobs, other sessions go
      on). None: no limit.
    - ``max_answer_size``: the largest answer read whole (``/config``, ``/info``, joining
      the queue, an upload's answer, a ``queue=False`` call's answer, a login), in bytes
      after decompression. Default 32 MiB; beyond it the request fails with
      ``AnswerTooLargeError``. None: no limit.
    - ``max_redirects``: redirects followed by one request (file downloads included).
      Default 10; beyond it ``TooManyRedirectsError`` (also ``httpx.TooManyRedirects``).
      A ``max_redirects`` in ``httpx_kwargs`` wins.
    - ``min_transfer_rate``: the fewest bytes per second a body (a file download, an answer
      read whole) may bring, averaged over each ``transfer_window`` seconds: a server that
      sends a byte now and then defeats a per-read timeout, not this. Default 1024 (1 KiB/s);
      below it ``TransferTooSlowError`` (also a ``TimeoutError``). None: no limit.
    - ``transfer_window``: the seconds ``min_transfer_rate`` is averaged over. Default 30.
    - ``retry``: a :class:`RetryPolicy` to submit jobs of endpoints marked safe again when
      their connection is lost. Default None: never.
    - ``submit_retry``: how joining the queue is retried while the server has surely not
      taken the job (:class:`SubmitRetry`; default: 3 attempts with backoff).
    - ``close_timeout``: seconds ``close()`` gives joins and cancels in flight to land
      before it drops the session. Default 2.
    """

    token: str | None = None
    oauth_token: str | None = None
    auth: tuple[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    download_files: str | os.PathLike[str] | bool = DEFAULT_DOWNLOAD_DIR
    max_download_size: int | None = None
    allow_private_network_files: bool = False
    verbose: bool = True
    ssl_verify: bool | str = True
    httpx_kwargs: Mapping[str, Any] | None = None
    space_timeout: float | None = 300.0
    stream_timeout: float | None = 35.0
    retry: RetryPolicy | None = None
    submit_retry: SubmitRetry = field(default_factory=SubmitRetry)
    close_timeout: float = 2.0
    max_message_size: int | None = MAX_MESSAGE_SIZE
    max_answer_size: int | None = MAX_ANSWER_SIZE
    max_redirects: int = MAX_REDIRECTS
    min_transfer_rate: float | None = MIN_TRANSFER_RATE
    transfer_window: float = TRANSFER_WINDOW

    def __post_init__(self) -> None:
        for name in ("max_message_size", "max_answer_size", "max_download_size", "min_transfer_rate"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")
        if isinstance(self.max_redirects, bool) or not isinstance(self.max_redirects, int) or self.max_redirects < 0:
            raise ValueError(f"max_redirects must be a whole number >= 0, got {self.max_redirects!r}")
        if not isinstance(self.transfer_window, (int, float)) or self.transfer_window <= 0:
            raise ValueError(f"transfer_window must be a positive number of seconds, got {self.transfer_window!r}")
        auth = self.auth
        if auth is not None:
            if not isinstance(auth, (tuple, list)) or len(auth) != 2 or not all(isinstance(a, str) for a in auth):
                raise TypeError("auth must be a (username, password) tuple of strings")
            object.__setattr__(self, "auth", (auth[0], auth[1]))
        object.__setattr__(self, "headers", dict(self.headers or {}))
        if self.submit_retry is None:
            object.__setattr__(self, "submit_retry", SubmitRetry())

    @classmethod
    def build(
        cls, options: ClientOptions | None, caller: str = "ClientOptions()", **overrides: Any
    ) -> ClientOptions:
        """``options`` (or the defaults) with the keyword ``overrides`` applied, as given.

        An unknown keyword raises ``TypeError`` in Python's own words, ``caller`` naming the
        function it was given to, followed by the valid options.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(
                f"{caller} got an unexpected keyword argument {unknown[0]!r}; "
                f"the client's options are: {', '.join(sorted(names))}"
            )
        base = options if options is not None else cls()
        return dataclasses.replace(base, **overrides) if overrides else base

    def server_limits(self) -> ServerLimits:
        """The bounds against a misbehaving server as the transport takes them (a
        ``transport.http.ServerLimits``; imported here, so that ``import gradio_jobs`` does
        not load httpx)."""
        from .transport.http import ServerLimits

        return ServerLimits(
            max_message_size=self.max_message_size,
            max_answer_size=self.max_answer_size,
            max_redirects=self.max_redirects,
            min_transfer_rate=self.min_transfer_rate,
            transfer_window=self.transfer_window,
        )

    @property
    def download_folder(self) -> str | os.PathLike[str] | None:
        """Where file outputs go, or None when they are not downloaded."""
        if self.download_files is False:
            return None
        return DEFAULT_DOWNLOAD_DIR if self.download_files is True else self.download_files


def token_fields(token: str | None, hf_token: str | None) -> dict[str, Any]:
    """The ``token`` option from a client's ``token`` argument or its older name ``hf_token``."""
    if token is not None and hf_token is not None and token != hf_token:
        raise TypeError("pass the Hugging Face token once: token= and hf_token= name the same thing")
    chosen = token if token is not None else hf_token
    return {} if chosen is None else {"token": chosen}
