"""The documented Job/Client API against real servers; each sync test has an async twin."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from gradio_jobs import (
    AppError,
    ArgumentError,
    AsyncClient,
    AsyncJob,
    Client,
    EndpointNotFoundError,
    GradioJobsError,
    Job,
    Status,
)
from gradio_jobs.protocol import events as ev
from waiting import await_event, wait_for_event

COUNT_4 = [
    ("tok0 ", [{"i": 0}]),
    ("tok0 tok1 ", [{"i": 0}, {"i": 1}]),
    ("tok0 tok1 tok2 ", [{"i": 0}, {"i": 1}, {"i": 2}]),
    ("tok0 tok1 tok2 tok3 ", [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]),
]
GROW = [
    (["a"], "abc", {"value": "v1", "visible": True, "__type__": "update"}),
    (["a", "b"], "abcdef", {"value": "v2", "__type__": "update"}),
    (["a", "b", "c"], "xyz", {"value": "v2", "visible": False, "__type__": "update"}),
    (["c"], "xyz!", {"value": "v3", "__type__": "update"}),
]
SHRINK_LIST = [["0", "1", "2", "3", "4", "5"], ["0", "1", "2"], ["5"], ["1", "2", "3"], []]


class Statuses:
    """``on_status``: every status the job reports, in the order of its events (the job's own
    notifications, not samples); ``wait_final()`` waits for the last one to arrive."""

    def __init__(self) -> None:
        self.seen: list = []
        self._final = threading.Event()

    def __call__(self, status) -> None:
        self.seen.append(status)
        if status.code in (Status.FINISHED, Status.CANCELLED):
            self._final.set()

    def wait_final(self, timeout: float = 30) -> None:
        assert self._final.wait(timeout), f"no final status within {timeout} s: {[s.code for s in self.seen]}"

    @property
    def codes(self) -> list:
        return [s.code for s in self.seen]


def _normalize(outputs):
    return [tuple(o) if isinstance(o, (tuple, list)) and len(o) == 3 and isinstance(o[2], dict) else o for o in outputs]


# -- calling ------------------------------------------------------------------------------


def test_predict_positional_keyword_and_default(client: Client) -> None:
    assert client.predict(1, 2, api_name="/add") == 3
    assert client.predict(b=5, api_name="/add") == 6  # a defaults to 1
    assert client.predict(2, b=5, api_name="/add") == 7
    assert client.predict(3, 4, fn_index=client.app.endpoint("/add").fn_index) == 7


async def test_predict_positional_keyword_and_default_async(aclient: AsyncClient) -> None:
    assert await aclient.predict(1, 2, api_name="/add") == 3
    assert await aclient.predict(b=5, api_name="/add") == 6
    assert await aclient.predict(2, b=5, api_name="/add") == 7


def test_several_outputs_come_back_as_a_tuple(client: Client) -> None:
    assert client.predict("ab", 3, api_name="/multi") == ("ababab", 6, {"x": "ab", "n": 3})


async def test_several_outputs_come_back_as_a_tuple_async(aclient: AsyncClient) -> None:
    assert await aclient.predict("ab", n=3, api_name="/multi") == ("ababab", 6, {"x": "ab", "n": 3})


def test_job_is_a_future(client: Client) -> None:
    job = client.submit(1, 2, api_name="/add")
    assert isinstance(job, concurrent.futures.Future) and isinstance(job, Job)
    done, _ = concurrent.futures.wait([job], timeout=30)
    assert job in done and job.done()
    assert job.result(timeout=1) == 3
    assert job.outputs() == [3]
    status = job.status()
    assert status.code is Status.FINISHED and status.success is True
    assert job.job_id and len(job.job_id) == 32


async def test_job_is_awaitable_async(aclient: AsyncClient) -> None:
    job = aclient.submit(1, 2, api_name="/add")
    assert isinstance(job, AsyncJob) and not job.done()
    assert await job == 3
    assert await job.result(timeout=1) == 3
    assert job.done() and job.outputs() == [3]
    assert job.status().code is Status.FINISHED and job.status().success


def test_generator_iteration_yields_each_output_once_in_order(client: Client) -> None:
    job = client.submit(4, api_name="/count")
    seen = [tuple(out) for out in job]
    assert seen == COUNT_4
    assert [tuple(o) for o in job.outputs()] == COUNT_4
    assert tuple(job.result()) == COUNT_4[-1]
    # a second iteration replays the same outputs
    assert [tuple(out) for out in job] == COUNT_4


async def test_generator_iteration_yields_each_output_once_in_order_async(aclient: AsyncClient) -> None:
    job = aclient.submit(4, api_name="/count")
    seen = [tuple(out) async for out in job]
    assert seen == COUNT_4
    assert tuple(await job) == COUNT_4[-1]


def test_shrinking_list_generator_streams_correct_intermediate_values(client: Client) -> None:
    # gradio <= 5.29 numbers list deletes unshifted: gradio_client fails with IndexError here.
    job = client.submit(api_name="/grow")
    assert _normalize(list(job)) == GROW
    assert list(client.submit(api_name="/shrink_list")) == SHRINK_LIST


async def test_shrinking_list_generator_streams_correct_intermediate_values_async(aclient: AsyncClient) -> None:
    assert _normalize([out async for out in aclient.submit(api_name="/grow")]) == GROW
    assert [out async for out in aclient.submit(api_name="/shrink_list")] == SHRINK_LIST


def test_iterating_a_plain_job_yields_its_result_once(client: Client) -> None:
    assert list(client.submit(2, 2, api_name="/add")) == [4]


async def test_iterating_a_plain_job_yields_its_result_once_async(aclient: AsyncClient) -> None:
    assert [x async for x in aclient.submit(2, 2, api_name="/add")] == [4]


# -- status, progress, logs, queue ---------------------------------------------------------


def _progress_units(job):
    return [(u.index, u.length, u.unit, u.desc) for e in job.event_log() if isinstance(e, ev.ProgressReported)
            for u in e.units if u.index is not None]


def _check_looping_progress(units) -> None:
    # the server samples progress every 0.1 s and a busy one may miss any single step: what must
    # hold is that the loop's progress was reported past its start, in order, out of 3 steps
    looping = [index for index, length, unit, desc in units if (length, unit, desc) == (3, "steps", "looping")]
    assert looping and looping == sorted(looping) and looping[-1] >= 1, units


def test_progress_updates(client: Client) -> None:
    statuses = Statuses()
    job = client.submit(3, api_name="/slow", on_status=statuses)
    assert job.result(timeout=30) == "done 3"
    statuses.wait_final()  # the callback thread may lag the result
    assert Status.PROGRESS in statuses.codes
    units = _progress_units(job)
    _check_looping_progress(units)
    assert all(length == 3 for _, length, _, _ in units)


async def test_progress_updates_async(aclient: AsyncClient) -> None:
    job = aclient.submit(3, api_name="/slow")
    assert await job == "done 3"
    _check_looping_progress(_progress_units(job))


def _check_logs(job, server) -> None:
    logs = [e.log for e in job.event_log() if isinstance(e, ev.Logged)]
    assert [(log.level, log.message) for log in logs] == [("info", "an info message"), ("warning", "a warning message")]
    if server.major >= 5:
        assert [log.title for log in logs] == ["Info", "Warning"]


def test_logs_become_log_statuses(client: Client, server) -> None:
    statuses = Statuses()
    job = client.submit("hi", api_name="/notify", on_status=statuses)
    assert job.result(timeout=30) == "HI"
    _check_logs(job, server)
    statuses.wait_final()
    logs = [s for s in statuses.seen if s.code is Status.LOG]
    assert logs and logs[-1].log == ("a warning message", "warning")
    assert logs[-1].log_message.level == "warning"


async def test_logs_become_log_statuses_async(aclient: AsyncClient, server) -> None:
    job = aclient.submit("hi", api_name="/notify")
    assert await job == "HI"
    _check_logs(job, server)


def _check_queue(jobs, results) -> None:
    assert results == ["slept 0.4"] * 3
    third = jobs[2]
    queued = [e for e in third.event_log() if isinstance(e, ev.Queued)]
    # behind one or two others (the first may not have been picked up yet), last in line
    assert queued[0].rank in (1, 2) and queued[0].queue_size == queued[0].rank + 1
    assert [e.rank for e in queued] == sorted((e.rank for e in queued), reverse=True)
    assert queued[-1].rank == 0
    # after one run the server knows the average run time: a queue ETA and a run-time estimate
    assert any(e.eta is not None and e.eta > 0 for e in queued)
    started = [e for e in third.event_log() if isinstance(e, ev.Started)]
    # the server's average run time of the function (over every earlier run, other tests' too)
    assert started and started[0].eta is not None and started[0].eta > 0
    assert third.status().run_eta == started[0].eta


def test_queue_rank_and_eta(client: Client) -> None:
    client.predict(0.4, api_name="/sleeper")  # gives the server an average run time
    jobs = []
    for _ in range(3):  # concurrent joins reach the server in any order: join one at a time
        jobs.append(client.submit(0.4, api_name="/sleeper"))
        wait_for_event(jobs[-1], ev.Joined)
    saw_in_queue = False
    _check_queue(jobs, [j.result(timeout=30) for j in jobs])
    for job in jobs:
        saw_in_queue |= any(isinstance(e, ev.Queued) for e in job.event_log())
    assert saw_in_queue


async def test_queue_rank_and_eta_async(aclient: AsyncClient) -> None:
    await aclient.predict(0.4, api_name="/sleeper")
    jobs = []
    for _ in range(3):
        jobs.append(aclient.submit(0.4, api_name="/sleeper"))
        await await_event(jobs[-1], ev.Joined)  # join in order
    _check_queue(jobs, list(await asyncio.gather(*jobs)))


def _check_waited_first_in_line(queued: ev.Queued, statuses: Statuses) -> None:
    # one job running, this one next: first in line (rank 0) of a queue of one
    assert (queued.rank, queued.queue_size) == (0, 1), queued
    in_queue = [s for s in statuses.seen if s.code is Status.IN_QUEUE]
    assert in_queue, statuses.codes
    assert in_queue[0].rank == 0 and in_queue[0].queue_size == 1


def test_status_reports_rank_while_waiting(client: Client) -> None:
    running = client.submit(1.0, api_name="/sleeper")
    wait_for_event(running, ev.Started)
    statuses = Statuses()
    waiting = client.submit(0.1, api_name="/sleeper", on_status=statuses)
    queued = wait_for_event(waiting, ev.Queued)
    assert running.result(timeout=30) == "slept 1.0" and waiting.result(timeout=30) == "slept 0.1"
    statuses.wait_final()
    _check_waited_first_in_line(queued, statuses)


async def test_status_reports_rank_while_waiting_async(aclient: AsyncClient) -> None:
    running = aclient.submit(1.0, api_name="/sleeper")
    await await_event(running, ev.Started)
    statuses = Statuses()
    waiting = aclient.submit(0.1, api_name="/sleeper", on_status=statuses)
    queued = await await_event(waiting, ev.Queued)
    assert await running.result(timeout=30) == "slept 1.0" and await waiting.result(timeout=30) == "slept 0.1"
    _check_waited_first_in_line(queued, statuses)  # the async client calls on_status before the job resumes


# -- errors ----------------------------------------------------------------------------------


def _check_app_error(err: AppError, server) -> None:
    assert err.message == "bad input: x"  # no stray quotes on 4.x
    assert err.title == ("Oops" if server.major >= 5 else "Error")
    assert isinstance(err, ValueError) and isinstance(err, GradioJobsError)


def test_app_error(client: Client, server) -> None:
    with pytest.raises(AppError) as info:
        client.predict("x", api_name="/fail")
    _check_app_error(info.value, server)
    job = client.submit("x", api_name="/fail")
    assert isinstance(job.exception(timeout=30), AppError)
    assert job.status().code is Status.FINISHED and job.status().success is False
    with pytest.raises(AppError):
        list(job)  # iteration does not end quietly on a failed job


async def test_app_error_async(aclient: AsyncClient, server) -> None:
    with pytest.raises(AppError) as info:
        await aclient.predict("x", api_name="/fail")
    _check_app_error(info.value, server)
    with pytest.raises(AppError):
        [x async for x in aclient.submit("x", api_name="/fail")]


def test_hidden_exception(client: Client) -> None:
    with pytest.raises(AppError) as info:
        client.predict("x", api_name="/crash")
    assert info.value.hidden and "show_error=True" in str(info.value)


async def test_hidden_exception_async(aclient: AsyncClient) -> None:
    with pytest.raises(AppError) as info:
        await aclient.predict("x", api_name="/crash")
    assert info.value.hidden


def test_unknown_endpoint_lists_valid_ones(client: Client) -> None:
    with pytest.raises(EndpointNotFoundError) as info:
        client.submit(1, api_name="/nope")
    assert "/add" in str(info.value) and "/count" in str(info.value)
    with pytest.raises(EndpointNotFoundError, match="not callable"):
        client.predict(api_name="/js_fn")


async def test_unknown_endpoint_lists_valid_ones_async(aclient: AsyncClient) -> None:
    with pytest.raises(EndpointNotFoundError, match="/add"):
        await aclient.predict(1, api_name="/nope")


def test_argument_errors_name_the_parameters(client: Client) -> None:
    with pytest.raises(ArgumentError, match="missing required argument 'b'"):
        client.submit(api_name="/add")
    with pytest.raises(ArgumentError, match="unexpected keyword argument 'c'; its parameters are: a, b"):
        client.submit(1, 2, c=3, api_name="/add")
    with pytest.raises(ArgumentError, match=r"takes 2 arguments \(a, b\) but 3 were given"):
        client.predict(1, 2, 3, api_name="/add")


async def test_argument_errors_name_the_parameters_async(aclient: AsyncClient) -> None:
    with pytest.raises(ArgumentError, match="missing required argument 'b'"):
        aclient.submit(api_name="/add")
    with pytest.raises(ArgumentError, match="unexpected keyword argument 'c'"):
        await aclient.predict(1, 2, c=3, api_name="/add")


def test_hidden_endpoint_is_callable(client: Client) -> None:
    assert client.predict("x", api_name="/hidden") == "hidden x"


async def test_hidden_endpoint_is_callable_async(aclient: AsyncClient) -> None:
    assert await aclient.predict("x", api_name="/hidden") == "hidden x"


# -- session state ----------------------------------------------------------------------------


def test_state_carries_over_and_resets(client: Client, server) -> None:
    assert [client.predict(api_name="/incr") for _ in range(3)] == [1, 2, 3]
    with Client(server.url, verbose=False) as other:
        assert other.predict(api_name="/incr") == 1  # clients never share state
    client.reset_session()
    assert client.predict(api_name="/incr") == 1


async def test_state_carries_over_and_resets_async(aclient: AsyncClient, server) -> None:
    assert [await aclient.predict(api_name="/incr") for _ in range(3)] == [1, 2, 3]
    async with AsyncClient(server.url, verbose=False) as other:
        assert await other.predict(api_name="/incr") == 1
    aclient.reset_session()
    assert await aclient.predict(api_name="/incr") == 1


# -- waiting, cancelling, callbacks ----------------------------------------------------------


def test_result_timeout_and_cancel(client: Client) -> None:
    job = client.submit(2, api_name="/sleeper")
    with pytest.raises(concurrent.futures.TimeoutError):
        job.result(timeout=0.1)
    assert not job.done()
    assert job.cancel() is True
    with pytest.raises(concurrent.futures.CancelledError):
        job.result(timeout=5)
    assert job.status().code is Status.CANCELLED
    assert job.cancel() is False
    assert client.predict(1, 1, api_name="/add") == 2  # the client is still usable


async def test_result_timeout_and_cancel_async(aclient: AsyncClient) -> None:
    job = aclient.submit(2, api_name="/sleeper")
    with pytest.raises(TimeoutError):
        await job.result(timeout=0.1)
    assert job.cancel() is True
    with pytest.raises(concurrent.futures.CancelledError):
        await job
    assert job.status().code is Status.CANCELLED


def test_result_callbacks(client: Client) -> None:
    got = []
    ready = threading.Event()

    def callback(text, length, echo):
        got.append((text, length, echo, threading.current_thread().name))
        ready.set()

    job = client.submit("ab", 2, api_name="/multi", result_callbacks=[callback])
    assert job.result(timeout=30) == ("abab", 4, {"x": "ab", "n": 2})
    assert ready.wait(30), "the result callback was not called"
    assert got[0][:3] == ("abab", 4, {"x": "ab", "n": 2})
    assert got[0][3] != "gradio-jobs-loop"  # user code never runs on the loop thread


async def test_result_callbacks_async(aclient: AsyncClient) -> None:
    got = []
    job = aclient.submit(1, 2, api_name="/add", result_callbacks=got.append)
    assert await job == 3
    assert got == [3]


# -- view_api -------------------------------------------------------------------------------


def test_view_api(client: Client, capsys) -> None:
    assert client.view_api() is None  # as gradio_client: prints, returns nothing unless asked
    text = client.view_api(print_info=False, return_format="str")
    assert capsys.readouterr().out == text + "\n"
    assert 'predict(a, b, api_name="/add") -> sum' in text
    assert "/hidden" not in text
    info = client.view_api(return_format="dict", print_info=False)
    assert set(info) == {"named_endpoints", "unnamed_endpoints"}
    add = info["named_endpoints"]["/add"]
    assert [(p["parameter_name"], p["parameter_has_default"], p["parameter_default"]) for p in add["parameters"]] == [
        ("a", True, 1), ("b", False, None)]
    assert capsys.readouterr().out == ""
    # the official dict lists the public endpoints, whatever all_endpoints says (tests/integration/test_view_api_official.py)
    assert "/hidden" not in client.view_api(all_endpoints=True, return_format="dict", print_info=False)["named_endpoints"]
    assert client.app.endpoint("/hidden").visibility == "undocumented"


async def test_view_api_async(aclient: AsyncClient, capsys) -> None:
    info = await aclient.view_api(return_format="dict", print_info=False)
    assert "/add" in info["named_endpoints"] and "/count" in info["named_endpoints"]
    assert capsys.readouterr().out == ""


def test_library_does_not_print(client: Client, capsys) -> None:
    client.predict("hi", api_name="/notify")
    list(client.submit(api_name="/grow"))
    assert capsys.readouterr().out == ""


# -- event loop and threads -------------------------------------------------------------------


async def test_async_client_does_not_block_the_running_loop(aclient: AsyncClient) -> None:
    ticks = 0  # turns another task on the same loop got while the client waited

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        assert await aclient.predict(0.5, api_name="/sleeper") == "slept 0.5"
        during = ticks
    finally:
        task.cancel()
    # a client that blocked the loop for the server's 0.5 s would leave it no turn at all; a
    # count of turns (a rate) is not asserted: a loaded machine gives the ticker few
    assert during >= 2, during


async def test_sync_client_works_inside_a_running_loop(server) -> None:
    # as in a Jupyter cell or a FastAPI handler that uses the sync API
    with Client(server.url, verbose=False) as c:
        assert c.predict(1, 2, api_name="/add") == 3


def test_sync_clients_share_one_loop_thread(server) -> None:
    before = threading.active_count()
    clients = [Client(server.url, verbose=False) for _ in range(3)]
    try:
        jobs = [c.submit(i, 1, api_name="/add") for c in clients for i in range(20)]
        assert [j.result(timeout=60) for j in jobs] == [i + 1 for _ in clients for i in range(20)]
        names = {t.name for t in threading.enumerate()}
        assert threading.active_count() - before <= 3, names
    finally:
        for c in clients:
            c.close()
