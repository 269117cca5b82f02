"""``map(..., progress=True)`` and ``gradio-jobs map``: a bar with done, failed, rate and ETA where the map runs.

In a notebook, HTML updated in place; on a terminal (stderr), a rich live bar; otherwise
plain lines on stderr, at most one a second and one at the end. Made only when asked for.
``gradio-jobs map`` uses the same bar and plain lines, with a block of its own under them
(a pool's replicas): see the ``extra`` of :class:`MapPlain` and
:class:`~gradio_jobs._live.terminal.MapLive`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Protocol

from .._map_counts import MapCounts
from .view import MapMeter

__all__ = ["MapDisplay", "MapPlain", "open_map_display"]

#: Plain lines: at most one per this many seconds (and one at the end).
PLAIN_INTERVAL = 1.0
#: Plain lines: the ``extra`` block every this many seconds (and at the end).
PLAIN_EXTRA_INTERVAL = 5.0


class MapDisplay(Protocol):
    """Shows a map's progress until it is closed."""

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts``."""

    def close(self) -> None:
        """The map is over: show the final state."""


class MapPlain:
    """Plain lines on ``stream``: one when the map moved, at most every ``interval`` seconds,
    and the last state when it ends; ``meter`` measures the map.

    ``extra``, when given, returns a block of lines to write under them (None or "": nothing
    now); it is written every ``extra_interval`` seconds from a thread of its own, whether or
    not the map moves meanwhile, and once more at the end.
    """

    def __init__(
        self,
        stream: IO[str],
        meter: MapMeter,
        interval: float = PLAIN_INTERVAL,
        extra: Callable[[], str | None] | None = None,
        extra_interval: float = PLAIN_EXTRA_INTERVAL,
    ) -> None:
        self.stream = stream
        self.meter = meter
        self.interval = interval
        self.extra = extra
        self._lock = threading.Lock()
        self._written_at: float | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if extra is not None:
            self._ticker = threading.Thread(
                target=self._tick, args=(extra_interval,), name="gradio-jobs-map-extra", daemon=True
            )
            self._ticker.start()

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts``: write a line if the last is old enough."""
        with self._lock:
            self.meter.update(counts)
            now = time.monotonic()
            if self._written_at is None or now - self._written_at >= self.interval:
                self._write_line(now)

    def close(self) -> None:
        """Write the final line (and the ``extra`` block)."""
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        with self._lock:
            self.meter.end()
            if self.meter.counts is not None:
                self._write_line(time.monotonic())
            self._write_extra()

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                self._write_extra()

    def _write_line(self, now: float) -> None:
        self._written_at = now
        self._write(f"map: {self.meter.line(now)}")

    def _write_extra(self) -> None:
        if self.extra is not None:
            block = self.extra()
            if block:
                self._write(block)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
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
