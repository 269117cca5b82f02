"""as_completed / wait / map without a server: the bookkeeping, and the drivers over stand-in jobs.

Maps run over real ``AsyncJob`` objects of a stand-in client (no server: joining succeeds at
once), fed by the test the messages a server would send. A sync map drives the same engine
on the shared loop thread; its "server" is a helper thread that completes jobs on that loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import gc
import threading
from typing import Any

import pytest

from gradio_jobs import AppError, ArgumentError, AsyncJob, GradioJobsError, Job, ProtocolError
from gradio_jobs import _loop
from gradio_jobs._call import call_request, prepare_call
from gradio_jobs import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    MapProgress,
    amap_jobs,
    as_completed,
    map_jobs,
    wait,
)
from gradio_jobs._map import _call_args, _Ledger
from gradio_jobs.protocol.capabilities import Route
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.job import JobState
from tests.fixtures import captures

APP = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
ADD = APP.endpoint("/add")
TIMEOUTS = (TimeoutError, concurrent.futures.TimeoutError)


# -- the pieces ----------------------------------------------------------------------------------


def test_progress_summary() -> None:
    assert str(MapProgress(total=10, submitted=10, done=7, failed=1, running=2)) == "7/10 done, 1 failed, 2 running"
    assert str(MapProgress(total=None, submitted=3, done=1, failed=0, running=2)) == "1 done, 0 failed, 2 running"
    assert str(MapProgress(10, 5, 1, 0, 0, cancelled=4)) == "1/10 done, 0 failed, 0 running, 4 cancelled"
    with pytest.raises(dataclasses.FrozenInstanceError):
        MapProgress(1, 1, 1, 0, 0).done = 2  # type: ignore[misc]  # frozen


def test_call_args() -> None:
    assert _call_args((1, 2)) == ((1, 2), {})
    assert _call_args({"b": 2}) == ((), {"b": 2})
    assert _call_args([1, 2]) == (([1, 2],), {})
    assert _call_args(5) == ((5,), {})
    assert _call_args(({"a": 1},)) == (({"a": 1},), {})  # a dict argument, wrapped


def test_ledger_delivers_in_input_order_and_bounds_in_flight() -> None:
    ledger = _Ledger(total=4, concurrency=2, stop_on_error=False)
    assert [ledger.take(), ledger.take()] == [0, 1]
    assert not ledger.may_submit()  # two in flight
    assert ledger.finish(1, True, "b") == []
    assert ledger.pop() is None  # item 0 first
    assert ledger.may_submit() and ledger.take() == 2
    assert ledger.finish(0, False, AppError("x")) == []  # no stop: the error is item 0's result
    ok, value = ledger.pop()
    assert not ok and isinstance(value, AppError)
    assert ledger.pop() == (True, "b")
    ledger.take()
    ledger.inputs_exhausted()
    assert ledger.finish(3, True, "d") == [] and ledger.finish(2, True, "c") == []
    assert [ledger.pop(), ledger.pop(), ledger.pop()] == [(True, "c"), (True, "d"), None]
    assert ledger.finished()
    assert ledger.progress() == MapProgress(total=4, submitted=4, done=4, failed=1, running=0)


def test_ledger_stop_on_error_stops_at_the_first_error_in_input_order() -> None:
    ledger = _Ledger(total=None, concurrency=5, stop_on_error=True)
    for _ in range(5):
        ledger.take()
    # item 3 fails first: items 4 (in flight) must be cancelled, 0..2 still matter
    assert ledger.finish(3, False, AppError("three")) == [4]
    assert not ledger.may_submit()
    ledger.cancelled_one(4)
    # then item 1 fails: now nothing after 1 matters (2 is still in flight)
    assert ledger.finish(1, False, AppError("one")) == [2]
    ledger.cancelled_one(2)
    assert ledger.pop() is None  # item 0 is still running
    assert ledger.finish(0, True, "zero") == []
    assert ledger.pop() == (True, "zero")
    ok, error = ledger.pop()
    assert not ok and str(error) == "one"
    assert ledger.progress() == MapProgress(total=None, submitted=5, done=3, failed=2, running=0, cancelled=2)


def test_ledger_total_is_known_once_the_inputs_run_out() -> None:
    ledger = _Ledger(total=None, concurrency=8, stop_on_error=False)
    ledger.take()
    assert ledger.progress().total is None
    ledger.inputs_exhausted()
    assert ledger.progress().total == 1


def test_ledger_close_returns_the_jobs_in_flight() -> None:
    ledger = _Ledger(total=None, concurrency=3, stop_on_error=False)
    for _ in range(3):
        ledger.take()
    ledger.finish(0, True, 0)
    assert ledger.close() == [1, 2]
    assert ledger.pop() is None and not ledger.may_submit()


# -- a stand-in sync client: the async stand-in, on the shared loop --------------------------------


class FakeApp:
    def endpoint(self, api_name: str | None = None, fn_index: int | None = None) -> Any:
        return APP.endpoint(api_name=api_name, fn_index=fn_index)


class FakeClient:
    """What ``map_jobs`` needs of a sync ``Client``: its app, and its async client on the loop."""

    def __init__(self, refuse: Any = None) -> None:
        self.app = FakeApp()
        self._async = _loop.call(StandInAsyncClient, refuse)

    @property
    def calls(self) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return self._async.calls

    @property
    def max_in_flight(self) -> int:
        return self._async.max_in_flight

    @property
    def futures(self) -> list[AsyncJob]:
        return list(self._async.jobs)

    def future(self, index: int) -> AsyncJob:
        with self._async.cond:
            assert self._async.cond.wait_for(lambda: len(self._async.jobs) > index, 10), f"job {index} never submitted"
            return self._async.jobs[index]


def complete_in_order(client: FakeClient, script: list[tuple[int, Any]], submitted: int = 0) -> threading.Thread:
    """Finish job ``i`` with ``outcome`` (an exception fails it), in the script's order, once
    ``submitted`` jobs have been submitted."""

    def run() -> None:
        if submitted:
            client.future(submitted - 1)
        for index, outcome in script:
            job = client.future(index)
            _loop.run(_joined(job))
            if isinstance(outcome, BaseException):
                _loop.call(job._port.reject, outcome)
            else:
                _loop.call(succeed, job, outcome)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def _joined(job: AsyncJob) -> None:
    """Until the job has joined (the stand-in's join answers at once), on the job's own events."""

    async def joined() -> None:
        async for event in job.events():
            if isinstance(event, ev.Joined):
                return
        raise AssertionError(f"{job} ended without joining")

    await asyncio.wait_for(joined(), 10)


def test_sync_map_delivers_in_input_order_with_at_most_k_in_flight() -> None:
    client = FakeClient()
    # finishing order: 2, 1, 0, 4, 3, 5 -- yet the results come in input order
    thread = complete_in_order(client, [(2, "c"), (1, "b"), (0, "a"), (4, "e"), (3, "d"), (5, "f")])
    progress: list[MapProgress] = []
    run = map_jobs(client, iter("abcdef"), api_name="/add", concurrency=3, on_progress=progress.append)  # type: ignore[arg-type]
    assert list(run) == ["a", "b", "c", "d", "e", "f"]
    thread.join(5)
    assert client.max_in_flight <= 3 and max(p.running for p in progress) <= 3
    assert [call[0] for call in client.calls] == [(c,) for c in "abcdef"]
    assert progress[-1] == run.progress == MapProgress(total=6, submitted=6, done=6, failed=0, running=0)


def test_sync_map_inputs_become_arguments() -> None:
    client = FakeClient()
    thread = complete_in_order(client, [(0, 1), (1, 2), (2, 3)])
    assert list(map_jobs(client, [(1, 2), {"b": 3}, 4], api_name="/add")) == [1, 2, 3]  # type: ignore[arg-type]
    thread.join(5)
    assert client.calls == [((1, 2), {}), ((), {"b": 3}), ((4,), {})]


def test_sync_map_failed_items_come_back_in_place() -> None:
    client = FakeClient(refuse="bad")
    thread = complete_in_order(client, [(1, AppError("no")), (0, "a"), (2, "c")])
    results = list(map_jobs(client, ["a", "x", "bad", "c"], api_name="/add"))  # type: ignore[arg-type]
    thread.join(5)
    assert results[0] == "a" and results[3] == "c"
    assert isinstance(results[1], AppError) and isinstance(results[2], ArgumentError)  # refused at submit


def test_sync_map_stop_on_error_raises_the_first_error_in_input_order() -> None:
    client = FakeClient()
    # item 3 fails first, item 1 fails later; item 0 succeeds last
    thread = complete_in_order(client, [(3, AppError("three")), (1, AppError("one")), (0, "zero")], submitted=5)
    source = iter(range(10))
    run = map_jobs(client, source, api_name="/add", concurrency=5, stop_on_error=True)  # type: ignore[arg-type]
    assert next(run) == "zero"
    with pytest.raises(AppError, match="one"):
        next(run)
    thread.join(5)
    assert len(client.futures) == 5 and next(source) == 5  # nothing more taken
    assert client.futures[2].cancelled() and client.futures[4].cancelled()
    assert next(run, "ended") == "ended"
    assert run.progress == MapProgress(total=None, submitted=5, done=3, failed=2, running=0, cancelled=2)


def test_sync_map_close_and_drop_cancel_the_jobs_in_flight() -> None:
    client = FakeClient()
    thread = complete_in_order(client, [(0, "a")])
    run = map_jobs(client, range(10), api_name="/add", concurrency=3)  # type: ignore[arg-type]
    assert next(run) == "a"
    thread.join(5)
    run.close()
    assert [f.cancelled() for f in client.futures] == [False, True, True, True]
    assert list(run) == []
    assert run.progress.cancelled == 3 and run.progress.running == 0

    client = FakeClient()
    thread = complete_in_order(client, [(0, "a")])
    for _ in map_jobs(client, range(10), api_name="/add", concurrency=2):  # type: ignore[arg-type]
        break
    gc.collect()  # CPython frees it at once; other interpreters may need a collection
    thread.join(5)
    assert [f.cancelled() for f in client.futures] == [False, True, True]


def test_sync_map_on_progress_error_ends_the_map() -> None:
    client = FakeClient()

    def on_progress(progress: MapProgress) -> None:
        if progress.submitted == 2:
            raise RuntimeError("display broke")

    run = map_jobs(client, range(5), api_name="/add", on_progress=on_progress)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="display broke"):
        next(run)
    assert all(f.cancelled() for f in client.futures) and len(client.futures) == 2


def test_map_checks_its_arguments() -> None:
    client = FakeClient()
    with pytest.raises(ValueError):
        map_jobs(client, [1], api_name="/add", concurrency=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        map_jobs(client, "abc", api_name="/add")  # type: ignore[arg-type]
    with pytest.raises(GradioJobsError):
        map_jobs(client, [1], api_name="/nope")  # type: ignore[arg-type]
    assert client.calls == []


# -- as_completed / wait on sync jobs ----------------------------------------------------------


def sync_job() -> Job:
    return Job(JobState(ADD, APP.capabilities))


def test_sync_as_completed_counts_cancelled_jobs_and_times_out() -> None:
    done, cancelled, pending = sync_job(), sync_job(), sync_job()
    done.set_result(3)
    cancelled._on_event(ev.Cancelled("by the server"))  # as the loop thread does
    got = []
    with pytest.raises(TIMEOUTS):
        for job in as_completed([done, cancelled, pending], timeout=0.05):
            got.append(job)
    assert set(got) == {done, cancelled}
    threading.Thread(target=pending.set_result, args=(1,)).start()
    assert list(as_completed([pending], timeout=10)) == [pending]


def test_sync_wait_first_exception_ignores_cancelled_jobs() -> None:
    cancelled, failed, pending = sync_job(), sync_job(), sync_job()
    cancelled._on_event(ev.Cancelled("by the server"))
    result = wait([cancelled, pending], timeout=0.05, return_when=FIRST_EXCEPTION)
    assert result.done == {cancelled} and result.not_done == {pending}
    failed.set_exception(AppError("x"))
    done, not_done = wait([cancelled, failed, pending], return_when=FIRST_EXCEPTION)
    assert done == {cancelled, failed} and not_done == {pending}
    done, not_done = wait([cancelled, pending], return_when=FIRST_COMPLETED)
    assert done == {cancelled}


def test_kinds_of_jobs_and_arguments_are_checked() -> None:
    job = sync_job()
    other = AsyncJob.__new__(AsyncJob)
    for fn in (as_completed, wait):
        with pytest.raises(TypeError, match="AsyncJob"):
            fn([job, other])
        with pytest.raises(TypeError):
            fn([concurrent.futures.Future()])
    with pytest.raises(ValueError, match="return_when"):
        wait([job], return_when="SOMETIMES")


async def test_no_jobs_works_for_sync_and_async_code() -> None:
    assert list(as_completed([])) == []
    assert [job async for job in as_completed([])] == []
    assert wait([]) == (set(), set())
    done, not_done = await wait([], return_when=FIRST_COMPLETED)
    assert done == set() and not_done == set()


# -- async jobs driven by hand ----------------------------------------------------------------


class _NoCancels:
    """The cancel coordinator's part: nothing to send without a server."""

    def request(self, job: Any) -> None:
        pass

    def completed(self, job: Any, cancelled: bool) -> None:
        pass

    def settle_for_close(self, job: Any) -> None:
        pass


class StandInAsyncClient:
    """What a map asks of an AsyncClient and what an AsyncJob asks of its host, with no
    server: joining succeeds at once."""

    session_hash = "session"
    retry_policy = None
    connected = True

    def __init__(self, refuse: Any = None) -> None:
        self.app = APP
        self.cancels = _NoCancels()
        self.jobs: list[AsyncJob] = []
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.max_in_flight = 0
        self.refuse = refuse
        self.cond = threading.Condition()
        self.submitted = asyncio.Event()
        self._ids = 0

    # -- the AsyncClient API a map uses
    async def connect(self) -> StandInAsyncClient:
        return self

    def submit(self, *args: Any, api_name: str | None = None, fn_index: int | None = None, **kwargs: Any) -> AsyncJob:
        if args and args[0] == self.refuse:
            raise ArgumentError(f"refused {args[0]!r}")
        call = prepare_call(APP, self.session_hash, call_request(1, 2, api_name="/add"))
        job = AsyncJob(self, call)  # type: ignore[arg-type]
        with self.cond:
            self.calls.append((args, kwargs))
            self.jobs.append(job)
            self.max_in_flight = max(self.max_in_flight, sum(not j.done() for j in self.jobs))
            self.cond.notify_all()
        self.submitted.set()
        return job

    # -- what the job calls back (JobHost)
    def job_live(self, job: Any) -> None:
        pass

    def job_settled(self, job: Any) -> None:
        pass

    def track_join(self, task: Any) -> None:
        pass

    def spawn(self, coro: Any) -> Any:
        return asyncio.ensure_future(coro)

    def run_awaitable(self, awaitable: Any) -> None:
        asyncio.ensure_future(awaitable)

    async def upload_inputs(self, data: list[Any], progress: Any) -> list[Any]:
        return data

    def route(self, endpoint: Any) -> Route:
        return Route.SESSION_STREAM

    async def join(self, endpoint: Any, data: list[Any], session_hash: str, call_headers: Any = None) -> str:
        self._ids += 1
        return f"job{self._ids}"

    def register(self, *args: Any) -> None:
        pass

    def forget(self, *args: Any) -> None:
        pass

    def has_output_files(self, value: Any) -> bool:
        return False

    def media_streams(self, value: Any) -> None:
        return None

    # -- the test plays the server
    async def job(self, index: int) -> AsyncJob:
        """Job ``index`` once submitted and joined."""
        while len(self.jobs) <= index:
            self.submitted.clear()
            await self.submitted.wait()
        job = self.jobs[index]
        await _joined(job)
        return job


def succeed(job: AsyncJob, value: Any) -> None:
    job._port.deliver(m.Completed(job.job_id, True, [value], None, None, False))


def fail(job: AsyncJob) -> None:
    job._port.reject(ProtocolError("a malformed message"))


async def hand_jobs(client: StandInAsyncClient, n: int) -> list[AsyncJob]:
    for _ in range(n):
        client.submit()
    return [await client.job(i) for i in range(len(client.jobs) - n, len(client.jobs))]


async def test_async_as_completed_in_finishing_order_and_timeout() -> None:
    client = StandInAsyncClient()
    a, b, c, done, slow = await hand_jobs(client, 5)
    succeed(done, 1)
    it = as_completed([a, b, c, done, a], timeout=5)
    assert await it.__anext__() is done  # already finished: first
    a._port.deliver(m.ProcessStarts(a.job_id, None))  # a change that does not end it is no finish
    fail(b)
    assert await it.__anext__() is b
    assert c.cancel()
    succeed(a, 2)
    assert [job async for job in it] == [c, a]
    assert await a == 2

    with pytest.raises(TimeoutError):
        async for _ in as_completed([slow], timeout=0.05):
            pass
    assert slow._done_callbacks == []  # nothing left armed


async def test_async_wait_modes() -> None:
    client = StandInAsyncClient()
    cancelled, failing, slow = await hand_jobs(client, 3)
    assert cancelled.cancel()
    done, not_done = await wait([cancelled, slow], timeout=0.05, return_when=FIRST_EXCEPTION)
    assert done == {cancelled} and not_done == {slow}  # a cancel is no exception
    asyncio.get_running_loop().call_soon(fail, failing)
    done, not_done = await wait([cancelled, failing, slow], return_when=FIRST_EXCEPTION)
    assert done == {cancelled, failing} and not_done == {slow}
    done, not_done = await wait([slow, failing], return_when=FIRST_COMPLETED)
    assert done == {failing}
    asyncio.get_running_loop().call_soon(succeed, slow, 3)
    done, not_done = await wait([slow, failing], return_when=ALL_COMPLETED)
    assert done == {slow, failing} and not_done == set()


async def test_async_map_order_stop_on_error_and_async_inputs() -> None:
    client = StandInAsyncClient()

    async def inputs():
        for i in range(10):
            yield i

    async def server() -> None:
        fail(await client.job(3))
        fail(await client.job(1))
        succeed(await client.job(0), 0)

    task = asyncio.create_task(server())
    run = amap_jobs(client, inputs(), api_name="/add", concurrency=5, stop_on_error=True)  # type: ignore[arg-type]
    got = []
    with pytest.raises(ProtocolError) as info:
        async for result in run:
            got.append(result)
    await task
    assert info.value is client.jobs[1].exception()  # the first error in input order
    assert got == [0] and len(client.jobs) == 5
    assert client.jobs[2].cancelled() and client.jobs[4].cancelled()
    assert run.progress == MapProgress(total=None, submitted=5, done=3, failed=2, running=0, cancelled=2)


async def test_async_map_errors_in_place_and_break_cancels() -> None:
    client = StandInAsyncClient()

    async def server(*more: int) -> None:
        fail(await client.job(1))
        succeed(await client.job(0), 0)
        for index in more:
            succeed(await client.job(index), index)

    task = asyncio.create_task(server())
    async for result in amap_jobs(client, range(6), api_name="/add", concurrency=3):  # type: ignore[arg-type]
        assert result == 0
        break
    await task
    jobs = client.jobs
    assert not jobs[0].cancelled() and not jobs[1].cancelled() and len(jobs) <= 5  # 3 in flight at most
    assert all(job.cancelled() for job in jobs[2:])  # the ones in flight at the break

    client = StandInAsyncClient()
    task = asyncio.create_task(server(2))
    results = [r async for r in amap_jobs(client, range(3), api_name="/add", concurrency=2)]  # type: ignore[arg-type]
    await task
    assert results[0] == 0 and isinstance(results[1], ProtocolError) and results[2] == 2


def test_sync_map_closed_from_another_thread_ends_the_iteration() -> None:
    client = FakeClient()
    run = map_jobs(client, range(10), api_name="/add", concurrency=2)  # type: ignore[arg-type]
    closer = threading.Thread(target=lambda: (client.future(1), run.close()))
    closer.start()
    assert list(run) == []  # was waiting for job 0 when the other thread closed the run
    closer.join(5)
    assert all(f.cancelled() for f in client.futures) and len(client.futures) == 2
