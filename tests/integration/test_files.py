"""File inputs and outputs against real servers (tests/apps/files_app.py)."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from gradio_jobs import AsyncClient, Client, FileTooLargeError, InputFileError, Status, handle_file
from gradio_jobs.protocol import events as ev
from servers import requested_versions, serving

VERSIONS = requested_versions()
MIB = 1 << 20


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"gradio-{v}")
def files_server(request):
    with serving(request.param, "files_app") as server:
        yield server


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


@pytest.fixture
def client(files_server, downloads):
    with Client(files_server.url, verbose=False, download_files=str(downloads)) as c:
        yield c


def _inside(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "pic.png"
    img = Image.new("RGB", (2, 1))
    img.putpixel((0, 0), (255, 0, 0))
    img.putpixel((1, 0), (0, 0, 255))
    img.save(path)
    return path


def _texts(tmp_path: Path, **contents: str) -> list[Path]:
    paths = []
    for name, text in contents.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(text)
        paths.append(path)
    return paths


def _check_mirrored(result, downloads: Path) -> None:
    out, size = result
    assert size == "2x1"
    assert _inside(out, downloads)
    with Image.open(out) as img:
        assert img.convert("RGB").getpixel((0, 0)) == (0, 0, 255)
        assert img.convert("RGB").getpixel((1, 0)) == (255, 0, 0)


# -- in and out -----------------------------------------------------------------------------


def test_image_in_and_out(client: Client, picture: Path, downloads: Path) -> None:
    _check_mirrored(client.predict(handle_file(picture), api_name="/image"), downloads)
    # a pathlib.Path is a file too
    _check_mirrored(client.predict(picture, api_name="/image"), downloads)


async def test_image_in_and_out_async(files_server, picture: Path, downloads: Path) -> None:
    async with AsyncClient(files_server.url, verbose=False, download_files=downloads) as client:
        _check_mirrored(await client.predict(handle_file(picture), api_name="/image"), downloads)


def test_a_list_of_files_in_and_out(client: Client, tmp_path: Path, downloads: Path) -> None:
    a, b = _texts(tmp_path, a="alpha", b="beta")
    outs, names = client.predict([handle_file(a), handle_file(b)], api_name="/files")
    assert names == "a.txt,b.txt"
    assert [Path(p).name for p in outs] == ["a.txt", "b.txt"]
    assert [Path(p).read_text() for p in outs] == ["ALPHA", "BETA"]
    assert all(_inside(p, downloads) for p in outs)


async def test_a_list_of_files_in_and_out_async(files_server, tmp_path: Path, downloads: Path) -> None:
    a, b = _texts(tmp_path, a="alpha", b="beta")
    async with AsyncClient(files_server.url, verbose=False, download_files=downloads) as client:
        outs, _ = await client.predict([handle_file(a), handle_file(b)], api_name="/files")
    assert [Path(p).read_text() for p in outs] == ["ALPHA", "BETA"]


def test_a_gallery_in_and_out(client: Client, picture: Path, tmp_path: Path, downloads: Path) -> None:
    other = tmp_path / "other.png"
    Image.new("RGB", (3, 3), (0, 255, 0)).save(other)
    items = [{"image": handle_file(picture), "caption": "first"}, {"image": handle_file(other), "caption": None}]
    gallery = client.predict(items, api_name="/gallery")
    assert [item["caption"] for item in gallery] == ["item 0", "item 1"]
    sizes = []
    for item in gallery:
        assert _inside(item["image"], downloads)
        with Image.open(item["image"]) as img:
            sizes.append(img.size)
    assert sizes == [(3, 3), (2, 1)]  # reversed by the app


def test_files_nested_in_a_chat_message(client: Client, tmp_path: Path) -> None:
    a, b = _texts(tmp_path, a="alpha", b="beta")
    summary, first = client.predict({"text": "hi", "files": [handle_file(a), handle_file(b)]}, api_name="/multimodal")
    assert summary == "hi|2"
    assert Path(first).read_text() == "alpha"


def test_each_output_of_a_generator_is_downloaded_in_order(client: Client) -> None:
    job = client.submit(3, api_name="/file_stream")
    assert [Path(p).read_text() for p in job] == ["step 0", "step 1", "step 2"]
    assert Path(job.result()).read_text() == "step 2"
    assert [Path(p).name for p in job.outputs()] == ["step0.txt", "step1.txt", "step2.txt"]


def test_download_files_false_returns_the_file_data(files_server, tmp_path: Path) -> None:
    (a,) = _texts(tmp_path, a="alpha")
    with Client(files_server.url, verbose=False, download_files=False) as client:
        outs, _ = client.predict([handle_file(a)], api_name="/files")
    assert isinstance(outs[0], dict)
    assert outs[0]["orig_name"] == "a.txt"
    assert outs[0]["url"].startswith(files_server.url.rstrip("/"))


# -- names and safety -----------------------------------------------------------------------


def test_two_outputs_with_the_same_name_do_not_overwrite_each_other(client: Client) -> None:
    first, second = client.predict(api_name="/same_names")
    assert Path(first).name == Path(second).name == "result.txt"
    assert first != second
    assert (Path(first).read_text(), Path(second).read_text()) == ("first", "second")


def test_odd_server_file_names_stay_inside_the_folder(client: Client, downloads: Path) -> None:
    before = set(os.listdir(downloads.parent)) if downloads.parent.exists() else set()
    outs = client.predict(api_name="/odd_names")
    assert sorted(Path(p).read_text() for p in outs) == ["backslashes", "control", "dots"]
    for path in outs:
        name = Path(path).name
        assert _inside(path, downloads)
        assert "\\" not in name and "\x01" not in name and name not in (".", "..")
        assert Path(path).parent.parent == downloads.resolve()
    # nothing was written next to the download folder
    assert set(os.listdir(downloads.parent)) - before <= {downloads.name}


def test_a_missing_input_file_fails_before_anything_is_sent(client: Client, tmp_path: Path) -> None:
    (a,) = _texts(tmp_path, a="alpha")
    marked = handle_file(a)
    a.unlink()
    with pytest.raises(InputFileError, match="does not exist"):
        client.submit([marked], api_name="/files")


# -- size -----------------------------------------------------------------------------------


def test_large_transfers_stream_without_holding_the_file_in_memory(client: Client, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.write(os.urandom(MIB) * 24)
    tracemalloc.start()
    try:
        job = client.submit(handle_file(big), api_name="/size")
        assert job.result(timeout=60) == 24 * MIB
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        path = client.predict(32, api_name="/big")
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert os.path.getsize(path) == 32 * MIB
    assert upload_peak < 12 * MIB, upload_peak
    assert download_peak < 12 * MIB, download_peak


def test_upload_progress_is_reported_on_the_job(client: Client, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (5 * MIB + 10))
    statuses = []
    job = client.submit(handle_file(big), api_name="/size")
    statuses.append(job.status())
    assert job.result(timeout=60) == 5 * MIB + 10
    uploads = [e for e in job._job.events if isinstance(e, ev.Uploading)]
    assert [e.sent for e in uploads] == [MIB, 2 * MIB, 3 * MIB, 4 * MIB, 5 * MIB, 5 * MIB + 10]
    assert {(e.name, e.total) for e in uploads} == {("big.bin", 5 * MIB + 10)}
    kinds = [type(e) for e in job._job.events]
    assert kinds.index(ev.Uploading) < kinds.index(ev.Joined)


async def test_upload_progress_updates_the_status_async(files_server, tmp_path: Path, downloads: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (3 * MIB))
    seen = []
    async with AsyncClient(files_server.url, verbose=False, download_files=downloads) as client:
        job = client.submit(handle_file(big), api_name="/size")
        while not job.done():
            status = job.status()
            if status.code is Status.SENDING_DATA:
                seen.append(status.progress_data[0])
            await job._wait_change()
    assert seen, "no status showed the upload"
    assert seen[-1].unit == "bytes" and seen[-1].length == 3 * MIB and seen[-1].index == 3 * MIB
    assert seen[-1].progress == 1.0 and "big.bin" in seen[-1].desc


def test_a_download_over_the_limit_fails_and_leaves_nothing(files_server, downloads: Path) -> None:
    with Client(files_server.url, verbose=False, download_files=str(downloads), max_download_size=MIB) as client:
        with pytest.raises(FileTooLargeError, match="limit"):
            client.predict(2, api_name="/big")
        assert Path(client.predict(1, api_name="/big")).stat().st_size == MIB  # at the limit is fine
    leftovers = [p for p in downloads.rglob("*") if p.is_file() and p.stat().st_size != MIB]
    assert leftovers == []


def test_an_upload_over_the_apps_limit_is_refused_with_a_clear_error(start_server, files_server, tmp_path) -> None:
    server = start_server(app="files_app", version=files_server.version, args=["--max-file-size", "1kb"])
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    with Client(server.url, verbose=False) as client:
        assert client.app.capabilities.max_file_size == 1024
        job = client.submit(handle_file(big), api_name="/size")
        with pytest.raises(FileTooLargeError, match="at most 1024 bytes"):
            job.result(timeout=30)
        assert job.job_id is None  # refused before it was sent
        (small,) = _texts(tmp_path, small="ok")
        assert client.predict(handle_file(small), api_name="/size") == 2
