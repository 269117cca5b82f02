"""Incremental decoder for ``text/event-stream`` bodies (sans-I/O: bytes in, payloads out)."""

from __future__ import annotations

__all__ = ["SSEDecoder"]


class SSEDecoder:
    """Turns chunks of an event stream into the ``data`` payload of each event.

    Chunks may split lines (and UTF-8 sequences) anywhere. Multi-line ``data`` fields are
    joined with ``\\n`` as the SSE specification says; ``event:``, ``id:``, ``retry:`` and
    comment lines are ignored, since the Gradio queue stream carries everything in ``data``.
    """

    __slots__ = ("_buffer", "_data")

    def __init__(self) -> None:
        """A decoder at the start of a stream: nothing buffered."""
        self._buffer = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        """Add ``chunk``; return the payloads of the events it completed, in order."""
        buffer = self._buffer + chunk
        events: list[str] = []
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            self._line(line, events)
        self._buffer = buffer[start:]
        return events

    def close(self) -> list[str]:
        """End of stream: an event whose blank line never came still counts."""
        events: list[str] = []
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"), events)
            self._buffer = b""
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[str]) -> None:
        if not line:
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
            return
        if line.startswith(b"data:"):
            value = line[5:]
            if value.startswith(b" "):
                value = value[1:]
            self._data.append(value.decode("utf-8", errors="replace"))
