"""The typed events of a job's life, in the order a job can have them.

Every message the server sends about a job, and everything the client decides about it
(submitted, cancelled, lost), becomes one of these, appended to the job's event log.

Besides the fields each event documents, every event takes two keyword-only fields that
default to the moment it is made: ``at`` (``time.monotonic()``) and ``wallclock`` (local
``datetime.now()``).
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from .status import LogMessage, ProgressUnit

__all__ = [
    "JobEvent",
    "Submitted",
    "Uploading",
    "Joined",
    "Queued",
    "Started",
    "ProgressReported",
    "Logged",
    "OutputProduced",
    "Completed",
    "Failed",
    "Cancelled",
    "CancelResolved",
    "Resubmitted",
    "TERMINAL_EVENTS",
]


def _now() -> float:
    return _time.monotonic()


@dataclass(frozen=True)
class _Event:
    """The fields every event has: when the client handled it."""

    #: ``time.monotonic()`` when the client handled the event.
    at: float = field(default_factory=_now, kw_only=True)
    #: Local wall-clock time of the same moment.
    wallclock: datetime = field(default_factory=datetime.now, kw_only=True)


@dataclass(frozen=True)
class Submitted(_Event):
    """The client sent the job to the server; ``endpoint`` names it (``Endpoint.label``)."""

    endpoint: str


@dataclass(frozen=True)
class Uploading(_Event):
    """Progress of uploading one input file, before the job joins the queue.

    ``name`` is the file's name; ``sent`` the bytes sent so far, of ``total``.
    """

    name: str
    sent: int
    total: int


@dataclass(frozen=True)
class Joined(_Event):
    """The server accepted the job; ``job_id`` is its id there (None where the protocol has
    none: the 3.x websocket queue and calls that bypass the queue)."""

    job_id: str | None


@dataclass(frozen=True)
class Queued(_Event):
    """Queue estimation: ``rank`` (0-based) of ``queue_size`` waiting, ``eta`` in seconds."""

    rank: int | None
    queue_size: int | None
    eta: float | None


@dataclass(frozen=True)
class Started(_Event):
    """A worker picked the job up; ``eta`` is the server's average run time of the function."""

    eta: float | None


@dataclass(frozen=True)
class ProgressReported(_Event):
    """The app's ``gr.Progress`` trackers moved; ``units`` holds each tracker's state."""

    units: list[ProgressUnit]


@dataclass(frozen=True)
class Logged(_Event):
    """The app sent a ``gr.Info``/``gr.Warning`` message (``log``) while the job ran."""

    log: LogMessage


@dataclass(frozen=True)
class OutputProduced(_Event):
    """The ``index``-th output of a generator (or the single output of a plain function),
    counting from 0; ``value`` is the output as the caller sees it."""

    index: int
    value: Any


@dataclass(frozen=True)
class Completed(_Event):
    """The job succeeded; ``value`` is its result, as ``result()`` returns it."""

    value: Any


@dataclass(frozen=True)
class Failed(_Event):
    """The job failed; ``error`` is the exception ``result()`` raises."""

    error: BaseException


@dataclass(frozen=True)
class Cancelled(_Event):
    """The job was cancelled (by the caller, or by the server); ``result()`` raises ``CancelledError``.

    ``outcome`` is ``"requested"`` when the caller cancelled (the server's verdict follows in
    :class:`CancelResolved`), ``"cancelled by the server"`` when nobody here asked.
    """

    outcome: str


@dataclass(frozen=True)
class CancelResolved(_Event):
    """What the server really did about a cancel (or a deadline): ``outcome`` is one of the
    ``OUTCOME_*`` texts below."""

    outcome: str


@dataclass(frozen=True)
class Resubmitted(_Event):
    """The job was submitted again (its earlier run was killed, or lost and marked safe to repeat),
    or will be once a ZeroGPU quota allows (``SubmitRetry(wait_quota=True)``: made when the wait begins).

    ``reason`` says why (for a quota: the wait, in seconds, and the server's message);
    ``attempt`` numbers the run now starting (the first run is 1, so the first
    resubmission is 2).
    """

    reason: str
    attempt: int


JobEvent: TypeAlias = (
    Submitted
    | Uploading
    | Joined
    | Queued
    | Started
    | ProgressReported
    | Logged
    | OutputProduced
    | Completed
    | Failed
    | Cancelled
    | CancelResolved
    | Resubmitted
)
"""Any of the events above: the type of what ``job.events()`` yields and ``job.event_log()`` lists."""

OUTCOME_DEQUEUED = "dequeued"
OUTCOME_STOPPED = "stopped"
OUTCOME_FINISHED_FIRST = "finished before the cancel arrived"
OUTCOME_FAILED_FIRST = "failed before the cancel arrived"
OUTCOME_NEVER_SENT = "never sent"
OUTCOME_SERVER_CONTINUES = "server continues"
OUTCOME_CONNECTION_LOST = "connection lost"

TERMINAL_EVENTS = (Completed, Failed, Cancelled)
"""The events that settle a job's outcome (``isinstance(event, TERMINAL_EVENTS)``): after one,
``result()`` returns or raises at once (a :class:`CancelResolved` may still follow a
:class:`Cancelled`)."""
