"""``Job``: the sync view of an :class:`AsyncJob`, a real ``concurrent.futures.Future``.

It holds no behaviour of its own: its state is the async job's, completed from the loop
thread; ``cancel()`` asks the loop and returns its answer; its iterators are shells over the
cursors of ``protocol/job.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any

from . import _loop
from .protocol import events as ev
from .protocol.job import EventCursor, JobState, OutputCursor, Timings, UpdateCursor, reader_wait
from .protocol.status import OutputUpdate, StatusUpdate

if TYPE_CHECKING:
    from ._async_job import AsyncJob

__all__ = ["Job"]


class Job(concurrent.futures.Future[Any]):
    """A submitted call, as returned by :meth:`Client.submit`.

    A ``concurrent.futures.Future``: ``result(timeout)``, ``done()``, ``cancel()``,
    ``add_done_callback`` and ``concurrent.futures.wait`` work as usual. Also:
    ``status()``, ``outputs()``, ``events()``, ``for output in job`` to stream a generator,
    and ``async for update in job`` for its updates in async code.

    The job lives in the shared event loop; this object is completed from there.
    """

    def __init__(self, state: JobState, owner: object = None) -> None:
        super().__init__()
        # (``_state`` is the Future's own.)
        self._job = state
        #: The sync client: kept alive while the user holds one of its jobs.
        self._owner = owner
        self._async_job: AsyncJob | None = None
        # Outputs and status changes are signalled on their own condition: the future's
        # condition must only be notified when the future completes, because
        # Future.result() treats any wake-up without completion as a timeout.
        self._changed = threading.Condition()
        #: Where ``next(job)`` is in the outputs (made on first use).
        self._next_cursor: Iterator[Any] | None = None
        #: The event loops of ``async for update in job`` readers, and the event each awaits.
        self._async_readers: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    # -- called on the loop thread ----------------------------------------------------------

    def _attach(self, async_job: AsyncJob) -> None:
        self._async_job = async_job

    def _on_event(self, event: ev.JobEvent) -> None:
        """The async job's listener: complete the future as the job ends, wake the readers."""
        if isinstance(event, ev.Completed):
            self.set_result(event.value)
        elif isinstance(event, ev.Failed):
            self.set_exception(event.error)
        elif isinstance(event, ev.Cancelled) and super().cancel():
            # CANCELLED -> CANCELLED_AND_NOTIFIED: only then does concurrent.futures.wait count it as done
            self.set_running_or_notify_cancel()
        with self._changed:
            self._changed.notify_all()
            for loop, changed in self._async_readers:
                with contextlib.suppress(RuntimeError):  # that reader's loop is closed
                    loop.call_soon_threadsafe(changed.set)

    def _launch_failed(self, error: BaseException) -> None:
        """The job could not even start (the client closed meanwhile)."""
        for event in self._job.fail(error):
            self._on_event(event)

    # -- public API -----------------------------------------------------------------------

    @property
    def job_id(self) -> str | None:
        """The server's ``event_id`` once the job has joined the queue."""
        return self._job.job_id

    @property
    def replica(self) -> str | None:
        """The URL of the app the job runs on: its client's, or the replica a pool chose
        (None while it waits in the pool for one)."""
        async_job = self._async_job
        return async_job.replica if async_job is not None else None

    @property
    def cancel_outcome(self) -> str | None:
        """After a cancel or a deadline: ``"requested"``, then what the server really did."""
        return self._job.cancel_outcome

    def status(self) -> StatusUpdate:
        """The job's latest status (``CANCELLED`` as soon as :meth:`cancel` succeeded)."""
        return self._job.status

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
        for batch in self._event_batches(None, None):
            yield from batch

    def cancel(self) -> bool:
        """Stop the job on the server; afterwards ``result()`` raises ``CancelledError``.

        Returns False when the job had already ended. The decision is the event loop's:
        :attr:`cancel_outcome` then says what the server did.
        """
        if self.done():
            return False
        return _loop.call(self._cancel_on_loop)

    def _cancel_on_loop(self) -> bool:
        # The job is launched on the loop before any cancel sent after its submission runs.
        return self._async_job.cancel() if self._async_job is not None else False

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the server's part is over too: after a cancel or a deadline, until
        :attr:`cancel_outcome` says what the server did. ``timeout`` in seconds (None: no
        limit); False if it passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._job.settled, timeout)

    def result(self, timeout: float | None = None) -> Any:
        """The job's result (see ``concurrent.futures.Future.result``); ``timeout`` in seconds.

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
        cursor = OutputCursor(self._job)
        try:
            while True:
                with self._changed:
                    value = cursor.next()
                    while value is OutputCursor.NOTHING and not cursor.ended:
                        self._changed.wait()
                        value = cursor.next()
                if value is OutputCursor.NOTHING:
                    break
                yield value
        except KeyboardInterrupt:
            self.cancel()
            raise
        cursor.raise_failure()

    def __next__(self) -> Any:
        """``next(job)``: the next output not yet taken by ``next``, waiting for it (as
        ``gradio_client``); ``StopIteration`` once the job is over and all were taken.

        Each ``for`` loop over the job starts at its first output; ``next`` keeps a place of
        its own.
        """
        if self._next_cursor is None:
            self._next_cursor = self.__iter__()
        return next(self._next_cursor)

    async def __aiter__(self) -> AsyncIterator[StatusUpdate | OutputUpdate]:
        """``async for update in job``: the job's updates, as ``gradio_client`` gives them,
        on the caller's own event loop: an :class:`OutputUpdate` per output (``final=True``
        for the result, or for the error of a failed job) and a :class:`StatusUpdate` each
        time the status changed, until the job is over.
        """
        cursor = UpdateCursor(self._job)
        reader = (asyncio.get_running_loop(), asyncio.Event())
        with self._changed:
            self._async_readers.append(reader)
        try:
            while True:
                reader[1].clear()  # before reading: a change from now on sets it again
                with self._changed:
                    batch = cursor.next_batch()
                    ended = cursor.ended
                for update in batch:
                    yield update
                if not batch:
                    if ended:
                        return
                    await reader[1].wait()
        finally:
            with self._changed:
                self._async_readers.remove(reader)

    def watch(self, *, timeout: float | None = None, console: Any = None, transient: bool = False) -> Any:
        """Show the job live until it ends, then return its result (raising as :meth:`result` does).

        The view is the one of ``gradio-jobs call``: the status (queue position and ETA,
        running time), a bar per ``gr.Progress`` tracker, the app's logs and the latest
        output. In a Jupyter notebook it is an HTML table updated in place; on a terminal, a
        rich live panel; anywhere else (a pipe, a log file), one plain line per event on stdout.
        It runs on the calling thread, driven by the job's events.

        ``timeout``: seconds to watch (None, the default: until the job ends); when it
        passes, ``TimeoutError`` is raised and the job keeps running. ``console``: a
        ``rich.console.Console`` to draw on instead (e.g. ``Console(stderr=True)``), even in a
        notebook: a live panel if it is a terminal, plain lines on its file otherwise.
        ``transient``: True erases the view once the job has ended (default False: the final
        state stays). Ctrl+C while watching cancels the job on the server, as with
        :meth:`result` and ``gradio-jobs call``, then re-raises ``KeyboardInterrupt``.
        """
        from ._live.watch import watch_sync

        watch_sync(self, self._event_batches, self._job.endpoint.label, timeout, console, transient)
        return self.result()

    def _event_batches(self, tick: float | None, until: float | None) -> Generator[list[ev.JobEvent], None, None]:
        """The job's events in batches until its server part is over; an empty batch after
        ``tick`` seconds without news (None: only news); ``TimeoutError`` at monotonic time
        ``until`` (None: never)."""
        cursor = EventCursor(self._job)
        while True:
            with self._changed:
                batch = cursor.next_batch()
                if not batch and not cursor.ended:
                    self._changed.wait(reader_wait(tick, until, time.monotonic()))
                    batch = cursor.next_batch()
            if not batch and cursor.ended:
                return
            yield batch

    def _repr_html_(self) -> str:
        """The job's state as an HTML table, for notebooks (``repr`` stays one line)."""
        from ._live.html import job_html
        from ._live.view import JobView

        return job_html(JobView.of(self._job.endpoint.label, list(self._job.events)), time.monotonic())

    def __repr__(self) -> str:
        return f"<Job {self._job.endpoint.label} id={self.job_id} status={self._job.status.code.value}>"
