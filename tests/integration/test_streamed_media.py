"""Streamed audio and video outputs, on every server generation (3.50.2 to 6.31.0), against
``tests/apps/media_app.py``: each yield of the app's generator reaches the caller as a
``MediaSegment`` while the generator still runs, and the job's result is the complete file,
which decodes (PyAV) to as many seconds as the app generated.

The delay from the app's yield (its ``time.time()``, recorded by the app) to the segment's
arrival at the caller is measured per version and printed at the end of the module
(``-s`` shows it).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import httpx
import pytest

from gradio_jobs import AppError, AsyncClient, Client, MediaSegment
from gradio_jobs.protocol import events as ev
from tests.servers import ALL_VERSIONS, GradioServer, missing_venv_reason, requested_versions, venv_exists
from tests.waiting import wait_for_event

pytestmark = pytest.mark.server

CHUNK_SECONDS = 0.5
#: 5.x and 6.x re-encode audio as AAC: each segment (5.x) or the stream (6.x) gains the
#: encoder's priming and padding, up to 2048 samples (0.128 s at 16 kHz) each.
AAC_PADDING = 2048 / 16000
#: Versions that stream video (gr.Video(streaming=True) exists from 5.0).
VIDEO_VERSIONS = {"6.31.0", "5.50.0"}
#: The versions whose servers re-encode (HLS playlists of AAC/MPEG-TS segments).
PLAYLIST_VERSIONS = {"6.31.0", "5.50.0"}
#: Where cancelling a running stream kills its running siblings (measured with this app).
KILLS_SIBLINGS = {"6.31.0", "5.50.0", "4.44.1"}
#: How long the tests wait for anything (the app's gate waits 60 s at most).
WAIT = 60.0

DELAYS: dict[str, list[float]] = {}


@pytest.fixture(params=requested_versions(ALL_VERSIONS), ids=lambda v: f"gradio-{v}")
def version(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def media_servers() -> Iterator[Callable[[str], GradioServer]]:
    started: dict[str, GradioServer] = {}

    def get(version: str) -> GradioServer:
        if not venv_exists(version):
            pytest.skip(missing_venv_reason(version))
        if version not in started:
            started[version] = GradioServer(version, app="media_app").start()
        return started[version]

    try:
        yield get
    finally:
        for server in started.values():
            server.stop()
        if DELAYS:
            print("\nyield -> segment at the caller, ms (median / max / n):")
            for v, delays in sorted(DELAYS.items()):
                ms = [d * 1000 for d in delays]
                print(f"  gradio {v}: {statistics.median(ms):.1f} / {max(ms):.1f} / {len(ms)}")


@pytest.fixture
def media_server(media_servers, version) -> GradioServer:
    return media_servers(version)


def audio_seconds(path: str | os.PathLike[str] | None = None, data: bytes | None = None, fmt: str | None = None) -> float:
    """The decoded length of an audio file (or of ``data`` in format ``fmt``), in seconds."""
    source = io.BytesIO(data) if data is not None else str(path)
    with av.open(source, format=fmt) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


def video_seconds(path: str) -> float:
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert frames, "no video frames"
        last = frames[-1]
        return float((last.pts - frames[0].pts) * stream.time_base) + 1 / float(stream.average_rate or 10)


def check_audio_length(seconds: float, chunks: int, version: str) -> None:
    expected = chunks * CHUNK_SECONDS
    if version in PLAYLIST_VERSIONS:
        assert expected - 0.05 <= seconds <= expected + chunks * AAC_PADDING + 0.05, (seconds, expected)
    else:
        assert seconds == pytest.approx(expected, abs=0.001)


def segments_of(outputs: list) -> list[MediaSegment]:
    found = [o for o in outputs if isinstance(o, MediaSegment)]
    assert len(found) == len(outputs), outputs
    return found


def check_segments(segments: list[MediaSegment], chunks: int, version: str) -> None:
    assert [s.index for s in segments] == list(range(len(segments)))
    # One per yield, and on 6.x one more with what the encoder let out at the end.
    assert chunks <= len(segments) <= chunks + 1
    data = b"".join(s.data for s in segments)
    kinds = {s.extension for s in segments if s.data}
    assert len(kinds) == 1, kinds
    (kind,) = kinds
    assert kind == (".aac" if version in PLAYLIST_VERSIONS else ".wav")
    assert all(s.mime_type == ("audio/aac" if kind == ".aac" else "audio/wav") for s in segments if s.data)
    # The segments, written one after the other, are the playable stream.
    decoded = audio_seconds(data=data, fmt="aac" if kind == ".aac" else "wav")
    check_audio_length(decoded, chunks, version)
    total = sum(s.duration for s in segments if s.duration is not None)
    assert total == pytest.approx(decoded, abs=chunks * AAC_PADDING + 0.05)


def yield_times(client: Client, token: str) -> list[float]:
    return json.loads(client.predict(token, api_name="/yields"))


# -- the complete file and the segments ---------------------------------------------------------


def test_sync_call_gives_segments_and_the_complete_file(media_server, version, tmp_path):
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(5, "", api_name="/speak")
        outputs = list(job)
        result = job.result(timeout=WAIT)
    assert isinstance(result, str) and Path(result).is_file()
    assert Path(result).resolve().is_relative_to(tmp_path.resolve())
    check_audio_length(audio_seconds(result), 5, version)
    check_segments(segments_of(outputs), 5, version)
    assert job.outputs() == outputs
    assert not list(tmp_path.glob("**/.partial-*"))


async def test_async_call_gives_segments_events_and_callbacks(media_server, version, tmp_path):
    seen: list = []
    async with AsyncClient(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(4, "", api_name="/speak", on_output=seen.append)
        outputs = [out async for out in job]
        result = await job
        produced = [e.value for e in job.event_log() if isinstance(e, ev.OutputProduced)]
    check_audio_length(audio_seconds(result), 4, version)
    check_segments(segments_of(outputs), 4, version)
    assert produced == outputs
    assert [o for o in seen if isinstance(o, MediaSegment)] == outputs


def test_predict_returns_the_file(media_server, version, tmp_path):
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        result = client.predict(3, "", api_name="/speak")
    check_audio_length(audio_seconds(result), 3, version)


def test_without_downloads_segments_hold_bytes(media_server, version):
    with Client(media_server.url, verbose=False, download_files=False) as client:
        job = client.submit(3, "", api_name="/speak")
        outputs = list(job)
        result = job.result(timeout=WAIT)
        check_segments(segments_of(outputs), 3, version)
        assert isinstance(result, dict)
        if version in PLAYLIST_VERSIONS:
            # The combined file, on the server: what a download would fetch.
            assert result["is_stream"] is False and result["url"].endswith("/playlist-file")
            body = httpx.get(result["url"]).content
            check_audio_length(audio_seconds(data=body, fmt="wav"), 3, version)
        else:
            # The raw route gave its chunks to the one reader: the server's value stays.
            assert result["is_stream"] is True


# -- segments arrive while the generator runs ---------------------------------------------------


def test_first_segment_arrives_while_the_generator_waits(media_server, version, tmp_path):
    token = uuid.uuid4().hex
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(3, token, api_name="/speak")
        arrivals: list[float] = []
        outputs = []
        for out in job:
            arrivals.append(time.time())
            outputs.append(out)
            if len(outputs) == 1:
                # The generator is blocked after its first yield until we release it.
                assert not job.done()
                assert len(yield_times(client, token)) == 1
                assert client.predict(token, api_name="/release") == "ok"
        result = job.result(timeout=WAIT)
        yields = yield_times(client, token)
    check_audio_length(audio_seconds(result), 3, version)
    check_segments(segments_of(outputs), 3, version)
    DELAYS.setdefault(version, []).extend(a - y for a, y in zip(arrivals, yields, strict=False))


async def test_async_first_segment_arrives_while_the_generator_waits(media_server, version, tmp_path):
    token = uuid.uuid4().hex
    async with AsyncClient(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(2, token, api_name="/speak")
        arrivals: list[float] = []
        outputs = []
        async for out in job:
            arrivals.append(time.time())
            outputs.append(out)
            if len(outputs) == 1:
                assert not job.done()
                assert await client.predict(token, api_name="/release") == "ok"
        await job
        yields = json.loads(await client.predict(token, api_name="/yields"))
    assert len(yields) == 2
    assert arrivals[0] < yields[1]  # the first segment came before the second yield
    segments = segments_of(outputs)
    check_segments(segments, 2, version)
    DELAYS.setdefault(version, []).extend(a - y for a, y in zip(arrivals, yields, strict=False))


def test_cancel_mid_stream_leaves_nothing_behind(media_server, version, tmp_path):
    token = uuid.uuid4().hex
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(3, token, api_name="/speak")
        first = next(iter(job))
        assert isinstance(first, MediaSegment) and first.index == 0
        assert job.cancel()
        assert job.cancelled()
        assert job.wait_settled(timeout=WAIT)
        client.predict(token, api_name="/release")
        # The client is still usable, and the same endpoint streams again.
        again = client.predict(1, "", api_name="/speak")
        check_audio_length(audio_seconds(again), 1, version)
    assert not list(tmp_path.glob("**/.partial-*"))
    names = [p for p in tmp_path.glob("*/*") if p.is_file()]
    assert len(names) == 1, names  # only the second call's file


def test_a_generator_failing_mid_stream_fails_the_job_and_leaves_nothing_behind(media_server, version, tmp_path):
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(3, "fail", api_name="/speak")
        outputs = []
        with pytest.raises(AppError, match="the stream broke"):
            for out in job:
                outputs.append(out)
        assert job.wait_settled(timeout=WAIT)
    assert len(outputs) == 1 and isinstance(outputs[0], MediaSegment)
    assert not list(tmp_path.glob("**/.partial-*"))


def test_several_streams_at_once(media_server, version, tmp_path):
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        jobs = [client.submit(n, "", api_name="/speak") for n in (2, 3, 4)]
        results = [job.result(timeout=WAIT) for job in jobs]
        for n, job, result in zip((2, 3, 4), jobs, results, strict=True):
            check_audio_length(audio_seconds(result), n, version)
            check_segments(segments_of(job.outputs()), n, version)


# -- video --------------------------------------------------------------------------------------


def test_video_stream(media_server, version, tmp_path):
    if version not in VIDEO_VERSIONS:
        pytest.skip(f"gradio {version} cannot stream video outputs")
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        job = client.submit(3, "", api_name="/film")
        outputs = list(job)
        result = job.result(timeout=WAIT)

    def unwrap(value):  # 5.x wraps a video output as {"video": ..., "subtitles": ...}
        return value["video"] if isinstance(value, dict) else value

    path = unwrap(result)
    assert isinstance(path, str) and path.endswith(".mp4")
    assert video_seconds(path) == pytest.approx(3 * CHUNK_SECONDS, abs=0.25)
    segments = [unwrap(o) for o in outputs]
    assert all(isinstance(s, MediaSegment) for s in segments)
    data = b"".join(s.data for s in segments)
    assert {s.extension for s in segments if s.data} == {".ts"}
    with av.open(io.BytesIO(data), format="mpegts") as container:
        assert container.streams.video
        assert sum(1 for _ in container.decode(video=0)) >= 3 * CHUNK_SECONDS * 10 - 2



# -- the command line -----------------------------------------------------------------------------


def test_cli_call_saves_the_file_and_shows_the_streamed_duration(media_server, version, tmp_path):
    from contextlib import redirect_stderr, redirect_stdout

    from gradio_jobs.cli import ExitCode, main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["call", media_server.url, "/speak", "4", '""', "--download-dir", str(tmp_path)])
    assert code == ExitCode.OK, err.getvalue()
    lines = out.getvalue().splitlines()
    segments = [line for line in lines if line.startswith("segment ")]
    assert len(segments) >= 4, lines
    # Each line says how much has streamed so far; the last one the whole stream.
    last = float(segments[-1].rsplit("streamed ", 1)[1].split(" s", 1)[0])
    check_audio_length(last, 4, version)
    saved = lines[-1]
    assert Path(saved).is_file() and Path(saved).resolve().is_relative_to(tmp_path.resolve())
    check_audio_length(audio_seconds(saved), 4, version)


def test_a_sibling_resubmitted_by_a_cancel_streams_each_chunk_once(media_server, version, tmp_path):
    """Cancelling a running generator kills its running siblings of the same endpoint in the
    session where the server allows it (``KILLS_SIBLINGS``, measured); gradio-jobs submits them again and skips what the new run repeats: the sibling's segments still add up to its
    stream, each chunk once, their indexes going on."""
    if version.startswith("3."):
        pytest.skip("3.x runs one generator of an endpoint at a time in a session")
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    with Client(media_server.url, verbose=False, download_files=str(tmp_path)) as client:
        victim = client.submit(3, a, api_name="/speak")
        sibling = client.submit(3, b, api_name="/speak")
        next(iter(victim)), next(iter(sibling))  # both running, each waiting after its first chunk
        assert victim.cancel()
        if version == "4.44.1":  # it kills both at once; 5.x/6.x stop each when it next yields
            assert wait_for_event(sibling, ev.Resubmitted, timeout=WAIT).attempt == 2
        client.predict(a, api_name="/release")
        client.predict(b, api_name="/release")
        result = sibling.result(timeout=WAIT)
        outputs = sibling.outputs()
        assert victim.cancelled()
        resubmitted = [e for e in sibling.event_log() if isinstance(e, ev.Resubmitted)]
    # The new run yields the first chunks again: they are not delivered twice.
    assert bool(resubmitted) == (version in KILLS_SIBLINGS)
    check_audio_length(audio_seconds(result), 3, version)
    check_segments(segments_of(outputs), 3, version)
