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
from typing import Protocol

import httpx

from .._exceptions import ProtocolError
from .._limits import EARLY_MEMORY, FINISHED_MEMORY
from ..protocol import messages as m
from ..protocol.sse import SSEDecoder

__all__ = ["JobSink", "SessionStream"]

logger = logging.getLogger("gradio_jobs")



class JobSink(Protocol):
    """What the reader needs of a job."""

    @property
    def finished(self) -> bool: ...

    def deliver(self, message: m.Message) -> None: ...

    def lose(self, reason: str) -> None: ...

    def reject(self, error: ProtocolError) -> None: ...


class SessionStream:
    """One ``GET queue/data?session_hash=`` reader for one session."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        session_hash: str,
        *,
        close_stream: bool,
        read_timeout: float | None,
    ) -> None:
        self._http = http
        self._url = url
        self._session_hash = session_hash
        self._expects_close_stream = close_stream
        self._read_timeout = read_timeout
        self._sinks: dict[str, JobSink] = {}
        self._early: OrderedDict[str, list[m.Message]] = OrderedDict()
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
        """Read one GET until it ends. True if it ended as the protocol says it should."""
        timeout = httpx.Timeout(30.0, read=self._read_timeout)
        decoder = SSEDecoder()
        try:
            async with self._http.stream(
                "GET", self._url, params={"session_hash": self._session_hash}, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    body = await response.aread()
                    self._lose_all(
                        f"the event stream answered HTTP {response.status_code}: "
                        f"{body[:200].decode('utf-8', 'replace')}"
                    )
                    return False
                ended = False
                async for chunk in response.aiter_bytes():
                    if ended:
                        continue  # read the body to its end so that its connection can be reused
                    for payload in decoder.feed(chunk):
                        if self._handle(payload):
                            ended = True
                            break
                if ended:
                    return True
                for payload in decoder.close():
                    if self._handle(payload):
                        return True
        except httpx.ReadTimeout:
            self._lose_all(f"no message or heartbeat from the server for {self._read_timeout:g} s")
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
        self._dispatch(message)
        return False

    def _dispatch(self, message: m.Message) -> None:
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
            self._early.setdefault(event_id, []).append(message)
            while len(self._early) > EARLY_MEMORY:
                self._early.popitem(last=False)

    def _after_delivery(self, event_id: str, sink: JobSink) -> None:
        if sink.finished:
            self._sinks.pop(event_id, None)
            self._remember_finished(event_id)

    def _remember_finished(self, event_id: str) -> None:
        self._finished[event_id] = None
        while len(self._finished) > FINISHED_MEMORY:
            self._finished.popitem(last=False)

    def _lose_all(self, reason: str) -> None:
        sinks, self._sinks = self._sinks, {}
        for event_id, sink in sinks.items():
            sink.lose(reason)
            self._remember_finished(event_id)
