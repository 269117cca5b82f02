"""What only the routes of the oldest generations must get right, where each job has a
connection of its own (the 3.x websocket, the 4.0-4.8 job stream): logging in, a server
that dies mid-job, a client closed with jobs pending, a deadline."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gradio_jobs import AsyncClient, AuthenticationError, Client, ConnectionLostError, Deadline, JobTimeoutError
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol.capabilities import Route
from tests.waiting import await_quiet, await_until, wait_for_event, wait_until_quiet

pytestmark = pytest.mark.server

OWN_CONNECTION_VERSIONS = ["3.50.2", "4.8.0"]


@pytest.fixture(params=OWN_CONNECTION_VERSIONS, ids=lambda v: f"gradio-{v}")
def version(request) -> str:
    return request.param


def lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def _second_output(event) -> bool:
    return isinstance(event, ev.OutputProduced) and event.index >= 1


def test_login_carries_over_to_each_jobs_connection(version, start_server) -> None:
    server = start_server(version=version, args=["--auth", "user:secret"])
    with pytest.raises(AuthenticationError):
        Client(server.url, auth=("user", "wrong"), verbose=False)
    with Client(server.url, auth=("user", "secret"), verbose=False) as client:
        assert client.app.capabilities.route_for(client.app.endpoint("/add")) in (Route.WEBSOCKET, Route.JOB_STREAM)
        assert client.predict(1, 2, api_name="/add") == 3
        assert [text for text, _ in client.submit(2, api_name="/count")] == ["tok0 ", "tok0 tok1 "]


def test_server_killed_mid_job_fails_the_job(version, start_server, tmp_path: Path) -> None:
    server = start_server(version=version)
    with Client(server.url, verbose=False) as client:
        job = client.submit(str(tmp_path / "ticks"), 100, api_name="/ticks")
        wait_for_event(job, ev.OutputProduced)
        os.killpg(server.pid, signal.SIGKILL)
        with pytest.raises(ConnectionLostError) as info:
            job.result(timeout=10)
        assert info.value.last_status is not None


def test_close_stops_running_generators_and_drops_waiting_jobs(version, servers, tmp_path: Path) -> None:
    server = servers.get(version)
    client = Client(server.url, verbose=False)
    ticks, waiting_file = tmp_path / "ticks", tmp_path / "waiting"
    running = client.submit(str(ticks), 100, api_name="/ticks")
    wait_for_event(running, _second_output, what="the generator's second output")
    # work_serial runs one at a time; the 3.x queue runs one job at a time altogether
    blocker = client.submit(str(tmp_path / "blocker"), 1.0, api_name="/work_serial")
    wait_for_event(blocker, (ev.Started, ev.Queued))
    waiting = client.submit(str(waiting_file), 0.1, api_name="/work_serial")
    wait_for_event(waiting, ev.Queued)
    client.close()
    assert running.cancel_outcome == "stopped" and waiting.cancel_outcome == "dequeued"
    # Nothing more may happen on the server: that has no event, it is judged on disk while a
    # live generator on the same server ticks (a step in flight at the close may still land first).
    with Client(server.url, verbose=False) as probe:  # runs after whatever was still queued
        before = wait_until_quiet(probe, lambda: lines(ticks), what=f"{ticks.name} (the generator ran on)")
        assert probe.predict(str(tmp_path / "probe"), 0.1, api_name="/work_serial") in ("worked 0.1",)
    assert lines(ticks) == before < 100 and not waiting_file.exists()


async def test_deadline_stops_a_generator_async(version, servers, tmp_path: Path) -> None:
    server = servers.get(version)
    ticks = tmp_path / "ticks"
    async with AsyncClient(server.url, verbose=False) as client:
        job = client.submit(str(ticks), 100, api_name="/ticks", deadline=Deadline(run=1.0))
        with pytest.raises(JobTimeoutError) as info:
            await job
        assert info.value.phase == "run"
        assert await job.wait_settled(10) and job.cancel_outcome == "stopped"
        await await_until(lambda: lines(ticks) > 0)
    stopped_at = lines(ticks)
    # a tick takes 0.1 s: a live generator would write more while a witness on the same server ticks.
    # Dropping the job's connection stops the generator at its next step, which may still write
    # its line (the server notices the drop only when it sends that step's output).
    async with AsyncClient(server.url, verbose=False) as witness:
        final = await await_quiet(witness, lambda: lines(ticks), what=f"{ticks.name} (the generator ran on)")
    assert stopped_at <= final <= stopped_at + 1 < 100
