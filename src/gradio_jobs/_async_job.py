"""``AsyncJob``: one call to the app, driven by the session's stream reader."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Generator, Sequence

from ._exceptions import GradioJobsError, ProtocolError
from .protocol import events as ev
from .protocol import messages as m
from .protocol.api import Endpoint
from .protocol.cancel import CancelAction
from .protocol.capabilities import Route
from ._callbacks import JobCallbacks, run_calls
from .protocol.job import JobState, PendingOutput, Timings
from .protocol.status import StatusUpdate

if TYPE_CHECKING:
    from ._async_client import AsyncClient

__all__ = ["AsyncJob", "Deadline"]

logger = logging.getLogger("gradio_jobs")

#: Called on the event loop for every event of the job, in order.
EventListener = Callable[[ev.JobEvent], None]


@dataclass(frozen=True)
class Deadline:
    """Limits for one job, in seconds; each one that runs out cancels the job on the server.

    ``queue`` bounds the wait for a worker, ``run`` the time from start to end, ``total``
    everything from submission. The job then fails with :class:`JobTimeoutError` naming
    the phase. (``result(timeout)`` only bounds one wait and leaves the job running.)
    """

    queue: float | None = None
    run: float | None = None
    total: float | None = None

    @classmethod
    def of(cls, value: Deadline | float | int | None) -> Deadline | None:
        if value is None or isinstance(value, Deadline):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return cls(total=float(value))
        raise TypeError(f"deadline must be a Deadline or a number of seconds, got {value!r}")


class AsyncJob:
    """A submitted call: await it for the result, iterate it for generator outputs.

    Created by :meth:`AsyncClient.submit`; never construct one directly.
    """

    def __init__(
        self,
        client: AsyncClient,
        endpoint: Endpoint,
        data: list[Any],
        state: JobState,
        *,
        listener: EventListener | None = None,
        result_callbacks: Sequence[Callable[..., Any]] = (),
        deadline: Deadline | None = None,
        callbacks: JobCallbacks | None = None,
    ) -> None:
        self._client = client
        self._callbacks = callbacks if callbacks else None
        self._endpoint = endpoint
        self._data = data
        self._state = state
        self._listener = listener
        self._result_callbacks = list(result_callbacks)
        self._deadline = deadline
        self._timers: list[asyncio.TimerHandle] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._loop = asyncio.get_running_loop()
        self._session_hash = client.session_hash
        self._cancel_lock: asyncio.Lock | None = None
        #: Killing cancels sent and not yet answered by the server.
        self._kills_in_flight = 0
        #: The job finished before its killing cancel landed: look for killed siblings once it has.
        self._siblings_after_kill = False
        self._lost_attempts = 0
        #: Set while an output's files download: what the stream says meanwhile waits here.
        self._backlog: deque[Callable[[], None]] | None = None
        self._apply(state.submitted())
        if deadline is not None:
            if deadline.total is not None:
                self._timers.append(self._loop.call_later(deadline.total, self._expire, "total", deadline.total))
            if deadline.queue is not None:
                self._timers.append(self._loop.call_later(deadline.queue, self._expire, "queue", deadline.queue))
        #: The job's own connection, on the routes that give each job one (see transport/job_routes.py).
        self._connection: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = self._loop.create_task(self._submit())

    # -- public API ---------------------------------------------------------------------

    @property
    def job_id(self) -> str | None:
        """The server's ``event_id`` once the job has joined the queue."""
        return self._state.job_id

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    @property
    def cancel_outcome(self) -> str | None:
        """After a cancel or a deadline: ``"requested"``, then what the server really did."""
        return self._state.cancel_outcome

    def status(self) -> StatusUpdate:
        return self._state.status

    def outputs(self) -> list[Any]:
        """Every output so far (each yield of a generator; the result of a plain function)."""
        return list(self._state.outputs)

    def done(self) -> bool:
        return self._state.done

    def cancelled(self) -> bool:
        return self._state.cancelled

    def event_log(self) -> list[ev.JobEvent]:
        """Every event of the job so far, in order."""
        return list(self._state.events)

    @property
    def timings(self) -> Timings:
        """When the job was submitted, queued, started and finished, and how long each took."""
        return self._state.timings

    async def events(self) -> AsyncIterator[ev.JobEvent]:
        """Every event of the job from the first, then each new one as it happens, until the
        server's part is over (after a cancel: until its outcome is known).

        Nothing is skipped however slowly the loop body runs (with ``keep_outputs=N``, output
        and progress events older than the last N may be trimmed before a slow reader gets to them).
        """
        seq = 0
        while True:
            batch = self._state.events_since(seq)
            if not batch:
                if self._state.settled:
                    return
                await self._wait_change()
                continue
            for number, event in batch:
                seq = number + 1
                yield event

    def cancel(self) -> bool:
        """Stop the job on the server; False if it had already ended.

        The job raises ``CancelledError`` at once; :attr:`cancel_outcome` then says what the
        server did (``"dequeued"``, ``"stopped"``, ``"finished before the cancel arrived"``, ...).
        """
        if self._state.done or self._state.finishing:  # finishing: the server has completed it
            return False
        self._apply(self._state.cancel())
        self._client._drive_cancel(self)
        return True

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the server's part is over too (after a cancel: until its outcome is known).

        Returns False if ``timeout`` passed first.
        """

        async def settled() -> None:
            while not self._state.settled:
                await self._wait_change()

        try:
            await asyncio.wait_for(settled(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def result(self, timeout: float | None = None) -> Any:
        """The job's result; raises the app's error, ``CancelledError`` or ``TimeoutError``."""
        if timeout is None:
            await self._wait_done()
        else:
            try:
                await asyncio.wait_for(self._wait_done(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(f"the job did not finish within {timeout} s") from None
        return self._outcome()

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result().__await__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        """Each output once, in order, until the job ends; then raises the job's error if any."""
        seen = 0
        while True:
            first, kept = self._state.output_window
            seen = max(seen, first)  # trimmed by keep_outputs before we got there
            if seen < first + len(kept):
                seen += 1
                yield kept[seen - 1 - first]
                continue
            if self._state.done:
                break
            await self._wait_change()
        if self._state.error is not None and not self._state.cancelled:
            raise self._state.error

    # -- plumbing -------------------------------------------------------------------------

    def _outcome(self) -> Any:
        state = self._state
        if state.cancelled:
            raise CancelledError(f"the job was cancelled ({state.cancel_outcome})")
        if state.error is not None:
            raise state.error
        return state.result

    async def _wait_done(self) -> None:
        while not self._state.done:
            await self._wait_change()

    async def _wait_settled(self) -> None:
        """Until the server's side of the job is known to be over (a cancel's verdict is in)."""
        while not self._state.settled:
            await self._wait_change()

    def _wait_change(self) -> asyncio.Future[None]:
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter

    def _apply(self, events: list[ev.JobEvent]) -> None:
        """Publish events: wake waiters, tell the listener, run callbacks on completion."""
        if not events:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self._callbacks is not None:
            run_calls(self._callbacks.calls(events, self._state.status), self._client._spawn)
        for event in events:
            if isinstance(event, ev.Started) and self._deadline is not None and self._deadline.run is not None:
                self._timers.append(self._loop.call_later(self._deadline.run, self._expire, "run", self._deadline.run))
            if self._listener is not None:
                try:
                    self._listener(event)
                except Exception:
                    logger.exception("gradio-jobs: a job listener failed")
            if isinstance(event, ev.Completed) and self._result_callbacks:
                self._run_result_callbacks(event.value)
        if self._state.done and self._timers:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        if self._state.settled:
            self._client._job_settled(self)

    def _run_result_callbacks(self, value: Any) -> None:
        args = value if isinstance(value, tuple) else (value,)
        for callback in self._result_callbacks:
            try:
                outcome = callback(*args)
                if asyncio.iscoroutine(outcome):
                    self._client._spawn(outcome)
            except Exception:
                logger.exception("gradio-jobs: result callback %r failed", callback)

    def _expire(self, phase: str, limit: float) -> None:
        if self._state.done or (phase == "queue" and self._state.started):
            return
        self._apply(self._state.expire(phase, limit))
        self._client._drive_cancel(self)

    def _restart(self, reason: str) -> None:
        """Submit the same call again (the earlier run was killed or lost)."""
        old_id = self._state.job_id
        events = self._state.restart(reason)
        if not events:
            return
        if old_id is not None:
            self._client._stream_forget(old_id)
        self._apply(events)
        self._task = self._loop.create_task(self._submit())

    async def _submit(self) -> None:
        try:
            if self._state.attempt == 1:
                self._data = await self._client._upload_inputs(self._data, self._upload_progress)
                if self._state.cancelling:
                    self._apply(self._state.resolve_cancel(ev.OUTCOME_NEVER_SENT))
                    return
            if self._client._route(self._endpoint) is not Route.SESSION_STREAM:
                # The job's own connection carries it from here to its end (it calls accepted()).
                self._connection = self._client._open_route(self)
                return
            job_id = await self._client._join(self._endpoint, self._data, self._session_hash)
        except asyncio.CancelledError:
            self._apply(self._state.lost("the client was closed while the job was joining"))
            raise
        except Exception as exc:
            self._apply(self._state.fail(exc))
            self._apply(self._state.resolve_cancel(ev.OUTCOME_NEVER_SENT))
            return
        finally:
            self._task = None
        if self._state.settled:
            return
        self._apply(self._state.joined(job_id))
        self._client._stream_register(job_id, self, self._session_hash)
        if self._state.cancelling:
            # Cancelled (or expired) while joining: now that it has an id, stop it.
            self._client._drive_cancel(self)

    def _upload_progress(self, name: str, sent: int, total: int) -> None:
        self._apply(self._state.uploading(name, sent, total))

    async def _finish_output(self, pending: PendingOutput) -> None:
        """Download the files of an output, then deliver it and what arrived meanwhile."""
        try:
            value = await self._client._download_outputs(pending.value)
        except asyncio.CancelledError:
            self._apply(self._state.fail(GradioJobsError("the client was closed while the job's files were downloading")))
            raise
        except Exception as exc:
            logger.warning("job %s: could not download its output files: %s", self.job_id, exc)
            self._apply(self._state.fail(exc))
        else:
            self._apply(self._state.commit(pending, value))
        finally:
            backlog, self._backlog = self._backlog or deque(), None
            while backlog:
                if self._backlog is not None:  # the next output has files too: wait for it
                    self._backlog.extend(backlog)
                    break
                backlog.popleft()()

    # JobSink (transport/stream.py) and RouteSink (transport/job_routes.py), called by the
    # session's stream reader or by the job's own connection.

    @property
    def finished(self) -> bool:
        return self._state.settled

    def accepted(self, job_id: str | None) -> None:
        """The server has the job (on routes where each job has its own connection)."""
        if self._state.settled:
            return
        self._apply(self._state.joined(job_id))
        if self._state.cancelling:
            self._client._drive_cancel(self)

    def deliver(self, message: m.Message) -> None:
        if self._backlog is not None:
            self._backlog.append(lambda: self.deliver(message))
            return
        was_started = self._state.started
        taken = self._state.take(message)
        if isinstance(taken, PendingOutput):
            if self._client._has_output_files(taken.value):
                # Later messages wait, so every consumer sees the outputs in order.
                self._backlog = deque()
                self._client._spawn(self._finish_output(taken))
            else:
                self._apply(self._state.commit(taken, taken.value))
        else:
            self._apply(taken)
        if self._state.cancelling:
            if self._state.started and not was_started:
                # It started before the cancel could take it off the queue: stop it now.
                self._client._drive_cancel(self)
        if not isinstance(message, m.Completed):
            return
        if message.cancelled and self._state.last_cancel_killed:
            self._client._siblings_killed(self)
        elif not message.cancelled and CancelAction.KILL in self._state.cancel_requests:
            # It finished just before a kill sent for it landed: the kill still takes down the
            # running siblings, but no empty completion will mark the moment (measured on 6.31).
            # They are resubmitted once the kill has surely happened (its request has returned),
            # or the kill would take their new runs down too; one may then run twice, but
            # waiting for a word that never comes would hang.
            if self._kills_in_flight:
                self._siblings_after_kill = True
            else:
                self._client._siblings_killed(self)

    def lose(self, reason: str) -> None:
        if self._backlog is not None:
            self._backlog.append(lambda: self.lose(reason))
            return
        policy = self._client._retry_policy
        if (
            not self._state.done
            and not self._state.finishing
            and policy is not None
            and policy.allows(self._endpoint, self._lost_attempts)
        ):
            delay = policy.delay(self._lost_attempts)
            self._lost_attempts += 1
            logger.info("job %s lost (%s); submitting it again in %.2f s", self.job_id, reason, delay)
            self._loop.call_later(delay, self._restart, f"connection lost: {reason}")
            return
        self._apply(self._state.lost(reason))

    def reject(self, error: BaseException) -> None:
        if self._backlog is not None:
            self._backlog.append(lambda: self.reject(error))
            return
        self._apply(self._state.fail(error))

    def __repr__(self) -> str:
        return f"<AsyncJob {self._endpoint.label} id={self.job_id} status={self._state.status.code.value}>"
