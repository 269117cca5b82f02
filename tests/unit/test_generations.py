"""The older generations' protocol logic, on real configs and traffic of 3.50.2 to 4.21.0."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from gradio_jobs import AppError, ProtocolError
from gradio_jobs.protocol import files
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol import requests as rq
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.capabilities import Capabilities, Route
from gradio_jobs.protocol.job import JobState
from scripts.compat_matrix import render, update_readme
from tests.fixtures import captures

SRC = "http://127.0.0.1:7860/"


def legacy_app(version: str):
    return build_app(SRC, captures.config(version), captures.info(version))


@pytest.mark.parametrize(
    "version,protocol,route,diffs,file_meta",
    [
        ("3.50.2", "ws", Route.WEBSOCKET, False, False),
        ("4.8.0", "sse", Route.JOB_STREAM, False, False),
        ("4.16.0", "sse_v1", Route.SESSION_STREAM, False, False),
        ("4.20.1", "sse_v2", Route.SESSION_STREAM, True, False),
        ("4.21.0", "sse_v2.1", Route.SESSION_STREAM, True, True),
    ],
)
def test_each_generation_from_its_config(version, protocol, route, diffs, file_meta) -> None:
    app = legacy_app(version)
    caps = app.capabilities
    assert caps.protocol == protocol and caps.supported and caps.api_prefix == ""
    assert (caps.diff_semantics is not None) == diffs and caps.file_meta == file_meta
    assert not caps.cancel_route and not caps.close_stream and not caps.heartbeat_route
    add, count = app.endpoint("/add"), app.endpoint("/count")
    assert [p.name for p in add.parameters] == ["a", "b"] and count.is_generator
    assert caps.route_for(add) is route and caps.route_for(app.endpoint("/direct")) is Route.DIRECT
    # the cancel button's listener: unnamed, queue=False, cancelling ticks
    canceller = [e for e in app.endpoints if e.cancels]
    assert canceller and canceller[0].cancels == (app.endpoint("/ticks").fn_index,) and not canceller[0].queue
    assert add.bind([1], {"b": 2}) == [1, 2]


def _run(version: str, tag: str, endpoint: str) -> JobState:
    app = legacy_app(version)
    state = JobState(app.endpoint(endpoint), app.capabilities)
    state.submitted()
    state.joined(None)
    for raw in captures.legacy_flow(version, tag):
        state.feed(m.parse_message(raw))
    return state


@pytest.mark.parametrize("version", ["3.50.2", "4.8.0"])
def test_recorded_jobs_of_the_oldest_generations(version) -> None:
    add = _run(version, "add", "/add")
    assert add.done and add.result == 3
    count = _run(version, "count", "/count")
    assert count.outputs == ["1", "2", "3"] and count.result == "3"  # 3.x completes with is_generating true
    fail = _run(version, "fail", "/fail")
    assert isinstance(fail.error, AppError) and fail.error.message == "bad input: oops"  # unquoted
    slow = _run(version, "slow2", "/slow")
    ranks = [e.rank for e in slow.events if type(e).__name__ == "Queued"]
    assert ranks and max(ranks) >= 1
    if version == "4.8.0":
        assert add.job_id  # named by its send_data


def test_request_bodies() -> None:
    app = legacy_app("3.50.2")
    add = app.endpoint("/add")
    assert rq.hash_reply(add, "s") == {"fn_index": 0, "session_hash": "s"}
    assert rq.data_reply(add, [1, 2], "s", None) == {"data": [1, 2], "event_data": None, "fn_index": 0, "session_hash": "s"}
    assert rq.data_reply(add, [1], "s", "e1")["event_id"] == "e1"
    assert rq.predict_body(add, [1, 2], "s")["fn_index"] == 0
    # reset: 3.x by fn_index (never sent: it restarts generators), 4.x before 4.35 by event_id, later none
    assert rq.reset_body(app.capabilities, add, "s", None) == {"fn_index": 0, "session_hash": "s"}
    v4 = legacy_app("4.16.0")
    assert rq.reset_body(v4.capabilities, v4.endpoint("/add"), "s", "e")["event_id"] == "e"
    assert rq.reset_body(v4.capabilities, v4.endpoint("/add"), "s", None) is None
    assert rq.reset_body(Capabilities.from_config({"version": "5.0", "protocol": "sse_v3"}), add, "s", "e") is None


def test_direct_answers_as_messages() -> None:
    [done] = rq.predict_messages(200, {"data": [42], "is_generating": False, "duration": 0.1})
    assert isinstance(done, m.Completed) and done.data == [42] and done.success
    # a generator without the queue answers its first value only: that is the result
    [first] = rq.predict_messages(200, {"data": [1], "is_generating": True})
    assert isinstance(first, m.Completed) and first.data == [1]
    [error] = rq.predict_messages(500, {"error": "'bad'", "title": "Oops"})
    assert isinstance(error, m.Completed) and not error.success and error.error["error"] == "'bad'" and error.title == "Oops"
    for status, body in [(200, None), (200, {"data": "x"}), (502, "gateway"), (200, [1])]:
        with pytest.raises(ProtocolError):
            rq.predict_messages(status, body)


def test_3x_file_values() -> None:
    caps = legacy_app("3.50.2").capabilities
    assert caps.legacy_files
    sent = files.uploaded_file("/tmp/gradio/abc/in.txt", "in.txt", caps)
    assert sent == {"name": "/tmp/gradio/abc/in.txt", "data": None, "is_file": True, "orig_name": "in.txt"}
    url = files.url_file({"path": "https://x.org/a.png", "orig_name": "a.png"}, caps)
    assert url["name"] == "https://x.org/a.png" and url["is_file"]
    output = {"orig_name": "result.txt", "name": "/tmp/x/result.txt", "size": 8, "data": None, "is_file": True}
    assert files.is_file_output(output, caps)
    assert not files.is_file_output({"path": "/tmp/x"}, caps) and not files.is_file_output("x", caps)
    assert files.download_url(output, SRC) == SRC + "file=/tmp/x/result.txt"
    assert files.download_name(output) == "result.txt"


@given(st.text(min_size=1))
def test_3x_output_names_stay_in_the_folder(name) -> None:
    saved = files.download_name({"name": name, "is_file": True, "data": None})
    assert "/" not in saved and "\\" not in saved and saved not in (".", "..") and saved


def test_matrix_is_rendered_from_results() -> None:
    results = {
        "3.50.2": {"protocol": {"result": "passed", "text": "ws"}, "cancel queued": {"result": "passed", "text": "dequeued"}},
        "6.31.0": {"protocol": {"result": "passed", "text": "sse_v3"}, "files": {"result": "failed", "text": "fails"}},
    }
    table = render(results)
    rows = table.splitlines()
    assert rows[0].startswith("| gradio | protocol | calculator")
    assert rows[2].startswith("| 6.31.0 | sse_v3 |") and "**fails**" in rows[2]
    assert rows[3].startswith("| 3.50.2 | ws |") and "dequeued" in rows[3] and "not run" in rows[3]
    readme = "intro\n<!-- compat-matrix:start -->\nold\n<!-- compat-matrix:end -->\nrest"
    assert update_readme(readme, table) == f"intro\n<!-- compat-matrix:start -->\n{table}\n<!-- compat-matrix:end -->\nrest"
    json.dumps(results)
