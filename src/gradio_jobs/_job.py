"""``Job``: the sync view of an :class:`AsyncJob`, a real ``concurrent.futures.Future``."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from . import _loop
from .protocol import events as ev
from ._callbacks import JobCallbacks, run_calls
from .protocol.job import JobState, Timings
from .protocol.status import Status, StatusUpdate

if TYPE_CHECKING:
    from ._async_job import AsyncJob

__all__ = ["Job"]

logger = logging.getLogger("gradio_jobs")

_Future = concurrent.futures.Future


class Job(_Future):  # type: ignore[type-arg]
    """A submitted call, as returned by :meth:`Client.submit`.

    A ``concurrent.futures.Future``: ``result(timeout)``, ``done()``, ``cancel()``,
    ``add_done_callback`` and ``concurrent.futures.wait`` work as usual. Also:
    ``status()``, ``outputs()``, and ``for output in job`` to stream a generator.

    The job's state lives in the shared event loop; this object is completed from there.
    """

    def __init__(
        self,
        state: JobState,
        result_callbacks: Sequence[Callable[..., Any]] = (),
        callbacks: JobCallbacks | None = None,
    ) -> None:
        super().__init__()
        self._job = state
        self._callbacks = callbacks if callbacks else None
        self._async_job: AsyncJob | None = None
        # Outputs and status changes are signalled on their own condition: the future's
        # condition must only be notified when the future completes, because
        # Future.result() treats any wake-up without completion as a timeout.
        self._changed = threading.Condition()
        if result_callbacks:
            self.add_done_callback(_result_callback_runner(list(result_callbacks)))

    # -- called on the loop thread ----------------------------------------------------------

    def _attach(self, async_job: AsyncJob) -> None:
        self._async_job = async_job
        if _Future.cancelled(self):
            # cancel() won the race with the submission.
            async_job.cancel()

    def _on_event(self, event: ev.JobEvent) -> None:
        if self._callbacks is not None:
            calls = self._callbacks.calls([event], self._job.status)
            if calls:
                # Never on the loop thread: a slow callback must not hold up every other job.
                _loop.callback_executor().submit(run_calls, calls)
        try:
            if isinstance(event, ev.Completed):
                self.set_result(event.value)
            elif isinstance(event, ev.Failed):
                self.set_exception(event.error)
            elif isinstance(event, ev.Cancelled):
                if _Future.cancel(self):
                    self._notify_cancelled()
        except concurrent.futures.InvalidStateError:
            pass  # the caller cancelled first
        with self._changed:
            self._changed.notify_all()

    # -- public API -----------------------------------------------------------------------

    @property
    def job_id(self) -> str | None:
        """The server's ``event_id`` once the job has joined the queue."""
        return self._job.job_id

    @property
    def cancel_outcome(self) -> str | None:
        return self._job.cancel_outcome

    def status(self) -> StatusUpdate:
        """The job's latest status (``CANCELLED`` as soon as :meth:`cancel` succeeded)."""
        status = self._job.status
        if _Future.cancelled(self) and status.code is not Status.CANCELLED:
            return StatusUpdate(
                code=Status.CANCELLED, rank=None, queue_size=None, eta=None, success=False,
                time=status.time, progress_data=None, run_eta=status.run_eta,
            )
        return status

    def outputs(self) -> list[Any]:
        """Every output so far: each yield of a generator, or ``[result]`` for a plain function."""
        return list(self._job.outputs)

    def event_log(self) -> list[ev.JobEvent]:
        """Every event of the job so far, in order."""
        return list(self._job.events)

    @property
    def timings(self) -> Timings:
        """When the job was submitted, queued, started and finished, and how long each took."""
        return self._job.timings

    def events(self) -> Iterator[ev.JobEvent]:
        """Every event of the job from the first, then each new one as it happens, until the
        server's part is over (after a cancel: until its outcome is known).

        Nothing is skipped however slowly the loop body runs (with ``keep_outputs=N``, output
        and progress events older than the last N may be trimmed before a slow reader gets to them).
        """
        seq = 0
        while True:
            with self._changed:
                while True:
                    batch = self._job.events_since(seq)
                    if batch or self._job.settled:
                        break
                    self._changed.wait()
            if not batch:
                return
            for number, event in batch:
                seq = number + 1
                yield event

    def cancel(self) -> bool:
        """Stop the job on the server; afterwards ``result()`` raises ``CancelledError``.

        Returns False when the job had already ended.
        """
        if self.done() or self._job.finishing:  # finishing: the server has completed it
            return False
        if not _Future.cancel(self):
            return False
        self._notify_cancelled()
        _loop.call_soon(self._cancel_in_loop)
        with self._changed:
            self._changed.notify_all()
        return True

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the server's part is over too: after a cancel or a deadline, until
        :attr:`cancel_outcome` says what the server did. False if ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._job.settled, timeout)

    def _notify_cancelled(self) -> None:
        # CANCELLED -> CANCELLED_AND_NOTIFIED: only then does concurrent.futures.wait count it as done
        with self._condition:
            if self._state == concurrent.futures._base.CANCELLED:
                self.set_running_or_notify_cancel()

    def _cancel_in_loop(self) -> None:
        if self._async_job is not None:
            self._async_job.cancel()
        # otherwise _attach() sees the cancelled future and cancels the new job

    def result(self, timeout: float | None = None) -> Any:
        """The job's result (see ``concurrent.futures.Future.result``).

        Ctrl+C while waiting cancels the job on the server before the ``KeyboardInterrupt``
        propagates.
        """
        try:
            return super().result(timeout)
        except KeyboardInterrupt:
            self.cancel()
            raise

    def __iter__(self) -> Iterator[Any]:
        """Each output exactly once, in order, until the job ends.

        A job that failed raises its error after its last output; a cancelled one just stops.
        """
        seen = 0
        try:
            while True:
                with self._changed:
                    while True:
                        first, kept = self._job.output_window
                        seen = max(seen, first)  # trimmed by keep_outputs before we got there
                        if seen < first + len(kept) or self._ended():
                            break
                        self._changed.wait()
                if seen < first + len(kept):
                    seen += 1
                    yield kept[seen - 1 - first]
                    continue
                break
        except KeyboardInterrupt:
            self.cancel()
            raise
        if not _Future.cancelled(self) and self._job.error is not None:
            raise self._job.error

    def _ended(self) -> bool:
        return self._job.done or _Future.cancelled(self)

    def __repr__(self) -> str:
        return f"<Job {self._job.endpoint.label} id={self.job_id} status={self.status().code.value}>"


def _result_callback_runner(callbacks: list[Callable[..., Any]]) -> Callable[[Job], None]:
    def on_done(job: Job) -> None:
        if job.cancelled() or job.exception() is not None:
            return
        value = job.result()
        _loop.callback_executor().submit(_run_callbacks, callbacks, value)

    return on_done


def _run_callbacks(callbacks: list[Callable[..., Any]], value: Any) -> None:
    args = value if isinstance(value, tuple) else (value,)
    for callback in callbacks:
        try:
            callback(*args)
        except Exception:
            logger.exception("gradio-jobs: result callback %r failed", callback)
