"""Many jobs at once: ``as_completed`` and ``wait`` (mapping a call is in ``_map``).

Works on sync :class:`Job` futures and on :class:`AsyncJob` alike; nothing here polls. Sync
jobs are ``concurrent.futures.Future`` objects completed from the loop thread, so done-callbacks
and conditions wake the waiting thread; async jobs wake their waiters at each change.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from typing import Any, NamedTuple, cast, overload

from ._async_job import AsyncJob
from ._job import Job

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "DoneAndNotDone",
    "as_completed",
    "wait",
]

logger = logging.getLogger("gradio_jobs")

FIRST_COMPLETED = concurrent.futures.FIRST_COMPLETED
FIRST_EXCEPTION = concurrent.futures.FIRST_EXCEPTION
ALL_COMPLETED = concurrent.futures.ALL_COMPLETED
_RETURN_WHEN = (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED)



class DoneAndNotDone(NamedTuple):
    """What :func:`wait` returns: the jobs that finished and the ones that did not."""

    done: set[Any]
    not_done: set[Any]


# -- telling the kinds of job apart ------------------------------------------------------------

_SYNC, _ASYNC, _EMPTY = "sync", "async", "empty"


def _kind_of(jobs: list[Any], what: str) -> str:
    if not jobs:
        return _EMPTY
    if all(isinstance(job, Job) for job in jobs):
        return _SYNC
    if all(isinstance(job, AsyncJob) for job in jobs):
        return _ASYNC
    kinds = sorted({type(job).__name__ for job in jobs})
    raise TypeError(
        f"{what}() takes jobs of one kind: all Job (from Client.submit) or all AsyncJob "
        f"(from AsyncClient.submit); got {', '.join(kinds)}"
    )


def _unique(jobs: Iterable[Any]) -> list[Any]:
    # Each job counts once, as in concurrent.futures; input order is kept for the jobs that
    # are already done (they come out first, in that order).
    return list(dict.fromkeys(jobs))


def _async_failed(job: AsyncJob) -> bool:
    """Finished with an error (app error, lost connection, deadline); a cancel is no error."""
    return job.done() and not job.cancelled() and job.exception() is not None


class _AsyncWatch:
    """Calls ``on_done(job)`` once for each watched async job, when it is done (no polling).

    It rides on the jobs' done callbacks. Must be used on the jobs' event loop.
    """

    def __init__(self, on_done: Callable[[AsyncJob], None]) -> None:
        self._on_done = on_done
        self._watched: set[AsyncJob] = set()

    def add(self, job: AsyncJob) -> None:
        if job.done():
            self._on_done(job)
        else:
            self._watched.add(job)
            job.add_done_callback(self._done)

    def _done(self, job: AsyncJob) -> None:
        if job in self._watched:
            self._watched.discard(job)
            self._on_done(job)

    def close(self) -> None:
        watched, self._watched = self._watched, set()
        for job in watched:
            job.remove_done_callback(self._done)


# -- as_completed ------------------------------------------------------------------------------


class _NoJobs:
    """``as_completed([])``: an empty iterator for both ``for`` and ``async for``."""

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        raise StopIteration

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _sync_as_completed(jobs: list[Job], deadline: float | None) -> Iterator[Job]:
    # Job is a real Future whose cancel() moves it to CANCELLED_AND_NOTIFIED, so
    # concurrent.futures counts a cancelled job as finished and yields it too.
    for job in concurrent.futures.as_completed(jobs, timeout=_remaining(deadline)):
        yield cast(Job, job)


class _AsyncAsCompleted:
    """``async for job in as_completed(async_jobs, timeout)``."""

    def __init__(self, jobs: list[AsyncJob], timeout: float | None, deadline: float | None) -> None:
        self._jobs = jobs
        self._timeout = timeout
        self._deadline = deadline
        self._finished: deque[AsyncJob] = deque()
        self._left = len(jobs)
        self._watch: _AsyncWatch | None = None
        self._wakeup: asyncio.Future[None] | None = None

    def __aiter__(self) -> _AsyncAsCompleted:
        return self

    def _done(self, job: AsyncJob) -> None:
        self._finished.append(job)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def __anext__(self) -> AsyncJob:
        if self._watch is None:
            self._watch = _AsyncWatch(self._done)
            for job in self._jobs:
                self._watch.add(job)
        while not self._finished:
            if self._left == 0:
                raise StopAsyncIteration
            self._wakeup = asyncio.get_running_loop().create_future()
            done, _ = await asyncio.wait({self._wakeup}, timeout=_remaining(self._deadline))
            if not done:
                self._watch.close()
                self._wakeup.cancel()
                raise TimeoutError(f"{self._left} (of {len(self._jobs)}) jobs unfinished after {self._timeout} s")
        self._left -= 1
        if self._left == 0:
            self._watch.close()
        return self._finished.popleft()


@overload
def as_completed(jobs: Iterable[Job], timeout: float | None = None) -> Iterator[Job]: ...
@overload
def as_completed(jobs: Iterable[AsyncJob], timeout: float | None = None) -> AsyncIterator[AsyncJob]: ...


def as_completed(
    jobs: Iterable[Job] | Iterable[AsyncJob], timeout: float | None = None
) -> Iterator[Job] | AsyncIterator[AsyncJob]:
    """Each job once, as it finishes (succeeds, fails or is cancelled); finished ones first.

    For sync jobs: ``for job in as_completed(jobs, timeout)``. For async jobs:
    ``async for job in as_completed(jobs, timeout)``. ``timeout`` (seconds, counted from
    this call) bounds the whole iteration: when it runs out before every job is done, the
    iteration raises ``TimeoutError`` and the unfinished jobs keep running (cancel them if
    you want them stopped). Duplicates count once. Jobs of both kinds mixed raise ``TypeError``.
    """
    unique = _unique(jobs)
    kind = _kind_of(unique, "as_completed")
    deadline = None if timeout is None else time.monotonic() + timeout
    if kind == _SYNC:
        return _sync_as_completed(unique, deadline)
    if kind == _ASYNC:
        return _AsyncAsCompleted(unique, timeout, deadline)
    return _NoJobs()


# -- wait --------------------------------------------------------------------------------------


class _NothingToWaitFor(DoneAndNotDone):
    """``wait([])``: ``(set(), set())`` at once, and also awaitable for async code."""

    def __await__(self) -> Generator[Any, None, DoneAndNotDone]:
        return _ready(DoneAndNotDone(set(), set())).__await__()


async def _ready(value: DoneAndNotDone) -> DoneAndNotDone:
    return value


async def _async_wait(jobs: list[AsyncJob], timeout: float | None, return_when: str) -> DoneAndNotDone:
    pending = {job for job in jobs if not job.done()}
    failed = any(_async_failed(job) for job in jobs if job.done())

    def satisfied() -> bool:
        if not pending:
            return True
        if return_when == FIRST_COMPLETED:
            return len(pending) < len(jobs)
        return return_when == FIRST_EXCEPTION and failed

    if not satisfied():
        wakeup = asyncio.get_running_loop().create_future()

        def on_done(job: AsyncJob) -> None:
            nonlocal failed
            pending.discard(job)
            failed = failed or _async_failed(job)
            if not wakeup.done() and satisfied():
                wakeup.set_result(None)

        watch = _AsyncWatch(on_done)
        try:
            for job in list(pending):
                watch.add(job)
            await asyncio.wait({wakeup}, timeout=timeout)
        finally:
            watch.close()
            wakeup.cancel()
    done = {job for job in jobs if job.done()}
    return DoneAndNotDone(done, set(jobs) - done)


@overload
def wait(jobs: Iterable[Job], timeout: float | None = None, return_when: str = ALL_COMPLETED) -> DoneAndNotDone: ...
@overload
def wait(
    jobs: Iterable[AsyncJob], timeout: float | None = None, return_when: str = ALL_COMPLETED
) -> Awaitable[DoneAndNotDone]: ...


def wait(
    jobs: Iterable[Job] | Iterable[AsyncJob], timeout: float | None = None, return_when: str = ALL_COMPLETED
) -> DoneAndNotDone | Awaitable[DoneAndNotDone]:
    """Wait until the jobs are done, as ``concurrent.futures.wait``; returns ``(done, not_done)``.

    ``return_when`` is :data:`ALL_COMPLETED` (the default), :data:`FIRST_COMPLETED` (any job
    finished) or :data:`FIRST_EXCEPTION` (a job failed: an app error, a lost connection, a
    deadline; a cancelled job does not count; with no failure it waits for them all).
    ``timeout`` (seconds) bounds the wait; it is not an error: the unfinished jobs are in
    ``not_done``, still running.

    For sync jobs it blocks and returns the sets; for async jobs it returns an awaitable:
    ``done, not_done = await wait(jobs)``. Jobs of both kinds mixed raise ``TypeError``.
    """
    if return_when not in _RETURN_WHEN:
        raise ValueError(f"return_when must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got {return_when!r}")
    unique = _unique(jobs)
    kind = _kind_of(unique, "wait")
    if kind == _SYNC:
        done, not_done = concurrent.futures.wait(unique, timeout=timeout, return_when=return_when)
        return DoneAndNotDone(done, not_done)
    if kind == _ASYNC:
        return _async_wait(unique, timeout, return_when)
    return _NothingToWaitFor(set(), set())
