"""File values: marking inputs, preparing them for the server, finding and naming outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs import InputFileError, handle_file
from gradio_jobs.protocol import files
from gradio_jobs.protocol.capabilities import Capabilities
from gradio_jobs.protocol.files import (
    download_name,
    download_url,
    find_files,
    is_file_input,
    is_file_output,
    local_files,
    map_files,
    prepare_inputs,
    safe_file_name,
    sanitize_upload_name,
)

CAPS_6 = Capabilities.from_config({"version": "6.31.0", "protocol": "sse_v3", "api_prefix": "/gradio_api"})
CAPS_4_17 = Capabilities.from_config({"version": "4.17.0", "protocol": "sse_v2"})
META = {"_type": "gradio.FileData"}
API = "http://127.0.0.1:7860/gradio_api/"


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "doc.txt"
    path.write_text("hello")
    return path


# -- inputs ---------------------------------------------------------------------------------


def test_handle_file_marks_local_files_and_urls(doc: Path) -> None:
    assert handle_file(doc) == {"path": str(doc), "orig_name": "doc.txt", "meta": META}
    assert handle_file("https://example.com/a/b%20c.pdf") == {
        "path": "https://example.com/a/b%20c.pdf",
        "url": "https://example.com/a/b%20c.pdf",
        "orig_name": "b c.pdf",
        "meta": META,
    }


def test_handle_file_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not an existing file"):
        handle_file(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError):  # InputFileError is one, for except clauses
        handle_file(str(tmp_path))


def test_nested_inputs_are_found_once_each(doc: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"\0")
    data = [
        {"text": "hi", "files": [handle_file(doc), handle_file(other)]},  # a multimodal message
        [{"image": handle_file(doc), "caption": None}],  # a gallery
        other,  # a Path counts as a file too
        handle_file("https://example.com/x.png"),
        {"path": "/not/marked"},  # a plain dict is data, not a file
    ]
    assert [f.path for f in local_files(data)] == [str(doc), str(other)]
    assert [f.name for f in local_files(data)] == ["doc.txt", "other.bin"]
    assert len(find_files(data, is_file_input)) == 5


def test_a_vanished_input_file_is_reported(doc: Path) -> None:
    marked = handle_file(doc)
    doc.unlink()
    with pytest.raises(InputFileError, match="does not exist"):
        local_files([marked])


def test_prepare_inputs_substitutes_server_paths_and_keeps_urls(doc: Path) -> None:
    data = [{"text": "t", "files": [handle_file(doc)]}, handle_file("https://example.com/x.png"), 3]
    prepared = prepare_inputs(data, {str(doc): "/tmp/gradio/abc/doc.txt"}, CAPS_6)
    assert prepared == [
        {"text": "t", "files": [{"path": "/tmp/gradio/abc/doc.txt", "orig_name": "doc.txt", "meta": META}]},
        # the server downloads a URL itself; the "url" key is not sent
        {"path": "https://example.com/x.png", "orig_name": "x.png", "meta": META},
        3,
    ]
    assert data[0]["files"][0]["path"] == str(doc)  # the caller's value is untouched


def test_servers_before_file_meta_get_no_meta(doc: Path) -> None:
    prepared = prepare_inputs([handle_file(doc)], {str(doc): "/srv/doc.txt"}, CAPS_4_17)
    assert prepared == [{"path": "/srv/doc.txt", "orig_name": "doc.txt"}]


@pytest.mark.parametrize(
    "name, expected",
    [("a<b>:c.txt", "abc.txt"), ("CON.txt", "_CON.txt"), ("x\ny.txt", "xy.txt"), ("$HOME{1}!.sh", "HOME1.sh")],
)
def test_upload_names_are_sanitised_like_gradio_client(name: str, expected: str) -> None:
    assert sanitize_upload_name(name) == expected


# -- outputs --------------------------------------------------------------------------------


def test_outputs_are_files_by_meta_where_the_server_sends_it() -> None:
    marked = {"path": "/tmp/x", "meta": META}
    unmarked = {"path": "/tmp/x"}
    assert is_file_output(marked, CAPS_6) and not is_file_output(unmarked, CAPS_6)
    assert is_file_output(unmarked, CAPS_4_17)
    assert not is_file_output({"path": 3}, CAPS_4_17)


def test_map_files_replaces_nested_files_and_copies_containers() -> None:
    value = ({"image": {"path": "/a", "meta": META}, "caption": "c"}, [{"path": "/b", "meta": META}], "text")
    mapped = map_files(value, lambda v: is_file_output(v, CAPS_6), lambda f: "local" + f["path"])
    assert mapped == ({"image": "local/a", "caption": "c"}, ["local/b"], "text")
    assert value[0]["image"] == {"path": "/a", "meta": META}


def test_download_url_goes_through_the_apps_file_route() -> None:
    assert download_url({"path": "/tmp/gradio/a b/r.txt", "url": "http://elsewhere/x"}, API) == (
        API + "file=/tmp/gradio/a%20b/r.txt"
    )
    # a URL in path is fetched as is (the client strips credentials for other hosts)
    assert download_url({"path": "https://cdn.example/r.txt"}, API) == "https://cdn.example/r.txt"
    assert download_url({"path": "/s", "url": "/gradio_api/stream/s/p.m3u8", "is_stream": True}, API) == (
        "http://127.0.0.1:7860/gradio_api/stream/s/p.m3u8"
    )
    assert download_url({"url": "http://h/f"}, API) == "http://h/f"
    assert download_url({"path": ""}, API) is None


@pytest.mark.parametrize(
    "file, expected",
    [
        ({"path": "/tmp/gradio/abc/result.txt", "orig_name": "other.txt"}, "result.txt"),
        ({"path": "/tmp/gradio/abc/..\\..\\evil.txt"}, "evil.txt"),
        ({"path": "http://h/dir/", "orig_name": "../../evil.txt"}, "evil.txt"),
        ({"path": "http://h/a/..%2F..%2Fevil.txt"}, "evil.txt"),
        ({"path": "http://h/"}, "file"),
    ],
)
def test_download_names_are_the_servers_basename_made_safe(file: dict, expected: str) -> None:
    assert download_name(file) == expected


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        ("/", "file"),
        ("C:\\Windows\\x.dll", "x.dll"),
        ("a\x00b", "a_b"),
        ("nul.txt", "_nul.txt"),
        ("report. ", "report"),
        ("..hidden", "..hidden"),
        ("é" * 300 + ".txt", "é" * 98 + ".txt"),
    ],
)
def test_safe_file_name_examples(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


@settings(max_examples=500)
@given(st.text())
def test_any_server_supplied_name_stays_inside_the_folder(name: str) -> None:
    safe = safe_file_name(name)
    assert safe and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert len(safe.encode("utf-8")) <= 200
    folder = "/downloads/abc"
    joined = os.path.normpath(os.path.join(folder, safe))
    assert os.path.dirname(joined) == folder
    assert safe_file_name(safe) == safe  # already safe names are kept


@pytest.mark.parametrize(
    ("url", "api_url", "own"),
    [
        ("http://h:7860/gradio_api/file=/tmp/a.png", "http://h:7860/gradio_api/", True),
        ("http://h:7860/gradio_api/file/x/a.png", "http://h:7860/gradio_api/", True),
        ("http://h:7860/gradio_api/proxy=https://x/a.png", "http://h:7860/gradio_api/", True),
        ("http://h:7860/file=/tmp/a.png", "http://h:7860/", True),  # 3.x and 4.x: no prefix
        ("http://h:7860/file=/tmp/a.png", "http://h:7860/gradio_api/", False),  # outside the API
        ("http://h:7861/gradio_api/file=/tmp/a.png", "http://h:7860/gradio_api/", False),  # another port
        ("https://h:7860/gradio_api/file=/tmp/a.png", "http://h:7860/gradio_api/", False),  # another scheme
        ("http://other/gradio_api/file=/tmp/a.png", "http://h/gradio_api/", False),
        ("http://h/gradio_api/upload", "http://h/gradio_api/", False),  # not a file route
        ("/tmp/a.png", "http://h/gradio_api/", False),
    ],
)
def test_app_file_urls_are_the_apps_own_file_routes(url: str, api_url: str, own: bool) -> None:
    assert files.is_app_file_url(url, api_url) is own


def test_app_file_inputs_are_listed_once_with_a_safe_name() -> None:
    own = "http://h/gradio_api/file=/tmp/x/lion%20cub.jpg"
    data = [files.handle_file(own), {"nested": files.handle_file(own)}, files.handle_file("http://elsewhere/b.jpg")]
    listed = files.app_file_inputs(data, "http://h/gradio_api/")
    assert [(f.path, f.name) for f in listed] == [(own, "lion cub.jpg")]
    prepared = files.prepare_inputs(data, {own: "/srv/cache/abc/lion cub.jpg"}, CAPS_6)
    assert prepared[0]["path"] == "/srv/cache/abc/lion cub.jpg" and prepared[2]["path"] == "http://elsewhere/b.jpg"
