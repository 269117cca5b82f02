"""A job's event stream, callbacks, timings and bounded memory, against real servers."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from gradio_jobs import AppError, AsyncClient, Client, LogMessage, Status, StatusUpdate
from gradio_jobs.protocol import events as ev
from waiting import wait_until


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
    for event in job.events():  # started before the job has even joined
        events.append(event)
        time.sleep(0.15)  # a consumer slower than the generator loses nothing
    _check_count_events(events, 4)
    assert job.result() == events[-1].value
    # a second reader, after the end, gets the same events replayed
    assert list(job.events()) == events


async def test_events_follow_a_job_live_and_in_order_async(aclient: AsyncClient) -> None:
    job = aclient.submit(4, api_name="/count")
    events = []
    async for event in job.events():
        events.append(event)
        await asyncio.sleep(0.15)
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
    assert finished.wait(10)
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
    job = client.submit("hi", api_name="/notify", on_log=logs.append)
    assert job.result(timeout=30) == "HI"
    wait_until(lambda: len(logs) >= 2, timeout=5)  # the callback thread may lag a moment
    assert [(log.level, log.message) for log in logs] == [("info", "an info message"), ("warning", "a warning message")]


async def test_callbacks_async(aclient: AsyncClient) -> None:
    outputs, logs, statuses = [], [], []
    loop_thread = threading.current_thread()
    seen_threads = set()

    async def on_output(value):  # a coroutine callback runs as a task
        seen_threads.add(threading.current_thread())
        outputs.append(value[0])

    job = aclient.submit(3, api_name="/count", on_output=on_output, on_status=lambda s: statuses.append(s.code))
    await job
    await asyncio.sleep(0)  # let the last callback task run
    assert outputs == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 "]
    assert statuses[-1] is Status.FINISHED
    assert seen_threads == {loop_thread}
    await aclient.submit("x", api_name="/notify", on_log=logs.append)
    assert [log.level for log in logs] == ["info", "warning"]


def test_callbacks_must_be_callable(client: Client) -> None:
    with pytest.raises(TypeError, match="on_output"):
        client.submit(1, 2, api_name="/add", on_output="not a function")


# -- timings ------------------------------------------------------------------------------


def test_timings(client: Client) -> None:
    first = client.submit(0.8, api_name="/sleeper")
    next(e for e in first.events() if isinstance(e, ev.Started))
    second = client.submit(0.3, api_name="/sleeper")  # one worker: it waits for the first
    second.result(timeout=30)
    t = second.timings
    assert t.submitted <= t.queued <= t.started <= t.finished
    assert t.queue_wait >= 0.3
    assert 0.25 <= t.run_time < 5
    assert t.total >= t.queue_wait + t.run_time - 0.01
    assert first.timings.run_time >= 0.75


async def test_timings_async(aclient: AsyncClient) -> None:
    job = aclient.submit(0.3, api_name="/sleeper")
    assert job.timings.submitted is not None and job.timings.finished is None
    await job
    assert job.timings.run_time >= 0.25 and job.timings.finished is not None


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
            time.sleep(0.5)  # fall far behind: everything is still there
    assert [e.value for e in events if isinstance(e, ev.OutputProduced)] == list(range(300))
    assert job.outputs() == list(range(300))


async def test_keep_outputs_async(aclient: AsyncClient) -> None:
    job = aclient.submit(300, api_name="/stream", keep_outputs=4)
    assert await job == 299
    assert job.outputs()[-1] == 299 and len(job.outputs()) <= 8
    with pytest.raises(ValueError, match="keep_outputs"):
        aclient.submit(3, api_name="/stream", keep_outputs=0)
