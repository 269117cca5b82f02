"""Many jobs at once against real servers: as_completed, wait and map (sync and async).

Durations come from the ``/work`` endpoint (a plain function: ``secs`` of work, "start" and
"end" appended to a file) and ``/ticks`` (a generator that a cancel stops on the server), so
the finishing order is set by the inputs, not by chance.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import pytest

from gradio_jobs import AppError, AsyncClient, Client, EndpointNotFoundError, GradioJobsError
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

TIMEOUTS = (TimeoutError, concurrent.futures.TimeoutError)


def worked(secs: float) -> str:
    return f"worked {float(secs)}"


def capture_submits(monkeypatch: pytest.MonkeyPatch, client: Any) -> list[Any]:
    """Record every job the map submits. A map runs on the async client (a sync client's map is
    its async client's, driven from the loop thread), through its public submit."""
    jobs: list[Any] = []
    target = getattr(client, "_async", client)
    submit = target.submit

    def recording_submit(*args: Any, **kwargs: Any) -> Any:
        job = submit(*args, **kwargs)
        jobs.append(job)
        return job

    monkeypatch.setattr(target, "submit", recording_submit)
    return jobs


def max_overlap(path: Path) -> int:
    """The most jobs running at once on the server, from the start/end lines they appended."""
    running = peak = 0
    for line in path.read_text().splitlines():
        running += 1 if line == "start" else -1
        peak = max(peak, running)
    return peak


class Counting:
    """An input generator that counts how many inputs were taken from it."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.taken = 0

    def __iter__(self):
        for item in self.items:
            self.taken += 1
            yield item

    async def aiter(self):
        for item in self.items:
            self.taken += 1
            yield item


# -- as_completed ------------------------------------------------------------------------------


def test_as_completed_yields_each_job_once_in_finishing_order(client: Client, tmp_path: Path) -> None:
    done_first = client.submit(1, 2, api_name="/add")
    assert done_first.result(30) == 3
    slow = client.submit(str(tmp_path / "slow"), 1.0, api_name="/work")
    fast = client.submit(str(tmp_path / "fast"), 0.1, api_name="/work")
    order = list(as_completed([slow, fast, done_first, slow], timeout=30))
    assert order == [done_first, fast, slow]
    assert fast.result() == worked(0.1) and slow.result() == worked(1.0)


async def test_as_completed_yields_each_job_once_in_finishing_order_async(aclient: AsyncClient, tmp_path: Path) -> None:
    done_first = aclient.submit(1, 2, api_name="/add")
    assert await done_first == 3
    slow = aclient.submit(str(tmp_path / "slow"), 1.0, api_name="/work")
    fast = aclient.submit(str(tmp_path / "fast"), 0.1, api_name="/work")
    order = [job async for job in as_completed([slow, fast, done_first, slow], timeout=30)]
    assert order == [done_first, fast, slow]
    assert await fast == worked(0.1) and await slow == worked(1.0)


def test_as_completed_timeout_then_cancel(client: Client, tmp_path: Path) -> None:
    fast = client.submit(1, 2, api_name="/add")
    fast.result(30)
    slow = client.submit(str(tmp_path / "ticks"), 100, api_name="/ticks")
    got = []
    with pytest.raises(TIMEOUTS):
        for job in as_completed([slow, fast], timeout=0.3):
            got.append(job)
    assert got == [fast]
    assert not slow.done()  # the timeout leaves it running
    assert slow.cancel()
    assert list(as_completed([slow], timeout=5)) == [slow]  # a cancelled job counts as finished


async def test_as_completed_timeout_then_cancel_async(aclient: AsyncClient, tmp_path: Path) -> None:
    fast = aclient.submit(1, 2, api_name="/add")
    await fast
    slow = aclient.submit(str(tmp_path / "ticks"), 100, api_name="/ticks")
    got = []
    with pytest.raises(TimeoutError):
        async for job in as_completed([slow, fast], timeout=0.3):
            got.append(job)
    assert got == [fast]
    assert not slow.done()
    assert slow.cancel()
    assert [job async for job in as_completed([slow], timeout=5)] == [slow]


def test_as_completed_refuses_mixed_jobs(client: Client) -> None:
    job = client.submit(1, 2, api_name="/add")
    with pytest.raises(TypeError, match="one kind"):
        as_completed([job, concurrent.futures.Future()])
    job.result(30)


# -- wait ----------------------------------------------------------------------------------------


def test_wait_all_first_completed_and_first_exception(client: Client, tmp_path: Path) -> None:
    add = client.submit(1, 2, api_name="/add")
    work = client.submit(str(tmp_path / "w"), 0.1, api_name="/work")
    done, not_done = wait([add, work], timeout=30)  # ALL_COMPLETED
    assert done == {add, work} and not_done == set()

    long = client.submit(str(tmp_path / "ticks"), 100, api_name="/ticks")
    short = client.submit(str(tmp_path / "w2"), 0.1, api_name="/work")
    done, not_done = wait([long, short], timeout=30, return_when=FIRST_COMPLETED)
    assert done == {short} and not_done == {long}

    failing = client.submit("x", api_name="/fail")
    done, not_done = wait([long, failing], timeout=30, return_when=FIRST_EXCEPTION)
    assert done == {failing} and not_done == {long}
    assert isinstance(failing.exception(), AppError)

    # a timeout is no error: the unfinished job is in not_done, still running
    done, not_done = wait([long], timeout=0.2, return_when=ALL_COMPLETED)
    assert done == set() and not_done == {long}
    assert long.cancel()
    # a cancelled job is done, but no exception: FIRST_EXCEPTION waits for the others
    other = client.submit(str(tmp_path / "w3"), 0.3, api_name="/work")
    done, not_done = wait([long, other], timeout=30, return_when=FIRST_EXCEPTION)
    assert done == {long, other} and not_done == set()


async def test_wait_all_first_completed_and_first_exception_async(aclient: AsyncClient, tmp_path: Path) -> None:
    add = aclient.submit(1, 2, api_name="/add")
    work = aclient.submit(str(tmp_path / "w"), 0.1, api_name="/work")
    done, not_done = await wait([add, work], timeout=30)
    assert done == {add, work} and not_done == set()

    long = aclient.submit(str(tmp_path / "ticks"), 100, api_name="/ticks")
    short = aclient.submit(str(tmp_path / "w2"), 0.1, api_name="/work")
    done, not_done = await wait([long, short], timeout=30, return_when=FIRST_COMPLETED)
    assert done == {short} and not_done == {long}

    failing = aclient.submit("x", api_name="/fail")
    done, not_done = await wait([long, failing], timeout=30, return_when=FIRST_EXCEPTION)
    assert done == {failing} and not_done == {long}
    with pytest.raises(AppError):
        await failing

    done, not_done = await wait([long], timeout=0.2)
    assert done == set() and not_done == {long}
    assert long.cancel()
    other = aclient.submit(str(tmp_path / "w3"), 0.3, api_name="/work")
    done, not_done = await wait([long, other], timeout=30, return_when=FIRST_EXCEPTION)
    assert done == {long, other} and not_done == set()


# -- map: order, concurrency, laziness, progress -------------------------------------------------

ORDER_SECS = [0.6, 0.05, 0.3, 0.1, 0.05]


def test_map_results_in_input_order(client: Client, tmp_path: Path) -> None:
    inputs = [(str(tmp_path / f"w{i}"), s) for i, s in enumerate(ORDER_SECS)]
    results = list(map_jobs(client, inputs, api_name="/work", concurrency=5))
    # later items finished first (they are shorter), yet come out in input order
    assert results == [worked(s) for s in ORDER_SECS]
    if hasattr(client, "map"):
        assert list(client.map(inputs[:2], api_name="/work", concurrency=2)) == [worked(s) for s in ORDER_SECS[:2]]


async def test_map_results_in_input_order_async(aclient: AsyncClient, tmp_path: Path) -> None:
    inputs = [(str(tmp_path / f"w{i}"), s) for i, s in enumerate(ORDER_SECS)]
    results = [r async for r in amap_jobs(aclient, inputs, api_name="/work", concurrency=5)]
    assert results == [worked(s) for s in ORDER_SECS]
    if hasattr(aclient, "map"):
        assert [r async for r in aclient.map(inputs[:2], api_name="/work", concurrency=2)] == [
            worked(s) for s in ORDER_SECS[:2]
        ]


N_LAZY, K_LAZY, SECS_LAZY = 9, 3, 0.2


def check_lazy_run(path: Path, jobs: list[Any], seen: list[tuple[int, int, int]], progress: list[MapProgress]) -> None:
    assert len(jobs) == N_LAZY
    # never more than K in flight, by the map's own count ...
    assert max(p.running for p in progress) <= K_LAZY
    # ... and on the server; more than one at once, though
    assert 2 <= max_overlap(path) <= K_LAZY
    # lazily consumed: each input taken was submitted at once, and only while fewer than K
    # jobs ran; so at each result, inputs taken <= jobs finished + K
    for taken, submitted, finished in seen:
        assert taken == submitted and taken <= finished + K_LAZY, seen
    assert seen[0][0] < N_LAZY
    # total unknown while the generator had more to give
    assert progress[0].total is None
    final = progress[-1]
    assert final == MapProgress(total=N_LAZY, submitted=N_LAZY, done=N_LAZY, failed=0, running=0)
    assert str(final) == f"{N_LAZY}/{N_LAZY} done, 0 failed, 0 running"


def test_map_concurrency_and_lazy_generator_input(client: Client, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "shared"  # every job appends start/end here
    jobs = capture_submits(monkeypatch, client)
    source = Counting([(str(path), SECS_LAZY)] * N_LAZY)
    progress: list[MapProgress] = []
    in_flight_at_submit = []

    def on_progress(p: MapProgress) -> None:
        progress.append(p)
        in_flight_at_submit.append(sum(not job.done() for job in jobs))  # independent of the map's count

    seen = []
    run = map_jobs(client, iter(source), api_name="/work", concurrency=K_LAZY, on_progress=on_progress)
    for result in run:
        assert result == worked(SECS_LAZY)
        seen.append((source.taken, len(jobs), sum(job.done() for job in jobs)))
    assert max(in_flight_at_submit) <= K_LAZY
    check_lazy_run(path, jobs, seen, progress)
    assert run.progress == progress[-1]


async def test_map_concurrency_and_lazy_generator_input_async(aclient: AsyncClient, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "shared"
    jobs = capture_submits(monkeypatch, aclient)
    source = Counting([(str(path), SECS_LAZY)] * N_LAZY)
    progress: list[MapProgress] = []
    seen = []
    run = amap_jobs(aclient, source.aiter(), api_name="/work", concurrency=K_LAZY, on_progress=progress.append)
    async for result in run:
        assert result == worked(SECS_LAZY)
        seen.append((source.taken, len(jobs), sum(job.done() for job in jobs)))
        assert sum(not job.done() for job in jobs) <= K_LAZY
    check_lazy_run(path, jobs, seen, progress)
    assert run.progress == progress[-1]


# -- map: errors ---------------------------------------------------------------------------------


def failing_inputs(tmp_path: Path) -> list[tuple[str, float]]:
    bad = str(tmp_path / "no-such-dir" / "w")  # the app cannot open it: the item fails
    return [(str(tmp_path / "a"), 0.1), (bad, 0.1), (str(tmp_path / "c"), 0.3), (str(tmp_path / "d"), 0.05)]


def check_failed_item(results: list[Any], progress: MapProgress) -> None:
    assert results[0] == worked(0.1) and results[2] == worked(0.3) and results[3] == worked(0.05)
    assert isinstance(results[1], AppError) and isinstance(results[1], GradioJobsError)
    assert progress == MapProgress(total=4, submitted=4, done=4, failed=1, running=0)
    assert str(progress) == "4/4 done, 1 failed, 0 running"


def test_map_failed_item_yields_its_error_and_the_rest_complete(client: Client, tmp_path: Path) -> None:
    run = map_jobs(client, failing_inputs(tmp_path), api_name="/work", concurrency=2)
    check_failed_item(list(run), run.progress)


async def test_map_failed_item_yields_its_error_and_the_rest_complete_async(aclient: AsyncClient, tmp_path: Path) -> None:
    run = amap_jobs(aclient, failing_inputs(tmp_path), api_name="/work", concurrency=2)
    check_failed_item([r async for r in run], run.progress)


def stop_inputs(tmp_path: Path) -> Counting:
    bad = str(tmp_path / "no-such-dir" / "w")
    # item 1 fails at once, long before item 0 (1 s) is done; items 2.. would take 3 s
    return Counting([(str(tmp_path / "ok"), 1.0), (bad, 0.1)] + [(str(tmp_path / f"later{i}"), 3.0) for i in range(8)])


def check_stopped(results: list[Any], jobs: list[Any], source: Counting, tmp_path: Path) -> None:
    assert results == [worked(1.0)]  # what came before the error was delivered
    assert len(jobs) == 3 and source.taken == 3  # nothing more was submitted
    assert all(job.cancelled() for job in jobs[2:])  # the later ones in flight were cancelled
    assert not list(tmp_path.glob("later[1-7]"))  # never submitted, never run


def test_map_stop_on_error_raises_and_cancels_the_rest(client: Client, tmp_path: Path, monkeypatch) -> None:
    jobs = capture_submits(monkeypatch, client)
    source = stop_inputs(tmp_path)
    run = map_jobs(client, iter(source), api_name="/work", concurrency=3, stop_on_error=True)
    results = []
    with pytest.raises(AppError):
        for result in run:
            # the later jobs were cancelled as soon as item 1 failed, not when its turn came
            assert len(jobs) == 3 and jobs[2].cancelled()
            results.append(result)
    check_stopped(results, jobs, source, tmp_path)
    assert next(run, "ended") == "ended"
    assert run.progress.running == 0 and run.progress.failed == 1


async def test_map_stop_on_error_raises_and_cancels_the_rest_async(aclient: AsyncClient, tmp_path: Path, monkeypatch) -> None:
    jobs = capture_submits(monkeypatch, aclient)
    source = stop_inputs(tmp_path)
    run = amap_jobs(aclient, source.aiter(), api_name="/work", concurrency=3, stop_on_error=True)
    results = []
    with pytest.raises(AppError):
        async for result in run:
            assert len(jobs) == 3 and jobs[2].cancelled()
            results.append(result)
    check_stopped(results, jobs, source, tmp_path)
    assert [r async for r in run] == []
    assert run.progress.running == 0 and run.progress.failed == 1


def test_map_unknown_endpoint_raises_at_once(client: Client) -> None:
    with pytest.raises(EndpointNotFoundError):
        map_jobs(client, [1, 2], api_name="/nope")
    with pytest.raises(TypeError):
        amap_jobs(client, [1, 2], api_name="/add")  # type: ignore[arg-type]


async def test_map_unknown_endpoint_raises_at_once_async(aclient: AsyncClient) -> None:
    with pytest.raises(EndpointNotFoundError):
        amap_jobs(aclient, [1, 2], api_name="/nope")
    with pytest.raises(TypeError):
        map_jobs(aclient, [1, 2], api_name="/add")  # type: ignore[arg-type]


# -- map: closing early --------------------------------------------------------------------------


def break_inputs(tmp_path: Path) -> Counting:
    # The first finishes at once, the others would take 3 s. (A plain function: what the map
    # promises is the client side -- jobs cancelled, nothing more submitted; whether the
    # server can stop a job is the cancel module's business, tested in test_cancel.py.)
    return Counting([(str(tmp_path / "w0"), 0.05)] + [(str(tmp_path / f"w{i}"), 3.0) for i in range(1, 20)])


def check_cancelled_after_break(jobs: list[Any], source: Counting, progress: MapProgress | None = None) -> None:
    assert source.taken == len(jobs) <= 1 + 3  # nothing submitted after the break
    assert jobs[0].done() and not jobs[0].cancelled()
    assert len(jobs) >= 2 and all(job.cancelled() for job in jobs[1:])
    if progress is not None:
        assert progress.running == 0 and progress.cancelled == len(jobs) - 1 and progress.done == 1


def test_map_break_cancels_the_jobs_in_flight(client: Client, tmp_path: Path, monkeypatch) -> None:
    jobs = capture_submits(monkeypatch, client)
    source = break_inputs(tmp_path)
    for result in map_jobs(client, iter(source), api_name="/work", concurrency=3):
        assert result == worked(0.05)
        break
    # the run was dropped with the loop: its jobs in flight were cancelled
    assert all(job.done() for job in jobs)
    check_cancelled_after_break(jobs, source)

    jobs.clear()
    source = break_inputs(tmp_path)
    with map_jobs(client, iter(source), api_name="/work", concurrency=3) as run:
        assert next(run) == worked(0.05)
    check_cancelled_after_break(jobs, source, run.progress)
    assert list(run) == []


async def test_map_break_cancels_the_jobs_in_flight_async(aclient: AsyncClient, tmp_path: Path, monkeypatch) -> None:
    jobs = capture_submits(monkeypatch, aclient)
    source = break_inputs(tmp_path)
    async for result in amap_jobs(aclient, source.aiter(), api_name="/work", concurrency=3):
        assert result == worked(0.05)
        break
    assert all(job.done() for job in jobs)
    check_cancelled_after_break(jobs, source)

    jobs.clear()
    source = break_inputs(tmp_path)
    run = amap_jobs(aclient, iter(source), api_name="/work", concurrency=3)
    assert await run.__anext__() == worked(0.05)
    await run.aclose()
    check_cancelled_after_break(jobs, source, run.progress)
    assert [r async for r in run] == []
