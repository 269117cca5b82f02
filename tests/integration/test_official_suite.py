"""The official client's test suite, as behaviour checks for gradio-jobs.

gradio_client's own tests (``client/python/test/test_client.py`` in the gradio repository)
describe the public behaviour code written for it relies on. Each test there that exercises
public behaviour and is not already checked by another gradio-jobs test has its equivalent
here, written anew (nothing of gradio's is copied), with the import changed to gradio-jobs
(``from gradio_jobs import ...``, ``gradio_jobs.utils``, ``gradio_jobs.exceptions``) and our own
demos (``tests/apps/official_demos.py``: one server process per version serves them all, each
demo on its own port). Where the official test needs a Space on huggingface.co, the Space is a
stand-in Hub (``tests/hub.py``) in front of a local demo. Where the official test compares with
a dict or text it wrote down for its own gradio version, ours compares with what the official
client 2.7.2 (installed in the gradio 6.31.0 server venv) says about the same demo, in a
subprocess.

``tests/official_suite.md`` is the inventory: every official test, and where it is covered,
ported (here, under the same name), or why it is not a target.

Runs on 6.31.0 (the official suite's target), 5.50.0 and 4.44.1: the versions requested of
the whole suite (``GRADIO_JOBS_VERSIONS``).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hub import HubStandIn, hub_behind_hf_endpoint
from official_client import run_official
from servers import SERVER_VERSIONS, GradioServer, missing_venv_reason, requested_versions, venv_exists
from waiting import wait_for_event, wait_until

from gradio_jobs import Client, events, handle_file
from gradio_jobs.exceptions import AuthenticationError
from gradio_jobs.utils import ProgressUnit, Status, StatusUpdate

pytestmark = pytest.mark.server

VERSIONS = requested_versions(SERVER_VERSIONS)
#: The demos the official client describes (``many`` is slow to describe, ``auth`` needs a login).
DESCRIBED = ["main", "group", "accordion", "no_api"]
CHAT_ANSWERS = ["How are you?", "I love you", "I'm very hungry"]
LONG_RESPONSE = "\ta\nb" * 90000
FRENCH = (
    "Bonjour Olivier, tu as l'air bien r\u00e9veill\u00e9 ce matin. "
    "Tu veux que je te pr\u00e9pare tes petits-d\u00e9j.\n"
)
#: Bounds a hang, not a measurement.
TIMEOUT = 60

OFFICIAL_DESCRIBE = r"""
import json, sys
from gradio_client import Client
out = {}
for name, url in json.loads(sys.argv[1]).items():
    client = Client(url, verbose=False)
    out[name] = {
        "src": client.src,
        "dict": client.view_api(return_format="dict", print_info=False),
        "text": client.view_api(return_format="str", print_info=False),
        "endpoints": [[key, e.fn_index, e.api_name, e.is_valid, e.root_url] for key, e in client.endpoints.items()],
    }
    client.close()
print(json.dumps(out))
"""

OFFICIAL_SPACE_HEADERS = r"""
import json, sys
from gradio_client import Client
out = []
for headers in json.loads(sys.argv[1]):
    client = Client("owner/app", token="hf_t", headers=headers, verbose=False)
    out.append(dict(client.headers))
    client.close()
print(json.dumps(out))
"""


class Demos:
    """The demos of one server process (tests/apps/official_demos.py), and what the official
    client says about them (asked once, when first needed)."""

    def __init__(self, server: GradioServer) -> None:
        self.server = server
        assert server.workdir is not None
        self.workdir = server.workdir
        ports = json.loads((server.workdir / "demo-ports.json").read_text())
        self.urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
        self.urls["main"] = server.url
        self._official: dict[str, Any] | None = None
        # /long_response stays silent for 17 s: it runs from the start, checked by the last test
        self.early = Client(server.url, verbose=False)
        self.long_job = self.early.submit(api_name="/long_response")

    @property
    def version(self) -> str:
        return self.server.version

    @property
    def major(self) -> int:
        return self.server.major

    def url(self, name: str = "main") -> str:
        return self.urls[name]

    def official(self, name: str) -> dict[str, Any]:
        if self._official is None:
            self._official = run_official(OFFICIAL_DESCRIBE, json.dumps({n: self.urls[n] for n in DESCRIBED}))
        return self._official[name]

    def close(self) -> None:
        self.early.close()
        self.server.stop()


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"gradio-{v}")
def demos(request) -> Iterator[Demos]:
    if not venv_exists(request.param):
        pytest.skip(missing_venv_reason(request.param))
    found = Demos(GradioServer(request.param, app="official_demos").start())
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def client(demos: Demos) -> Iterator[Client]:
    with Client(demos.url(), verbose=False) as c:
        yield c


@pytest.fixture
def hub(monkeypatch, tmp_path) -> Iterator[HubStandIn]:
    with hub_behind_hf_endpoint(monkeypatch, tmp_path) as h:
        yield h


class Statuses:
    """``on_status``: every status of a job, in order; ``wait_final()`` waits for the last."""

    def __init__(self) -> None:
        self.seen: list[StatusUpdate] = []
        self._final = threading.Event()

    def __call__(self, status: StatusUpdate) -> None:
        self.seen.append(status)
        if status.code in (Status.FINISHED, Status.CANCELLED):
            self._final.set()

    def wait_final(self) -> list[StatusUpdate]:
        assert self._final.wait(TIMEOUT), f"no final status: {[s.code for s in self.seen]}"
        return self.seen


def fn_index_of(client: Client, api_name: str) -> int:
    return next(e.fn_index for e in client.endpoints.values() if e.api_name == api_name)


def output_number(index: int):
    """A job's event for its output number ``index`` (0 the first)."""
    return lambda e: isinstance(e, events.OutputProduced) and e.index >= index


def default_download_folder() -> Path:
    """Where gradio_client puts downloads by default: $GRADIO_TEMP_DIR, else <temp>/gradio."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def text_of(message: dict[str, Any]) -> str:
    """The text of a Chatbot message: a string up to gradio 5, a list of parts from 6 on."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def user_message(major: int, text: str) -> dict[str, Any]:
    content: Any = [{"type": "text", "text": text}] if major >= 6 else text
    return {"role": "user", "content": content}


# ==================================================================== TestClientInitialization


def test_headers_constructed_correctly(demos: Demos, hub: HubStandIn) -> None:
    """A Space client's headers: the token's, then the caller's over them, as gradio_client 2.7.2 builds them."""
    hub.add_space("owner/app", host=demos.url())
    cases: list[dict[str, str] | None] = [None, {"additional": "value"}, {"authorization": "Bearer abcde"}]
    official = run_official(OFFICIAL_SPACE_HEADERS, json.dumps(cases), env={"HF_ENDPOINT": hub.url})
    for headers, theirs in zip(cases, official, strict=True):
        with Client("owner/app", token="hf_t", headers=headers, verbose=False) as client:
            ours = client.headers
        assert theirs["x-hf-authorization"] == "Bearer hf_t"
        expected = {k: v for k, v in theirs.items() if k != "user-agent"}
        assert {k: ours.get(k) for k in expected} == expected
        assert "user-agent" in ours


def test_many_endpoint_demo_loads_quickly(demos: Demos) -> None:
    """2000 endpoints: connecting takes the client well under the official 5 s of its own work."""
    wall, cpu = time.monotonic(), time.process_time()
    with Client(demos.url("many"), verbose=False) as client:
        cpu = time.process_time() - cpu
        wall = time.monotonic() - wall
        assert len(client.endpoints) == 2000
    assert cpu < 5, f"the client spent {cpu:.1f} s of CPU connecting"
    assert wall < TIMEOUT


# ====================================================================== TestClientPredictions


def test_raise_error_invalid_state(demos: Demos, hub: HubStandIn) -> None:
    hub.add_space("owner/paused", host=demos.url(), stage="PAUSED")
    with pytest.raises(ValueError, match="invalid state"):
        Client("owner/paused", verbose=False)


def test_raise_error_max_file_size(demos: Demos, tmp_path: Path) -> None:
    big = tmp_path / "cheetah1.jpg"
    big.write_bytes(os.urandom(20 * 1024))  # over the demo's 15 kB
    small = tmp_path / "alphabet.txt"
    small.write_text("abcdefghijklmnopqrstuvwxyz")
    with Client(demos.url("limited"), verbose=False) as client:
        with pytest.raises(ValueError, match="exceeds the maximum file size"):
            client.predict(handle_file(big), api_name="/upload_1b")
        assert client.predict(handle_file(small), api_name="/upload_1b") == "Upload successful"


def test_numerical_to_label_space(client: Client) -> None:
    """Without api_name on an app of several endpoints: the official words. (The official test's
    third check, that ``api_name="predict"`` asks for the leading slash, is a documented
    difference: gradio-jobs takes the name without it.)"""
    words = "This Gradio app might have multiple endpoints. Please specify an `api_name` or `fn_index`"
    with pytest.raises(ValueError, match=re.escape(words)):
        client.predict(5, "add", 4)
    without_slash = client.predict(5, "add", 4, api_name="calculator")
    assert without_slash == client.predict(5, "add", 4, api_name="/calculator") == 9


def test_numerical_to_label_space_v4(client: Client) -> None:
    label = client.predict("I love the gradio python client", api_name="/classify")
    assert label["label"] == "POSITIVE"
    assert [c["label"] for c in label["confidences"]] == ["POSITIVE", "NEGATIVE", "NEUTRAL"]


def test_state(client: Client) -> None:
    """State carries from call to call, through the queue or not, until reset_session() (the
    demo also has a private endpoint: the named ones work beside it, as in the official
    test_predict_with_space_with_api_name_false)."""
    assert [client.predict(api_name="/increment_without_queue") for _ in range(3)] == [1, 2, 3]
    client.reset_session()
    assert client.predict(api_name="/increment_without_queue") == 1
    assert client.predict(api_name="/increment_with_queue") == 2
    client.reset_session()
    assert client.predict(api_name="/increment_with_queue") == 1
    assert client.predict(api_name="/increment_with_queue") == 2


def test_job_status(client: Client) -> None:
    """Every status of a job comes in order of time and of stage; two jobs at once each get
    their own (the official TestStatusUpdates, without its mocks)."""
    first, second = Statuses(), Statuses()
    job1 = client.submit(5, "add", 4, api_name="/calculator", on_status=first)
    job2 = client.submit(11, "subtract", 1, api_name="/calculator", on_status=second)
    assert job1.result(timeout=TIMEOUT) == 9 and job2.result(timeout=TIMEOUT) == 10
    for statuses in (first.wait_final(), second.wait_final()):
        assert statuses
        assert sorted(s.time for s in statuses) == [s.time for s in statuses]
        assert sorted(s.code for s in statuses) == [s.code for s in statuses]
        assert statuses[-1].code is Status.FINISHED and statuses[-1].success is True
    assert job1.status().code is Status.FINISHED and job2.status().code is Status.FINISHED


def test_intermediate_outputs(client: Client) -> None:
    count = fn_index_of(client, "/count")
    job = client.submit(3, fn_index=count)
    job.result(timeout=TIMEOUT)
    assert job.outputs() == [str(i) for i in range(3)]
    assert list(client.submit(3, fn_index=count)) == [str(i) for i in range(3)]


def test_break_in_loop_if_error(client: Client) -> None:
    """A job that fails: its result raises (the official test_raises_exception). The official
    loop then ends quietly with no output; gradio-jobs' loop raises the error (a documented
    difference), after no output either."""
    job = client.submit("foo", "add", 4, api_name="/calculator")
    outputs = []
    with pytest.raises(ValueError):
        for out in job:
            outputs.append(out)
    assert outputs == [] and job.outputs() == []
    with pytest.raises(ValueError):
        job.result(timeout=TIMEOUT)


def test_job_output_video(demos: Demos, tmp_path: Path) -> None:
    """A video output is downloaded: by default under $GRADIO_TEMP_DIR or <temp>/gradio, else
    to download_files."""
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    video: Any = handle_file(clip) if demos.major >= 6 else {"video": handle_file(clip), "subtitles": None}

    def path_of(result: Any) -> Path:
        return Path(result if isinstance(result, str) else result["video"]).resolve()

    with Client(demos.url(), verbose=False) as client:
        result = path_of(client.submit(video, api_name="/video").result(timeout=TIMEOUT))
    assert result.exists() and default_download_folder() in result.parents
    assert result.read_bytes() == clip.read_bytes()
    folder = tmp_path / "downloads"
    with Client(demos.url(), verbose=False, download_files=str(folder)) as client:
        result = path_of(client.submit(video, api_name="/video").result(timeout=TIMEOUT))
    assert result.exists() and folder.resolve() in result.parents


def test_progress_updates(client: Client) -> None:
    statuses = Statuses()
    job = client.submit("hello", api_name="/progress", on_status=statuses)
    assert job.result(timeout=TIMEOUT) == "hello"
    seen = statuses.wait_final()
    assert any(s.code is Status.PROGRESS for s in seen)
    assert any(s.progress_data is not None for s in seen)
    reported = [p for s in seen if s.progress_data for p in s.progress_data]
    steps = [ProgressUnit(index=i, length=20, unit="steps", progress=None, desc=None) for i in range(20)]
    # the server samples progress every 0.1 s: some steps are reported, maybe not all
    assert sum(step in reported for step in steps) >= 1, reported


def test_upload_and_download_with_auth(demos: Demos, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError):
        Client(demos.url("auth"), verbose=False)
    hello = tmp_path / "hello.txt"
    hello.write_text("Hello file!")
    with Client(demos.url("auth"), auth=("user", "pass"), verbose=False) as client:
        output = client.predict(str(hello), api_name="/echo")  # a text: the path itself comes back
        assert Path(output).read_text() == "Hello file!"
        copy = client.predict(handle_file(hello), api_name="/file_echo")  # a file: up and down, logged in
        assert Path(copy).read_text() == "Hello file!" and Path(copy) != hello


def test_upload_preserves_orig_name(client: Client, tmp_path: Path) -> None:
    """An uploaded file keeps its name on the server. (The official test's second half, a URL
    whose name the client keeps, needs the internet: the server fetches the URL, and gradio 5+
    servers refuse to fetch loopback addresses.)"""
    picture = tmp_path / "cheetah1.jpg"
    picture.write_bytes(b"\xff\xd8\xff" + bytes(64))
    assert client.predict(handle_file(picture), api_name="/upload_name") == "cheetah1.jpg"


def test_cancel_from_client_queued(client: Client) -> None:
    start = time.monotonic()
    job = client.submit(api_name="/long")  # 6 s of sleep, not a generator
    job.cancel()  # at once, while it is still starting
    with pytest.raises(concurrent.futures.CancelledError):
        job.result(timeout=TIMEOUT)
    assert time.monotonic() - start < 6  # the cancel did not wait for the function
    assert job.status().code is Status.CANCELLED

    job = client.submit(api_name="/iterate")  # 20 outputs, 0.5 s apart
    wait_for_event(job, output_number(2), TIMEOUT)
    assert job.status().code is Status.ITERATING
    job.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        job.result(timeout=TIMEOUT)
    assert time.monotonic() - start < 10  # the whole generator would take 10 s
    assert 3 <= len(job.outputs()) < 20
    assert all(o in [0, 1, 2, 3, 4, 5] for o in job.outputs())
    assert job.status().code is Status.CANCELLED


def test_cancel_subsequent_jobs_state_reset(client: Client) -> None:
    word = "abcdefefadsadfs"
    job1 = client.submit(word, api_name="/spell")
    wait_for_event(job1, output_number(1), TIMEOUT)
    job1.cancel()
    assert 0 < len(job1.outputs()) < len(word)
    assert job1.status().code is Status.CANCELLED

    job2 = client.submit("abcd", api_name="/spell")
    assert len(job2.outputs()) == 0
    assert job2.result(timeout=TIMEOUT) == "abc"
    assert job2.status().code is Status.FINISHED
    assert job2.outputs() == ["", "a", "ab", "abc"]  # every step, from scratch


def test_does_not_upload_dir(demos: Demos, client: Client) -> None:
    """Strings in a chat history (an empty one among them, which names the current folder) are
    text, not files to upload."""
    history = [user_message(demos.major, "")]
    message, new_history = client.predict("Hello", history, api_name="/submit")
    assert message == ""
    assert [(m["role"], text_of(m)) for m in new_history] == [
        ("user", ""), ("user", "Hello"), ("assistant", "I love you")
    ]


def test_return_layout_component(demos: Demos) -> None:
    with Client(demos.url("group"), verbose=False) as client:
        assert client.predict("Freddy", api_name="/greeting") == "Hello Freddy"
        assert client.predict(api_name="/show_group") == ()


def test_return_layout_and_state_components(demos: Demos) -> None:
    with Client(demos.url("accordion"), verbose=False) as client:
        assert client.predict("Freddy", api_name="/greeting") == ("Hello Freddy", 1)
        assert client.predict("Abubakar", api_name="/greeting") == ("Hello Abubakar", 2)
        assert client.predict(api_name="/open") == 3
        assert client.predict(api_name="/close") == 4
        assert client.predict("Ali", api_name="/greeting") == ("Hello Ali", 5)


def test_json_parse_error(client: Client) -> None:
    assert client.predict(api_name="/return_bad") == (FRENCH, None)


def test_state_reset_when_session_changes(demos: Demos, client: Client) -> None:
    """After reset_session() the server deletes the old session's state (its delete_callback runs)."""
    value = uuid.uuid4().hex
    assert client.predict(value, api_name="/state") == value
    marker = demos.workdir / f"state-deleted-{value}"
    assert not marker.exists()
    client.reset_session()
    wait_until(marker.exists, TIMEOUT, f"the server to delete the state of the old session ({marker})")


# ================================================================ TestClientPredictionsWithKwargs


def test_no_default_params(client: Client) -> None:
    assert client.predict(num1=3, operation="add", num2=3, api_name="/calculator") == 6
    assert client.predict(33, operation="add", num2=3, api_name="/calculator") == 36


def test_default_params(client: Client) -> None:
    assert client.predict(num2=10, api_name="/calculator_defaults") == 20
    assert client.predict(num2=33, operation="multiply", api_name="/calculator_defaults") == 330


def test_missing_params(client: Client) -> None:
    with pytest.raises(TypeError, match="No value provided for required argument: num2"):
        client.predict(num1=3, operation="add", api_name="/calculator")


def test_chatbot_message_format(demos: Demos, client: Client) -> None:
    _, history = client.predict("hello", [], api_name="/chat")
    assert history[1]["role"] == "assistant" and text_of(history[1]) in CHAT_ANSWERS
    _, history = client.predict("hi", history, api_name="/chat")
    assert history[2]["role"] == "user" and text_of(history[2]) == "hi"
    assert history[3]["role"] == "assistant" and text_of(history[3]) in CHAT_ANSWERS


# ================================================================================ TestAPIInfo


@pytest.mark.parametrize("trailing_char", ["/", ""])
def test_test_endpoint_src(demos: Demos, trailing_char: str) -> None:
    """The app's URL with or without its slash: the same src, and endpoints rooted as the official client roots them."""
    official = demos.official("main")
    with Client(demos.url().rstrip("/") + trailing_char, verbose=False) as client:
        assert client.src == official["src"] == demos.url()
        roots = {e.root_url for e in client.endpoints.values()}
    assert roots == {root for *_, root in official["endpoints"]}


def test_state_does_not_appear(demos: Demos, client: Client) -> None:
    info = client.view_api(return_format="dict", print_info=False)
    assert isinstance(info, dict)
    assert [p["component"] for p in info["named_endpoints"]["/state"]["parameters"]] == ["Textbox"]
    assert info == demos.official("main")["dict"]


def test_private_space(demos: Demos, hub: HubStandIn) -> None:
    """A private Space (given its token) describes itself as the same app reached by its URL."""
    hub.add_space("owner/secret", host=demos.url(), private=True, token="hf_test")
    official = demos.official("main")
    with Client("owner/secret", token="hf_test", verbose=False) as client:
        assert len(client.endpoints) == len(official["endpoints"])
        valid = [e for e in client.endpoints.values() if e.is_valid]
        assert len(valid) == len([e for e in official["endpoints"] if e[3]]) == len(official["endpoints"]) - 1
        assert len([e for e in valid if e.api_name]) == len([e for e in official["endpoints"] if e[3] and e[2]])
        assert client.view_api(return_format="dict", print_info=False) == official["dict"]


def test_api_info_of_local_demo(demos: Demos, client: Client) -> None:
    info = client.view_api(return_format="dict", print_info=False)
    assert info == demos.official("main")["dict"]
    calculator = info["named_endpoints"]["/calculator"]
    parameters = [(p["label"], p["parameter_name"], p["parameter_has_default"], p["component"])
                  for p in calculator["parameters"]]
    assert parameters == [
        ("num1", "num1", False, "Number"), ("operation", "operation", False, "Radio"), ("num2", "num2", False, "Number")
    ]
    assert calculator["parameters"][1]["python_type"]["type"] == "Literal['add', 'subtract', 'multiply', 'divide']"
    assert [(r["label"], r["component"], r["python_type"]["type"]) for r in calculator["returns"]] == [
        ("output", "Number", "float")
    ]
    assert info["unnamed_endpoints"] == {}


def test_unnamed_endpoints_use_fn_index(demos: Demos, client: Client) -> None:
    """Listeners without an api_name are named after their function (/count, /show)."""
    text = client.view_api(return_format="str", print_info=False)
    assert "fn_index" not in text and "api_name" in text
    assert 'api_name="/count"' in text and 'api_name="/show"' in text
    assert text == demos.official("main")["text"]


def test_api_false_endpoints_do_not_appear(demos: Demos) -> None:
    with Client(demos.url("no_api"), verbose=False) as client:
        info = client.view_api(return_format="dict", print_info=False)
    assert len(info["named_endpoints"]) == 0
    assert info == demos.official("no_api")["dict"]


def test_api_false_endpoints_cannot_be_accessed_with_fn_index(client: Client) -> None:
    private = fn_index_of(client, "/increment_without_queue") + 1  # declared right after it
    with pytest.raises(ValueError):
        client.submit(1, fn_index=private)
    with pytest.raises(ValueError):
        client.submit(fn_index=private)


def test_file_io(demos: Demos, client: Client, tmp_path: Path) -> None:
    info = client.view_api(return_format="dict", print_info=False)
    inputs = info["named_endpoints"]["/file_io"]["parameters"]
    outputs = info["named_endpoints"]["/file_io"]["returns"]

    def python_type(item: dict[str, Any]) -> str:
        return str(item["python_type"]["type"]).lower()  # 4.x servers write List[filepath]

    assert inputs[0]["type"]["type"] == "array"
    assert python_type(inputs[0]) == "list[filepath]"
    assert isinstance(inputs[0]["example_input"], list) and isinstance(inputs[0]["example_input"][0], dict)
    assert python_type(inputs[1]) == "filepath" and isinstance(inputs[1]["example_input"], dict)
    assert python_type(outputs[0]) == "list[filepath]" and outputs[0]["type"]["type"] == "array"
    assert python_type(outputs[1]) == "filepath"
    assert info == demos.official("main")["dict"]
    # and the files go up and come back, in their places
    a, b, c = (tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt")
    for f in (a, b, c):
        f.write_text(f.stem * 3)
    many, one = client.predict([handle_file(a), handle_file(b)], handle_file(c), api_name="/file_io")
    assert [Path(p).read_text() for p in many] == ["aaa", "bbb"] and Path(one).read_text() == "ccc"


def test_layout_components_in_output(demos: Demos) -> None:
    with Client(demos.url("group"), verbose=False) as client:
        info = client.view_api(return_format="dict", print_info=False)
    assert info == demos.official("group")["dict"]
    assert set(info["named_endpoints"]) == {"/greeting", "/show_group"} and info["unnamed_endpoints"] == {}
    greeting = info["named_endpoints"]["/greeting"]
    assert [(p["label"], p["component"]) for p in greeting["parameters"]] == [("name", "Textbox")]
    assert [(r["label"], r["component"]) for r in greeting["returns"]] == [("greeting", "Textbox")]
    show_group = info["named_endpoints"]["/show_group"]
    assert (show_group["parameters"], show_group["returns"]) == ([], [])


def test_layout_and_state_components_in_output(demos: Demos) -> None:
    with Client(demos.url("accordion"), verbose=False) as client:
        info = client.view_api(return_format="dict", print_info=False)
    assert info == demos.official("accordion")["dict"]
    named = info["named_endpoints"]
    assert set(named) == {"/greeting", "/open", "/close"} and info["unnamed_endpoints"] == {}
    assert [(p["label"], p["component"]) for p in named["/greeting"]["parameters"]] == [("name", "Textbox")]
    assert [(r["label"], r["component"]) for r in named["/greeting"]["returns"]] == [
        ("greeting", "Textbox"), ("count", "Number")
    ]
    for name in ("/open", "/close"):
        assert named[name]["parameters"] == []
        assert [(r["label"], r["component"]) for r in named[name]["returns"]] == [("count", "Number")]


# ============================================================================== TestEndpoints


def test_upload_file_private_space(demos: Demos, hub: HubStandIn, tmp_path: Path) -> None:
    """Files to and from a private Space: one, and a list."""
    hub.add_space("owner/secret", host=demos.url(), private=True, token="hf_test")
    hello, f1, f2 = tmp_path / "hello.txt", tmp_path / "f1.txt", tmp_path / "f2.txt"
    hello.write_text("Hello from private space!")
    f1.write_text("File1")
    f2.write_text("File2")
    with Client("owner/secret", token="hf_test", verbose=False) as client:
        many, one = client.predict([handle_file(f1), handle_file(f2)], handle_file(hello), api_name="/file_io")
    assert Path(one).read_text() == "Hello from private space!"
    assert [Path(p).read_text() for p in many] == ["File1", "File2"]


def test_download_private_file(demos: Demos, hub: HubStandIn, tmp_path: Path) -> None:
    """A file URL of a private Space, as an input to that Space: the server cannot fetch it (it
    would need the token), so the client fetches it with its credentials and uploads it, as
    gradio_client 2.7.2 does for a private Space's ``/file=`` URLs. (Here the server would have to
    fetch its own loopback address, which gradio 5+ servers refuse; a 4.x server fetches it, so
    there the test does not tell who fetched the file.)"""
    hub.add_space("owner/secret", host=demos.url(), private=True, token="hf_test")
    lion = tmp_path / "lion.jpg"
    lion.write_bytes(b"\xff\xd8\xff" + bytes(64))
    with Client("owner/secret", token="hf_test", verbose=False, download_files=False) as client:
        _, served = client.predict([], handle_file(lion), api_name="/file_io")
        url = served["url"] if isinstance(served, dict) else served.url
        assert url.startswith(demos.url()) and "file" in url
        assert client.predict(handle_file(url), api_name="/upload_name") == "lion.jpg"


def test_the_client_module_names_its_default_download_folder() -> None:
    """The official tests import ``DEFAULT_TEMP_DIR`` from ``gradio_client.client``: the folder
    downloads go to by default."""
    from gradio_jobs.client import DEFAULT_TEMP_DIR  # type: ignore[import-not-found]

    assert Path(DEFAULT_TEMP_DIR).resolve() == default_download_folder()


# ========================================================================== the long response


def test_long_response_time_with_gr_info_and_big_payload(demos: Demos) -> None:
    """17 s with nothing but heartbeats between two gr.Info messages, then 360 kB of text with
    tabs and newlines (submitted when the demos started)."""
    job = demos.long_job
    assert job.result(timeout=TIMEOUT) == LONG_RESPONSE
    logs = [e.log.message for e in job.event_log() if isinstance(e, events.Logged)]
    assert logs == ["Beginning long response", "Done!"]
