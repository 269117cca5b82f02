"""One job's state machine: server messages in, typed events out. No I/O.

``JobState`` is fed the messages the stream reader routes to the job and the decisions the
client makes (joined, cancelled, lost). It keeps the event log, the generator outputs
(each once, in order), the current :class:`StatusUpdate` and the outcome.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import copy
import enum
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .._exceptions import (
    AppError,
    ConnectionLostError,
    GradioJobsError,
    JobTimeoutError,
    ProtocolError,
    QueueFullError,
    QuotaExceededError,
)
from . import events as ev
from . import messages as m
from .api import Endpoint
from .cancel import CancelAction, Phase
from .capabilities import Capabilities
from .diff import DiffError, apply_diff
from .quota import parse_quota_message
from .status import OutputUpdate, ProgressUnit, Status, StatusUpdate

__all__ = [
    "Clock",
    "EventCursor",
    "IllegalTransition",
    "JobState",
    "Lifecycle",
    "OutputCursor",
    "UpdateCursor",
    "Outcome",
    "PendingOutput",
    "SYSTEM_CLOCK",
    "TRANSITIONS",
    "Timings",
    "app_error_from",
]

logger = logging.getLogger("gradio_jobs")


def app_error_from(error: dict[str, Any], caps: Capabilities, job_id: str | None = None) -> AppError:
    """Build the :class:`AppError` for a failed job from the server's error object.

    As the official client does: a null ``error`` (the app hides its exceptions) gives the
    official advice to set ``show_error=True``; otherwise the server's ``duration``,
    ``visible``, ``title`` and ``print_exception`` where it sent them, the official defaults
    where it did not. A ZeroGPU quota message gives a :class:`QuotaExceededError` (an
    ``AppError``) with the wait it names (``protocol/quota.py``).
    """
    message = error.get("error")
    if message is None:
        return AppError(None, hidden=True, job_id=job_id)
    if not isinstance(message, str):
        message = str(message)
    quoted = len(message) >= 2 and message[0] == message[-1] and message[0] in "'\""
    if message and caps.quoted_error_messages and quoted:
        # 4.x sends repr(str(error)); undo exactly that.
        try:
            unquoted = ast.literal_eval(message)
        except (ValueError, SyntaxError):
            unquoted = None
        if isinstance(unquoted, str):
            message = unquoted
    title = error.get("title")
    duration = error.get("duration", 10)
    if isinstance(duration, bool) or not isinstance(duration, (int, float, type(None))):
        duration = 10
    visible = error.get("visible", True)
    print_exception = error.get("print_exception", True)
    fields: dict[str, Any] = {
        "duration": duration,
        "visible": visible if isinstance(visible, bool) else True,
        "title": title if isinstance(title, str) and title else "Error",
        "print_exception": print_exception if isinstance(print_exception, bool) else True,
        "job_id": job_id,
    }
    quota = parse_quota_message(message, title if isinstance(title, str) else None)
    if quota is not None:  # a ZeroGPU quota error: the same error, with the wait it names
        return QuotaExceededError(message, **fields, retry_after=quota.retry_after)
    return AppError(message, **fields)


@dataclass(frozen=True)
class Timings:
    """When a job went through each stage (local clock), and how long the stages took.

    ``submitted``, ``queued`` (joined the queue), ``started``, ``finished`` are wall-clock
    times, None until reached. The durations, in seconds, come from the monotonic clock:
    ``queue_wait`` from joining to starting, ``run_time`` from starting to finishing,
    ``total`` from submitting to finishing. A resubmitted job keeps its first submission.
    """

    submitted: datetime | None = None
    queued: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    queue_wait: float | None = None
    run_time: float | None = None
    total: float | None = None


@dataclass(frozen=True)
class PendingOutput:
    """An output :meth:`JobState.take` hands back undelivered, for the caller to finish
    (download its files) and then :meth:`JobState.commit`."""

    #: True for the final result (``process_completed``), False for a generator's yield.
    final: bool
    value: Any
    attempt: int


class Clock(Protocol):
    """Where a job's times come from: injected so that tests can drive time themselves."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (``time.monotonic`` by default)."""
        ...

    def now(self) -> datetime:
        """The local wall-clock time (``datetime.now`` by default)."""
        ...


class _SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now()


#: The clock every job uses unless it is given another.
SYSTEM_CLOCK: Clock = _SystemClock()


class Lifecycle(enum.Enum):
    """Where a job is in its life, as the caller sees it.

    ``SUBMITTED`` (inputs uploading, join in flight), ``QUEUED`` (the server has it),
    ``RUNNING`` (a worker started it), ``FINISHING`` (the server completed it, or answered
    the one input of a streaming-input endpoint; the files of its result are downloading),
    ``STOPPING`` (the caller has its answer, a cancellation or a deadline's error, and the
    server's verdict on the cancel is awaited), ``SETTLED`` (over: nothing the server says
    changes it any more).
    """

    SUBMITTED = "submitted"
    QUEUED = "queued"
    RUNNING = "running"
    FINISHING = "finishing"
    STOPPING = "stopping"
    SETTLED = "settled"


class Outcome(enum.Enum):
    """How a job ended for its caller: fixed once, when it reaches ``STOPPING`` or ``SETTLED``."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


L = Lifecycle
#: Every legal move of the lifecycle. ``SUBMITTED`` is reached again when a job is resubmitted
#: (its run was killed, or lost and safe to repeat); a settled job never changes.
TRANSITIONS: dict[Lifecycle, frozenset[Lifecycle]] = {
    L.SUBMITTED: frozenset({L.SUBMITTED, L.QUEUED, L.RUNNING, L.FINISHING, L.STOPPING, L.SETTLED}),
    L.QUEUED: frozenset({L.SUBMITTED, L.RUNNING, L.FINISHING, L.STOPPING, L.SETTLED}),
    L.RUNNING: frozenset({L.SUBMITTED, L.FINISHING, L.STOPPING, L.SETTLED}),
    L.FINISHING: frozenset({L.SETTLED}),
    L.STOPPING: frozenset({L.SETTLED}),
    L.SETTLED: frozenset(),
}
del L


class IllegalTransition(RuntimeError):
    """A bug in gradio-jobs: a job was moved along a path its lifecycle does not have."""


class JobState:
    """The sans-I/O heart of a job; see the module docstring.

    ``endpoint`` and ``capabilities`` say what the job calls and how the server speaks;
    ``keep_outputs`` (None: all) bounds how many generator outputs are kept; ``clock``
    stamps every event and status (:data:`SYSTEM_CLOCK` unless a test injects its own).
    Every change goes through :attr:`lifecycle` along :data:`TRANSITIONS`.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        capabilities: Capabilities,
        keep_outputs: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if keep_outputs is not None and (
            isinstance(keep_outputs, bool) or not isinstance(keep_outputs, int) or keep_outputs < 1
        ):
            raise ValueError(f"keep_outputs must be a positive int or None, got {keep_outputs!r}")
        self.endpoint = endpoint
        self.capabilities = capabilities
        self.keep_outputs = keep_outputs
        self.clock = clock
        self.job_id: str | None = None
        self.lifecycle = Lifecycle.SUBMITTED
        #: How the job ended for the caller; None until it has.
        self.outcome: Outcome | None = None
        #: Where the server side of the job is (it may still start while the job is STOPPING).
        self.phase = Phase.JOINING
        # The log and the outputs are each replaced whole (never edited in place but for
        # appends) when trimmed, so a reader on another thread always sees a consistent window.
        #: ``(sequence number, event)``, in order; numbers count every event ever emitted.
        self.log: list[tuple[int, ev.JobEvent]] = []
        self._next_seq = 0
        #: ``(index of the first output kept, the outputs kept)``.
        self.output_window: tuple[int, list[Any]] = (0, [])
        self.outputs_total = 0
        # The events the timings come from (built when asked: most jobs never are).
        self._first_submitted: ev.Submitted | None = None
        self._last_joined: ev.Joined | None = None
        self._last_started: ev.Started | None = None
        self._finished: ev.JobEvent | None = None
        self._queue_wait: float | None = None
        self._run_start: float | None = None
        self.status = StatusUpdate(
            code=Status.STARTING, rank=None, queue_size=None, eta=None, success=None,
            time=clock.now(), progress_data=None,
        )
        self.attempt = 1
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancel_outcome: str | None = None
        #: The phase the job was in when it was cancelled (or timed out).
        self.cancel_phase: Phase | None = None
        self._run_eta: float | None = None
        # Output assembly: the full value the diffs apply to, the slots a failed diff broke,
        # whether the last yield was dropped for that, and how many outputs a resubmitted
        # run re-yields that the caller already has.
        self._full: list[Any] | None = None
        self._broken_slots: set[int] = set()
        self._last_yield_dropped = False
        self._replay_skip = 0
        # Cancel requests sent for this job, oldest first: the server answers each one that
        # finds the job pending with an empty completion, in the same order.
        self._cancel_requests: deque[CancelAction] = deque()
        self._last_cancel_killed = False

    # -- what the lifecycle says ---------------------------------------------------------

    @property
    def done(self) -> bool:
        """The caller has its answer (result, error or cancellation)."""
        return self.lifecycle in (Lifecycle.STOPPING, Lifecycle.SETTLED)

    @property
    def settled(self) -> bool:
        """No more server messages matter (after a cancel: the server's verdict is known)."""
        return self.lifecycle is Lifecycle.SETTLED

    @property
    def finishing(self) -> bool:
        """The server has completed the job; its result is being finished (files downloaded)."""
        return self.lifecycle is Lifecycle.FINISHING

    @property
    def cancelled(self) -> bool:
        """The job ended cancelled (by the caller, or by the server)."""
        return self.outcome is Outcome.CANCELLED

    @property
    def cancelling(self) -> bool:
        """Cancelled (or timed out) locally; the server's verdict is still awaited."""
        return self.lifecycle is Lifecycle.STOPPING

    @property
    def started(self) -> bool:
        """A worker has started the job (this attempt)."""
        return self.phase is Phase.RUNNING

    @property
    def cancel_requests(self) -> tuple[CancelAction, ...]:
        """The cancel requests sent for the job and not answered yet, oldest first."""
        return tuple(self._cancel_requests)

    @property
    def last_cancel_killed(self) -> bool:
        """The last empty completion answered a killing cancel (its siblings may be dead)."""
        return self._last_cancel_killed

    def _move(self, to: Lifecycle, outcome: Outcome | None = None) -> None:
        if to not in TRANSITIONS[self.lifecycle]:
            raise IllegalTransition(f"job {self.job_id}: {self.lifecycle.value} -> {to.value}")
        if outcome is not None:
            if self.outcome is not None and self.outcome is not outcome:
                raise IllegalTransition(f"job {self.job_id}: ended {self.outcome.value}, then {outcome.value}")
            self.outcome = outcome
        self.lifecycle = to

    # -- client-side transitions -------------------------------------------------------

    def submitted(self) -> list[ev.JobEvent]:
        """The job was handed to the client: its first event."""
        return self._emit(ev.Submitted(self.endpoint.label, **self._stamp()))

    def uploading(self, name: str, sent: int, total: int) -> list[ev.JobEvent]:
        """An input file is on its way to the server (``sent`` of ``total`` bytes)."""
        if self.done:
            return []
        unit = ProgressUnit(
            index=sent, length=total, unit="bytes", progress=sent / total if total else 1.0, desc=f"uploading {name}"
        )
        self._set_status(Status.SENDING_DATA, progress_data=[unit])
        return self._emit(ev.Uploading(name, sent, total, **self._stamp()))

    def joined(self, job_id: str | None) -> list[ev.JobEvent]:
        """The server accepted the job, as ``job_id`` (None on routes without ids)."""
        if self.settled:
            return []
        self.job_id = job_id
        self.phase = Phase.QUEUED
        if self.lifecycle is Lifecycle.SUBMITTED:
            self._move(Lifecycle.QUEUED)
        return self._emit(ev.Joined(job_id, **self._stamp()))

    def cancel_sent(self, action: CancelAction) -> None:
        """A cancel request for the job went out; its empty completion will answer it."""
        self._cancel_requests.append(action)

    def fail(self, error: BaseException) -> list[ev.JobEvent]:
        """The job failed with ``error`` (a lost connection after a cancel resolves it instead)."""
        if self.done:
            return self._resolve(ev.OUTCOME_CONNECTION_LOST) if isinstance(error, ConnectionLostError) else []
        if isinstance(error, GradioJobsError) and getattr(error, "job_id", None) is None and self.job_id:
            with contextlib.suppress(AttributeError):
                error.job_id = self.job_id  # type: ignore[attr-defined]
        self._move(Lifecycle.SETTLED, Outcome.FAILED)
        self.error = error
        self._set_status(Status.FINISHED, success=False)
        return self._emit(ev.Failed(error, **self._stamp()))

    def lost(self, reason: str) -> list[ev.JobEvent]:
        """The connection carrying this job ended before the job did."""
        if self.finishing:
            return []  # the server's part is over: only its files are still coming
        return self.fail(ConnectionLostError(reason, job_id=self.job_id, last_status=self.status))

    def cancel(self) -> list[ev.JobEvent]:
        """The caller cancels: done for the caller now, settled once the server has answered."""
        if self.done or self.finishing:
            return []
        self._request_cancel(Status.CANCELLED, Outcome.CANCELLED)
        return self._emit(ev.Cancelled("requested", **self._stamp()))

    def expire(self, phase: str, limit: float) -> list[ev.JobEvent]:
        """A deadline ran out: the job fails with :class:`JobTimeoutError` and is cancelled."""
        if self.done or self.finishing:
            return []
        error = JobTimeoutError(phase, limit, job_id=self.job_id, last_status=self.status)
        self.error = error
        self._request_cancel(Status.FINISHED, Outcome.FAILED)
        return self._emit(ev.Failed(error, **self._stamp()))

    def _request_cancel(self, code: Status, outcome: Outcome) -> None:
        self._move(Lifecycle.STOPPING, outcome)
        self.cancel_outcome = "requested"
        self.cancel_phase = self.phase
        self._set_status(code, success=False)

    def resolve_cancel(self, outcome: str) -> list[ev.JobEvent]:
        """The client knows what became of the cancel without a server message (e.g. nothing to send)."""
        return self._resolve(outcome)

    def restart(
        self, reason: str, endpoint: Endpoint | None = None, capabilities: Capabilities | None = None
    ) -> list[ev.JobEvent]:
        """Submit again (same job for the caller): forget the server-side run, keep the outputs.

        ``endpoint`` and ``capabilities`` (default: the same) are those of the app the job is
        submitted to now: a pool moves a job to another replica, which may run another version.
        """
        if self.done or self.finishing:
            return []
        self.endpoint = endpoint or self.endpoint
        self.capabilities = capabilities or self.capabilities
        self._move(Lifecycle.SUBMITTED)
        self.job_id = None
        self.phase = Phase.JOINING
        self.attempt += 1
        self._full = None
        self._broken_slots.clear()
        self._replay_skip = self.outputs_total
        self._set_status(Status.STARTING)
        return self._emit(ev.Resubmitted(reason, self.attempt, **self._stamp()))

    def rebind(self, endpoint: Endpoint, capabilities: Capabilities) -> None:
        """The job will be submitted to another app (a pool's replica) before it joins: its
        endpoint there and how that server speaks."""
        if self.phase is not Phase.JOINING:
            raise IllegalTransition(f"job {self.job_id}: cannot move to another app while {self.phase.value}")
        self.endpoint = endpoint
        self.capabilities = capabilities

    def _resolve(self, outcome: str) -> list[ev.JobEvent]:
        if not self.cancelling:
            return []
        self._move(Lifecycle.SETTLED)
        self.cancel_outcome = outcome
        return self._emit(ev.CancelResolved(outcome, **self._stamp()))

    # -- server messages -----------------------------------------------------------------

    def feed(self, msg: m.Message) -> list[ev.JobEvent]:
        """Apply one message routed to this job; returns the events it produced."""
        taken = self.take(msg)
        if isinstance(taken, PendingOutput):
            return self.commit(taken, taken.value)
        return taken

    def commit(self, pending: PendingOutput, value: Any) -> list[ev.JobEvent]:
        """Deliver an output :meth:`take` handed back, as ``value`` (its finished form)."""
        if pending.attempt != self.attempt or self.done:
            return []  # the job ended (or was resubmitted) meanwhile
        if pending.final:
            return self._complete(value)
        return self._add_output(value)

    def take(self, msg: m.Message) -> list[ev.JobEvent] | PendingOutput:
        """Like :meth:`feed`, except that an output comes back as a :class:`PendingOutput`."""
        if self.cancelling:
            return self._feed_cancelling(msg)
        if self.done or self.finishing:
            return []
        if isinstance(msg, m.Estimation):
            self._set_status(Status.IN_QUEUE, rank=msg.rank, queue_size=msg.queue_size, eta=msg.rank_eta)
            return self._emit(ev.Queued(msg.rank, msg.queue_size, msg.rank_eta, **self._stamp()))
        if isinstance(msg, m.ProcessStarts):
            self.phase = Phase.RUNNING
            if self.lifecycle is not Lifecycle.RUNNING:
                self._move(Lifecycle.RUNNING)
            self._run_eta = msg.eta
            self._set_status(Status.PROCESSING)
            return self._emit(ev.Started(msg.eta, **self._stamp()))
        if isinstance(msg, m.Progress):
            self._set_status(Status.PROGRESS, progress_data=msg.units)
            return self._emit(ev.ProgressReported(msg.units, **self._stamp()))
        if isinstance(msg, m.Log):
            self._set_status(Status.LOG, log=(msg.log.message, msg.log.level), log_message=msg.log)
            return self._emit(ev.Logged(msg.log, **self._stamp()))
        if isinstance(msg, m.Generating):
            return self._generating(msg)
        if isinstance(msg, m.Completed):
            return self._completed(msg)
        if isinstance(msg, m.UnexpectedError):
            return self.lost(f"the server reported: {msg.message}")
        if isinstance(msg, m.QueueFull):
            self._set_status(Status.QUEUE_FULL)
            return self.fail(QueueFullError())
        if isinstance(msg, m.SendHash):
            self._set_status(Status.JOINING_QUEUE)
            return []
        if isinstance(msg, m.SendData):
            if self.job_id is None and msg.event_id is not None:
                self.job_id = msg.event_id  # 4.0 to 4.8 name the job only now
            self._set_status(Status.SENDING_DATA)
            return []
        if isinstance(msg, m.UnknownMessage):
            logger.debug("ignoring unknown message %r for job %s", msg.msg, self.job_id)
        return []

    def _feed_cancelling(self, msg: m.Message) -> list[ev.JobEvent]:
        """Messages after a local cancel only tell what the server did about it."""
        if isinstance(msg, m.ProcessStarts):
            self.phase = Phase.RUNNING
            return []
        if isinstance(msg, m.Completed):
            if msg.cancelled:
                kind = self._cancel_requests.popleft() if self._cancel_requests else None
                self._last_cancel_killed = kind is CancelAction.KILL
                if kind is CancelAction.KILL:
                    return self._resolve(ev.OUTCOME_STOPPED)
                if not self.started:
                    return self._resolve(ev.OUTCOME_DEQUEUED)
                # It started before the dequeue landed: what its start triggered decides.
                return []
            if self.cancel_phase is not Phase.RUNNING:
                # Cancelled before it started, and the server ran it all the same (before 6.14
                # a cancel cannot take a job off the queue).
                return self._resolve(ev.OUTCOME_SERVER_CONTINUES)
            if msg.error is not None:
                return self._resolve(ev.OUTCOME_FAILED_FIRST)
            self.result = self.endpoint.user_outputs(msg.data or [])
            return self._resolve(ev.OUTCOME_FINISHED_FIRST)
        if isinstance(msg, m.UnexpectedError):
            return self._resolve(ev.OUTCOME_CONNECTION_LOST)
        return []

    def _generating(self, msg: m.Generating) -> list[ev.JobEvent] | PendingOutput:
        self._set_status(Status.ITERATING, success=msg.success)
        semantics = self.capabilities.diff_semantics
        if self._full is None or semantics is None:
            full = list(msg.data)
            self._broken_slots.clear()
        else:
            full = list(self._full)
            if len(msg.data) > len(full):
                full.extend([None] * (len(msg.data) - len(full)))
            for slot, ops in enumerate(msg.data):
                if not isinstance(ops, list):
                    self._broken_slots.add(slot)
                    continue
                if slot in self._broken_slots:
                    # Only a replace of the whole value can make a lost slot whole again.
                    if not any(_replaces_whole_value(op) for op in ops):
                        continue
                    self._broken_slots.discard(slot)
                try:
                    full[slot] = apply_diff(full[slot], ops, semantics)
                except DiffError as exc:
                    logger.warning(
                        "job %s: could not apply the server's diff to output %d (%s); "
                        "waiting for the next full value", self.job_id, slot, exc,
                    )
                    self._broken_slots.add(slot)
        self._full = full
        if self._broken_slots:
            self._last_yield_dropped = True
            return []
        self._last_yield_dropped = False
        if self._replay_skip:
            # A repeated run re-yields what the caller already has: deliver each output once.
            self._replay_skip -= 1
            return []
        # apply_diff shares unchanged parts with the previous value: the caller gets its own copy,
        # so mutating an output can never corrupt the base of the next diff.
        value = self.endpoint.user_outputs(copy.deepcopy(full) if semantics is not None else full)
        if self.endpoint.streams_inputs:
            # The answer to the one input a call sends: all the server could do now is wait for
            # more input (until the client's close lands, at the latest the event's time limit).
            self._move(Lifecycle.FINISHING)
            return PendingOutput(final=True, value=value, attempt=self.attempt)
        return PendingOutput(final=False, value=value, attempt=self.attempt)

    def _completed(self, msg: m.Completed) -> list[ev.JobEvent] | PendingOutput:
        if msg.cancelled:
            # Nobody here asked: another client of this session (or the app) cancelled it.
            self._move(Lifecycle.SETTLED, Outcome.CANCELLED)
            self.cancel_outcome = "cancelled by the server"
            self._set_status(Status.CANCELLED, success=False)
            return self._emit(ev.Cancelled(self.cancel_outcome, **self._stamp()))
        if msg.error is not None:
            return self.fail(app_error_from(msg.error, self.capabilities, self.job_id))
        if msg.data is None:
            return self.fail(ProtocolError("the job completed without data", payload=msg))
        self._move(Lifecycle.FINISHING)
        return PendingOutput(final=True, value=self.endpoint.user_outputs(msg.data), attempt=self.attempt)

    def _complete(self, value: Any) -> list[ev.JobEvent]:
        produced: list[ev.JobEvent] = []
        if not self.outputs_total or self._last_yield_dropped or self._replay_skip:
            produced += self._add_output(value)
        self._move(Lifecycle.SETTLED, Outcome.COMPLETED)
        self.result = value
        self._set_status(Status.FINISHED, success=True)
        return produced + self._emit(ev.Completed(value, **self._stamp()))

    # -- helpers -------------------------------------------------------------------------

    @property
    def events(self) -> list[ev.JobEvent]:
        """The events kept, in order (all of them unless ``keep_outputs`` trims old outputs)."""
        return [event for _, event in self.log]

    @property
    def outputs(self) -> list[Any]:
        """The outputs kept (the last ``keep_outputs`` if set; the final value is always kept)."""
        return self.output_window[1]

    def events_since(self, seq: int) -> list[tuple[int, ev.JobEvent]]:
        """The kept events numbered ``seq`` or later."""
        log = self.log
        start = bisect.bisect_left(log, seq, key=lambda entry: entry[0])
        return log[start:]

    def _add_output(self, value: Any) -> list[ev.JobEvent]:
        index = self.outputs_total
        self.outputs_total += 1
        _first, kept = self.output_window
        kept.append(value)
        keep = self.keep_outputs
        if keep is not None and len(kept) >= 2 * keep:
            self.output_window = (index + 1 - keep, kept[-keep:])
        return self._emit(ev.OutputProduced(index, value, **self._stamp()))

    @property
    def timings(self) -> Timings:
        """When the job went through each stage, and how long each took (see :class:`Timings`)."""
        submitted, joined, started, finished = (
            self._first_submitted, self._last_joined, self._last_started, self._finished
        )
        return Timings(
            submitted=submitted.wallclock if submitted else None,
            queued=joined.wallclock if joined else None,
            started=started.wallclock if started else None,
            finished=finished.wallclock if finished else None,
            queue_wait=self._queue_wait if started else None,
            run_time=finished.at - self._run_start if finished and self._run_start is not None else None,
            total=finished.at - submitted.at if finished and submitted else None,
        )

    def _note_timing(self, event: ev.JobEvent) -> None:
        if isinstance(event, ev.Submitted):
            if self._first_submitted is None:
                self._first_submitted = event
        elif isinstance(event, ev.Joined):
            self._last_joined = event
        elif isinstance(event, ev.Started):
            joined = self._last_joined
            self._queue_wait = event.at - joined.at if joined is not None else None
            self._last_started = event
        elif isinstance(event, ev.TERMINAL_EVENTS) and self._finished is None:
            self._finished = event
            started = self._last_started
            self._run_start = started.at if started is not None else None

    def _stamp(self) -> dict[str, Any]:
        return {"at": self.clock.monotonic(), "wallclock": self.clock.now()}

    def _emit(self, event: ev.JobEvent) -> list[ev.JobEvent]:
        self.log.append((self._next_seq, event))
        self._next_seq += 1
        self._note_timing(event)
        keep = self.keep_outputs
        if keep is not None and isinstance(event, ev.OutputProduced) and event.index % keep == 0:
            self._trim_log()
        return [event]

    def _trim_log(self) -> None:
        """Drop the output and progress events older than the last ``keep_outputs`` of each."""
        keep = self.keep_outputs
        assert keep is not None
        bulky = (ev.OutputProduced, ev.ProgressReported)
        counts: dict[type, int] = {kind: 0 for kind in bulky}
        for _, event in self.log:
            if isinstance(event, bulky):
                counts[type(event)] += 1
        if all(count < 2 * keep for count in counts.values()):
            return
        skip = {kind: max(0, count - keep) for kind, count in counts.items()}
        kept = []
        for entry in self.log:
            kind = type(entry[1])
            if kind in skip and skip[kind] > 0:
                skip[kind] -= 1
                continue
            kept.append(entry)
        self.log = kept

    def _set_status(self, code: Status, **fields: Any) -> None:
        self.status = StatusUpdate(
            code=code,
            rank=fields.get("rank"),
            queue_size=fields.get("queue_size"),
            eta=fields.get("eta"),
            success=fields.get("success"),
            time=self.clock.now(),
            progress_data=fields.get("progress_data"),
            log=fields.get("log"),
            run_eta=self._run_eta,
            log_message=fields.get("log_message"),
        )


def _replaces_whole_value(op: Any) -> bool:
    return isinstance(op, list) and len(op) == 3 and op[0] == "replace" and op[1] == []


_NOTHING: Any = object()


class OutputCursor:
    """A reader's place in a job's outputs: each output once, in order, until the job ends.

    Both the sync and the async iterator of a job are shells around one of these: they call
    :meth:`next` and wait on the job's signal while it returns :data:`NOTHING`. A reader
    that falls behind a ``keep_outputs`` window skips what was trimmed.
    """

    NOTHING: Any = _NOTHING

    def __init__(self, state: JobState) -> None:
        self._state = state
        self._seen = 0

    def next(self) -> Any:
        """The next output, or :data:`NOTHING` if there is none yet."""
        first, kept = self._state.output_window
        self._seen = max(self._seen, first)
        if self._seen < first + len(kept):
            self._seen += 1
            return kept[self._seen - 1 - first]
        return _NOTHING

    @property
    def ended(self) -> bool:
        """The job is done: once :meth:`next` has nothing more, the iteration is over."""
        return self._state.done

    def raise_failure(self) -> None:
        """At the end of the iteration: raise the job's error, if it failed (a cancel is no error)."""
        state = self._state
        if state.error is not None and not state.cancelled:
            raise state.error


def reader_wait(tick: float | None, until: float | None, now: float) -> float | None:
    """How long a reader of a job's events waits for news before it looks again: ``tick``
    seconds (None: until there is news), cut to what is left before monotonic time ``until``
    (None: no deadline). ``TimeoutError`` once ``until`` has passed."""
    if until is None:
        return tick
    left = until - now
    if left <= 0:
        raise TimeoutError("the job was still running when the timeout passed")
    return left if tick is None else min(tick, left)


class EventCursor:
    """A reader's place in a job's event log: every event once, in order, until the job settles."""

    def __init__(self, state: JobState) -> None:
        self._state = state
        self._seq = 0

    def next_batch(self) -> list[ev.JobEvent]:
        """The events since the last call (empty if none are new)."""
        batch = self._state.events_since(self._seq)
        if batch:
            self._seq = batch[-1][0] + 1
        return [event for _, event in batch]

    @property
    def ended(self) -> bool:
        """The server's part of the job is over: once a batch comes back empty, nothing follows."""
        return self._state.settled


class UpdateCursor:
    """A reader's place in a job's updates, ``gradio_client``'s view of its events: an
    :class:`OutputUpdate` per output (``final`` for the result, or for the error of a failed
    job) and a :class:`StatusUpdate` after each batch that changed the status.

    A reader that lags sees the latest status, not every one it missed (as ``on_status``).
    """

    def __init__(self, state: JobState) -> None:
        self._state = state
        self._events = EventCursor(state)
        self._last_status: StatusUpdate | None = None

    def next_batch(self) -> list[StatusUpdate | OutputUpdate]:
        """The updates since the last call (empty if none are new)."""
        updates: list[StatusUpdate | OutputUpdate] = []
        for event in self._events.next_batch():
            if isinstance(event, ev.OutputProduced):
                updates.append(OutputUpdate(outputs=event.value, success=True))
            elif isinstance(event, ev.Completed):
                updates.append(OutputUpdate(outputs=event.value, success=True, final=True))
            elif isinstance(event, ev.Failed):
                updates.append(OutputUpdate(outputs=event.error, success=False, final=True))
        status = self._state.status
        if status is not self._last_status:
            self._last_status = status
            updates.append(status)
        return updates

    @property
    def ended(self) -> bool:
        """The job is over: once a batch comes back empty, nothing follows."""
        return self._events.ended
