"""A job's event stream, callbacks, timings and bounded memory, against real servers."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from gradio_jobs import AppError, AsyncClient, Client, LogMessage, Status, StatusUpdate
from gradio_jobs.protocol import events as ev
from waiting import wait_for_event


def _kinds(events) -> list[type]:
    return [type(e) for e in events]


def _check_count_events(events: list, n: int) -> None:
    kinds = _kinds(events)
    assert kinds[:2] == [ev.Submitted, ev.Joined]
    assert kinds[-1] is ev.Completed
    started = kinds.index(ev.Started)
    assert set(kinds[2:started]) <= {ev.Queued}
    outputs = [e for e in events if isinstance(e, ev.OutputProduced)]
    assert [e.index for e in outputs] == list(range(n))
    assert [e.value[0] for e in outputs] == ["".join(f"tok{i} " for i in range(k + 1)) for k in range(n)]
    assert events[-1].value == outputs[-1].value
    stamps = [e.at for e in events]
    assert stamps == sorted(stamps)


# -- events() ------------------------------------------------------------------------------


def test_events_follow_a_job_live_and_in_order(client: Client) -> None:
    job = client.submit(4, api_name="/count")
    events = []
    for event in job.events():  # started before the job has even joined: followed live
        events.append(event)
        if isinstance(event, ev.OutputProduced) and event.index == 0:
            job.result(timeout=30)  # then a consumer that falls behind the whole job loses nothing
    _check_count_events(events, 4)
    assert job.result() == events[-1].value
    # a second reader, after the end, gets the same events replayed
    assert list(job.events()) == events


async def test_events_follow_a_job_live_and_in_order_async(aclient: AsyncClient) -> None:
    job = aclient.submit(4, api_name="/count")
    events = []
    async for event in job.events():
        events.append(event)
        if isinstance(event, ev.OutputProduced) and event.index == 0:
            await job.result(timeout=30)  # fall behind the whole job
    _check_count_events(events, 4)
    assert [e async for e in job.events()] == events


def test_events_of_progress_logs_and_failures(client: Client) -> None:
    slow = list(client.submit(3, api_name="/slow").events())
    progress = [e for e in slow if isinstance(e, ev.ProgressReported)]
    assert progress and progress[-1].units[0].unit == "steps"
    notify = list(client.submit("hi", api_name="/notify").events())
    logs = [e.log for e in notify if isinstance(e, ev.Logged)]
    assert [(log.level, log.message) for log in logs] == [("info", "an info message"), ("warning", "a warning message")]
    failed = list(client.submit("x", api_name="/fail").events())
    assert isinstance(failed[-1], ev.Failed) and isinstance(failed[-1].error, AppError)


def test_events_of_a_cancelled_job_end_with_the_servers_verdict(client: Client) -> None:
    job = client.submit(30, api_name="/count")
    events = []
    for event in job.events():
        events.append(event)
        if isinstance(event, ev.OutputProduced):
            job.cancel()
    kinds = _kinds(events)
    assert ev.Cancelled in kinds and kinds[-1] is ev.CancelResolved
    assert events[-1].outcome == job.cancel_outcome == ev.OUTCOME_STOPPED


# -- callbacks ----------------------------------------------------------------------------


def test_callbacks_run_in_order_off_the_loop_and_survive_errors(client: Client, caplog) -> None:
    calls: list[tuple[str, object]] = []
    threads: set[str] = set()
    finished = threading.Event()

    def on_output(value):
        threads.add(threading.current_thread().name)
        calls.append(("output", value[0]))
        if value[0] == "tok0 ":
            raise RuntimeError("a broken callback")

    def on_status(status: StatusUpdate):
        calls.append(("status", status.code))

    def on_result(text, items):
        calls.append(("result", text))
        finished.set()

    caplog.set_level(logging.ERROR, logger="gradio_jobs")
    job = client.submit(3, api_name="/count", on_output=on_output, on_status=on_status, result_callbacks=[on_result])
    assert job.result(timeout=30)[0] == "tok0 tok1 tok2 "
    assert finished.wait(30), f"the result callback was not called; calls so far: {calls}"
    outputs = [v for kind, v in calls if kind == "output"]
    assert outputs == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 "]
    statuses = [v for kind, v in calls if kind == "status"]
    assert statuses[-1] is Status.FINISHED and Status.PROCESSING in statuses
    assert [kind for kind, _ in calls][-1] == "result"  # result callbacks come last
    assert calls.index(("output", "tok0 tok1 tok2 ")) < calls.index(("status", Status.FINISHED))
    assert "gradio-jobs-loop" not in threads
    assert any(r.exc_info and "a broken callback" in str(r.exc_info[1]) for r in caplog.records)


def test_log_callbacks(client: Client) -> None:
    logs: list[LogMessage] = []
    both = threading.Event()

    def on_log(log: LogMessage) -> None:
        logs.append(log)
        if len(logs) == 2:
            both.set()

    job = client.submit("hi", api_name="/notify", on_log=on_log)
    assert job.result(timeout=30) == "HI"
    assert both.wait(30), f"on_log was not called twice: {logs}"  # the callback thread may lag the result
    assert [(log.level, log.message) for log in logs] == [("info", "an info message"), ("warning", "a warning message")]


async def test_callbacks_async(aclient: AsyncClient) -> None:
    outputs, logs, statuses = [], [], []
    loop_thread = threading.current_thread()
    seen_threads = set()

    all_outputs = asyncio.Event()

    async def on_output(value):  # a coroutine callback runs as a task
        seen_threads.add(threading.current_thread())
        outputs.append(value[0])
        if len(outputs) == 3:
            all_outputs.set()

    job = aclient.submit(3, api_name="/count", on_output=on_output, on_status=lambda s: statuses.append(s.code))
    await job
    await asyncio.wait_for(all_outputs.wait(), 30)  # the last callback task may run after the job resumes
    assert outputs == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 "]
    assert statuses[-1] is Status.FINISHED
    assert seen_threads == {loop_thread}
    await aclient.submit("x", api_name="/notify", on_log=logs.append)
    assert [log.level for log in logs] == ["info", "warning"]


def test_callbacks_must_be_callable(client: Client) -> None:
    with pytest.raises(TypeError, match="on_output"):
        client.submit(1, 2, api_name="/add", on_output="not a function")


# -- timings ------------------------------------------------------------------------------


def _stamp(job, kind) -> float:
    return next(e.at for e in job.event_log() if isinstance(e, kind))


def _check_timings_match_the_events(job) -> None:
    # the durations are the gaps between the job's own events (all on the monotonic clock)
    t = job.timings
    assert t.submitted <= t.queued <= t.started <= t.finished
    submitted, joined, started = _stamp(job, ev.Submitted), _stamp(job, ev.Joined), _stamp(job, ev.Started)
    completed = _stamp(job, ev.Completed)
    assert t.queue_wait == pytest.approx(started - joined, abs=1e-6)
    assert t.run_time == pytest.approx(completed - started, abs=1e-6)
    assert t.total == pytest.approx(completed - submitted, abs=1e-6)
    assert t.total >= t.queue_wait + t.run_time - 0.01


def test_timings(client: Client) -> None:
    first = client.submit(0.8, api_name="/sleeper")
    wait_for_event(first, ev.Started)
    second = client.submit(0.3, api_name="/sleeper")  # one worker: it waits for the first
    assert second.result(timeout=30) == "slept 0.3" and first.result(timeout=30) == "slept 0.8"
    _check_timings_match_the_events(first)
    _check_timings_match_the_events(second)
    # it started only once the first had finished: its queue wait covers the rest of the first's run
    assert _stamp(second, ev.Started) >= _stamp(first, ev.Completed)
    assert second.timings.queue_wait >= _stamp(first, ev.Completed) - _stamp(second, ev.Joined)
    # the client sent each job before the server slept and heard of its end after: whatever the
    # load, the total covers the server's sleep (client-side run times are not bounded: the
    # news of a start can be late)
    assert first.timings.total >= 0.8 and second.timings.total >= 0.3


async def test_timings_async(aclient: AsyncClient) -> None:
    job = aclient.submit(0.3, api_name="/sleeper")
    assert job.timings.submitted is not None and job.timings.finished is None
    assert await job.result(timeout=30) == "slept 0.3"
    assert job.timings.finished is not None
    _check_timings_match_the_events(job)
    assert job.timings.total >= 0.3


# -- bounded memory -----------------------------------------------------------------------


def test_keep_outputs_bounds_a_long_generator(client: Client) -> None:
    job = client.submit(300, api_name="/stream", keep_outputs=5)
    streamed = list(job)  # a live reader that keeps up still sees the outputs it was there for
    assert job.result(timeout=60) == 299
    assert streamed[-1] == 299 and streamed == sorted(streamed)
    assert len(job.outputs()) <= 10 and job.outputs()[-1] == 299
    produced = [e for e in job.event_log() if isinstance(e, ev.OutputProduced)]
    assert len(produced) <= 10 and produced[-1].index == 299
    assert len(job.event_log()) < 40


def test_without_keep_outputs_nothing_is_dropped(client: Client) -> None:
    job = client.submit(300, api_name="/stream")
    events = []
    for event in job.events():
        events.append(event)
        if len(events) == 3:
            job.result(timeout=60)  # fall behind the whole job: everything is still there
    assert [e.value for e in events if isinstance(e, ev.OutputProduced)] == list(range(300))
    assert job.outputs() == list(range(300))


async def test_keep_outputs_async(aclient: AsyncClient) -> None:
    job = aclient.submit(300, api_name="/stream", keep_outputs=4)
    assert await job == 299
    assert job.outputs()[-1] == 299 and len(job.outputs()) <= 8
    with pytest.raises(ValueError, match="keep_outputs"):
        aclient.submit(3, api_name="/stream", keep_outputs=0)
