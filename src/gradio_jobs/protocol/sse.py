"""Incremental decoder for ``text/event-stream`` bodies (sans-I/O: bytes in, payloads out)."""

from __future__ import annotations

from .._exceptions import MessageTooLargeError

__all__ = ["SSEDecoder"]


class SSEDecoder:
    """Turns chunks of an event stream into the ``data`` payload of each event.

    Chunks may split lines (and UTF-8 sequences) anywhere. Multi-line ``data`` fields are
    joined with ``\\n`` as the SSE specification says; ``event:``, ``id:``, ``retry:`` and
    comment lines are ignored, since the Gradio queue stream carries everything in ``data``.

    ``max_event_size`` (bytes, None for no limit) bounds one event: the bytes of its
    unfinished line plus the ``data`` already gathered for it. Beyond it :meth:`feed`
    raises :class:`MessageTooLargeError` (``option`` ``"max_message_size"``) before
    buffering more, so an endless line never holds more than the limit plus one chunk; the
    decoder is then unusable (where the next event starts is unknown). Each byte is
    scanned once, however the chunks split a long line.
    """

    __slots__ = ("_buffer", "_data", "_data_size", "_limit", "_overflow", "_scanned")

    def __init__(self, max_event_size: int | None = None) -> None:
        """A decoder at the start of a stream, nothing buffered; ``max_event_size`` as the
        class says (default None: no limit)."""
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no newline
        self._data: list[str] = []
        self._data_size = 0
        self._limit = max_event_size
        self._overflow: MessageTooLargeError | None = None

    @property
    def pending(self) -> int:
        """Bytes received for the event in progress (0 between events): what a trickling
        server has sent of a message it has not finished."""
        return len(self._buffer) + self._data_size

    def feed(self, chunk: bytes) -> list[str]:
        """Add ``chunk``; return the payloads of the events it completed, in order.

        Raises :class:`MessageTooLargeError` for an event over ``max_event_size`` (after
        returning, once, the events the chunk completed before it, if any).
        """
        if self._overflow is not None:
            raise self._overflow
        buffer = self._buffer
        buffer += chunk
        events: list[str] = []
        start = 0
        search = self._scanned
        while self._overflow is None:
            end = buffer.find(b"\n", search)
            if end < 0:
                break
            line = bytes(buffer[start:end])
            start = search = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            self._line(line, events)
        if start:
            del buffer[:start]
        self._scanned = len(buffer)
        limit = self._limit
        if self._overflow is None and limit is not None and len(buffer) + self._data_size > limit:
            self._too_large(len(buffer) + self._data_size)
        if self._overflow is not None:
            buffer.clear()
            self._data = []
            if not events:
                raise self._overflow
        return events

    def close(self) -> list[str]:
        """End of stream: an event whose blank line never came still counts (after an
        event over the limit, :class:`MessageTooLargeError` is raised instead)."""
        if self._overflow is not None:
            raise self._overflow
        events: list[str] = []
        if self._buffer:
            self._line(bytes(self._buffer).rstrip(b"\r"), events)
            self._buffer.clear()
            self._scanned = 0
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[str]) -> None:
        if not line:
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
                self._data_size = 0
            return
        if line.startswith(b"data:"):
            value = line[5:]
            if value.startswith(b" "):
                value = value[1:]
            self._data.append(value.decode("utf-8", errors="replace"))
            self._data_size += len(value) + 1
            if self._limit is not None and self._data_size > self._limit:
                self._too_large(self._data_size)

    def _too_large(self, size: int) -> None:
        self._overflow = MessageTooLargeError(
            f"an event-stream message is over the limit of {self._limit} bytes (max_message_size): "
            f"{size} bytes received and it has not ended",
            limit=self._limit or 0,
            size=size,
        )
