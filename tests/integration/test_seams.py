"""Regression tests for bugs found in the seams between the sync and async halves (issue 11).

1. A callback returning an awaitable that is not a coroutine (a ``run_in_executor`` future)
   failed every job of the session; a sync callback's coroutine was never run.
2. A sync ``Client`` dropped without ``close()`` left the loop thread running for ever, and
   at exit its pending jobs were no longer cancelled on the server.
3. A failed ``async with AsyncClient(url)`` left its HTTP connections open.
4. ``Job.cancel()`` decided on its own, before the loop: a completion landing in between left
   a cancelled job with no ``Cancelled`` event and no cancel outcome.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
from pathlib import Path
from typing import Any

import pytest

from gradio_jobs import AsyncClient, Client, GradioJobsError
from gradio_jobs.protocol import events as ev
from tests.integration.test_shutdown import (
    assert_stops_growing,
    connections_to,
    gradio_jobs_threads,
    read_line,
    run_script,
)
from proxy import FaultProxy
from waiting import wait_for_event

#: Bounds on hangs, not measurements.
THREAD_STOP_WITHIN = 30.0


class Awaitable:
    """An awaitable that is not a coroutine (as a Future or a Task is not)."""

    def __init__(self, record: list[Any], value: Any, done: asyncio.Event) -> None:
        self.record, self.value, self.done = record, value, done

    def __await__(self):
        yield from asyncio.sleep(0).__await__()
        self.record.append(self.value)
        self.done.set()


async def test_callbacks_returning_futures_and_awaitables_run_them_and_harm_no_job(aclient: AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[None]] = []
    seen_in_executor: list[Any] = []
    awaited: list[Any] = []
    awaited_done = asyncio.Event()

    def on_output(value: Any) -> asyncio.Future[None]:
        future = loop.run_in_executor(None, seen_in_executor.append, value)
        futures.append(future)
        return future

    def on_result(text: str, items: list[Any]) -> Awaitable:
        return Awaitable(awaited, text, awaited_done)

    sibling = aclient.submit(5, api_name="/count")  # same session, same stream
    job = aclient.submit(3, api_name="/count", on_output=on_output, result_callbacks=[on_result])
    assert await job == ("tok0 tok1 tok2 ", [{"i": 0}, {"i": 1}, {"i": 2}])
    assert (await sibling)[0] == "tok0 tok1 tok2 tok3 tok4 "
    await asyncio.gather(*futures)
    assert seen_in_executor == job.outputs()
    await asyncio.wait_for(awaited_done.wait(), 30)
    assert awaited == ["tok0 tok1 tok2 "]


def test_a_sync_callbacks_coroutine_runs_on_the_loop(client: Client) -> None:
    ran = threading.Event()
    threads: list[str] = []

    async def record(value: Any) -> None:
        threads.append(threading.current_thread().name)
        ran.set()

    job = client.submit(1, 2, api_name="/add", on_output=record)
    assert job.result(timeout=60) == 3
    assert ran.wait(30), "the coroutine a sync callback returned never ran"
    assert threads == ["gradio-jobs-loop"]


def test_a_dropped_client_stops_the_loop_thread(server) -> None:
    client = Client(server.url, verbose=False)
    assert client.predict(1, 2, api_name="/add") == 3
    loop_threads = [t for t in threading.enumerate() if t.name == "gradio-jobs-loop"]
    assert loop_threads
    del client
    gc.collect()
    for thread in loop_threads:
        thread.join(THREAD_STOP_WITHIN)
    assert gradio_jobs_threads() == [], "a dropped client left the loop thread running"
    assert connections_to(server) == []


def test_a_dropped_client_whose_job_is_held_keeps_running_it(server) -> None:
    job = Client(server.url, verbose=False).submit(2, api_name="/count")
    gc.collect()
    assert job.result(timeout=60) == ("tok0 tok1 ", [{"i": 0}, {"i": 1}])
    loop_threads = [t for t in threading.enumerate() if t.name == "gradio-jobs-loop"]
    del job  # the last reference to the client: now it is closed, and the loop stops
    gc.collect()
    for thread in loop_threads:
        thread.join(THREAD_STOP_WITHIN)
    assert gradio_jobs_threads() == []


def test_exit_cancels_the_jobs_of_a_client_that_was_dropped(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    proc = run_script(f"""
        import time
        from gradio_jobs import Client
        job = Client({server.url!r}, verbose=False).submit({str(ticks)!r}, 300, api_name="/ticks")
        next(iter(job))  # running on the server; the client object is long gone
        print(time.time(), flush=True)
    """)
    read_line(proc, timeout=60)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert_stops_growing(server, ticks)  # cancelled at exit, not left to run its 30 s


async def test_a_failed_connect_leaves_no_connection_open(server) -> None:
    client = AsyncClient(server.url + "no-such-app/", verbose=False)
    with pytest.raises(GradioJobsError):
        async with client:
            pass
    assert connections_to(server) == []
    with pytest.raises(GradioJobsError, match="404"):  # it may be tried again: same answer, nothing left open
        await client.connect()
    assert connections_to(server) == []


def test_cancel_and_completion_never_disagree(client: Client) -> None:
    """Cancel jobs just as they complete: whatever wins, every view of the job agrees."""
    outcomes = {True: 0, False: 0}
    for _ in range(30):
        job = client.submit(1, 2, api_name="/add")
        wait_for_event(job, ev.Started)
        cancelled = job.cancel()
        outcomes[cancelled] += 1
        assert job.wait_settled(60)
        log = job.event_log()
        if cancelled:
            assert job.cancelled() and job.done() and job.cancel_outcome not in (None, "requested")
            assert any(isinstance(e, ev.Cancelled) for e in log)
            with pytest.raises(concurrent.futures.CancelledError):
                job.result(timeout=5)
        else:
            assert not job.cancelled() and job.result(timeout=5) == 3 and job.cancel_outcome is None
            assert not any(isinstance(e, ev.Cancelled) for e in log)
    assert sum(outcomes.values()) == 30


async def test_close_while_connecting_leaves_nothing_open(server) -> None:
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    with FaultProxy(port) as proxy:
        proxy.stall()  # the config request is held: the connect is on its way
        client = AsyncClient(proxy.url, verbose=False)
        connecting = asyncio.ensure_future(client.connect())
        await asyncio.to_thread(proxy.wait_for_request, "/config", 30)
        await client.close()
        proxy.resume()
        with pytest.raises(GradioJobsError, match="closed while it was connecting"):
            await connecting
        await asyncio.to_thread(proxy.wait_for_connections, 0, 30)


def test_a_map_keeps_its_dropped_client_alive(server) -> None:
    """``Client(url).map(...)`` drops the client at once: the run must keep it open."""
    run = Client(server.url, verbose=False).map([(1, 2), (3, 4), (5, 6)], api_name="/add", concurrency=2)
    gc.collect()
    assert list(run) == [3, 7, 11]
