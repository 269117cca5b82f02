"""Lost connections and sick servers: a real server, reached through a fault-injecting proxy.

Detection times are printed (``-s``) as well as bounded, for the closing notes.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time

import pytest

from gradio_jobs import AsyncClient, Client, ConnectionLostError, QueueFullError, RetryPolicy, Status, SubmitRetry
from gradio_jobs.protocol import events as ev
from proxy import FaultProxy
from waiting import await_event, wait_until


@pytest.fixture
def proxy(server):
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    with FaultProxy(port) as p:
        yield p


# Silence is only a symptom once it outlasts the server's heartbeat interval (15 s by
# default). To keep these tests short, a 6.x server heartbeats every 0.5 s and the client
# gives up after 2 s of silence.
FAST_HEARTBEAT = {"GRADIO_HEARTBEAT_INTERVAL": "0.5"}


@pytest.fixture
def heartbeat_server(start_server):
    return start_server(version="6.31.0", env=FAST_HEARTBEAT)


@pytest.fixture
def heartbeat_proxy(heartbeat_server):
    port = int(heartbeat_server.url.rstrip("/").rsplit(":", 1)[1])
    with FaultProxy(port) as p:
        yield p


def _failed_at(job) -> float:
    failed = [e for e in job.event_log() if isinstance(e, ev.Failed)]
    return failed[0].at


def test_server_killed_every_pending_job_fails_within_a_second(start_server) -> None:
    server = start_server()
    with Client(server.url, verbose=False) as client:
        jobs = [client.submit(10, api_name="/sleeper") for _ in range(3)]  # one runs, two wait
        jobs.append(client.submit(str(os.devnull), 100, api_name="/ticks"))
        # Whichever sleeper joined the queue first runs (the joins race: under load it may not
        # be jobs[0]); kill while it runs, before any of them can finish.
        wait_until(
            lambda: all(j.job_id for j in jobs) and any(j.status().code is Status.PROCESSING for j in jobs[:3])
        )
        os.killpg(server.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        for job in jobs:
            with pytest.raises(ConnectionLostError) as info:
                job.result(timeout=5)
            assert info.value.job_id == job.job_id and info.value.last_status is not None
        detection = max(_failed_at(j) for j in jobs) - killed_at
        print(f"\nserver killed: all {len(jobs)} pending jobs failed after {detection * 1000:.0f} ms")
        assert detection < 1.0


def test_frozen_server_is_detected_from_missing_heartbeats(heartbeat_server) -> None:
    server = heartbeat_server
    with Client(server.url, verbose=False, stream_timeout=2.0) as client:
        assert client.predict(3, api_name="/sleeper") == "slept 3"  # quiet but alive: not lost
        job = client.submit(10, api_name="/sleeper")
        wait_until(lambda: job.status().code is Status.PROCESSING)
        os.killpg(server.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        try:
            with pytest.raises(ConnectionLostError, match="no message or heartbeat"):
                job.result(timeout=15)
            detection = _failed_at(job) - frozen_at
            print(f"\nserver frozen (SIGSTOP): detected after {detection:.2f} s (stream_timeout=2)")
            assert 1.5 < detection < 6
        finally:
            os.killpg(server.pid, signal.SIGCONT)


def test_default_silence_limit_is_under_40_seconds(server) -> None:
    with Client(server.url, verbose=False) as client:
        assert client.options.stream_timeout is not None and client.options.stream_timeout < 40


def test_silent_network_is_detected(heartbeat_proxy) -> None:
    proxy = heartbeat_proxy
    with Client(proxy.url, verbose=False, stream_timeout=2.0) as client:
        job = client.submit(5, api_name="/sleeper")
        wait_until(lambda: job.status().code is Status.PROCESSING)
        proxy.stall()
        stalled_at = time.monotonic()
        with pytest.raises(ConnectionLostError):
            job.result(timeout=15)
        print(f"\nsilent network (proxy stalled): detected after {_failed_at(job) - stalled_at:.2f} s")
    proxy.resume()


async def test_silent_network_is_detected_async(heartbeat_proxy) -> None:
    proxy = heartbeat_proxy
    async with AsyncClient(proxy.url, verbose=False, stream_timeout=2.0) as client:
        job = client.submit(5, api_name="/sleeper")
        await await_event(job, ev.Started)
        assert job.status().code is Status.PROCESSING, job.event_log()
        proxy.stall()
        with pytest.raises(ConnectionLostError):
            await job.result(timeout=15)
    proxy.resume()


def test_cut_stream_fails_pending_jobs_promptly(server, proxy) -> None:
    with Client(proxy.url, verbose=False) as client:
        jobs = [client.submit(str(os.devnull), 100, api_name="/ticks") for _ in range(2)]
        wait_until(lambda: all(len(j.outputs()) >= 1 for j in jobs))
        assert proxy.cut() >= 1
        cut_at = time.monotonic()
        for job in jobs:
            with pytest.raises(ConnectionLostError) as info:
                job.result(timeout=5)
            assert info.value.job_id == job.job_id
        print(f"\nstream cut: pending jobs failed after {(max(_failed_at(j) for j in jobs) - cut_at) * 1000:.0f} ms")
        assert client.predict(1, 2, api_name="/add") == 3  # the client recovers


def test_retry_policy_resubmits_jobs_marked_safe(server, proxy) -> None:
    policy = RetryPolicy(safe_endpoints=["/count"], attempts=2, backoff=0.1)
    with Client(proxy.url, verbose=False, retry=policy) as client:
        job = client.submit(6, api_name="/count")
        unsafe = client.submit(5, api_name="/sleeper")
        wait_until(lambda: len(job.outputs()) >= 2)
        first_id = job.job_id
        proxy.cut()
        texts = [out[0] for out in job]  # the same job object carries on
        assert texts == [" ".join(f"tok{i}" for i in range(n)) + " " for n in range(1, 7)]  # each once
        assert job.result(timeout=20)[0].startswith("tok0 tok1 tok2 tok3 tok4 tok5")
        assert job.job_id != first_id
        resubmitted = [e for e in job.event_log() if isinstance(e, ev.Resubmitted)]
        assert len(resubmitted) == 1 and "connection lost" in resubmitted[0].reason
        with pytest.raises(ConnectionLostError):  # not marked safe: not repeated
            unsafe.result(timeout=5)


def test_slow_network_still_works(server, proxy) -> None:
    proxy.slow(0.05)
    with Client(proxy.url, verbose=False) as client:
        assert [tuple(o)[0] for o in client.submit(3, api_name="/count")] == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 "]
        assert client.predict(2, 3, api_name="/add") == 5


def test_queue_full_is_retried_only_on_request(start_server) -> None:
    server = start_server(args=["--max-size", "1"])
    with Client(server.url, verbose=False, submit_retry=SubmitRetry(attempts=20, backoff=0.1, max_backoff=0.3,
                                                                    retry_queue_full=True)) as client:
        running = client.submit(1.0, api_name="/sleeper")
        wait_until(lambda: running.status().code is Status.PROCESSING)
        waiting = client.submit(0.2, api_name="/sleeper")
        wait_until(lambda: waiting.status().code is Status.IN_QUEUE)
        retried = client.submit(0.1, api_name="/sleeper")  # 503 at first, joins once there is room
        assert retried.result(timeout=20) == "slept 0.1"
        assert [running.result(), waiting.result()] == ["slept 1.0", "slept 0.2"]
    with Client(server.url, verbose=False) as client:  # default: a full queue is an error
        running = client.submit(1.0, api_name="/sleeper")
        wait_until(lambda: running.status().code is Status.PROCESSING)
        waiting = client.submit(0.2, api_name="/sleeper")
        wait_until(lambda: waiting.status().code is Status.IN_QUEUE)
        with pytest.raises(QueueFullError):
            client.predict(0.1, api_name="/sleeper")
        running.result(timeout=10)
        waiting.result(timeout=10)
