"""Streaming-input endpoints (``.stream`` listeners) called through the API, on every server
generation (3.50.2 to 6.31.0), against ``tests/apps/stream_input_app.py``.

On 5.x and later the server runs such a listener as a stream of inputs: it answers each frame
with ``process_streaming`` and then waits for the next one, up to the event's ``time_limit``
(60 s here, long on purpose). A call sends one frame, so gradio-jobs ends the stream
(``POST stream/<event_id>/close``) and the call completes at once. The server's side is
checked too: the function ran once per call (the app logs each run; 5.x may run it a second
time, see ``check_runs``), and the next call of the endpoint (one run at a time) does not wait
behind an event still held open. Older servers run
``.stream`` listeners as ordinary events; the same calls work there.
"""

from __future__ import annotations

import base64
import concurrent.futures
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gradio_jobs import AsyncClient, Client, Deadline, JobTimeoutError, Status, handle_file
from gradio_jobs.protocol import events as ev
from tests.servers import GradioServer, missing_venv_reason, venv_exists
from tests.waiting import await_event, wait_for_event, wait_until

pytestmark = pytest.mark.server
feature = pytest.mark.feature

#: The servers that run ``.stream`` listeners as input streams (``connection: "stream"``).
STREAMING_SERVERS = ("6.31.0", "5.50.0")
#: The event's time limit on 5.x and later: how long the server would hold a call open.
TIME_LIMIT = 60.0
#: A call that ends its stream completes within this (it takes well under a second; the rest
#: is room for a loaded machine). One that waited for the time limit would take 60 s.
FAST = TIME_LIMIT / 4


@pytest.fixture(scope="module")
def stream_servers() -> Iterator[Callable[..., GradioServer]]:
    """``get(version, time_limit=TIME_LIMIT)``: the app on that version, started once per module."""
    started: dict[tuple[str, float], GradioServer] = {}

    def get(version: str, time_limit: float = TIME_LIMIT) -> GradioServer:
        if not venv_exists(version):
            pytest.skip(missing_venv_reason(version))
        key = (version, time_limit)
        if key not in started:
            started[key] = GradioServer(
                version, app="stream_input_app", args=["--time-limit", str(time_limit)]
            ).start()
        return started[key]

    try:
        yield get
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def stream_server(stream_servers, generation) -> GradioServer:
    return stream_servers(generation)


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> Callable[[int, int], Path]:
    folder = tmp_path_factory.mktemp("frames")

    def frame(width: int, height: int) -> Path:
        path = folder / f"{width}x{height}.png"
        if not path.exists():
            Image.new("RGB", (width, height), (10, 20, 30)).save(path)
        return path

    return frame


def frame_input(client: Client | AsyncClient, path: Path):
    """The frame as the server's generation takes it (3.x: a base64 data URL, as its webcam sends)."""
    if client.app.capabilities.legacy_files:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
    return handle_file(path)


def runs(server: GradioServer, size: str) -> int:
    """How many times the app's function has measured a frame of ``size`` (its log says)."""
    return server.log_text().count(f"measured {size}\n")


def check_runs(server: GradioServer, size: str, calls: int, before: int) -> None:
    """The function ran once per call: one frame, one run. Except on 5.x, where a close that
    lands after the first run (the server may start the job before its join is even answered)
    makes the server run the function again on the same frame: once or twice per call there."""
    ran = runs(server, size) - before
    if server.version.startswith("5."):
        assert calls <= ran <= 2 * calls
    else:
        assert ran == calls


def streams_inputs(client: Client | AsyncClient) -> bool:
    return client.app.endpoint("/measure").streams_inputs


def check_completed(job, expected: str) -> None:
    assert job.outputs() == [expected]
    status = job.status()
    assert status.code is Status.FINISHED and status.success
    kinds = [type(e) for e in job.event_log()]
    assert kinds[-2:] == [ev.OutputProduced, ev.Completed] and kinds.count(ev.Completed) == 1
    assert ev.Started in kinds and ev.Failed not in kinds
    assert job.timings.total is not None and job.timings.total < FAST, job.timings


@feature("streaming inputs")
def test_a_streaming_input_call_completes_at_once(stream_server, frames, generation, record_property) -> None:
    with Client(stream_server.url, verbose=False) as client:
        assert streams_inputs(client) is (generation in STREAMING_SERVERS)
        before = runs(stream_server, "7x5")
        frame = frame_input(client, frames(7, 5))
        for n in range(1, 3):
            # The second call waits for the first to end on the server (one run at a time): it
            # too is fast only if the first one's stream was ended, not held to the time limit.
            job = client.submit(frame, api_name="/measure")
            assert job.result(timeout=2 * TIME_LIMIT) == "7x5"
            check_completed(job, "7x5")
            check_runs(stream_server, "7x5", n, before)
        assert client.predict(2, 3, api_name="/add") == 5
    record_property("matrix", "stream closed at once" if streams_inputs(client) else "ordinary event")


@feature("streaming inputs")
async def test_a_streaming_input_call_completes_at_once_async(stream_server, frames) -> None:
    async with AsyncClient(stream_server.url, verbose=False) as client:
        before = runs(stream_server, "9x4")
        frame = frame_input(client, frames(9, 4))
        assert await client.predict(frame, api_name="/measure") == "9x4"
        job = client.submit(frame, api_name="/measure")
        assert await job.result(timeout=2 * TIME_LIMIT) == "9x4"
        check_completed(job, "9x4")
        check_runs(stream_server, "9x4", 2, before)


# -- cancellation, deadlines and a failed close (the servers with streaming inputs) -----------------


@pytest.fixture(params=STREAMING_SERVERS, ids=lambda v: f"gradio-{v}")
def streaming_server(request, stream_servers) -> GradioServer:
    return stream_servers(request.param)


def test_cancel_a_running_streaming_input_call(streaming_server, frames) -> None:
    with Client(streaming_server.url, verbose=False) as client:
        assert streams_inputs(client)
        slow = client.submit(handle_file(frames(1, 3)), api_name="/measure")  # runs 2 s
        wait_for_event(slow, ev.Started)
        assert slow.cancel()
        with pytest.raises(concurrent.futures.CancelledError):
            slow.result(timeout=5)
        assert slow.status().code is Status.CANCELLED
        assert slow.wait_settled(timeout=FAST) and slow.cancel_outcome == ev.OUTCOME_SERVER_CONTINUES
        # Its one frame runs to its end; then the event ends instead of holding the endpoint.
        job = client.submit(handle_file(frames(7, 5)), api_name="/measure")
        assert job.result(timeout=2 * TIME_LIMIT) == "7x5"
        check_completed(job, "7x5")
        check_runs(streaming_server, "1x3", 1, 0)


async def test_a_deadline_ends_a_streaming_input_call(streaming_server, frames) -> None:
    async with AsyncClient(streaming_server.url, verbose=False) as client:
        slow = client.submit(handle_file(frames(1, 4)), api_name="/measure", deadline=Deadline(run=0.5))
        failed = await await_event(slow, ev.Failed)
        assert isinstance(failed.error, JobTimeoutError) and failed.error.phase == "run"
        with pytest.raises(JobTimeoutError):
            await slow
        job = client.submit(handle_file(frames(7, 5)), api_name="/measure")
        assert await job.result(timeout=2 * TIME_LIMIT) == "7x5"
        check_completed(job, "7x5")


@pytest.mark.parametrize("version", STREAMING_SERVERS)
def test_a_failed_close_still_completes_the_call(version, stream_servers, frames, caplog) -> None:
    # A server of its own: the close fails (it names no such event), so this one holds the event
    # until its time limit.
    server = stream_servers(version, time_limit=TIME_LIMIT - 1)

    def misdirect_close(request: httpx.Request) -> None:
        if request.url.path.endswith("/close"):
            request.url = request.url.copy_with(path=request.url.path.rsplit("/", 2)[0] + "/no-such-event/close")

    caplog.set_level(logging.DEBUG, logger="gradio_jobs")
    with Client(server.url, verbose=False, httpx_kwargs={"event_hooks": {"request": [misdirect_close]}}) as client:
        job = client.submit(handle_file(frames(7, 5)), api_name="/measure")
        assert job.result(timeout=2 * TIME_LIMIT) == "7x5"
        # Its first output answered the one frame: the job did not wait for the server's time limit.
        check_completed(job, "7x5")

        def failures() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "could not end its input stream" in r.getMessage()]

        wait_until(failures, describe="a log record of the failed close")  # the close runs beside the job
        assert all(r.levelno == logging.DEBUG for r in failures())
        assert job.job_id in failures()[0].getMessage()
