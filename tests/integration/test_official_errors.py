"""The official client's errors, against real servers: the same types and the same words.

For each server generation, ``tests/apps/errors_app.py`` runs (with a copy of it behind a
login that shows its exceptions). ``errors_probe.py`` makes the same failing calls twice,
with only the import changed: once with the official ``gradio_client`` 2.7.2 (the 6.31.0
venv's, in a subprocess), once with gradio-jobs (sync ``Client``, and ``AsyncClient``).
gradio-jobs' error must be an instance of every builtin and httpx class the official one is
(and of the gradio-jobs class of the case), and its message must start with the official
message: our detail comes after it.

The official client cannot call a 3.x app (its ``ws`` queue): there, gradio-jobs is compared
with what the official client raised for the same call on gradio 6.31.0 (URLs aside).

Two differences are deliberate (README, "Moving from gradio_client"): 4.x sends a
``gr.Error`` message quoted (``"'bad input: x'"``), which gradio-jobs unquotes; and where
``/info`` names no parameters (gradio 4.21 and older) the official client calls them
``argument 0``, ``argument 1`` and refuses keyword arguments, while gradio-jobs names them
after their components' labels and takes them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import GradioServer, free_port, missing_venv_reason, venv_exists, venv_python

pytestmark = pytest.mark.server

PROBE = Path(__file__).with_name("errors_probe.py")
#: The official client runs from this server venv (its gradio pins gradio_client 2.7.2).
OFFICIAL_VENV = "6.31.0"
#: The generation whose official answers stand in where the official client cannot call the app.
REFERENCE = "6.31.0"
USER, PASSWORD = "ada", "lovelace"
LIMIT = 1024  # errors_app's --max-file-size
PROBE_TIMEOUT = 240

CASES = [
    "missing_argument",
    "unknown_keyword",
    "keyword_already_positional",
    "unknown_api_name",
    "unknown_fn_index",
    "no_endpoint_named",
    "app_error",
    "hidden_error",
    "shown_error",
    "too_large_file",
    "file_refused",
    "missing_input_file",
    "unreachable",
    "login_required",
    "wrong_password",
]

#: The gradio-jobs class each case raises (beyond what the official one is).
OURS = {
    "missing_argument": "gradio_jobs._exceptions.ArgumentError",
    "unknown_keyword": "gradio_jobs._exceptions.ArgumentError",
    "keyword_already_positional": "gradio_jobs._exceptions.ArgumentError",
    "unknown_api_name": "gradio_jobs._exceptions.EndpointNotFoundError",
    "unknown_fn_index": "gradio_jobs._exceptions.EndpointNotFoundError",
    "no_endpoint_named": "gradio_jobs._exceptions.EndpointNotFoundError",
    "app_error": "gradio_jobs._exceptions.AppError",
    "hidden_error": "gradio_jobs._exceptions.AppError",
    "shown_error": "gradio_jobs._exceptions.AppError",
    "too_large_file": "gradio_jobs._exceptions.FileTooLargeError",
    "file_refused": "gradio_jobs.transport.errors.FileAccessError",
    "missing_input_file": "gradio_jobs._exceptions.InputFileError",
    "unreachable": "gradio_jobs._exceptions.ServerUnreachableError",
    "login_required": "gradio_jobs._exceptions.AuthenticationError",
    "wrong_password": "gradio_jobs._exceptions.AuthenticationError",
}

#: The official client's own classes, by the gradio-jobs class that stands for each.
OFFICIAL_CLASSES = {
    "gradio_client.exceptions.AppError": "gradio_jobs._exceptions.AppError",
    "gradio_client.exceptions.AuthenticationError": "gradio_jobs._exceptions.AuthenticationError",
    "gradio_client.exceptions.ValidationError": "gradio_jobs._exceptions.ValidationError",
    "gradio_client.utils.QueueError": "gradio_jobs._exceptions.QueueFullError",
    "gradio_client.utils.TooManyRequestsError": "gradio_jobs._exceptions.TooManyRequestsError",
}


@dataclass
class Answers:
    """One generation's errors_app, and what each client raised for each case."""

    server: GradioServer
    copy_url: str
    has_upload_limit: bool
    #: Whether the official answers come from a server whose ``/info`` names the parameters
    #: (gradio 4.22 and later).
    has_parameter_names: bool
    ours: dict[str, Any] = field(default_factory=dict)
    ours_async: dict[str, Any] = field(default_factory=dict)
    official: dict[str, Any] = field(default_factory=dict)
    official_is_reference: bool = False

    def normalize(self, text: str) -> str:
        """``text`` with this generation's addresses replaced by placeholders."""
        return (
            text.replace(self.server.api_url, "<api>/")
            .replace(self.server.url, "<app>/")
            .replace(self.copy_url, "<secured>/")
        )


def _probe(python: Path | str, module: str, answers: Answers, files: dict[str, str], *, is_async: bool = False):
    args = {
        "module": module,
        "async": is_async,
        "url": answers.server.url,
        "copy_url": answers.copy_url,
        "user": USER,
        "password": PASSWORD,
        **files,
    }
    done = subprocess.run(
        [str(python), str(PROBE), json.dumps(args)], capture_output=True, text=True, timeout=PROBE_TIMEOUT
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULTS ")]
    assert lines, f"the {module} probe printed no results (exit {done.returncode}):\n{done.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULTS "):])


class AllAnswers:
    """Starts each generation's app on first use and asks both clients; stops them at the end."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self._answers: dict[str, Answers] = {}

    def get(self, version: str) -> Answers:
        if version in self._answers:
            return self._answers[version]
        for needed in {version, OFFICIAL_VENV}:
            if not venv_exists(needed):
                pytest.skip(missing_venv_reason(needed))
        args = ["--max-file-size", "1kb", "--copy", f"{USER}:{PASSWORD}"]
        server = GradioServer(version, app="errors_app", args=args)
        server.start()
        assert server.workdir is not None
        copy_url = f"http://127.0.0.1:{(server.workdir / 'copy-port').read_text().strip()}/"
        with httpx.Client(timeout=30, trust_env=False) as http:
            config = http.get(server.url + "config").json()
            info = None if version.startswith("3.") else http.get(server.api_url + "info").json()
        # (3.x has no /info, but there the official answers are 6.31.0's, which names them)
        add = info["named_endpoints"]["/add"] if info else {"parameters": [{"parameter_name": "a"}]}
        named = all("parameter_name" in p for p in add["parameters"])
        answers = Answers(server, copy_url, config.get("max_file_size") is not None, named)
        self._answers[version] = answers
        answers.ours = _probe(sys.executable, "gradio_jobs", answers, self.files)
        answers.ours_async = _probe(sys.executable, "gradio_jobs", answers, self.files, is_async=True)
        if version.startswith("3."):
            # The official client cannot call a 3.x app: its answers on the reference stand in.
            reference = self.get(REFERENCE)
            answers.official = {
                case: {**found, "message": reference.normalize(found.get("message", ""))}
                for case, found in reference.official.items()
            }
            answers.official_is_reference = True
        else:
            answers.official = _probe(venv_python(OFFICIAL_VENV), "gradio_client", answers, self.files)
        return answers

    def stop(self) -> None:
        for answers in self._answers.values():
            answers.server.stop()


@pytest.fixture(scope="module")
def all_answers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("official-errors")
    big = folder / "big.bin"
    big.write_bytes(b"x" * (3 * LIMIT))
    files = {
        "big_file": str(big),
        "missing_file": str(folder / "missing.txt"),
        # nothing listens there (it was free a moment ago)
        "closed_url": f"http://127.0.0.1:{free_port()}/",
    }
    found = AllAnswers(files)
    try:
        yield found
    finally:
        found.stop()


def _expected_classes(official_mro: list[str]) -> list[str]:
    """The classes gradio-jobs' error must be, for an official error of ``official_mro``."""
    expected = []
    for name in official_mro:
        if name.startswith(("builtins.", "httpx.")):
            expected.append(name)
        elif name in OFFICIAL_CLASSES:
            expected.append(OFFICIAL_CLASSES[name])
        else:
            raise AssertionError(f"the official client raised {name}, which this test does not map")
    return expected


def _check(case: str, answers: Answers, ours: dict[str, Any]) -> None:
    official = answers.official[case]
    version = answers.server.version
    if case == "too_large_file" and not answers.has_upload_limit:
        assert float(ours["ok"]) == 3 * LIMIT  # no limit on this server: the upload goes through
        pytest.skip(f"gradio {version} has no max_file_size")
    expected = answers.normalize(official.get("message", ""))
    if not answers.has_parameter_names and case == "missing_argument":
        # gradio_client calls the parameter "argument 1" here; gradio-jobs names it after its label
        expected = expected.removesuffix("argument 1") + "b"
    if not answers.has_parameter_names and case == "keyword_already_positional":
        # gradio_client refuses any keyword here; gradio-jobs knows `a` and says what is wrong
        expected = "Parameter `a` is already set as a positional argument."
    if version.startswith("4.") and case == "app_error" and "mro" in official:
        expected = ast.literal_eval(expected)  # 4.x quotes gr.Error messages; gradio-jobs does not
        official = {**official, "message": expected, "attrs": {**official["attrs"], "message": expected}}
    assert "mro" in official, f"gradio_client did not fail: {official}"
    assert "mro" in ours, f"gradio-jobs returned {ours['ok']} where gradio_client raised {official['message']!r}"
    missing = [c for c in [*_expected_classes(official["mro"]), OURS[case]] if c not in ours["mro"]]
    assert missing == [], f"gradio-jobs raised {ours['mro'][0]}, which is not {missing}"
    assert "gradio_jobs._exceptions.GradioJobsError" in ours["mro"]
    assert answers.normalize(ours["message"]).startswith(expected), (
        f"gradio-jobs' message does not start with the official one:\n  official: {expected!r}\n"
        f"  ours:     {answers.normalize(ours['message'])!r}"
    )
    if "gradio_jobs._exceptions.AppError" in ours["mro"]:
        fields = ("title", "message", "duration", "visible", "print_exception")
        assert {f: ours["attrs"].get(f) for f in fields} == {f: official["attrs"].get(f) for f in fields}
        assert str(ours["message"]) == official["message"]  # str(error) is the message alone
        assert ours["attrs"]["hidden"] is (case == "hidden_error")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", CASES)
def test_same_error_as_gradio_client(case: str, generation: str, all_answers: AllAnswers) -> None:
    answers = all_answers.get(generation)
    _check(case, answers, answers.ours[case])


@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", CASES)
def test_same_error_as_gradio_client_async(case: str, generation: str, all_answers: AllAnswers) -> None:
    answers = all_answers.get(generation)
    _check(case, answers, answers.ours_async[case])


@pytest.mark.timeout(600)
def test_the_errors_say_what_happened(generation: str, all_answers: AllAnswers) -> None:
    """Beyond the official words: gradio-jobs' detail and attributes."""
    answers = all_answers.get(generation)
    ours = answers.ours
    assert ours["file_refused"]["attrs"]["status_code"] == 403
    assert "refuses to serve this file" in ours["file_refused"]["message"]
    assert "gradio_jobs._exceptions.ServerError" in ours["file_refused"]["mro"]
    assert "gradio_jobs._exceptions.AuthenticationError" not in ours["file_refused"]["mro"]  # a 401 is one
    assert ours["login_required"]["attrs"]["status_code"] == 401
    assert "auth=(username, password)" in ours["login_required"]["message"]
    assert PASSWORD not in ours["wrong_password"]["message"]  # never echoes the password
    assert "builtins.ConnectionError" in ours["unreachable"]["mro"]
    assert "parameters: a, b" in ours["missing_argument"]["message"]
    assert "valid endpoints: /add, /fail, /crash, /size, /refused" in ours["unknown_api_name"]["message"]
    assert "builtins.FileNotFoundError" in ours["missing_input_file"]["mro"]
    if answers.has_upload_limit:
        assert f"is {3 * LIMIT} bytes" in ours["too_large_file"]["message"]
