"""``map(..., progress=True)``: a bar with done, failed, rate and ETA where the map runs.

In a notebook, HTML updated in place; on a terminal (stderr), a rich live bar; otherwise
plain lines on stderr, at most one a second and one at the end. Made only when asked for.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Protocol

from .view import MapCounts, MapMeter

__all__ = ["MapDisplay", "MapPlain", "open_map_display"]

#: Plain lines: at most one per this many seconds (and one at the end).
PLAIN_INTERVAL = 1.0


class MapDisplay(Protocol):
    """Shows a map's progress until it is closed."""

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts``."""

    def close(self) -> None:
        """The map is over: show the final state."""


class MapPlain:
    """Plain lines on ``stream``: one when the map moved, at most every ``interval`` seconds,
    and the last state when it ends."""

    def __init__(self, stream: IO[str], meter: MapMeter, interval: float = PLAIN_INTERVAL) -> None:
        self.stream = stream
        self.meter = meter
        self.interval = interval
        self._written_at: float | None = None
        self._pending = False

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts``: write a line if the last is old enough."""
        self.meter.update(counts)
        now = time.monotonic()
        if self._written_at is None or now - self._written_at >= self.interval:
            self._write(now)
        else:
            self._pending = True

    def close(self) -> None:
        """Write the final line."""
        self.meter.end()
        if self.meter.counts is not None:
            self._write(time.monotonic())

    def _write(self, now: float) -> None:
        self._written_at, self._pending = now, False
        self.stream.write(f"map: {self.meter.line(now)}\n")
        self.stream.flush()


def open_map_display() -> MapDisplay:
    """The display for a map started now: notebook, terminal or plain lines (see the module)."""
    from .notebook import MapNotebook, in_notebook

    meter = MapMeter()
    if in_notebook():
        return MapNotebook(meter)
    stream = sys.stderr
    if stream is not None and stream.isatty():
        from rich.console import Console

        from .terminal import MapLive

        return MapLive(Console(stderr=True), meter)
    return MapPlain(stream if stream is not None else sys.stdout, meter)
