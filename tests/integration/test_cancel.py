"""Honest cancellation and deadlines against real servers (6.31.0, 5.50.0, 4.44.1).

What the server really did is checked on disk: the test endpoints ``work`` (a plain
function) and ``ticks`` (a generator) write to a file while they run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from pathlib import Path

import pytest

from gradio_jobs import AsyncClient, Client, Deadline, JobTimeoutError, Status
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol.cancel import NO_TASK
from waiting import await_event, await_quiet, observe_window, wait_for_event, wait_until_quiet


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def assert_stopped_growing(client: Client, path: Path) -> int:
    """``path`` does not grow over a window of a live generator's ticks on the same server (the
    first windows may still see a step that was in flight): the server stopped running the job."""
    return wait_until_quiet(client, lambda: len(lines(path)), what=f"{path.name} (the server kept running the job)")


def _output(index: int):
    def match(event) -> bool:
        return isinstance(event, ev.OutputProduced) and event.index >= index

    match.__name__ = f"output {index}"
    return match


# -- a running generator ----------------------------------------------------------------------


def test_cancel_running_generator_stops_it_on_the_server(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "ticks"
    job = client.submit(str(path), 100, api_name="/ticks")
    first_two = []
    for out in job:
        first_two.append(out)
        if len(first_two) == 2:
            assert job.cancel() is True
    assert first_two[:2] == [0, 1]
    with pytest.raises(concurrent.futures.CancelledError):
        job.result()
    assert job.status().code is Status.CANCELLED
    assert job.wait_settled(10) and job.cancel_outcome == ev.OUTCOME_STOPPED
    assert_stopped_growing(client, path)
    assert len(lines(path)) < 20


async def test_cancel_running_generator_stops_it_on_the_server_async(aclient: AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "ticks"
    job = aclient.submit(str(path), 100, api_name="/ticks")
    async for out in job:
        if out == 1:
            assert job.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        await job
    assert await job.wait_settled(10) and job.cancel_outcome == ev.OUTCOME_STOPPED
    count = await await_quiet(aclient, lambda: len(lines(path)), what=f"{path.name} (the server kept running the job)")
    assert count < 20


# -- a queued job -------------------------------------------------------------------------------


def dequeues(server) -> bool:
    return tuple(int(p) for p in server.version.split(".")[:2]) >= (6, 14)


def test_cancel_queued_job_never_completes_on_the_server(client: Client, server, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    running = client.submit(str(first), 1.0, api_name="/work_serial")
    wait_for_event(running, ev.Started)
    queued = client.submit(str(second), 0.3, api_name="/work_serial")
    wait_for_event(queued, ev.Queued)
    assert queued.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        queued.result()
    assert running.result(timeout=15) == "worked 1.0"  # its sibling in the queue did not harm it
    assert queued.wait_settled(15)
    assert lines(first) == ["start", "end"]
    if dequeues(server):
        assert queued.cancel_outcome == ev.OUTCOME_DEQUEUED
        observe_window(client, lambda: None)  # time for it to start (work_serial is free), had it stayed queued
        assert lines(second) == []  # never started
    else:
        # before 6.14 the server cannot dequeue: it runs the job anyway, and the client says so
        assert queued.cancel_outcome == ev.OUTCOME_SERVER_CONTINUES


async def test_cancel_queued_job_never_completes_on_the_server_async(aclient: AsyncClient, server, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    running = aclient.submit(str(first), 1.0, api_name="/work_serial")
    await await_event(running, ev.Started)
    queued = aclient.submit(str(second), 0.3, api_name="/work_serial")
    await await_event(queued, ev.Queued)
    assert queued.cancel()
    assert await running == "worked 1.0"
    assert await queued.wait_settled(15)
    expected = ev.OUTCOME_DEQUEUED if dequeues(server) else ev.OUTCOME_SERVER_CONTINUES
    assert queued.cancel_outcome == expected


def test_cancel_right_after_submit(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "w"
    job = client.submit(str(path), 0.5, api_name="/work")
    assert job.cancel()  # most likely still joining: it is stopped once it has an id
    with pytest.raises(concurrent.futures.CancelledError):
        job.result()
    assert job.wait_settled(15)
    assert job.cancel_outcome in (
        ev.OUTCOME_NEVER_SENT, ev.OUTCOME_DEQUEUED, ev.OUTCOME_SERVER_CONTINUES, ev.OUTCOME_FINISHED_FIRST
    )
    if job.cancel_outcome in (ev.OUTCOME_NEVER_SENT, ev.OUTCOME_DEQUEUED):
        observe_window(client, lambda: None)  # time for it to start (/work runs any number), had it been sent
        assert lines(path) == []
    assert client.predict(1, 2, api_name="/add") == 3


def test_cancel_after_the_end_changes_nothing(client: Client) -> None:
    job = client.submit(1, 2, api_name="/add")
    assert job.result() == 3
    assert job.cancel() is False and job.result() == 3 and job.cancel_outcome is None


# -- siblings: /cancel kills every running job of the endpoint in the session -------------------


def test_cancelling_one_running_job_never_takes_its_siblings_down(client: Client, tmp_path: Path) -> None:
    paths = [tmp_path / f"w{i}" for i in range(4)]
    jobs = [client.submit(str(p), 1.5, api_name="/work") for p in paths]
    for job in jobs:
        wait_for_event(job, ev.Started)
    victim = jobs[1]
    assert victim.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        victim.result()
    survivors = [j for j in jobs if j is not victim]
    assert [j.result(timeout=30) for j in survivors] == ["worked 1.5"] * 3
    # a running plain function cannot be interrupted on any server: the client says so
    assert victim.wait_settled(15) and victim.cancel_outcome == ev.OUTCOME_SERVER_CONTINUES
    for job in survivors:  # each ran once, and was never killed
        assert not any(isinstance(e, ev.Resubmitted) for e in job.event_log())
        assert lines(paths[jobs.index(job)]) == ["start", "end"]


async def test_cancelling_one_running_job_never_takes_its_siblings_down_async(aclient: AsyncClient, tmp_path: Path) -> None:
    paths = [tmp_path / f"w{i}" for i in range(4)]
    jobs = [aclient.submit(str(p), 1.5, api_name="/work") for p in paths]
    for job in jobs:
        await await_event(job, ev.Started)
    victim = jobs[2]
    assert victim.cancel()
    survivors = [j for j in jobs if j is not victim]
    assert await asyncio.gather(*survivors) == ["worked 1.5"] * 3
    assert await victim.wait_settled(15) and victim.cancel_outcome == ev.OUTCOME_SERVER_CONTINUES


def test_cancelling_a_generator_never_takes_its_siblings_down(client: Client, server, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    keep = client.submit(str(a), 12, api_name="/ticks")
    drop = client.submit(str(b), 100, api_name="/ticks")
    wait_for_event(keep, _output(1))
    wait_for_event(drop, _output(1))
    assert drop.cancel()
    assert keep.result(timeout=30) == 11
    assert keep.outputs() == list(range(12))  # each output exactly once, even if it ran again
    assert drop.wait_settled(10) and drop.cancel_outcome == ev.OUTCOME_STOPPED
    assert_stopped_growing(client, b)
    # only killing its task stops a generator, and that kills `keep` too: it ran again, said so,
    # and delivered each output once
    resubmitted = [e for e in keep.event_log() if isinstance(e, ev.Resubmitted)]
    assert len(resubmitted) == 1 and "killed on the server" in resubmitted[0].reason


def test_cancelling_running_generators_together_spares_the_jobs_submitted_next(server, tmp_path: Path) -> None:
    # One kill stops every running job of the endpoint in the session, and the stream marks which.
    # A second kill sent for a job the first already stopped would take down the jobs submitted
    # right after, and nothing would tell (they hung, started, forever): it must not be sent.
    kills: list[dict] = []

    def record(request) -> None:
        if request.url.path.endswith("/cancel"):
            body = json.loads(request.content)
            if body["fn_index"] != NO_TASK:
                kills.append(body)

    hooks = {"request": [record]}
    with Client(server.url, verbose=False, httpx_kwargs={"event_hooks": hooks}) as client:
        for round_ in range(4):
            running = [client.submit(str(tmp_path / f"run{round_}-{i}"), 100, api_name="/ticks") for i in range(3)]
            for job in running:
                wait_for_event(job, _output(0))
            kills_before = len(kills)
            for job in running:
                job.cancel()
            later = [client.submit(str(tmp_path / f"next{round_}-{i}"), 2, api_name="/ticks") for i in range(3)]
            assert [job.result(timeout=20) for job in later] == [1, 1, 1]
            assert all(job.wait_settled(10) and job.cancel_outcome == ev.OUTCOME_STOPPED for job in running)
            assert len(kills) - kills_before == 1, kills[kills_before:]
        for job in running:
            assert_stopped_growing(client, tmp_path / f"run{round_}-{running.index(job)}")


# -- deadlines ------------------------------------------------------------------------------------


def test_queue_deadline(client: Client, tmp_path: Path) -> None:
    running = client.submit(str(tmp_path / "a"), 1.5, api_name="/work_serial")
    wait_for_event(running, ev.Started)
    job = client.submit(str(tmp_path / "b"), 0.2, api_name="/work_serial", deadline=Deadline(queue=0.4))
    with pytest.raises(JobTimeoutError) as info:
        job.result(timeout=10)
    assert info.value.phase == "queue" and info.value.last_status.code is Status.IN_QUEUE
    assert "queue deadline of 0.4 s" in str(info.value)
    assert running.result(timeout=10) == "worked 1.5"
    assert job.wait_settled(15)


def test_run_deadline_stops_a_generator_on_the_server(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "t"
    job = client.submit(str(path), 100, api_name="/ticks", deadline=Deadline(run=0.5))
    with pytest.raises(JobTimeoutError) as info:
        job.result(timeout=10)
    assert info.value.phase == "run" and info.value.job_id == job.job_id
    assert info.value.last_status.code in (Status.ITERATING, Status.PROCESSING)
    assert job.wait_settled(10) and job.cancel_outcome == ev.OUTCOME_STOPPED
    assert_stopped_growing(client, path)


async def test_total_deadline_async(aclient: AsyncClient, tmp_path: Path) -> None:
    job = aclient.submit(str(tmp_path / "t"), 100, api_name="/ticks", deadline=0.6)
    with pytest.raises(JobTimeoutError) as info:
        await job
    assert info.value.phase == "total"
    assert 2 <= len(job.outputs()) < 20
    assert await job.wait_settled(10) and job.cancel_outcome == ev.OUTCOME_STOPPED


def test_result_timeout_only_bounds_the_wait(client: Client) -> None:
    job = client.submit(0.6, api_name="/sleeper")
    with pytest.raises(concurrent.futures.TimeoutError):
        job.result(timeout=0.05)
    assert job.result(timeout=10) == "slept 0.6"
