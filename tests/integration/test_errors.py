"""Distinct error types for the ways a call can fail, against real servers."""

from __future__ import annotations

import concurrent.futures
import os
import signal

import pytest

from gradio_jobs import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConnectionLostError,
    GradioJobsError,
    QueueFullError,
    ServerUnreachableError,
    Status,
    ValidationError,
)
from gradio_jobs.protocol import events as ev
from waiting import await_event, wait_for_event

#: Bounds a hang, not a measurement: a lost connection must fail the job, not leave it waiting.
DETECTION_TIMEOUT = 30


def _fill_queue(client):
    running = client.submit(1.5, api_name="/sleeper")
    wait_for_event(running, ev.Started)  # the one worker is busy
    waiting = client.submit(0.1, api_name="/sleeper")
    wait_for_event(waiting, ev.Queued)  # and the queue of one is full
    return running, waiting


def test_queue_full(start_server, server_version) -> None:
    server = start_server(args=["--max-size", "1"])  # of server_version
    with Client(server.url, verbose=False) as client:
        running, waiting = _fill_queue(client)
        rejected = client.submit(0.1, api_name="/sleeper")
        with pytest.raises(QueueFullError, match=r"^Queue is full! Please try again\. \(the app's queue is full"):
            rejected.result(timeout=30)
        with pytest.raises(QueueFullError):
            list(rejected)  # iterating a job that failed before its first message ends at once
        assert rejected.job_id is None
        assert running.result(timeout=30) == "slept 1.5" and waiting.result(timeout=30) == "slept 0.1"


async def test_queue_full_async(start_server) -> None:
    server = start_server(args=["--max-size", "1"])
    async with AsyncClient(server.url, verbose=False) as client:
        first = client.submit(1.0, api_name="/sleeper")
        await await_event(first, ev.Started)
        second = client.submit(0.1, api_name="/sleeper")
        await await_event(second, ev.Queued)
        with pytest.raises(QueueFullError):
            await client.predict(0.1, api_name="/sleeper")
        assert await first == "slept 1.0" and await second == "slept 0.1"


def _needs_validator(server) -> None:
    if tuple(int(p) for p in server.version.split(".")[:2]) < (5, 45):
        pytest.skip(f"gradio {server.version} has no validator= (added in 5.45)")


def test_validation_error_per_parameter(client, server) -> None:
    _needs_validator(server)
    with pytest.raises(ValidationError) as info:
        client.predict("ab", api_name="/validated")
    assert info.value.errors == {"word": "word too short"}
    assert "- word: word too short" in str(info.value)
    assert client.predict("abc", api_name="/validated") == "ABC"


async def test_validation_error_per_parameter_async(aclient, server) -> None:
    _needs_validator(server)
    with pytest.raises(ValidationError) as info:
        await aclient.predict("ab", api_name="/validated")
    assert info.value.errors == {"word": "word too short"}


def test_authentication_required(start_server, server_version) -> None:
    server = start_server(args=["--auth", "user:secret"])  # of server_version
    with pytest.raises(AuthenticationError) as info:
        Client(server.url, verbose=False)
    assert info.value.status_code == 401


async def test_authentication_required_async(start_server) -> None:
    server = start_server(args=["--auth", "user:secret"])
    with pytest.raises(AuthenticationError):
        async with AsyncClient(server.url, verbose=False):
            pass


def test_unreachable_server_and_bad_src() -> None:
    with pytest.raises(ServerUnreachableError):
        Client("http://127.0.0.1:9/", verbose=False)
    with pytest.raises(GradioJobsError, match="neither an http"):
        Client("not a url", verbose=False)
    with pytest.raises(GradioJobsError):
        Client("", verbose=False)


async def test_unreachable_server_async() -> None:
    with pytest.raises(ServerUnreachableError):
        await AsyncClient("http://127.0.0.1:9/", verbose=False).connect()


def _lost_connection(outcome) -> ConnectionLostError:
    """The error a job whose server died ends with; a job still waiting after DETECTION_TIMEOUT
    has hung instead of noticing."""
    try:
        outcome()
    except ConnectionLostError as exc:
        return exc
    except (TimeoutError, concurrent.futures.TimeoutError):
        pytest.fail(f"the job did not notice its server was killed within {DETECTION_TIMEOUT} s", pytrace=False)
    pytest.fail("the job succeeded although its server was killed", pytrace=False)


def test_server_killed_mid_job(start_server, server_version) -> None:
    server = start_server()  # of server_version
    with Client(server.url, verbose=False) as client:
        job = client.submit(10, api_name="/sleeper")
        wait_for_event(job, ev.Started)
        assert job.status().code is Status.PROCESSING
        os.killpg(server.pid, signal.SIGKILL)
        error = _lost_connection(lambda: job.result(timeout=DETECTION_TIMEOUT))
        assert error.job_id == job.job_id and job.job_id
        assert error.last_status.code is Status.PROCESSING
        assert job.status().code is Status.FINISHED and job.status().success is False


async def test_server_killed_mid_job_async(start_server) -> None:
    server = start_server()
    async with AsyncClient(server.url, verbose=False) as client:
        job = client.submit(10, api_name="/sleeper")
        await await_event(job, ev.Started)
        os.killpg(server.pid, signal.SIGKILL)
        try:
            await job.result(timeout=DETECTION_TIMEOUT)
        except ConnectionLostError as exc:
            error = exc
        except TimeoutError:
            pytest.fail(f"the job did not notice its server was killed within {DETECTION_TIMEOUT} s", pytrace=False)
        else:
            pytest.fail("the job succeeded although its server was killed", pytrace=False)
        assert error.job_id == job.job_id
