"""Displays that show jobs: the base, the silent one and the plain one (no rich, no escape codes).

A display shows one or more :class:`JobView`: ``showing(views)`` brackets the time they are
on screen, ``event`` hears each event a view took, ``refresh`` redraws after a batch of
them (or on a tick), ``ended`` says a view is final.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from .._exceptions import JobTimeoutError
from ..protocol import events as ev
from .view import JobView, format_bytes, format_seconds, media_segments, short, unit_text

__all__ = ["Display", "NullDisplay", "PlainDisplay"]


class Display:
    """Shows jobs. ``showing(views)`` brackets the time they are on screen."""

    @contextmanager
    def showing(self, views: Sequence[JobView]) -> Iterator[None]:
        """The ``views`` are on screen inside this block."""
        yield

    def event(self, view: JobView, event: ev.JobEvent) -> None:
        """``event`` happened to ``view``'s job (``view`` has already applied it)."""

    def refresh(self) -> None:
        """Redraw now (after a batch of events, or a tick of the clock); most redraw themselves."""

    def ended(self, view: JobView) -> None:
        """``view``'s job is over for good (the view is final)."""

    def note(self, text: str, style: str | None = None) -> None:
        """A line of ``text`` between jobs (or above them while they run), in rich ``style``."""


class NullDisplay(Display):
    """Shows nothing."""


class PlainDisplay(Display):
    """One line per meaningful event, for logs and pipes: no escape codes, no redrawing."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._last: dict[int, tuple[str, str]] = {}
        self._several = False

    @contextmanager
    def showing(self, views: Sequence[JobView]) -> Iterator[None]:
        self._several = len(views) > 1
        try:
            yield
        finally:
            self._several = False

    def _write(self, view: JobView | None, text: str) -> None:
        if view is not None:
            kind = text.split(":", 1)[0]
            if self._last.get(id(view)) == (kind, text):
                return  # the same news again (e.g. an unchanged queue estimate)
            self._last[id(view)] = (kind, text)
            if self._several and view.tag:
                text = f"[{view.tag}] {text}"
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def event(self, view: JobView, event: ev.JobEvent) -> None:
        line = self.line(view, event)
        if line is not None:
            self._write(view, line)

    def ended(self, view: JobView) -> None:
        if view.end_note and view.phase != "failed":
            self._write(view, f"{view.phase}: {view.end_note}")

    def note(self, text: str, style: str | None = None) -> None:
        self._write(None, text)

    @staticmethod
    def line(view: JobView, event: ev.JobEvent) -> str | None:
        """The plain line for ``event`` of ``view``'s job, or None when it says nothing new."""
        if isinstance(event, ev.Submitted):
            return f"submitted: {event.endpoint}"
        if isinstance(event, ev.Uploading):
            return f"uploading: {event.name} {format_bytes(event.sent)} of {format_bytes(event.total)}"
        if isinstance(event, ev.Joined):
            return f"joined the queue: job id {event.job_id}" if event.job_id else "sent to the server"
        if isinstance(event, ev.Queued):
            if view.started_at is not None:
                return None
            text = "queued:"
            if event.rank is not None:
                text += f" position {event.rank + 1}"
                if event.queue_size is not None:
                    text += f" of {event.queue_size}"
            if event.eta is not None:
                text += f", ETA {format_seconds(event.eta)}"
            return text
        if isinstance(event, ev.Started):
            return "started" + (f": usually takes {format_seconds(event.eta)}" if event.eta else "")
        if isinstance(event, ev.ProgressReported):
            parts = [" ".join(p for p in (u.desc, unit_text(u)) if p) for u in event.units]
            return "progress: " + "; ".join(p for p in parts if p) if any(parts) else None
        if isinstance(event, ev.Logged):
            return f"log [{event.log.level.lower()}]: {event.log.message}"
        if isinstance(event, ev.OutputProduced):
            segments = media_segments(event.value)
            if segments:
                pieces = ", ".join(
                    f"{'?' if s.duration is None else f'{s.duration:.3f}'} s{s.extension and ' ' + s.extension}"
                    f" ({format_bytes(s.size)})"
                    for s in segments
                )
                return f"segment {event.index + 1}: {pieces}; {view.streamed_text()}"
            return f"output {event.index + 1}: {short(event.value)}"
        if isinstance(event, ev.Completed):
            streamed = f", {view.streamed_text()}" if view.segments else ""
            return f"completed in {format_seconds(event.at - view.since)}{streamed}"
        if isinstance(event, ev.Failed):
            if isinstance(event.error, JobTimeoutError):
                return f"timed out after {format_seconds(event.at - view.since)}"
            return f"failed after {format_seconds(event.at - view.since)}"
        if isinstance(event, ev.Cancelled):
            return "cancelled"
        if isinstance(event, ev.Resubmitted):
            return f"submitted again: {event.reason}"
        return None
