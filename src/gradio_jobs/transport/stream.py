"""The session's single ``queue/data`` reader, routing messages to jobs by ``event_id``.

The server keeps one message queue per session and sends every job of that session down
one stream (measured on every generation since 4.9). Dropping the stream while jobs are pending makes the server
cancel them, so the reader stays open while any job of the session is pending and ends
only on ``close_stream``. Jobs are passive sinks called from the reader: there is no task
per job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import httpx

from .._exceptions import MessageTooLargeError, ProtocolError, StreamStalledError
from .._limits import EARLY_BYTES, EARLY_MEMORY, FINISHED_MEMORY, MAX_MESSAGE_SIZE
from ..protocol import messages as m
from ..protocol.sse import SSEDecoder
from .http import read_some

__all__ = ["JobSink", "Pacer", "SessionStream", "StreamQuiet"]

logger = logging.getLogger("gradio_jobs")



#: ``asyncio.timeout_at`` where there is one (Python 3.11 and later).
_timeout_at: Any = getattr(asyncio, "timeout_at", None)


class StreamQuiet(Exception):
    """No complete message came within the silence limit (raised by :meth:`Pacer.next`)."""


class Pacer:
    """The silence limit of an event stream, counted from the last COMPLETE message.

    ``seconds`` (None: no limit) is the longest wait; :meth:`mark` says a complete message
    (a heartbeat included) arrived; :meth:`next` reads the next chunk and raises
    :class:`StreamQuiet` once the limit has run out since the last mark, however many bytes
    trickled in meanwhile. Must be made on the running loop.
    """

    __slots__ = ("_deadline", "_loop", "seconds")

    def __init__(self, seconds: float | None) -> None:
        """A pacer whose clock starts now; ``seconds`` as the class says."""
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._deadline: float | None = None
        self.mark()

    def mark(self) -> None:
        """A complete message arrived now: the limit starts over."""
        if self.seconds is not None:
            self._deadline = self._loop.time() + self.seconds

    async def next(self, chunks: AsyncIterator[bytes]) -> bytes:
        """The next chunk of ``chunks`` (``StopAsyncIteration`` at its end), or
        :class:`StreamQuiet` when the limit runs out first."""
        if self._deadline is None:
            return await chunks.__anext__()
        left = self._deadline - self._loop.time()
        if left <= 0:
            raise StreamQuiet
        try:
            if _timeout_at is not None:
                # Python 3.11+: the read stays in this task (wait_for would run the stream's
                # generators in a task of their own, and they would be finalised out of place).
                async with _timeout_at(self._deadline):
                    return await chunks.__anext__()
            return await asyncio.wait_for(chunks.__anext__(), left)
        except asyncio.TimeoutError:
            raise StreamQuiet from None


class JobSink(Protocol):
    """What the reader needs of a job."""

    @property
    def finished(self) -> bool: ...

    def deliver(self, message: m.Message) -> None: ...

    def lose(self, reason: str) -> None: ...

    def reject(self, error: Exception) -> None: ...


class SessionStream:
    """One ``GET queue/data?session_hash=`` reader for one session.

    ``http`` is the streams' client and ``url`` the app's ``queue/data`` route;
    ``close_stream`` says the server ends the stream with a ``close_stream`` message;
    ``read_timeout`` (seconds, None for none) is the longest wait for a complete message
    or heartbeat and ``max_message_size`` (bytes, None for none) the largest message (see
    :meth:`_read_once` for what exceeding either does).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        session_hash: str,
        *,
        close_stream: bool,
        read_timeout: float | None,
        max_message_size: int | None = MAX_MESSAGE_SIZE,
    ) -> None:
        self._http = http
        self._max_message_size = max_message_size
        self._url = url
        self._session_hash = session_hash
        self._expects_close_stream = close_stream
        self._read_timeout = read_timeout
        self._sinks: dict[str, JobSink] = {}
        self._early: OrderedDict[str, list[m.Message]] = OrderedDict()
        #: Bytes of the payloads held in ``_early``, per event id (bounded by ``EARLY_BYTES``).
        self._early_sizes: dict[str, int] = {}
        self._early_bytes = 0
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._sinks)

    def register(self, event_id: str, sink: JobSink) -> None:
        """Route ``event_id``'s messages to ``sink`` (replaying any that came early)."""
        if self._closed:
            sink.lose("the client was closed")
            return
        self._sinks[event_id] = sink
        self._early_bytes -= self._early_sizes.pop(event_id, 0)
        for message in self._early.pop(event_id, ()):
            self._dispatch(message)
        if event_id in self._sinks and (self._task is None or self._task.done()):
            name = f"gradio-jobs reader {self._session_hash[:8]}"
            self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    def forget(self, event_id: str) -> None:
        """The job no longer wants messages (its later ones are dropped)."""
        if self._sinks.pop(event_id, None) is not None:
            self._remember_finished(event_id)

    async def aclose(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # its failure was reported to its jobs already
        self._lose_all("the client was closed")

    # -- reading -------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while self._sinks and not self._closed:
                ended_cleanly = await self._read_once()
                if not ended_cleanly:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let the reader die silently with jobs waiting
            logger.exception("gradio-jobs stream reader failed")
            self._lose_all(f"the stream reader failed: {exc!r}")

    async def _read_once(self) -> bool:
        """Read one GET until it ends. True if it ended as the protocol says it should.

        The silence limit (``read_timeout``, the ``stream_timeout`` option) runs from the
        last COMPLETE message or heartbeat, not from the last byte: a server that trickles
        the bytes of a message it never finishes is caught too (its jobs fail with
        :class:`StreamStalledError`; plain silence loses them). A message over
        ``max_message_size`` fails every pending job of the stream with
        :class:`MessageTooLargeError` (which job it was for cannot be known before it is
        parsed) and drops the connection; a later job of the session opens a new one.
        """
        timeout = httpx.Timeout(30.0, read=self._read_timeout)
        decoder = SSEDecoder(self._max_message_size)
        silence = self._read_timeout
        ended = False
        try:
            async with self._http.stream(
                "GET", self._url, params={"session_hash": self._session_hash}, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    body = await read_some(response, 2000)
                    self._lose_all(
                        f"the event stream answered HTTP {response.status_code}: "
                        f"{body[:200].decode('utf-8', 'replace')}"
                    )
                    return False
                pacer = Pacer(silence)
                chunks = response.aiter_bytes()
                while True:
                    try:
                        chunk = await pacer.next(chunks)
                    except StopAsyncIteration:
                        break
                    if ended:
                        pacer.mark()
                        continue  # read the body to its end so that its connection can be reused
                    payloads = decoder.feed(chunk)
                    if payloads:
                        pacer.mark()
                    for payload in payloads:
                        if self._handle(payload):
                            ended = True
                            break
                if ended:
                    return True
                for payload in decoder.close():
                    if self._handle(payload):
                        return True
        except MessageTooLargeError as exc:
            text, limit, size = str(exc), exc.limit, exc.size
            self._fail_all(lambda: MessageTooLargeError(text, limit=limit, size=size))
            return False
        except StreamQuiet:
            if ended:
                return True  # draining what followed close_stream took too long: reopen if needed
            if decoder.pending:
                pending, seconds = decoder.pending, silence or 0.0
                self._fail_all(lambda: StreamStalledError(
                    f"no complete message on the event stream for {seconds:g} s (stream_timeout): "
                    f"the server sent {pending} bytes of a message it did not finish",
                    limit=seconds, size=pending,
                ))
            else:
                self._lose_all(f"no message or heartbeat from the server for {silence:g} s (stream_timeout)")
            return False
        except httpx.ReadTimeout:
            self._lose_all(f"no message or heartbeat from the server for {self._read_timeout:g} s (stream_timeout)")
            return False
        except httpx.TransportError as exc:
            self._lose_all(f"the connection to the server was lost ({type(exc).__name__}: {exc})")
            return False
        # The body ended without close_stream.
        if self._expects_close_stream or not self._sinks:
            if self._sinks:
                self._lose_all("the server ended the event stream while jobs were pending")
            return False
        return True  # older protocols simply end the body; reopen for jobs still pending

    def _handle(self, payload: str) -> bool:
        """Handle one event; True when the stream is over (``close_stream`` or a fatal error)."""
        try:
            message = m.decode_message(payload)
        except ProtocolError as exc:
            raw = exc.payload
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            sink = self._sinks.get(event_id) if isinstance(event_id, str) else None
            if sink is not None and isinstance(event_id, str):
                sink.reject(exc)
                self._after_delivery(event_id, sink)
            else:
                logger.warning("ignoring a malformed message on the event stream: %s", exc)
            return False
        if isinstance(message, m.Heartbeat):
            return False
        if isinstance(message, m.CloseStream):
            return True
        if isinstance(message, m.UnexpectedError) and message.event_id is None:
            reason = "the session is unknown to the server" if message.session_not_found else message.message
            self._lose_all(f"the server reported: {reason}")
            return True
        self._dispatch(message, len(payload))
        return False

    def _dispatch(self, message: m.Message, size: int = 0) -> None:
        event_id = message.event_id
        if event_id is None:
            logger.debug("ignoring %s without event_id", type(message).__name__)
            return
        sink = self._sinks.get(event_id)
        if sink is not None:
            sink.deliver(message)
            self._after_delivery(event_id, sink)
        elif event_id in self._finished:
            logger.debug("dropping %s for finished job %s", type(message).__name__, event_id)
        else:
            # Held until the job's join answer is handled, within bounds: a server sending
            # messages for ids no job has cannot make the client hold them without limit.
            self._early.setdefault(event_id, []).append(message)
            self._early_sizes[event_id] = self._early_sizes.get(event_id, 0) + size
            self._early_bytes += size
            while self._early and (len(self._early) > EARLY_MEMORY or self._early_bytes > EARLY_BYTES):
                dropped, _ = self._early.popitem(last=False)
                self._early_bytes -= self._early_sizes.pop(dropped, 0)

    def _after_delivery(self, event_id: str, sink: JobSink) -> None:
        if sink.finished:
            self._sinks.pop(event_id, None)
            self._remember_finished(event_id)

    def _remember_finished(self, event_id: str) -> None:
        self._finished[event_id] = None
        while len(self._finished) > FINISHED_MEMORY:
            self._finished.popitem(last=False)

    def _fail_all(self, error: Callable[[], Exception]) -> None:
        """Fail every pending job with its own instance of ``error()`` (a bound was exceeded)."""
        sinks, self._sinks = self._sinks, {}
        for event_id, sink in sinks.items():
            sink.reject(error())
            self._remember_finished(event_id)

    def _lose_all(self, reason: str) -> None:
        sinks, self._sinks = self._sinks, {}
        for event_id, sink in sinks.items():
            sink.lose(reason)
            self._remember_finished(event_id)

