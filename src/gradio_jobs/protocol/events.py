"""The typed events of a job's life, in the order a job can have them.

Every message the server sends about a job, and everything the client decides about it
(submitted, cancelled, lost), becomes one of these, appended to the job's event log.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Union

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
    #: ``time.monotonic()`` when the client handled the event.
    at: float = field(default_factory=_now, kw_only=True)
    #: Local wall-clock time of the same moment.
    wallclock: datetime = field(default_factory=datetime.now, kw_only=True)


@dataclass(frozen=True)
class Submitted(_Event):
    """The client sent the job to the server."""

    endpoint: str


@dataclass(frozen=True)
class Uploading(_Event):
    """Progress of uploading one input file, before the job joins the queue."""

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
    units: list[ProgressUnit]


@dataclass(frozen=True)
class Logged(_Event):
    log: LogMessage


@dataclass(frozen=True)
class OutputProduced(_Event):
    """The ``index``-th output of a generator (or the single output of a plain function)."""

    index: int
    value: Any


@dataclass(frozen=True)
class Completed(_Event):
    value: Any


@dataclass(frozen=True)
class Failed(_Event):
    error: BaseException


@dataclass(frozen=True)
class Cancelled(_Event):
    """The job was cancelled (by the caller, or by the server); ``result()`` raises ``CancelledError``."""

    #: "requested" when the caller cancelled; the server's verdict follows in :class:`CancelResolved`.
    outcome: str


@dataclass(frozen=True)
class CancelResolved(_Event):
    """What the server really did about a cancel (or a deadline): one of the ``OUTCOME_*`` texts."""

    outcome: str


@dataclass(frozen=True)
class Resubmitted(_Event):
    """The job was submitted again (its earlier run was killed, or lost and marked safe to repeat)."""

    reason: str
    attempt: int


JobEvent = Union[
    Submitted, Uploading, Joined, Queued, Started, ProgressReported, Logged, OutputProduced, Completed, Failed, Cancelled,
    CancelResolved, Resubmitted,
]

OUTCOME_DEQUEUED = "dequeued"
OUTCOME_STOPPED = "stopped"
OUTCOME_FINISHED_FIRST = "finished before the cancel arrived"
OUTCOME_FAILED_FIRST = "failed before the cancel arrived"
OUTCOME_NEVER_SENT = "never sent"
OUTCOME_SERVER_CONTINUES = "server continues"
OUTCOME_CONNECTION_LOST = "connection lost"

TERMINAL_EVENTS = (Completed, Failed, Cancelled)
