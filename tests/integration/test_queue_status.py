"""``client.queue_status()`` against real apps, on every server generation (3.50.2 to 6.31.0).

``tests/apps/quota_app.py``'s ``hold`` runs one at a time and holds its worker until a file
exists: with one job holding it and three more submitted, the server's queue holds three,
and ``queue_status()`` must say so (before and after: none). A 3.x app launched without
``.queue()`` has no queue status: the client says so with a typed error.
"""

from __future__ import annotations

import pytest
from servers import ALL_VERSIONS, GradioServer, missing_venv_reason, requested_versions, serving, venv_exists
from waiting import await_event, wait_for_event

from gradio_jobs import AsyncClient, Client, QueueStatus, UnsupportedServerError
from gradio_jobs.protocol import events as ev

pytestmark = pytest.mark.server


@pytest.fixture(scope="module", params=requested_versions(ALL_VERSIONS), ids=lambda v: f"gradio-{v}")
def queue_server(request):
    with serving(request.param, "quota_app") as server:
        yield server


def test_queue_status_reports_the_jobs_waiting(queue_server, tmp_path):
    release = tmp_path / "release"
    with Client(queue_server.url, verbose=False) as client:
        idle = client.queue_status()
        assert isinstance(idle, QueueStatus) and idle.queue_size == 0
        holder = client.submit(str(release), api_name="/hold")
        wait_for_event(holder, ev.Started)
        waiting = [client.submit(str(release), api_name="/hold") for _ in range(3)]
        for job in waiting:
            wait_for_event(job, ev.Queued)
        try:
            status = client.queue_status()
            assert status.queue_size == 3, status
            if queue_server.major < 4 or queue_server.version == "4.8.0":
                assert status.queue_eta is not None  # the older servers' estimate
            else:
                assert status.queue_eta is None
        finally:
            release.touch()
        assert [job.result(timeout=60) for job in [holder, *waiting]] == ["held"] * 4
        assert client.queue_status().queue_size == 0


async def test_async_queue_status(queue_server, tmp_path):
    release = tmp_path / "release"
    async with AsyncClient(queue_server.url, verbose=False) as client:
        holder = client.submit(str(release), api_name="/hold")
        await await_event(holder, ev.Started)
        other = client.submit(str(release), api_name="/hold")
        await await_event(other, ev.Queued)
        try:
            assert (await client.queue_status()).queue_size == 1
        finally:
            release.touch()
        assert await other.result(timeout=60) == "held"
        assert (await client.queue_status()).queue_size == 0


def test_an_app_without_a_queue_says_it_has_no_queue_status():
    if "3.50.2" not in requested_versions(ALL_VERSIONS):
        pytest.skip("only a 3.x app can run without a queue; 3.50.2 is not among GRADIO_JOBS_VERSIONS")
    if not venv_exists("3.50.2"):
        pytest.skip(missing_venv_reason("3.50.2"))
    with GradioServer("3.50.2", app="quota_app", args=["--no-queue"]) as server:
        server.start()
        with Client(server.url, verbose=False) as client:
            with pytest.raises(UnsupportedServerError, match="has no queue"):
                client.queue_status()
            assert client.predict("illegal", 0, "k", 1, api_name="/quota") == "ok k after 1 calls"
