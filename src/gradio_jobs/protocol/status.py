"""``Status``, ``StatusUpdate`` and ``OutputUpdate``: the same names, members and fields as ``gradio_client``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

__all__ = ["Status", "StatusUpdate", "OutputUpdate", "Update", "ProgressUnit", "LogMessage"]


class Status(Enum):
    """The stage a job is in. Values equal the names, as in ``gradio_client``."""

    STARTING = "STARTING"
    JOINING_QUEUE = "JOINING_QUEUE"
    QUEUE_FULL = "QUEUE_FULL"
    IN_QUEUE = "IN_QUEUE"
    SENDING_DATA = "SENDING_DATA"
    PROCESSING = "PROCESSING"
    ITERATING = "ITERATING"
    PROGRESS = "PROGRESS"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"
    LOG = "LOG"

    @staticmethod
    def ordering(status: Status) -> int:
        """Position of ``status`` in a job's life; ``LOG`` has none and raises ``ValueError``."""
        return _ORDER.index(status)

    def __lt__(self, other: Status) -> bool:
        """Whether this stage comes before ``other`` in a job's life (see :meth:`ordering`)."""
        return self.ordering(self) < self.ordering(other)

    @staticmethod
    def msg_to_status(msg: str) -> Status:
        """The status a server message of type ``msg`` (``"estimation"``, ...) leads to;
        ``ValueError`` for a type that leads to none."""
        try:
            return _MSG_TO_STATUS[msg]
        except KeyError:
            raise ValueError(f"no status for server message {msg!r}") from None


_ORDER = [
    Status.STARTING,
    Status.JOINING_QUEUE,
    Status.QUEUE_FULL,
    Status.IN_QUEUE,
    Status.SENDING_DATA,
    Status.PROCESSING,
    Status.PROGRESS,
    Status.ITERATING,
    Status.FINISHED,
    Status.CANCELLED,
]

_MSG_TO_STATUS = {
    "send_hash": Status.JOINING_QUEUE,
    "queue_full": Status.QUEUE_FULL,
    "estimation": Status.IN_QUEUE,
    "send_data": Status.SENDING_DATA,
    "process_starts": Status.PROCESSING,
    "process_generating": Status.ITERATING,
    "process_streaming": Status.ITERATING,
    "process_completed": Status.FINISHED,
    "progress": Status.PROGRESS,
    "log": Status.LOG,
}


@dataclass(frozen=True)
class ProgressUnit:
    """One ``gr.Progress`` tracker: ``index`` of ``length`` ``unit``s, or a ``progress`` fraction.

    Each field is None when the server does not send it; ``desc`` is the tracker's text.
    """

    index: int | float | None
    length: int | float | None
    unit: str | None
    progress: float | None
    desc: str | None

    @classmethod
    def from_msg(cls, data: list[dict[str, Any]]) -> list[ProgressUnit]:
        """The trackers of a ``progress`` message's ``progress_data`` list (``data``); items
        that are not objects are skipped."""
        return [
            cls(
                index=d.get("index"),
                length=d.get("length"),
                unit=d.get("unit"),
                progress=d.get("progress"),
                desc=d.get("desc"),
            )
            for d in data
            if isinstance(d, dict)
        ]


@dataclass(frozen=True)
class LogMessage:
    """A ``gr.Info`` / ``gr.Warning`` / ``gr.Success`` message sent by the app while it runs.

    ``message`` is its text and ``level`` its kind (``"info"``, ``"warning"``, ...);
    ``title`` (default None), ``duration`` in seconds (default None: the app's default) and
    ``visible`` (default True) are as the app passed them.
    """

    message: str
    level: str
    title: str | None = None
    duration: float | None = None
    visible: bool = True


@dataclass
class StatusUpdate:
    """A job's status: the fields of ``gradio_client.StatusUpdate`` plus a few it drops.

    ``eta`` is the server's ``rank_eta`` while the job waits in the queue, as in
    ``gradio_client``. ``run_eta`` additionally keeps the server's estimate of the run time
    (``process_starts.eta``, the function's average duration), which ``gradio_client``
    discards. ``log`` is ``(message, level)`` as in ``gradio_client``; ``log_message`` keeps
    the title, duration and visibility as well.

    ``code`` is the stage; ``rank`` and ``queue_size`` the place in the queue and its length
    (None outside the queue); ``success`` whether the job succeeded (None until it is over);
    ``time`` when the status was made; ``progress_data`` the ``gr.Progress`` trackers (None
    when there are none); ``log`` (default None) as above; ``type`` (default ``"status"``,
    the only value this client uses) is kept for ``gradio_client`` compatibility;
    ``run_eta`` (default None) and ``log_message`` (default None) as above.
    """

    code: Status
    rank: int | None
    queue_size: int | None
    eta: float | None
    success: bool | None
    time: datetime | None
    progress_data: list[ProgressUnit] | None
    log: tuple[str, str] | None = None
    type: Literal["status", "output"] = "status"
    run_eta: float | None = None
    log_message: LogMessage | None = None


@dataclass
class OutputUpdate:
    """An output of a job, as ``async for update in job`` yields it (``gradio_client``'s type).

    ``outputs`` is the output as ``result()`` would give it; ``success`` whether the job
    succeeded so far (False on the final update of a failed job, whose ``outputs`` is then
    the error); ``final`` (default False) marks the job's result, the last output;
    ``type`` (default ``"output"``) tells it from a :class:`StatusUpdate`.
    """

    outputs: Any
    success: bool
    type: Literal["output"] = "output"
    final: bool = False


#: What ``async for update in job`` yields: a status or an output.
Update = StatusUpdate | OutputUpdate
