"""What there is to show about a job or a map, built from events: no I/O, no rich.

``JobView`` folds one job's events (its status line, progress units, logs, latest output,
result or error); ``MapMeter`` measures a map (done, failed, rate, ETA). The formatting
helpers are shared by every display, the CLI's included.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from .._exceptions import JobTimeoutError
from .._map_counts import MapCounts, counts_text
from ..protocol import events as ev
from ..protocol.media import MediaSegment
from ..protocol.status import LogMessage, ProgressUnit

__all__ = [
    "JobView",
    "MapMeter",
    "describe_cancel_outcome",
    "format_bytes",
    "format_rate",
    "format_seconds",
    "media_segments",
    "short",
    "unit_text",
]

_OUTPUT_CHARS = 200
#: How many of the app's latest log messages a view keeps (the notebook view shows them).
KEPT_LOGS = 5


def format_seconds(seconds: float) -> str:
    """``seconds`` in words: ``"4.2 s"`` under a minute, ``"3 min 05 s"`` above."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {secs:02d} s"


def format_bytes(size: int) -> str:
    """``size`` bytes in words: ``"512 B"``, ``"1.5 KiB"``, ``"3.0 MiB"``."""
    if size < 1024:
        return f"{size} B"
    if size < 2**20:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 2**20:.1f} MiB"


def format_rate(per_second: float) -> str:
    """A rate of jobs: ``"3.2/s"``, or ``"12/min"`` when under one every ten seconds."""
    if per_second < 0.1:
        return f"{per_second * 60:.1f}/min"
    return f"{per_second:.1f}/s"


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


def unit_text(unit: ProgressUnit) -> str:
    """A progress unit's count in words: ``"3/5 epochs"``, ``"40%"``, ``"7 steps"``."""
    if unit.length is not None and unit.index is not None:
        text = f"{_number(unit.index)}/{_number(unit.length)}"
        return f"{text} {unit.unit}" if unit.unit else text
    if unit.progress is not None:
        return f"{unit.progress * 100:.0f}%"
    if unit.index is not None:
        return f"{_number(unit.index)} {unit.unit or ''}".rstrip()
    return ""


def unit_fraction(unit: ProgressUnit) -> float | None:
    """How far a progress unit is, from 0 to 1 (None when it does not say)."""
    if unit.length is not None and unit.index is not None:
        return min(1.0, max(0.0, float(unit.index) / float(unit.length))) if unit.length else 1.0
    if unit.progress is not None:
        return min(1.0, max(0.0, float(unit.progress)))
    return None


def _number(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class JobView:
    """What is known about one job, built from its events.

    ``apply`` runs on the thread that follows the job; a live display reads the view from
    its refresh thread, so both hold ``lock``.
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
        self.logs: deque[LogMessage] = deque(maxlen=KEPT_LOGS)
        self.outputs = 0
        self.last_output: Any = None
        #: The result, once the job completed (``has_result`` tells a None result from none).
        self.result: Any = None
        self.has_result = False
        #: Streamed audio/video outputs: seconds and bytes received so far (segments).
        self.streamed_seconds = 0.0
        self.streamed_bytes = 0
        self.segments = 0
        self.ended_at: float | None = None
        #: Set when the job ended otherwise than by completing: why, in a few words.
        self.end_note: str | None = None
        self.resubmitted = 0

    @classmethod
    def of(cls, title: str, events: list[ev.JobEvent]) -> JobView:
        """The view of a job whose events so far are ``events``, titled ``title``."""
        view = cls(title)
        for event in events:
            view.apply(event)
        return view

    @property
    def over(self) -> bool:
        """The job has ended (completed, failed, cancelled, timed out or interrupted)."""
        return self.ended_at is not None

    def apply(self, event: ev.JobEvent) -> None:
        """Take ``event``, the job's next one, into account."""
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
        elif isinstance(event, ev.Logged):
            self.logs.append(event.log)
        elif isinstance(event, ev.OutputProduced):
            self.outputs = event.index + 1
            self.last_output = event.value
            for segment in media_segments(event.value):
                self.segments += 1
                self.streamed_bytes += segment.size
                self.streamed_seconds += segment.duration or 0.0
        elif isinstance(event, ev.Completed):
            self.result, self.has_result = event.value, True
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
        """How much streamed media arrived: ``"streamed 2.5 s (40.1 KiB)"``."""
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


# -- maps -----------------------------------------------------------------------------------------


class MapMeter:
    """A map's progress over time: done, failed, running, the rate so far and the ETA.

    The rate is the inputs done per second since the meter started (``now``: a monotonic
    time, default now); the ETA, the inputs left at that rate (None until one is done, or
    while the number of inputs is unknown). ``resumed`` inputs were done before it started
    (a batch run going on from its output): they count as done, not towards the rate.
    """

    def __init__(self, now: float | None = None) -> None:
        self.started = time.monotonic() if now is None else now
        self.counts: MapCounts | None = None
        #: Inputs done before the meter started (counted in ``counts.done``, not in the rate).
        self.resumed = 0
        #: Set when the map ended: the time, so the rate stops moving.
        self.ended_at: float | None = None

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts``."""
        self.counts = counts

    def end(self, now: float | None = None) -> None:
        """The map is over (at ``now``, default: now)."""
        if self.ended_at is None:
            self.ended_at = time.monotonic() if now is None else now

    def _elapsed(self, now: float) -> float:
        return (self.ended_at if self.ended_at is not None else now) - self.started

    def rate(self, now: float) -> float | None:
        """Inputs done per second so far, at monotonic time ``now`` (None before the first)."""
        elapsed = self._elapsed(now)
        if self.counts is None or self.counts.done <= self.resumed or elapsed <= 0:
            return None
        return (self.counts.done - self.resumed) / elapsed

    def eta(self, now: float) -> float | None:
        """Seconds until every input is done at the rate so far, at monotonic time ``now``."""
        counts, rate = self.counts, self.rate(now)
        if counts is None or counts.total is None or rate is None:
            return None
        return max(0, counts.total - counts.done - counts.cancelled) / rate

    def fraction(self) -> float | None:
        """The share of the inputs done, from 0 to 1 (None while their number is unknown)."""
        counts = self.counts
        if counts is None or counts.total is None:
            return None
        return 1.0 if counts.total == 0 else min(1.0, counts.done / counts.total)

    def line(self, now: float) -> str:
        """The map in one line, at monotonic time ``now``:
        ``"7/10 done, 1 failed, 2 running, 3.2/s, ETA 1.0 s"`` (and ``", 4 resumed"`` after
        ``running`` when some were done before it started; ``"took"`` instead of ``"ETA"``
        once it ended)."""
        counts = self.counts
        if counts is None:
            return "starting"
        text = counts_text(counts)
        if self.resumed:
            text += f", {self.resumed} resumed"
        rate = self.rate(now)
        text += f", {format_rate(rate)}" if rate is not None else ", -/s"
        if self.ended_at is not None:
            return text + f", took {format_seconds(self._elapsed(now))}"
        eta = self.eta(now)
        return text + f", ETA {'?' if eta is None else format_seconds(eta)}"
