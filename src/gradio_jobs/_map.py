"""Mapping one call over many inputs: ``Client.map`` / ``AsyncClient.map``.

Results come in input order, with at most ``concurrency`` jobs in flight; inputs are taken
lazily. The bookkeeping is one class without I/O, shared by the sync run (woken by the jobs'
done-callbacks) and the async one (woken by the jobs' change futures); nothing polls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sized, Union

from . import _loop
from ._async_job import AsyncJob
from ._exceptions import GradioJobsError
from ._fanin import _AsyncWatch
from ._job import Job

if TYPE_CHECKING:
    from ._async_client import AsyncClient
    from ._client import Client

__all__ = ["AsyncMapRun", "MapProgress", "MapRun", "amap_jobs", "map_jobs"]

logger = logging.getLogger("gradio_jobs")

#: Called with the map's progress after each change.
ProgressCallback = Callable[["MapProgress"], Any]


@dataclass(frozen=True)
class MapProgress:
    """Where a map stands.

    ``total`` is the number of inputs (``None`` while unknown: inputs without ``len()``
    that are not used up yet). ``submitted`` inputs have been taken; ``done`` of them have
    finished (successfully or not), ``failed`` of those with an error; ``running`` are in
    flight; ``cancelled`` were stopped by the map itself (``stop_on_error``, or closing it).
    ``str(progress)`` is a one-line summary: ``"7/10 done, 1 failed, 2 running"``.
    """

    total: int | None
    submitted: int
    done: int
    failed: int
    running: int
    cancelled: int = 0

    def __str__(self) -> str:
        text = f"{self.done}/{self.total} done" if self.total is not None else f"{self.done} done"
        text += f", {self.failed} failed, {self.running} running"
        if self.cancelled:
            text += f", {self.cancelled} cancelled"
        return text


def _call_args(item: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """One input of a map: a tuple is the positional arguments, a dict the keyword arguments,
    anything else the one positional argument (wrap a dict or tuple value in a 1-tuple)."""
    if isinstance(item, tuple):
        return item, {}
    if isinstance(item, dict):
        return (), dict(item)
    return (item,), {}


class _Ledger:
    """The bookkeeping of a map, without I/O: what to submit, what to deliver, what to cancel.

    Items are numbered in input order; results are delivered in that order. With
    ``stop_on_error``, the first failed item (in input order) ends the map: nothing more is
    submitted, later items in flight are cancelled, earlier ones are still delivered.
    """

    def __init__(self, total: int | None, concurrency: int, stop_on_error: bool) -> None:
        self.total = total
        self.concurrency = concurrency
        self.stop_on_error = stop_on_error
        self.submitted = self.done = self.failed = self.cancelled = 0
        self.in_flight: set[int] = set()
        #: Finished items not delivered yet: index -> (ok, result or exception).
        self.ready: dict[int, tuple[bool, Any]] = {}
        self.next_out = 0
        self.exhausted = False
        self.closed = False
        #: With stop_on_error: the first failed item seen so far (nothing after it matters).
        self.stop_at: int | None = None

    def may_submit(self) -> bool:
        return (
            not self.closed
            and not self.exhausted
            and self.stop_at is None
            and len(self.in_flight) < self.concurrency
        )

    def take(self) -> int:
        """An input was taken: its index, now in flight."""
        index = self.submitted
        self.submitted += 1
        self.in_flight.add(index)
        return index

    def inputs_exhausted(self) -> None:
        self.exhausted = True
        if self.total is None:
            self.total = self.submitted

    def finish(self, index: int, ok: bool, value: Any) -> list[int]:
        """Item ``index`` finished; returns the items in flight to cancel now."""
        if index not in self.in_flight:
            return []  # cancelled by the map already
        self.in_flight.discard(index)
        self.done += 1
        if not ok:
            self.failed += 1
        if self.stop_at is None or index < self.stop_at:
            self.ready[index] = (ok, value)
        if ok or not self.stop_on_error or (self.stop_at is not None and self.stop_at < index):
            return []
        self.stop_at = index
        for later in [i for i in self.ready if i > index]:
            del self.ready[later]  # never delivered: the map stops at `index`
        return sorted(i for i in self.in_flight if i > index)

    def cancelled_one(self, index: int) -> None:
        if index in self.in_flight:
            self.in_flight.discard(index)
            self.cancelled += 1

    def pop(self) -> tuple[bool, Any] | None:
        """The next result in input order, if it is ready."""
        if self.closed:
            return None
        item = self.ready.pop(self.next_out, None)
        if item is not None:
            self.next_out += 1
        return item

    def finished(self) -> bool:
        """Everything taken has been delivered and there is nothing more to take."""
        return self.exhausted and not self.in_flight and not self.ready

    def close(self) -> list[int]:
        """Stop: returns the items in flight, to cancel."""
        self.closed = True
        self.ready.clear()
        return sorted(self.in_flight)

    def progress(self) -> MapProgress:
        return MapProgress(
            total=self.total,
            submitted=self.submitted,
            done=self.done,
            failed=self.failed,
            running=len(self.in_flight),
            cancelled=self.cancelled,
        )


def _check_concurrency(concurrency: int) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
    return concurrency


def _check_inputs(inputs: Any) -> int | None:
    if isinstance(inputs, (str, bytes)):
        raise TypeError("inputs must be an iterable of inputs (one per job), not a single string")
    return len(inputs) if isinstance(inputs, Sized) else None


class _MapCore:
    """What a sync and an async map share: the ledger, the jobs in flight, the reports."""

    def __init__(
        self,
        client: Any,
        total: int | None,
        api_name: str | None,
        fn_index: int | None,
        concurrency: int,
        stop_on_error: bool,
        on_progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._api_name = api_name
        self._fn_index = fn_index
        self._stop_on_error = stop_on_error
        self._on_progress = on_progress
        self._ledger = _Ledger(total, concurrency, stop_on_error)
        #: Guards the ledger and the finished queue: done-callbacks of sync jobs arrive on the
        #: loop thread, and ``progress`` may be read from any thread. Reentrant, because
        #: cancelling a sync job runs its done-callback at once in the cancelling thread.
        self._lock = threading.RLock()
        self._jobs: dict[int, Any] = {}
        #: Indices of the jobs that finished, in finishing order, not yet taken into account.
        self._finished: deque[int] = deque()
        self._reported: MapProgress | None = None

    @property
    def progress(self) -> MapProgress:
        with self._lock:
            return self._ledger.progress()

    def _report(self) -> None:
        # On the consumer's thread (or task), never on the loop thread of sync jobs.
        progress = self.progress
        if progress == self._reported:
            return
        self._reported = progress
        if self._on_progress is not None:
            self._on_progress(progress)

    def _submit(self, item: Any) -> None:
        with self._lock:
            index = self._ledger.take()
        try:
            args, kwargs = _call_args(item)
            job = self._client.submit(*args, api_name=self._api_name, fn_index=self._fn_index, **kwargs)
        except GradioJobsError as exc:
            # This input's own problem (e.g. a bad argument, a missing file): it fails alone.
            self._finish(index, False, exc)
            return
        self._jobs[index] = job
        if self._ledger.closed:  # closed from another thread while this job was submitted
            self._cancel([index])
            return
        self._report()
        self._watch(index, job)

    def _watch(self, index: int, job: Any) -> None:
        raise NotImplementedError

    def _outcome(self, job: Any) -> tuple[bool, Any]:
        raise NotImplementedError

    def _job_finished(self, index: int, *_: Any) -> None:
        """A job finished (any thread): note it, the consumer deals with it."""
        with self._lock:
            self._finished.append(index)
        self._wake()

    def _wake(self) -> None:
        raise NotImplementedError

    def _drain(self) -> None:
        """Take the jobs that finished into account, in finishing order."""
        while True:
            with self._lock:
                if not self._finished:
                    return
                index = self._finished.popleft()
            job = self._jobs.pop(index, None)
            if job is None:
                continue  # cancelled by the map, already counted
            ok, value = self._outcome(job)
            self._finish(index, ok, value)

    def _finish(self, index: int, ok: bool, value: Any) -> None:
        with self._lock:
            to_cancel = self._ledger.finish(index, ok, value)
        if to_cancel:
            logger.debug("map: item %d failed; cancelling %d later item(s) in flight", index, len(to_cancel))
        self._cancel(to_cancel)
        self._report()

    def _cancel(self, indices: list[int]) -> None:
        for index in indices:
            job = self._jobs.get(index)
            # A job that refuses (it has just ended) is counted when its end is drained.
            if job is not None and job.cancel():
                self._jobs.pop(index, None)
                with self._lock:
                    self._ledger.cancelled_one(index)

    def _next_ready(self) -> tuple[bool, Any] | None:
        with self._lock:
            return self._ledger.pop()

    def _deliver(self, item: tuple[bool, Any]) -> Any:
        ok, value = item
        if not ok and self._stop_on_error:
            raise value
        return value

    def close(self, report: bool = True) -> None:
        """Cancel the jobs in flight and submit nothing more."""
        with self._lock:
            if self._ledger.closed:
                return
            indices = self._ledger.close()
        if indices:
            logger.debug("map closed with %d job(s) in flight: cancelling them", len(indices))
        self._cancel(indices)
        self._wake()  # an iteration waiting elsewhere ends now
        if report:
            self._drain()
            self._report()

    def _close_after_error(self) -> None:
        """Close because an exception leaves the iteration: that exception must win."""
        self.close(report=False)
        try:
            self._drain()
            self._report()
        except Exception:
            logger.exception("map: on_progress failed while the map was closing")

    @property
    def closed(self) -> bool:
        return self._ledger.closed


class _SyncMapCore(_MapCore):
    def __init__(self, inputs: Iterable[Any], *args: Any) -> None:
        super().__init__(*args)
        self._inputs = iter(inputs)
        self._changed = threading.Condition(self._lock)

    def _watch(self, index: int, job: Job) -> None:
        # Runs on the loop thread when the job completes (or at once if it already has).
        job.add_done_callback(functools.partial(self._job_finished, index))

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _outcome(self, job: Job) -> tuple[bool, Any]:
        if job.cancelled():
            return False, concurrent.futures.CancelledError("the job was cancelled")
        error = job.exception()
        if error is not None:
            return False, error
        return True, job.result()

    def _fill(self) -> None:
        while self._ledger.may_submit():
            try:
                item = next(self._inputs)
            except StopIteration:
                with self._lock:
                    self._ledger.inputs_exhausted()
                self._report()
                return
            self._submit(item)

    def next(self) -> Any:
        if self._ledger.closed:
            raise StopIteration
        if _loop.in_loop_thread():
            # its jobs complete on this very thread: waiting here would wait forever
            raise RuntimeError("a sync map was iterated on gradio-jobs' event-loop thread; use AsyncClient there")
        try:
            while True:
                self._drain()
                # Top up before delivering: the jobs run while the caller handles the result.
                self._fill()
                item = self._next_ready()
                if item is not None:
                    return self._deliver(item)
                if self._ledger.finished():
                    with self._lock:
                        self._ledger.closed = True
                    raise StopIteration
                if self._ledger.closed:  # closed by another thread
                    raise StopIteration
                with self._changed:
                    while not self._finished and not self._ledger.closed:
                        self._changed.wait()
        except StopIteration:
            raise
        except BaseException:
            self._close_after_error()
            raise


class _RunView:
    """What :class:`MapRun` and :class:`AsyncMapRun` share: the core they front."""

    def __init__(self, core: _SyncMapCore | _AsyncMapCore) -> None:
        # The jobs' callbacks hold the core, never this object: dropping the run closes it.
        self._core = core

    @property
    def progress(self) -> MapProgress:
        """Where the map stands (updated as the iteration goes on)."""
        return self._core.progress

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.progress}>"


class MapRun(_RunView, Iterator[Any]):
    """The results of :func:`map_jobs` (``Client.map``), one per input, in input order.

    Iterate it: result ``i`` comes as soon as inputs ``0..i`` are done. A failed input gives
    its exception object (e.g. an :class:`AppError`) in its place, or is raised with
    ``stop_on_error=True``. New jobs are submitted while you iterate (as earlier ones finish),
    never more than ``concurrency`` at once. Closing it (``close()``, leaving a ``with``
    block, ``break`` out of a ``for`` over it, or dropping it) cancels the jobs in flight.
    """

    _core: _SyncMapCore

    def __iter__(self) -> MapRun:
        return self

    def __next__(self) -> Any:
        return self._core.next()

    def close(self) -> None:
        """Cancel the jobs in flight; the iteration ends."""
        self._core.close()

    def __enter__(self) -> MapRun:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._core.close(report=False)
        except Exception:  # e.g. at interpreter exit
            pass


def map_jobs(
    client: Client,
    inputs: Iterable[Any],
    *,
    api_name: str | None = None,
    fn_index: int | None = None,
    concurrency: int = 8,
    stop_on_error: bool = False,
    on_progress: ProgressCallback | None = None,
) -> MapRun:
    """Run one endpoint over many inputs, at most ``concurrency`` jobs at once.

    Each input is a tuple (the positional arguments), a dict (the keyword arguments) or any
    other value (the one argument; wrap a dict or tuple argument in a 1-tuple). ``inputs``
    may be any iterable, a generator too: it is consumed lazily, one input per job submitted.

    Returns a :class:`MapRun` that yields one result per input, in input order (nothing is
    submitted before the first ``next()``; then jobs are submitted while you iterate, as
    earlier ones finish, and run while you handle each result). A failed item
    yields its exception (an :class:`AppError`, or ``CancelledError`` if its job was
    cancelled elsewhere) and the others go on; with ``stop_on_error=True`` the first error in
    input order is raised instead, after the results before it, and the jobs still running
    are cancelled. ``on_progress(progress)`` is called, on the iterating thread, after each
    change (a job submitted, finished or cancelled) with a :class:`MapProgress`; an
    exception it raises ends the map. An unknown endpoint raises at once.
    """
    from ._async_client import AsyncClient  # here: _async_client may import this module

    if isinstance(client, AsyncClient):
        raise TypeError("map_jobs() takes a sync Client; use amap_jobs() with an AsyncClient")
    client.app.endpoint(api_name=api_name, fn_index=fn_index)  # a wrong name raises here, once
    total = _check_inputs(inputs)
    core = _SyncMapCore(
        inputs, client, total, api_name, fn_index, _check_concurrency(concurrency), stop_on_error, on_progress
    )
    return MapRun(core)


class _AsyncMapCore(_MapCore):
    def __init__(self, inputs: Iterable[Any] | AsyncIterable[Any], *args: Any) -> None:
        super().__init__(*args)
        self._source = inputs
        self._inputs: Iterator[Any] | AsyncIterator[Any] | None = None
        self._watcher = _AsyncWatch(self._async_job_finished)
        self._indices: dict[AsyncJob, int] = {}
        self._wakeup: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _watch(self, index: int, job: AsyncJob) -> None:
        self._indices[job] = index
        self._watcher.add(job)

    def _async_job_finished(self, job: AsyncJob) -> None:
        self._job_finished(self._indices.pop(job))

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _outcome(self, job: AsyncJob) -> tuple[bool, Any]:
        state = job._state
        if state.cancelled:
            return False, concurrent.futures.CancelledError(f"the job was cancelled ({state.cancel_outcome})")
        if state.error is not None:
            return False, state.error
        return True, state.result

    async def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._client.connect()
        self._client.app.endpoint(api_name=self._api_name, fn_index=self._fn_index)
        if hasattr(self._source, "__aiter__"):
            self._inputs = self._source.__aiter__()  # type: ignore[union-attr]
        else:
            self._inputs = iter(self._source)  # type: ignore[arg-type]

    async def _fill(self) -> None:
        while self._ledger.may_submit():
            try:
                if isinstance(self._inputs, AsyncIterator):
                    item = await self._inputs.__anext__()
                else:
                    item = next(self._inputs)  # type: ignore[arg-type]
            except (StopIteration, StopAsyncIteration):
                with self._lock:
                    self._ledger.inputs_exhausted()
                self._report()
                return
            if self._ledger.closed:
                return  # closed while the input source was awaited
            self._submit(item)

    async def next(self) -> Any:
        if self._ledger.closed:
            raise StopAsyncIteration
        try:
            if self._inputs is None:
                await self._start()
            while True:
                self._drain()
                await self._fill()
                item = self._next_ready()
                if item is not None:
                    return self._deliver(item)
                if self._ledger.finished():
                    with self._lock:
                        self._ledger.closed = True
                    raise StopAsyncIteration
                if self._ledger.closed:
                    raise StopAsyncIteration
                if not self._finished:
                    assert self._loop is not None
                    self._wakeup = self._loop.create_future()
                    await self._wakeup
        except StopAsyncIteration:
            raise
        except BaseException:
            self._close_after_error()
            raise

    def close(self, report: bool = True) -> None:
        super().close(report)
        self._watcher.close()

    def close_from_anywhere(self) -> None:
        """Close on the jobs' loop, whatever thread drops the run."""
        if self._ledger.closed or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self.close(report=False)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close, False)


class AsyncMapRun(_RunView, AsyncIterator[Any]):
    """The results of :func:`amap_jobs` (``AsyncClient.map``): ``async for result in run``.

    Behaves as :class:`MapRun`: one result per input, in input order; a failed input gives
    its exception in its place unless ``stop_on_error``; closing it (``await run.aclose()``,
    ``run.close()``, leaving ``async with``, ``break`` out of an ``async for`` over it, or
    dropping it) cancels the jobs in flight.
    """

    _core: _AsyncMapCore

    def __aiter__(self) -> AsyncMapRun:
        return self

    async def __anext__(self) -> Any:
        return await self._core.next()

    def close(self) -> None:
        """Cancel the jobs in flight; the iteration ends. Call it on the client's event loop."""
        self._core.close()

    async def aclose(self) -> None:
        """Cancel the jobs in flight; the iteration ends."""
        self._core.close()

    async def __aenter__(self) -> AsyncMapRun:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self._core.close()

    def __del__(self) -> None:
        try:
            self._core.close_from_anywhere()
        except Exception:  # e.g. the loop is gone
            pass


def amap_jobs(
    client: AsyncClient,
    inputs: Union[Iterable[Any], AsyncIterable[Any]],
    *,
    api_name: str | None = None,
    fn_index: int | None = None,
    concurrency: int = 8,
    stop_on_error: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AsyncMapRun:
    """The async twin of :func:`map_jobs`: ``async for result in amap_jobs(client, inputs, ...)``.

    ``inputs`` may be an iterable or an async iterable, consumed lazily. The client connects
    on the first iteration if it has not yet; an unknown endpoint raises then (at once if
    the client is connected). ``on_progress`` is called on the event loop, a plain function.
    """
    from ._client import Client  # here: _client may import this module

    if isinstance(client, Client):
        raise TypeError("amap_jobs() takes an AsyncClient; use map_jobs() with a sync Client")
    if getattr(client, "_app", None) is not None:
        client.app.endpoint(api_name=api_name, fn_index=fn_index)
    total = _check_inputs(inputs)
    core = _AsyncMapCore(
        inputs, client, total, api_name, fn_index, _check_concurrency(concurrency), stop_on_error, on_progress
    )
    return AsyncMapRun(core)
