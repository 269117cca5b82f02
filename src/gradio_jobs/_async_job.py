"""``AsyncJob``: one call to the app, driven by its session's stream reader.

A job changes only through its own methods. The stream reader and the job's own connection
feed it through its port (``JobPort``: the sink half), the cancel coordinator reaches it
through the same port (the cancel half); neither is public API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from concurrent.futures import CancelledError, InvalidStateError
from typing import TYPE_CHECKING, Any, Protocol

from ._call import Deadline, PreparedCall
from ._callbacks import Call, run_calls
from ._exceptions import GradioJobsError, JobTimeoutError
from .protocol import events as ev
from .protocol import messages as m
from .protocol.api import Endpoint
from .protocol.cancel import CancelAction
from .protocol.capabilities import Route
from .protocol.job import EventCursor, JobState, OutputCursor, PendingOutput, Timings, app_error_from, reader_wait
from .protocol.status import StatusUpdate

if TYPE_CHECKING:
    from ._cancelling import CancelTarget
    from ._runtime import JobHost
    from .transport.job_routes import RouteSink
    from .transport.media import MediaStreams

    class JobPort(CancelTarget, RouteSink, Protocol):
        """A job as its stream, its own connection and the cancel coordinator see it."""

        def close_for_shutdown(self) -> None:
            """The client closes with the job pending: cancel it and say what dropping the session does."""


__all__ = ["AsyncJob", "Deadline", "EventListener", "Placement"]

logger = logging.getLogger("gradio_jobs")

#: Called on the event loop for every event of the job, in order.
EventListener = Callable[[ev.JobEvent], None]
#: Runs the callbacks a batch of events calls for (on the loop, or handed to another thread).
Dispatch = Callable[[list[Call]], None]


class Placement(Protocol):
    """A replica pool, as the jobs it places see it: it chooses the job's client (its host)
    and places the job there (``job._place``), now or once a replica has room; it hears the
    job's events, and moves it to another replica when its own fails it."""

    def observe(self, job: AsyncJob, event: ev.JobEvent) -> None:
        """Every event of a placed job, in order."""

    def left(self, job: AsyncJob) -> None:
        """The job's server side on its replica is over."""

    def withdraw(self, job: AsyncJob) -> None:
        """The job ended (cancelled, or its deadline passed) while it waited for a replica."""

    def takes_over(self, job: AsyncJob, error: BaseException) -> bool:
        """``error``, raised submitting ``job``, says its replica failed: the pool takes the
        replica out, and True if it moves the job (it surely did not run there, or it may
        run again)."""
        ...

    def relocate(self, job: AsyncJob, reason: str) -> BaseException | None:
        """The job's replica failed it (``reason``) before it started, or it may run again: place
        it on another one (None), or say why it cannot be (the error the job fails with)."""
        ...

    def doubt(self, job: AsyncJob, reason: str) -> bool:
        """The job's replica lost it while it waited in a queue the server may keep (gradio
        4.17 to 4.21 run the queued jobs of a lost stream): True if the pool decides later,
        once it has probed the replica (``job._settle_doubt``); False: the job is lost now."""
        ...

    def run_awaitable(self, awaitable: Any) -> None:
        """Run what a callback of a job not placed yet returned."""


class AsyncJob:
    """A submitted call: ``await job`` for the result, ``async for out in job`` for its outputs.

    Made by :meth:`AsyncClient.submit`; never construct one directly. All its methods are
    called on the client's event loop.
    """

    def __init__(
        self,
        host: JobHost | None,
        call: PreparedCall,
        *,
        listener: EventListener | None = None,
        dispatch: Dispatch | None = None,
        placement: Placement | None = None,
    ) -> None:
        #: The client the job runs on; for a pool's job, None until placed on a replica.
        self._host = host
        self._placement = placement
        self._endpoint = call.endpoint
        self._data = call.data
        self._state = call.state
        self._session_hash = call.session_hash
        self._headers = call.headers
        self._callbacks = call.callbacks if call.callbacks else None
        self._deadline = call.deadline
        self._listener = listener
        self._dispatch: Dispatch = dispatch or (lambda calls: run_calls(calls, self._run_awaitable))
        self._loop = asyncio.get_running_loop()
        self._timers: list[asyncio.TimerHandle] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._done_callbacks: list[Callable[[AsyncJob], Any]] = []
        self._lost_attempts = 0
        #: ZeroGPU quota waits so far, and the timer of the one in progress (SubmitRetry.wait_quota).
        self._quota_waits = 0
        self._resubmit: asyncio.TimerHandle | None = None
        #: Set while an output's files download: what the stream says meanwhile waits here.
        self._backlog: deque[Callable[[], None]] | None = None
        #: The job's own connection, on the routes that give each job one (see transport/job_routes.py).
        self._connection: asyncio.Task[None] | None = None
        #: The task downloading an output's files (see ``_finish_output``), while it runs.
        self._finishing: asyncio.Task[None] | None = None
        #: Fetches the job's streamed audio/video outputs, from the first output that has one.
        self._media: MediaStreams | None = None
        #: The inputs are local yet (the first submission, or after a move to another replica).
        self._needs_upload = True
        self._port = _Port(self)
        if host is not None:
            host.job_live(self._port)
        self._apply(self._state.submitted())
        deadline = self._deadline
        if deadline is not None:
            if deadline.total is not None:
                self._timers.append(self._loop.call_later(deadline.total, self._expire, "total", deadline.total))
            if deadline.queue is not None:
                self._timers.append(self._loop.call_later(deadline.queue, self._expire, "queue", deadline.queue))
        self._task: asyncio.Task[None] | None = None
        if placement is None:
            self._start_submission()

    # -- public API ---------------------------------------------------------------------

    @property
    def job_id(self) -> str | None:
        """The server's ``event_id`` once the job has joined the queue."""
        return self._state.job_id

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint the job calls."""
        return self._endpoint

    @property
    def replica(self) -> str | None:
        """The URL of the app the job runs on: its client's, or the replica a pool chose
        (None while it waits in the pool for one)."""
        return self._placed.app.src if self._host is not None else None

    @property
    def cancel_outcome(self) -> str | None:
        """After a cancel or a deadline: ``"requested"``, then what the server really did."""
        return self._state.cancel_outcome

    def status(self) -> StatusUpdate:
        """The job's latest status (queue rank and ETA, progress, logs, ``FINISHED``...)."""
        return self._state.status

    def outputs(self) -> list[Any]:
        """Every output so far (each yield of a generator; the result of a plain function)."""
        return list(self._state.outputs)

    def done(self) -> bool:
        """The job has its outcome: a result, an error or a cancellation."""
        return self._state.done

    def cancelled(self) -> bool:
        """The job was cancelled (by :meth:`cancel`, or by the server)."""
        return self._state.cancelled

    def exception(self) -> BaseException | None:
        """The job's error, None if it succeeded, as ``Future.exception`` (it must be done).

        Raises ``CancelledError`` if the job was cancelled, ``InvalidStateError`` if it is
        not done yet.
        """
        if not self._state.done:
            raise InvalidStateError("the job is not done yet")
        if self._state.cancelled:
            raise CancelledError(f"the job was cancelled ({self._state.cancel_outcome})")
        return self._state.error

    def add_done_callback(self, fn: Callable[[AsyncJob], Any]) -> None:
        """Call ``fn(job)`` on the loop once the job is done (soon, if it already is)."""
        if self._state.done:
            self._loop.call_soon(fn, self)
        else:
            self._done_callbacks.append(fn)

    def remove_done_callback(self, fn: Callable[[AsyncJob], Any]) -> int:
        """Forget ``fn`` as a done callback; returns how many were removed."""
        before = len(self._done_callbacks)
        self._done_callbacks = [cb for cb in self._done_callbacks if cb != fn]
        return before - len(self._done_callbacks)

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
        async for batch in self._event_batches(None, None):
            for event in batch:
                yield event

    def cancel(self) -> bool:
        """Stop the job on the server; False if it had already ended.

        The job raises ``CancelledError`` at once; :attr:`cancel_outcome` then says what the
        server did (``"dequeued"``, ``"stopped"``, ``"finished before the cancel arrived"``, ...).
        """
        if self._state.done or self._state.finishing:  # finishing: the server has completed it
            return False
        self._apply(self._state.cancel())
        self._request_cancel()
        return True

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the server's part is over too (after a cancel: until its outcome is known).

        ``timeout`` in seconds (None: no limit). Returns False if it passed first.
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
        """The job's result (the final value for generators).

        ``timeout`` in seconds bounds this wait only (None: no limit; the job keeps running
        when it passes). Raises the app's error, ``CancelledError`` or ``TimeoutError``.
        """
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
        cursor = OutputCursor(self._state)
        while True:
            value = cursor.next()
            if value is not OutputCursor.NOTHING:
                yield value
            elif cursor.ended:
                break
            else:
                await self._wait_change()
        cursor.raise_failure()

    async def watch(self, *, timeout: float | None = None, console: Any = None, transient: bool = False) -> Any:
        """Show the job live until it ends, then return its result (raising as :meth:`result` does).

        The view of :meth:`gradio_jobs.Job.watch` (an HTML table in a notebook, a rich live
        panel on a terminal, plain lines otherwise), driven by the job's events on this event
        loop. ``timeout``: seconds to watch (None, the default: until the job ends); when it
        passes, ``TimeoutError`` is raised and the job keeps running. ``console``: a
        ``rich.console.Console`` to draw on instead. ``transient``: True erases the view once
        the job has ended. Ctrl+C cancels the job and raises ``KeyboardInterrupt``, also on the
        main thread under ``asyncio.run`` or in a notebook, where Ctrl+C arrives as a cancel of
        the task; any other cancel of the awaiting task only stops the view (the job goes on).
        """
        from ._live.watch import watch_async

        await watch_async(self, self._event_batches, self._endpoint.label, timeout, console, transient)
        return await self.result()

    async def _event_batches(
        self, tick: float | None, until: float | None
    ) -> AsyncGenerator[list[ev.JobEvent], None]:
        """The job's events in batches until its server part is over; an empty batch after
        ``tick`` seconds without news (None: only news); ``TimeoutError`` at monotonic time
        ``until`` (None: never)."""
        cursor = EventCursor(self._state)
        while True:
            batch = cursor.next_batch()
            if not batch and not cursor.ended:
                wait = reader_wait(tick, until, time.monotonic())
                if wait is None:
                    await self._wait_change()
                else:
                    await asyncio.wait({self._wait_change()}, timeout=wait)
                batch = cursor.next_batch()
            if not batch and cursor.ended:
                return
            yield batch

    def _repr_html_(self) -> str:
        """The job's state as an HTML table, for notebooks (``repr`` stays one line)."""
        from ._live.html import job_html
        from ._live.view import JobView

        return job_html(JobView.of(self._endpoint.label, list(self._state.events)), time.monotonic())

    def __repr__(self) -> str:
        return f"<AsyncJob {self._endpoint.label} id={self.job_id} status={self._state.status.code.value}>"

    # -- plumbing -------------------------------------------------------------------------

    @property
    def _placed(self) -> JobHost:
        """The job's client: only a pool's job waiting for a replica has none, and nothing
        reaches it from a server meanwhile."""
        host = self._host
        if host is None:
            raise GradioJobsError("gradio-jobs: the job is not on a replica yet")
        return host

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

    def _wait_change(self) -> asyncio.Future[None]:
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter

    def _apply(self, events: list[ev.JobEvent]) -> None:
        """Publish events: wake waiters, run callbacks, tell the listener, end timers."""
        if not events:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self._callbacks is not None:
            calls = self._callbacks.calls(events, self._state.status)
            if calls:
                self._dispatch(calls)
        deadline = self._deadline
        for event in events:
            if isinstance(event, ev.Started) and deadline is not None and deadline.run is not None:
                self._timers.append(self._loop.call_later(deadline.run, self._expire, "run", deadline.run))
            if self._listener is not None:
                try:
                    self._listener(event)
                except Exception:
                    logger.exception("gradio-jobs: a job listener failed")
            if self._placement is not None and self._host is not None:
                self._placement.observe(self, event)
        if self._state.done:
            if self._media is not None:
                self._media.close()
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            if self._resubmit is not None:  # cancelled while waiting out a quota: nothing was sent
                self._resubmit.cancel()
                self._resubmit = None
                self._loop.call_soon(self._port.resolve_cancel, ev.OUTCOME_NEVER_SENT)
            callbacks, self._done_callbacks = self._done_callbacks, []
            for callback in callbacks:
                try:
                    callback(self)
                except Exception:
                    logger.exception("gradio-jobs: done callback %r failed", callback)
        if self._state.settled and self._host is not None:
            self._host.job_settled(self._port)
            if self._placement is not None:
                self._placement.left(self)

    def _request_cancel(self) -> None:
        """Stop the job on its server; one still waiting in a pool was never sent."""
        if self._host is not None:
            self._host.cancels.request(self._port)
        elif self._placement is not None:
            self._placement.withdraw(self)
            self._apply(self._state.resolve_cancel(ev.OUTCOME_NEVER_SENT))

    def _run_awaitable(self, awaitable: Any) -> None:
        if self._host is not None:
            self._host.run_awaitable(awaitable)
        elif self._placement is not None:
            self._placement.run_awaitable(awaitable)

    def _place(self, host: JobHost, call: PreparedCall) -> None:
        """(For the pool.) Submit the job to ``host``, a replica, with ``call`` bound to its app."""
        self._state.rebind(call.endpoint, host.app.capabilities)
        self._host = host
        self._endpoint, self._data = call.endpoint, call.data
        self._session_hash, self._headers = call.session_hash, call.headers
        self._needs_upload = True
        host.job_live(self._port)
        self._start_submission()

    def _fail_waiting(self, error: BaseException) -> None:
        """(For the pool.) The job, not on a replica, cannot be placed: it fails with ``error``."""
        if not self._state.done:
            self._apply(self._state.fail(error))

    def _settle_doubt(self, gone: bool, reason: str) -> None:
        """(For the pool.) The replica that lost the job while it was queued there is ``gone``
        (its queue went with it: the job moves) or may still run it (the job is lost)."""
        if self._state.done:
            return
        if not (gone and self._relocate(reason)):
            self._apply(self._state.lost(reason))

    def _relocate(self, reason: str) -> bool:
        """Leave a replica that failed the job and let the pool place it on another; False
        when the job is not a pool's."""
        placement, host, state = self._placement, self._host, self._state
        if placement is None or host is None or state.done or state.finishing:
            return False
        if state.job_id is not None:
            host.forget(state.job_id)
        host.job_settled(self._port)
        self._connection = None
        if self._media is not None:
            self._media.restart()
        events = state.restart(f"moved to another replica: {reason}")
        self._host = None
        self._apply(events)
        failure = placement.relocate(self, reason)
        if failure is not None and not state.done:
            self._apply(state.fail(failure))
        return True

    def _expire(self, phase: str, limit: float) -> None:
        if self._state.done or (phase == "queue" and self._state.started):
            return
        if self._state.finishing:
            # The server's part is over, the output's files are still downloading: the deadline
            # holds for them too (a server trickling a file must not keep the job past it).
            error = JobTimeoutError(phase, limit, job_id=self.job_id, last_status=self._state.status)
            self._apply(self._state.fail(error))
            if self._finishing is not None:
                self._finishing.cancel()
            return
        self._apply(self._state.expire(phase, limit))
        self._request_cancel()

    def _restart(self, reason: str, delay: float = 0.0) -> None:
        """Submit the same call again (the earlier run was killed or lost), after ``delay`` seconds."""
        old_id = self._state.job_id
        events = self._state.restart(reason)
        if not events:
            return
        if old_id is not None:
            self._placed.forget(old_id)
        if self._media is not None:  # the new run streams anew, from where the old one was
            self._media.restart()
        self._apply(events)
        if delay > 0:
            self._resubmit = self._loop.call_later(delay, self._resubmit_now)
        else:
            self._start_submission()

    def _resubmit_now(self) -> None:
        self._resubmit = None
        if not self._state.done:
            self._start_submission()

    def _wait_out_quota(self, message: m.Completed) -> bool:
        """The job failed on a ZeroGPU quota: submit it again once the quota allows, if the
        client's ``SubmitRetry`` says so and no deadline of the job ends first."""
        state = self._state
        error = app_error_from(message.error or {}, state.capabilities, state.job_id)
        delay = self._placed.submit_retry.quota_wait(error, self._quota_waits)
        if delay is None:
            return False
        now = self._loop.time()
        ends = [t.when() for t in self._timers if not t.cancelled() and t.when() > now]
        if ends and now + delay >= min(ends):
            logger.info("job %s: ZeroGPU quota; waiting %.1f s would pass its deadline", state.job_id, delay)
            return False
        self._quota_waits += 1
        self._restart(f"ZeroGPU quota exceeded; submitting again in {delay:.1f} s: {error}", delay)
        return True

    def _start_submission(self) -> None:
        self._task = self._loop.create_task(self._submit())
        self._placed.track_join(self._task)

    async def _submit(self) -> None:
        host, state = self._placed, self._state
        try:
            if self._needs_upload:
                self._data = await host.upload_inputs(self._data, self._upload_progress)
                self._needs_upload = False
                if state.cancelling:
                    self._apply(state.resolve_cancel(ev.OUTCOME_NEVER_SENT))
                    return
            if host.route(self._endpoint) is not Route.SESSION_STREAM:
                # The job's own connection carries it from here to its end (it calls accepted()).
                self._connection = host.open_route(
                    self._port, self._endpoint, self._data, self._session_hash, self._headers
                )
                return
            job_id = await host.join(self._endpoint, self._data, self._session_hash, self._headers)
        except asyncio.CancelledError:
            self._apply(state.lost("the client was closed while the job was joining"))
            raise
        except Exception as exc:
            self._task = None
            if self._placement is not None and self._placement.takes_over(self, exc) and self._relocate(str(exc)):
                return
            self._apply(state.fail(exc))
            self._apply(state.resolve_cancel(ev.OUTCOME_NEVER_SENT))
            return
        finally:
            self._task = None
        if state.settled:
            return
        self._apply(state.joined(job_id))
        host.register(job_id, self._port, self._session_hash)
        if self._endpoint.streams_inputs:
            # A call sends one input: its stream ends here, so the server answers it and completes.
            host.end_input_stream(self._endpoint, job_id)
        if state.cancelling:
            # Cancelled (or expired) while joining: now that it has an id, stop it.
            host.cancels.request(self._port)

    def _upload_progress(self, name: str, sent: int, total: int) -> None:
        self._apply(self._state.uploading(name, sent, total))

    async def _finish_output(self, pending: PendingOutput) -> None:
        """Download the files of an output, then deliver it and what arrived meanwhile."""
        try:
            value = pending.value
            if self._media is not None:  # streamed audio/video: segments, then the whole file
                if pending.final:
                    extra, value = await self._media.final_output(value)
                    for output in extra:
                        self._apply(self._state.commit(PendingOutput(False, output, pending.attempt), output))
                else:
                    value = await self._media.next_output(value)
            if self._placed.has_output_files(value):
                value = await self._placed.download_outputs(value)
        except asyncio.CancelledError:
            self._apply(
                self._state.fail(GradioJobsError("the client was closed while the job's files were downloading"))
            )
            raise
        except Exception as exc:
            if pending.attempt == self._state.attempt:  # else the job was submitted again meanwhile
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

    # -- what the port forwards -----------------------------------------------------------

    def _accepted(self, job_id: str | None) -> None:
        if self._state.settled:
            return
        self._apply(self._state.joined(job_id))
        if self._state.cancelling:
            self._placed.cancels.request(self._port)

    def _deliver(self, message: m.Message) -> None:
        if self._backlog is not None:
            self._backlog.append(lambda: self._deliver(message))
            return
        state = self._state
        if (
            isinstance(message, m.Completed)
            and message.error is not None
            and not (message.cancelled or state.done or state.finishing)
            and self._wait_out_quota(message)
        ):
            self._placed.cancels.completed(self._port, message.cancelled)
            return
        was_started = state.started
        taken = state.take(message)
        if isinstance(taken, PendingOutput):
            if self._media is None:
                self._media = self._placed.media_streams(taken.value)
            if self._media is not None or self._placed.has_output_files(taken.value):
                # Later messages wait, so every consumer sees the outputs in order.
                self._backlog = deque()
                self._finishing = self._placed.spawn(self._finish_output(taken))
            else:
                self._apply(state.commit(taken, taken.value))
        else:
            self._apply(taken)
        if state.cancelling and state.started and not was_started:
            # It started before the cancel could take it off the queue: stop it now.
            self._placed.cancels.request(self._port)
        if isinstance(message, m.Completed):
            self._placed.cancels.completed(self._port, message.cancelled)

    def _lose(self, reason: str) -> None:
        if self._backlog is not None:
            self._backlog.append(lambda: self._lose(reason))
            return
        state, host = self._state, self._host
        policy = host.retry_policy if host is not None else None
        if not state.done and not state.finishing:
            if self._placement is not None:
                # A pool's job: one the server surely dropped is moved (it had not started, and
                # losing the stream removes queued jobs, except on 4.17 to 4.21, where they still
                # run); any other only where the retry policy allows running it again.
                dropped = not state.started and (state.job_id is None or state.capabilities.dropping_cancels)
                rerun = not dropped and policy is not None and policy.allows(self._endpoint, self._lost_attempts)
                if dropped or rerun:
                    if rerun:
                        self._lost_attempts += 1
                    if self._relocate(reason):
                        return
                elif not state.started and self._placement.doubt(self, reason):
                    return
            elif policy is not None and policy.allows(self._endpoint, self._lost_attempts):
                delay = policy.delay(self._lost_attempts)
                self._lost_attempts += 1
                logger.info("job %s lost (%s); submitting it again in %.2f s", self.job_id, reason, delay)
                self._loop.call_later(delay, self._restart, f"connection lost: {reason}")
                return
        self._apply(state.lost(reason))

    def _reject(self, error: BaseException) -> None:
        if self._backlog is not None:
            self._backlog.append(lambda: self._reject(error))
            return
        if (
            self._placement is not None
            and not self._state.started
            and self._placement.takes_over(self, error)
            and self._relocate(str(error))
        ):
            return
        self._apply(self._state.fail(error))

    def _close_for_shutdown(self) -> None:
        if not self._state.done:
            self._apply(self._state.cancel())
        self._placed.cancels.settle_for_close(self._port)


class _Port:
    """The job's side facing its stream, its own connection and the cancel coordinator."""

    def __init__(self, job: AsyncJob) -> None:
        self._job = job

    # the stream's and the connection's half
    @property
    def finished(self) -> bool:
        return self._job._state.settled

    def accepted(self, job_id: str | None) -> None:
        self._job._accepted(job_id)

    def deliver(self, message: m.Message) -> None:
        self._job._deliver(message)

    def lose(self, reason: str) -> None:
        self._job._lose(reason)

    def reject(self, error: BaseException) -> None:
        self._job._reject(error)

    # the cancel coordinator's half
    @property
    def state(self) -> JobState:
        return self._job._state

    @property
    def endpoint(self) -> Endpoint:
        return self._job._endpoint

    @property
    def session_hash(self) -> str:
        return self._job._session_hash

    def resolve_cancel(self, outcome: str) -> None:
        job = self._job
        job._apply(job._state.resolve_cancel(outcome))

    def cancel_sent(self, action: CancelAction) -> None:
        self._job._state.cancel_sent(action)

    def drop_connection(self) -> None:
        if self._job._connection is not None:
            self._job._connection.cancel()

    def restart(self, reason: str) -> None:
        self._job._restart(reason)

    async def wait_settled(self, timeout: float | None = None) -> bool:
        return await self._job.wait_settled(timeout)

    def close_for_shutdown(self) -> None:
        self._job._close_for_shutdown()
