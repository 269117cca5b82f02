"""Bounds against a hostile or broken server (issue 13): each fails only the call or job
concerned, with a typed error naming its limit, while the client's memory stays bounded.

The server is ``tests/hostile.py`` (a real gradio cannot be made to misbehave like this): it
looks like a gradio 6.31 app, then misbehaves per scenario. Each test measures the client's
peak memory (``tracemalloc``: every Python allocation of the process, the client's loop
thread and file threads included) while the hostile server runs, asserts it stays within
twice the limit plus a small baseline, and prints it.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gradio_jobs import (
    AnswerTooLargeError,
    AsyncClient,
    Client,
    ConnectionLostError,
    FileTooLargeError,
    JobTimeoutError,
    LimitExceededError,
    MessageTooLargeError,
    ProtocolError,
    StreamStalledError,
    TooManyRedirectsError,
    TransferTooSlowError,
)
from tests.hostile import HostileServer

MIB = 1 << 20
LIMIT = 4 * MIB
#: What a connected client allocates besides the bounded buffers (configs, threads, pools).
BASELINE = 3 * MIB


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture(params=["6.31.0", "4.8.0"])
def streaming(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    """A hostile server of each stream kind: the session's multiplexed ``queue/data`` stream
    (6.31), and a stream of its own per job (4.8: ``transport/job_routes.py``)."""
    with HostileServer(request.param) as server:
        yield server


class Peak:
    """The peak of traced memory while a ``with`` block runs, above what was traced at its start."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bytes = 0

    def __enter__(self) -> Peak:
        tracemalloc.start()
        tracemalloc.reset_peak()
        self._start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        self.bytes = tracemalloc.get_traced_memory()[1] - self._start
        tracemalloc.stop()
        print(f"\npeak client memory, {self.name}: {self.bytes / MIB:.2f} MiB (limit {LIMIT / MIB:.0f} MiB)")

    def assert_bounded(self, limit: int = LIMIT) -> None:
        assert self.bytes < 2 * limit + BASELINE, f"{self.name}: peak {self.bytes / MIB:.1f} MiB"


def _names_limit(error: BaseException, option: str) -> None:
    assert isinstance(error, LimitExceededError)
    assert error.option == option
    assert option in str(error)


def _timed(fn: Callable[[], Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        fn()
    return info.value, time.monotonic() - started


# -- 1. the largest event-stream message ---------------------------------------------------------


def test_endless_sse_line_fails_the_streams_jobs_only(streaming: HostileServer) -> None:
    streaming.stream_mode = "endless_line"
    with Client(streaming.url, verbose=False, max_message_size=LIMIT) as client, \
            Client(streaming.url, verbose=False) as other:
        with Peak(f"endless event-stream line, gradio {streaming.version}") as peak:
            job = client.submit(1, api_name="/slow")
            error, _ = _timed(lambda: job.result(timeout=60))
        assert isinstance(error, MessageTooLargeError) and isinstance(error, ProtocolError)
        _names_limit(error, "max_message_size")
        assert error.limit == LIMIT and error.size is not None and LIMIT < error.size < LIMIT + 2 * MIB
        peak.assert_bounded()
        # The same client (its session's stream reopens) and another session go on.
        assert client.predict(1, 2, api_name="/add") == 3
        assert other.predict(2, 3, api_name="/add") == 5
    # 4.8 jobs each have a stream of their own (GET queue/join); 6.31 jobs share queue/data.
    assert any(r.startswith("GET /queue/join") for r in streaming.requests) == (streaming.version == "4.8.0")


def test_websocket_frame_over_the_limit_fails_its_job_only() -> None:
    # gradio 3.x: each job has a websocket; a frame announcing 1 GiB is refused from its header.
    with HostileServer("3.50.2") as server, Client(server.url, verbose=False, max_message_size=LIMIT) as client:
        with Peak("websocket frame of 1 GiB, gradio 3.50.2") as peak:
            job = client.submit(1, api_name="/slow")
            error, elapsed = _timed(lambda: job.result(timeout=60))
        assert isinstance(error, MessageTooLargeError), repr(error)
        _names_limit(error, "max_message_size")
        assert elapsed < 8, f"the refused frame held the job {elapsed:.1f} s"  # not websockets' 20 s
        peak.assert_bounded()
        assert client.predict(1, 2, api_name="/add") == 3
        assert any(r == "GET /queue/join" for r in server.requests)  # the websocket route


async def test_endless_sse_line_leaves_other_sessions_running_async(streaming: HostileServer) -> None:
    streaming.stream_mode = "endless_line"
    async with AsyncClient(streaming.url, verbose=False, max_message_size=LIMIT) as client, \
            AsyncClient(streaming.url, verbose=False) as other:
        job = client.submit(1, api_name="/slow")
        # Another session's job completes while the hostile stream is being sent.
        assert await other.predict(4, 5, api_name="/add") == 9
        with pytest.raises(MessageTooLargeError) as info:
            await job.result(timeout=60)
        _names_limit(info.value, "max_message_size")
        assert await client.predict(1, 1, api_name="/add") == 2


# -- 5. slow servers: a trickle must not defeat the silence limit or the deadline ----------------


def test_trickled_message_without_deadline_ends_at_the_silence_limit(streaming: HostileServer) -> None:
    streaming.stream_mode, streaming.tick = "trickle", 0.05  # a byte every 50 ms, never a whole message
    with Client(streaming.url, verbose=False, stream_timeout=0.5) as client:
        with Peak(f"trickled event-stream message, gradio {streaming.version}") as peak:
            job = client.submit(1, api_name="/slow")
            error, elapsed = _timed(lambda: job.result(timeout=30))
        assert isinstance(error, StreamStalledError) and isinstance(error, ConnectionLostError)
        _names_limit(error, "stream_timeout")
        assert error.limit == 0.5 and error.size and error.size > 0
        assert elapsed < 5, f"the trickle held the job {elapsed:.1f} s"
        peak.assert_bounded()
        assert client.predict(1, 2, api_name="/add") == 3


def test_trickled_comments_count_as_silence(streaming: HostileServer) -> None:
    streaming.stream_mode, streaming.tick = "comments", 0.05  # SSE comment lines: bytes, never a message
    with Client(streaming.url, verbose=False, stream_timeout=0.5) as client:
        job = client.submit(1, api_name="/slow")
        error, elapsed = _timed(lambda: job.result(timeout=30))
        assert isinstance(error, ConnectionLostError) and not isinstance(error, StreamStalledError)
        assert "stream_timeout" in str(error)
        assert elapsed < 5
        assert client.predict(1, 2, api_name="/add") == 3


def test_heartbeat_trickle_does_not_outlive_the_deadline(streaming: HostileServer) -> None:
    streaming.stream_mode, streaming.tick = "heartbeats", 0.05  # alive for ever, never done
    with Client(streaming.url, verbose=False, stream_timeout=0.5) as client:
        with Peak(f"heartbeat trickle past the deadline, gradio {streaming.version}") as peak:
            job = client.submit(1, api_name="/slow", deadline=1.0)
            error, elapsed = _timed(lambda: job.result(timeout=30))
        assert isinstance(error, JobTimeoutError), repr(error)
        assert 0.9 < elapsed < 5, elapsed
        peak.assert_bounded()
        assert client.predict(1, 2, api_name="/add") == 3


@pytest.mark.parametrize("where", ["thread", "loop"])
def test_trickled_download_fails_below_the_minimum_rate(hostile: HostileServer, tmp_path, where: str) -> None:
    hostile.file_name, hostile.tick = "trickle.txt", 0.05  # 20 bytes/s
    options: dict[str, Any] = {"min_transfer_rate": 1000, "transfer_window": 0.5, "download_files": str(tmp_path)}
    if where == "loop":  # an async hook keeps downloads on the event loop
        options["httpx_kwargs"] = {"event_hooks": {"request": [_async_hook]}}
    with Client(hostile.url, verbose=False, **options) as client:
        with Peak(f"trickled download ({where})") as peak:
            job = client.submit("x", api_name="/file_info")
            error, elapsed = _timed(lambda: job.result(timeout=30))
        peak.assert_bounded()
        assert isinstance(error, TransferTooSlowError) and isinstance(error, TimeoutError)
        _names_limit(error, "min_transfer_rate")
        assert elapsed < 5
        hostile.file_name = "ok.txt"
        _, path = client.predict("x", api_name="/file_info")
        assert Path(path).read_bytes() == b"hello world\n"
    assert not [p for p in tmp_path.rglob(".partial-*")], "a partial download was left behind"


def test_deadline_holds_while_a_trickled_file_output_downloads(hostile: HostileServer, tmp_path) -> None:
    hostile.file_name, hostile.tick = "trickle.txt", 0.05
    # No rate rule: only the deadline can end it (the job's server part is over, its file is not).
    with Client(hostile.url, verbose=False, min_transfer_rate=None, download_files=str(tmp_path)) as client:
        job = client.submit("x", api_name="/file_info", deadline=1.0)
        error, elapsed = _timed(lambda: job.result(timeout=30))
        assert isinstance(error, JobTimeoutError), repr(error)
        assert 0.9 < elapsed < 5, elapsed
        assert job.wait_settled(timeout=10)
        hostile.file_name = "ok.txt"
        _, path = client.predict("x", api_name="/file_info")
        assert Path(path).read_bytes() == b"hello world\n"
    assert not list(tmp_path.rglob(".partial-*")), "the cancelled download was left behind"


async def _async_hook(request: httpx.Request) -> None:
    return None


# -- 2. the largest /config and /info -----------------------------------------------------------


def test_endless_config_is_cut_at_the_answer_limit(hostile: HostileServer) -> None:
    hostile.config_mode = "endless"
    with Peak("endless /config") as peak:
        error, _ = _timed(lambda: Client(hostile.url, verbose=False, max_answer_size=LIMIT))
    assert isinstance(error, AnswerTooLargeError) and isinstance(error, ProtocolError)
    _names_limit(error, "max_answer_size")
    assert error.size is not None and LIMIT < error.size <= LIMIT + MIB
    peak.assert_bounded()
    hostile.config_mode = "normal"
    with Client(hostile.url, verbose=False, max_answer_size=LIMIT) as client:
        assert client.predict(1, 2, api_name="/add") == 3


def test_gzip_bomb_config_stops_decompressing_at_the_limit(hostile: HostileServer) -> None:
    hostile.config_mode, hostile.bomb_size = "bomb", 256 * MIB
    with Peak("gzip-bomb /config (256 MiB inflated)") as peak:
        error, _ = _timed(lambda: Client(hostile.url, verbose=False, max_answer_size=LIMIT))
    assert isinstance(error, AnswerTooLargeError)
    _names_limit(error, "max_answer_size")
    peak.assert_bounded()


# -- 3. the decompressed size of a download ------------------------------------------------------


@pytest.mark.parametrize("where", ["thread", "loop"])
def test_gzip_bomb_download_stops_at_max_download_size(hostile: HostileServer, tmp_path, where: str) -> None:
    hostile.file_name, hostile.bomb_size = "bomb.txt", 256 * MIB
    options: dict[str, Any] = {"max_download_size": LIMIT, "download_files": str(tmp_path)}
    if where == "loop":
        options["httpx_kwargs"] = {"event_hooks": {"request": [_async_hook]}}
    with Client(hostile.url, verbose=False, **options) as client:
        client.predict(1, 2, api_name="/add")  # warm up: connected, pools made
        with Peak(f"gzip-bomb download, 256 MiB inflated ({where})") as peak:
            job = client.submit("x", api_name="/file_info")
            error, _ = _timed(lambda: job.result(timeout=60))
        assert isinstance(error, FileTooLargeError), repr(error)
        assert "max_download_size" in str(error) and error.limit == LIMIT
        peak.assert_bounded()
        written = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
        assert written <= LIMIT + MIB  # stopped early: neither memory nor disk got the bomb
        hostile.file_name = "ok.txt"
        _, path = client.predict("x", api_name="/file_info")
        assert Path(path).read_bytes() == b"hello world\n"


# -- 4. redirect counts -------------------------------------------------------------------------


def test_redirect_loop_on_a_download_fails_with_the_limit(hostile: HostileServer, tmp_path) -> None:
    hostile.file_name = "loop.txt"
    with Client(hostile.url, verbose=False, max_redirects=3, download_files=str(tmp_path)) as client:
        with Peak("redirect loop on a download") as peak:
            job = client.submit("x", api_name="/file_info")
            error, _ = _timed(lambda: job.result(timeout=30))
        peak.assert_bounded()
        assert isinstance(error, TooManyRedirectsError) and isinstance(error, httpx.TooManyRedirects)
        _names_limit(error, "max_redirects")
        assert error.limit == 3
        assert sum("loop.txt" in r for r in hostile.requests) == 4  # the first request and 3 redirects
        hostile.file_name = "ok.txt"
        _, path = client.predict("x", api_name="/file_info")
        assert Path(path).read_bytes() == b"hello world\n"


def test_redirect_loop_on_config_fails_with_the_default_limit(hostile: HostileServer) -> None:
    hostile.config_mode = "redirect"
    error, _ = _timed(lambda: Client(hostile.url, verbose=False))
    assert isinstance(error, TooManyRedirectsError), repr(error)
    _names_limit(error, "max_redirects")
    assert error.limit == 10
    assert sum(r.startswith("GET /config") for r in hostile.requests) == 11
