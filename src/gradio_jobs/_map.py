"""Mapping one call over many inputs: ``Client.map`` / ``AsyncClient.map``.

Results come in input order, with at most ``concurrency`` jobs in flight; inputs are taken
lazily. One engine does it, on the client's event loop (:class:`_MapEngine`, its bookkeeping
in :class:`_Ledger`, without I/O); the sync and async runs are shells that ask it for the next
step, take an input from the caller's iterable when it needs one (on the caller's thread, for
the sync run) and report progress where the caller iterates. Nothing polls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import functools
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import _loop
from ._async_job import AsyncJob
from ._exceptions import GradioJobsError
from ._map_counts import counts_text

if TYPE_CHECKING:
    from ._live.mapbar import MapDisplay
    from .protocol.api import App

__all__ = ["AsyncMapRun", "MapProgress", "MapRequest", "MapRun", "map_request", "start_async_map", "start_map"]

logger = logging.getLogger("gradio_jobs")

class Submitter(Protocol):
    """What a map runs on: an :class:`~gradio_jobs.AsyncClient` or an :class:`~gradio_jobs.AsyncClientPool`."""

    @property
    def connected(self) -> bool:
        """It has read the app's description."""
        ...

    @property
    def app(self) -> App:
        """The app's API model."""
        ...

    async def connect(self) -> Any:
        """Read the app's description (once)."""

    def submit(self, *args: Any, **kwargs: Any) -> AsyncJob:
        """Start a job."""
        ...


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
        return counts_text(self)


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


@dataclass(frozen=True)
class MapRequest:
    """A map as the caller asked for it, its options checked."""

    inputs: Iterable[Any] | AsyncIterable[Any]
    total: int | None  # the number of inputs where they have a length
    api_name: str | None
    fn_index: int | None
    concurrency: int
    stop_on_error: bool
    on_progress: ProgressCallback | None
    progress: bool = False


def map_request(
    inputs: Iterable[Any] | AsyncIterable[Any],
    *,
    api_name: str | None = None,
    fn_index: int | None = None,
    concurrency: int = 8,
    stop_on_error: bool = False,
    on_progress: ProgressCallback | None = None,
    progress: bool = False,
) -> MapRequest:
    """The parameters of every map (``map_jobs``, ``amap_jobs``, both clients' ``map``), checked.

    This one list is what the four take (see ``_signatures.parameters_of``).
    """
    if isinstance(inputs, (str, bytes)):
        raise TypeError("inputs must be an iterable of inputs (one per job), not a single string")
    if not isinstance(inputs, (Iterable, AsyncIterable)):
        raise TypeError(f"inputs must be an iterable of inputs (one per job), got {type(inputs).__name__}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
    total = len(inputs) if isinstance(inputs, Sized) else None
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    return MapRequest(inputs, total, api_name, fn_index, concurrency, stop_on_error, on_progress, progress)


_EXHAUSTED: Any = object()


class _StepKind(enum.Enum):
    NEED_INPUT = "need input"  # the shell takes one more input and offers it
    READY = "ready"  # the next result in input order
    FINISHED = "finished"  # the map is over


@dataclass
class _Step:
    kind: _StepKind
    ok: bool = True
    value: Any = None
    #: Every distinct progress since the last step, for the shell to report in order.
    changes: list[MapProgress] = field(default_factory=list)


class _MapEngine:
    """The one map implementation, run on the client's event loop (see the module docstring)."""

    def __init__(self, client: Submitter, request: MapRequest) -> None:
        self._client = client
        self._api_name = request.api_name
        self._fn_index = request.fn_index
        self._ledger = _Ledger(request.total, request.concurrency, request.stop_on_error)
        self._jobs: dict[int, AsyncJob] = {}
        #: Indices of the jobs that finished, in finishing order, not yet taken into account.
        self._finished: deque[int] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._changes: list[MapProgress] = []
        self._last: MapProgress | None = None
        self._connected = False

    @property
    def progress(self) -> MapProgress:
        """Where the map stands."""
        return self._ledger.progress()

    @property
    def closed(self) -> bool:
        """Closed: nothing more is submitted or delivered."""
        return self._ledger.closed

    async def advance(self) -> _Step:
        """Wait for what the shell must act on next: an input to take, a result, or the end."""
        if not self._connected:
            await self._client.connect()
            self._client.app.endpoint(api_name=self._api_name, fn_index=self._fn_index)
            self._connected = True
        ledger = self._ledger
        while True:
            await self._drain()
            if ledger.closed:
                return self._step(_StepKind.FINISHED)
            # Top up before delivering: the jobs run while the caller handles the result.
            if ledger.may_submit():
                return self._step(_StepKind.NEED_INPUT)
            item = ledger.pop()
            if item is not None:
                ok, value = item
                return self._step(_StepKind.READY, ok, value)
            if ledger.finished():
                ledger.closed = True
                return self._step(_StepKind.FINISHED)
            if not self._finished:
                self._wakeup = asyncio.get_running_loop().create_future()
                await self._wakeup

    def offer(self, item: Any) -> None:
        """The shell took ``item`` from the inputs: submit it (a bad one fails alone)."""
        ledger = self._ledger
        if ledger.closed:
            return  # closed while the input was taken
        index = ledger.take()
        try:
            args, kwargs = _call_args(item)
            job = self._client.submit(*args, api_name=self._api_name, fn_index=self._fn_index, **kwargs)
        except GradioJobsError as exc:
            # This input's own problem (e.g. a bad argument, a missing file): it fails alone.
            self._finish(index, False, exc)
            return
        self._jobs[index] = job
        self._note()
        job.add_done_callback(functools.partial(self._job_finished, index))

    def inputs_exhausted(self) -> None:
        """The shell's inputs ran out."""
        self._ledger.inputs_exhausted()
        self._note()
        self._wake()

    def close(self) -> None:
        """Cancel the jobs in flight and submit nothing more; a waiting :meth:`advance` ends."""
        ledger = self._ledger
        if ledger.closed:
            return
        indices = ledger.close()
        if indices:
            logger.debug("map closed with %d job(s) in flight: cancelling them", len(indices))
        self._cancel(indices)
        # Count the jobs that ended on their own meanwhile (their results are not delivered).
        while self._finished:
            index = self._finished.popleft()
            job = self._jobs.pop(index, None)
            if job is not None:
                ledger.finish(index, *_failure_of(job))
        self._note()
        self._wake()

    def take_changes(self) -> list[MapProgress]:
        """The progress changes not handed to a shell yet."""
        changes, self._changes = self._changes, []
        return changes

    # -- inside -------------------------------------------------------------------------------

    def _step(self, kind: _StepKind, ok: bool = True, value: Any = None) -> _Step:
        return _Step(kind, ok, value, self.take_changes())

    def _note(self) -> None:
        progress = self._ledger.progress()
        if progress != self._last:
            self._last = progress
            self._changes.append(progress)

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _job_finished(self, index: int, _job: AsyncJob) -> None:
        self._finished.append(index)
        self._wake()

    async def _drain(self) -> None:
        """Take the jobs that finished into account, in finishing order."""
        while self._finished:
            index = self._finished.popleft()
            job = self._jobs.pop(index, None)
            if job is None:
                continue  # cancelled by the map, already counted
            ok, value = _failure_of(job)
            if ok:
                value = await job  # done: returns at once
            self._finish(index, ok, value)

    def _finish(self, index: int, ok: bool, value: Any) -> None:
        to_cancel = self._ledger.finish(index, ok, value)
        if to_cancel:
            logger.debug("map: item %d failed; cancelling %d later item(s) in flight", index, len(to_cancel))
        self._cancel(to_cancel)
        self._note()

    def _cancel(self, indices: list[int]) -> None:
        for index in indices:
            job = self._jobs.get(index)
            # A job that refuses (it has just ended) is counted when its end is drained.
            if job is not None and job.cancel():
                self._jobs.pop(index, None)
                self._ledger.cancelled_one(index)


def _failure_of(job: AsyncJob) -> tuple[bool, Any]:
    """``(False, error)`` for a job that failed or was cancelled, ``(True, None)`` for a success."""
    if job.cancelled():
        return False, concurrent.futures.CancelledError(f"the job was cancelled ({job.cancel_outcome})")
    error = job.exception()
    return (False, error) if error is not None else (True, None)


class _RunShell:
    """What the sync and async runs share: the engine they front and the progress they report."""

    def __init__(self, engine: _MapEngine, request: MapRequest) -> None:
        # The jobs' callbacks hold the engine, never this object: dropping the run closes it.
        self._engine = engine
        self._on_progress = request.on_progress
        self._stop_on_error = request.stop_on_error
        #: ``progress=True``: the bar is made at the first change (nothing at all otherwise).
        self._show = request.progress
        self._bar: MapDisplay | None = None

    @property
    def progress(self) -> MapProgress:
        """Where the map stands (updated as the iteration goes on)."""
        return self._engine.progress

    def _report(self, changes: list[MapProgress]) -> None:
        if self._show and changes:
            if self._bar is None:
                from ._live.mapbar import open_map_display

                self._bar = open_map_display()
            self._bar.update(changes[-1])
        if self._on_progress is not None:
            for progress in changes:
                self._on_progress(progress)

    def _end_bar(self) -> None:
        """The map is over: the bar shows its final state and stops."""
        bar, self._bar, self._show = self._bar, None, False
        if bar is not None:
            try:
                bar.close()
            except Exception:  # a display that fails must not change the map's outcome
                logger.exception("map: closing the progress bar failed")

    def _deliver(self, step: _Step) -> Any:
        if not step.ok and self._stop_on_error:
            raise step.value
        return step.value

    def _report_after_error(self, changes: list[MapProgress]) -> None:
        """Report the last changes while an exception leaves the iteration: that exception wins."""
        try:
            self._report(changes)
        except Exception:
            logger.exception("map: on_progress failed while the map was closing")
        finally:
            self._end_bar()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.progress}>"


class MapRun(_RunShell, Iterator[Any]):
    """The results of :func:`map_jobs` (``Client.map``), one per input, in input order.

    Iterate it: result ``i`` comes as soon as inputs ``0..i`` are done. A failed input gives
    its exception object (e.g. an :class:`AppError`) in its place, or is raised with
    ``stop_on_error=True``. New jobs are submitted while you iterate (as earlier ones finish),
    never more than ``concurrency`` at once. Closing it (``close()``, leaving a ``with``
    block, ``break`` out of a ``for`` over it, or dropping it) cancels the jobs in flight.
    The map itself runs on the shared loop thread; the inputs are taken, and ``on_progress``
    called, on the iterating thread.
    """

    def __init__(self, engine: _MapEngine, inputs: Iterable[Any], request: MapRequest, owner: object = None) -> None:
        super().__init__(engine, request)
        self._inputs = iter(inputs)
        #: The sync client: kept alive while the run is (it closes when collected).
        self._owner = owner

    def __iter__(self) -> MapRun:
        return self

    def __next__(self) -> Any:
        engine = self._engine
        if engine.closed:
            raise StopIteration
        if _loop.in_loop_thread():
            # its jobs complete on this very thread: waiting here would wait forever
            raise RuntimeError("a sync map was iterated on gradio-jobs' event-loop thread; use AsyncClient there")
        try:
            while True:
                step = _loop.run(engine.advance())
                self._report(step.changes)
                if step.kind is _StepKind.READY:
                    return self._deliver(step)
                if step.kind is _StepKind.FINISHED:
                    self._end_bar()
                    raise StopIteration
                try:
                    item = next(self._inputs)
                except StopIteration:
                    _loop.call(engine.inputs_exhausted)
                    continue
                _loop.call(engine.offer, item)
        except StopIteration:
            raise
        except BaseException:
            _loop.call(engine.close)
            self._report_after_error(_loop.call(engine.take_changes))
            raise

    def close(self) -> None:
        """Cancel the jobs in flight; the iteration ends."""
        _loop.call(self._engine.close)
        try:
            self._report(_loop.call(self._engine.take_changes))
        finally:
            self._end_bar()

    def __enter__(self) -> MapRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._engine.closed:
                _loop.call(self._engine.close)
        except Exception:  # e.g. at interpreter exit, with the loop gone
            logger.debug("map: could not close a dropped run", exc_info=True)
        if self._bar is not None:
            try:
                self._bar.update(self._engine.progress)  # closed above: the cancelled jobs are counted
            except Exception:
                logger.debug("map: could not show a dropped run's last progress", exc_info=True)
            self._end_bar()


class AsyncMapRun(_RunShell, AsyncIterator[Any]):
    """The results of :func:`amap_jobs` (``AsyncClient.map``): ``async for result in run``.

    Behaves as :class:`MapRun`: one result per input, in input order; a failed input gives
    its exception in its place unless ``stop_on_error``; closing it (``await run.aclose()``,
    ``run.close()``, leaving ``async with``, ``break`` out of an ``async for`` over it, or
    dropping it) cancels the jobs in flight.
    """

    def __init__(self, engine: _MapEngine, inputs: Iterable[Any] | AsyncIterable[Any], request: MapRequest) -> None:
        super().__init__(engine, request)
        self._source = inputs
        self._inputs: Iterator[Any] | AsyncIterator[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __aiter__(self) -> AsyncMapRun:
        return self

    async def __anext__(self) -> Any:
        engine = self._engine
        if engine.closed:
            raise StopAsyncIteration
        self._loop = asyncio.get_running_loop()
        try:
            while True:
                step = await engine.advance()
                self._report(step.changes)
                if step.kind is _StepKind.READY:
                    return self._deliver(step)
                if step.kind is _StepKind.FINISHED:
                    self._end_bar()
                    raise StopAsyncIteration
                item = await self._next_input()
                if item is _EXHAUSTED:
                    engine.inputs_exhausted()
                else:
                    engine.offer(item)
        except StopAsyncIteration:
            raise
        except BaseException:
            engine.close()
            self._report_after_error(engine.take_changes())
            raise

    async def _next_input(self) -> Any:
        """The next input, or ``_EXHAUSTED`` (StopIteration cannot leave a coroutine)."""
        if self._inputs is None:
            source = self._source
            self._inputs = source.__aiter__() if isinstance(source, AsyncIterable) else iter(source)
        if isinstance(self._inputs, AsyncIterator):
            return await anext(self._inputs, _EXHAUSTED)
        return next(self._inputs, _EXHAUSTED)

    def close(self) -> None:
        """Cancel the jobs in flight; the iteration ends. Call it on the client's event loop."""
        self._engine.close()
        try:
            self._report(self._engine.take_changes())
        finally:
            self._end_bar()

    async def aclose(self) -> None:
        """Cancel the jobs in flight; the iteration ends."""
        self.close()

    async def __aenter__(self) -> AsyncMapRun:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self._bar is not None:
            self._end_bar()
        engine, loop = self._engine, self._loop
        if engine.closed or loop is None or loop.is_closed():
            return
        try:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                engine.close()
            else:
                loop.call_soon_threadsafe(engine.close)
        except Exception:  # e.g. the loop is gone
            logger.debug("map: could not close a dropped run", exc_info=True)


def start_map(client: Submitter, request: MapRequest, owner: object = None) -> MapRun:
    """A sync map over the connected async ``client`` (see :func:`gradio_jobs.map_jobs`);
    ``owner``, the sync client, lives as long as the run."""
    if not isinstance(request.inputs, Iterable):
        raise TypeError("a sync map takes an iterable of inputs; iterate an async one with AsyncClient.map")
    client.app.endpoint(api_name=request.api_name, fn_index=request.fn_index)  # a wrong name raises here, once
    return MapRun(_MapEngine(client, request), request.inputs, request, owner=owner)


def start_async_map(client: Submitter, request: MapRequest) -> AsyncMapRun:
    """An async map over ``client`` (see :func:`gradio_jobs.amap_jobs`)."""
    if client.connected:
        client.app.endpoint(api_name=request.api_name, fn_index=request.fn_index)
    return AsyncMapRun(_MapEngine(client, request), request.inputs, request)
