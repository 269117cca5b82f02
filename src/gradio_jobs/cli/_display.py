"""Showing jobs while they run: a rich live view on a terminal, plain lines otherwise.

``JobView`` folds a job's events into what there is to show. A display shows one or more
views: ``LiveDisplay`` redraws them on a terminal (rich's ``Live``, which also counts the
queue ETA down between two events), ``PlainDisplay`` writes one line per meaningful event
(no escape codes), ``NullDisplay`` shows nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .._exceptions import JobTimeoutError
from ..protocol import events as ev
from ..protocol.media import MediaSegment
from ..protocol.status import ProgressUnit

__all__ = [
    "Display",
    "JobView",
    "LiveDisplay",
    "NullDisplay",
    "PlainDisplay",
    "describe_cancel_outcome",
    "format_seconds",
    "short",
]

_OUTPUT_CHARS = 200


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {secs:02d} s"


def format_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 2**20:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 2**20:.1f} MiB"


def short(value: Any, limit: int = _OUTPUT_CHARS) -> str:
    """One line of text for a value: JSON where it can be, shortened to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split("\n"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CANCEL_OUTCOMES = {
    ev.OUTCOME_DEQUEUED: "it was taken off the server's queue",
    ev.OUTCOME_STOPPED: "it was stopped on the server",
    ev.OUTCOME_SERVER_CONTINUES: "the server cannot interrupt a running plain function: it finishes it, "
    "and the result is dropped",
    ev.OUTCOME_FINISHED_FIRST: "it had finished before the cancel arrived",
    ev.OUTCOME_FAILED_FIRST: "it had failed before the cancel arrived",
    ev.OUTCOME_NEVER_SENT: "it never reached the server",
    ev.OUTCOME_CONNECTION_LOST: "the connection to the server was lost",
}


def media_segments(value: Any) -> list[MediaSegment]:
    """The streamed media segments in an output ``value`` (itself, or in its lists and dicts)."""
    if isinstance(value, MediaSegment):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in media_segments(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in media_segments(item)]
    return []


def describe_cancel_outcome(outcome: str | None) -> str:
    """What a job's ``cancel_outcome`` means, in words."""
    if outcome is None or outcome == "requested":
        return "the server has not confirmed the cancel yet"
    return _CANCEL_OUTCOMES.get(outcome, outcome)


def _unit_text(unit: ProgressUnit) -> str:
    if unit.length is not None and unit.index is not None:
        text = f"{_number(unit.index)}/{_number(unit.length)}"
        return f"{text} {unit.unit}" if unit.unit else text
    if unit.progress is not None:
        return f"{unit.progress * 100:.0f}%"
    if unit.index is not None:
        return f"{_number(unit.index)} {unit.unit or ''}".rstrip()
    return ""


def _number(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class JobView:
    """What is known about one job, built from its events.

    ``apply`` runs on the thread that follows the job; the live display reads the view
    from its refresh thread, so both hold ``lock``.
    """

    def __init__(self, title: str, tag: str | None = None) -> None:
        self.title = title
        #: Prefix of this job's plain lines when a display shows several jobs.
        self.tag = tag
        self.lock = threading.Lock()
        self.phase = "submitting"
        self.job_id: str | None = None
        self.since = time.monotonic()
        self.rank: int | None = None
        self.queue_size: int | None = None
        self.eta: float | None = None
        self.eta_at: float | None = None
        #: When the server first said the job waits in its queue.
        self.queued_at: float | None = None
        self.started_at: float | None = None
        self.run_eta: float | None = None
        self.progress: list[ProgressUnit] = []
        self.upload: ev.Uploading | None = None
        self.outputs = 0
        self.last_output: Any = None
        #: Streamed audio/video outputs: seconds and bytes received so far (segments).
        self.streamed_seconds = 0.0
        self.streamed_bytes = 0
        self.segments = 0
        self.ended_at: float | None = None
        #: Set when the job ended otherwise than by completing: why, in a few words.
        self.end_note: str | None = None
        self.resubmitted = 0
        self.spinner = Spinner("dots", style="cyan")

    @property
    def over(self) -> bool:
        return self.ended_at is not None

    def apply(self, event: ev.JobEvent) -> None:
        with self.lock:
            self._apply(event)

    def _apply(self, event: ev.JobEvent) -> None:
        if isinstance(event, ev.Submitted):
            self.phase = "submitting"
            self.since = event.at
        elif isinstance(event, ev.Uploading):
            self.phase = "uploading"
            self.upload = event
        elif isinstance(event, ev.Joined):
            self.phase = "joining"
            self.job_id = event.job_id
        elif isinstance(event, ev.Queued):
            if self.started_at is None:
                self.phase = "queued"
                if self.queued_at is None:
                    self.queued_at = event.at
            self.rank, self.queue_size = event.rank, event.queue_size
            self.eta, self.eta_at = event.eta, event.at
        elif isinstance(event, ev.Started):
            self.phase = "running"
            self.started_at = event.at
            self.run_eta = event.eta
        elif isinstance(event, ev.ProgressReported):
            self.progress = list(event.units)
        elif isinstance(event, ev.OutputProduced):
            self.outputs = event.index + 1
            self.last_output = event.value
            for segment in media_segments(event.value):
                self.segments += 1
                self.streamed_bytes += segment.size
                self.streamed_seconds += segment.duration or 0.0
        elif isinstance(event, ev.Completed):
            self._end("completed", event.at)
        elif isinstance(event, ev.Failed):
            if isinstance(event.error, JobTimeoutError):
                self._end("timed out", event.at)
            else:
                self._end("failed", event.at)
                self.end_note = f"{type(event.error).__name__}: {event.error}"
        elif isinstance(event, ev.Cancelled):
            self._end("cancelled", event.at)
        elif isinstance(event, ev.CancelResolved):
            self.end_note = describe_cancel_outcome(event.outcome)
        elif isinstance(event, ev.Resubmitted):
            self.resubmitted = event.attempt - 1
            self.phase, self.started_at, self.queued_at, self.progress = "submitting", None, None, []

    def _end(self, phase: str, at: float) -> None:
        if self.ended_at is None:
            self.phase, self.ended_at = phase, at

    def end(self, phase: str, note: str | None = None) -> None:
        """Mark the end from outside the events (a timeout, Ctrl+C) or add what the server did."""
        with self.lock:
            self.phase = phase
            if self.ended_at is None:
                self.ended_at = time.monotonic()
            if note is not None:
                self.end_note = note

    # -- words ------------------------------------------------------------------------------

    def streamed_text(self) -> str:
        """How much streamed media arrived: ``"streamed 2.5 s (40.1 KB)"``."""
        return f"streamed {self.streamed_seconds:.1f} s ({format_bytes(self.streamed_bytes)})"

    def status_text(self, now: float) -> str:
        """The job's state in one line; while queued, the ETA counts down from the last estimate."""
        if self.phase == "uploading" and self.upload is not None:
            u = self.upload
            return f"uploading {u.name}: {format_bytes(u.sent)} of {format_bytes(u.total)}"
        if self.phase == "submitting":
            return "submitting"
        if self.phase == "joining":
            return "joined the queue"
        if self.phase == "queued":
            text = "queued"
            if self.rank is not None:
                text += f": position {self.rank + 1}"
                if self.queue_size is not None:
                    text += f" of {self.queue_size}"
            if self.eta is not None and self.eta_at is not None:
                left = self.eta - (now - self.eta_at)
                text += f" · ETA {format_seconds(left)}" if left > 0 else " · ETA any moment now"
            return text
        if self.phase == "running":
            elapsed = now - (self.started_at or now)
            text = f"running {format_seconds(elapsed)}"
            if self.segments:
                text += f" · {self.streamed_text()}"
            if self.run_eta:
                left = self.run_eta - elapsed
                text += f" · usually {format_seconds(self.run_eta)}"
                text += f", about {format_seconds(left)} left" if left > 0 else ", any moment now"
            return text
        took = format_seconds((self.ended_at or now) - self.since)
        text = f"{self.phase} {'in' if self.phase == 'completed' else 'after'} {took}"
        if self.segments:
            text += f", {self.streamed_text()}"
        if self.started_at is not None and self.queued_at is not None and self.started_at - self.queued_at >= 0.05:
            text += f", {format_seconds(self.started_at - self.queued_at)} of it in the queue"
        return text


# -- displays ---------------------------------------------------------------------------------


class Display:
    """Shows jobs. ``showing(views)`` brackets the time they are on screen."""

    @contextmanager
    def showing(self, views: Sequence[JobView]) -> Iterator[None]:
        yield

    def event(self, view: JobView, event: ev.JobEvent) -> None:
        """``event`` happened to ``view``'s job (``view`` has already applied it)."""

    def ended(self, view: JobView) -> None:
        """``view``'s job is over for good (the view is final)."""

    def note(self, text: str, style: str | None = None) -> None:
        """A line of text between jobs (or above them while they run)."""


class NullDisplay(Display):
    pass


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
            parts = [" ".join(p for p in (u.desc, _unit_text(u)) if p) for u in event.units]
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


_PHASE_STYLE = {
    "completed": ("✔", "green"),
    "failed": ("✘", "red"),
    "cancelled": ("■", "yellow"),
    "timed out": ("⏱", "yellow"),
    "interrupted": ("■", "yellow"),
}


class LiveDisplay(Display):
    """A rich ``Live`` view of the jobs: one panel each, redrawn ten times a second."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._views: list[JobView] = []

    @contextmanager
    def showing(self, views: Sequence[JobView]) -> Iterator[None]:
        from rich.live import Live

        self._views = list(views)
        live = Live(
            console=self.console,
            get_renderable=self._render,
            refresh_per_second=10,
            transient=False,
        )
        with live:
            try:
                yield
            finally:
                live.refresh()
        self._views = []

    def event(self, view: JobView, event: ev.JobEvent) -> None:
        if isinstance(event, ev.Logged):
            level = event.log.level.lower()
            style = {"warning": "yellow", "error": "red", "success": "green"}.get(level, "blue")
            prefix = f"{view.tag} " if view.tag and len(self._views) > 1 else ""
            line = Text.assemble((f"{prefix}{level}: ", f"bold {style}"), event.log.message)
            self.console.print(line)

    def note(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""))

    def _render(self) -> RenderableType:
        now = time.monotonic()
        return Group(*(self._panel(view, now) for view in self._views))

    def _panel(self, view: JobView, now: float) -> RenderableType:
        with view.lock:
            lines: list[RenderableType] = []
            status = view.status_text(now)
            if view.over:
                symbol, style = _PHASE_STYLE.get(view.phase, ("•", "white"))
                lines.append(Text.assemble((f"{symbol} ", style), (status, f"bold {style}")))
                if view.end_note:
                    lines.append(Text(f"  {view.end_note}", style=style))
            else:
                view.spinner.update(text=Text(status))
                lines.append(view.spinner)
            if view.phase != "completed":  # a finished job's bars would stop one step short
                lines.extend(self._bar(unit) for unit in view.progress)
            if view.outputs:
                label = "output" if view.outputs == 1 else f"output {view.outputs}"
                room = max(40, 2 * (self.console.width - 6) - len(label) - 4)  # two lines at most
                lines.append(Text.assemble((f"  {label}: ", "bold"), short(view.last_output, room)))
            title = Text.assemble((view.title, "bold"))
            if view.job_id:
                title.append(f"  job {view.job_id[:8]}", style="dim")
            if view.resubmitted:
                title.append(f"  submitted again \N{MULTIPLICATION SIGN}{view.resubmitted}", style="yellow")
            border = _PHASE_STYLE.get(view.phase, ("", "cyan"))[1] if view.over else "cyan"
            return Panel(Group(*lines), title=title, title_align="left", border_style=border, expand=True)

    @staticmethod
    def _bar(unit: ProgressUnit) -> RenderableType:
        row = Table.grid(padding=(0, 1))
        row.add_column(no_wrap=True, width=1)
        row.add_column(no_wrap=True)
        row.add_column(no_wrap=True)
        row.add_column(no_wrap=True)
        if unit.length is not None and unit.index is not None:
            bar = ProgressBar(total=float(unit.length) or 1.0, completed=float(unit.index), width=30)
        elif unit.progress is not None:
            bar = ProgressBar(total=1.0, completed=float(unit.progress), width=30)
        else:
            bar = ProgressBar(total=None, width=30)
        row.add_row("", Text(unit.desc or "progress", style="magenta"), bar, Text(_unit_text(unit)))
        return row
