"""Every Python code block in README.md and docs/ runs (issue 15), found by pytest-examples.

One test per block, named ``<file>:<first line>-<last line>``. Each block:

* is checked for syntax and names: ruff (pyflakes' undefined names, syntax errors;
  unused imports are fine) and every ``from gradio_jobs... import X`` /
  ``gradio_jobs.X`` it names must exist;
* unless its fence says ``test="skip"``, runs against a real local app (gradio 6.31.0):
  the bundled demo app, or ``tests/apps/<name>.py`` when the fence says ``app="<name>"``
  (started with the command-line arguments of ``args="..."``, if given).
  ``127.0.0.1:7860`` in the block is that app's real address. Each app starts once per
  session. The block runs in a fresh process (forked from a server that has imported
  gradio_jobs once: tests/docs/examples_support.py), in a temporary working directory, and
  must end as a script would: no non-daemon thread left running, ``atexit`` handlers
  done, within its timeout (``timeout="<seconds>"`` in the fence, 60 s by default). A
  ``test="skip"`` block is reported as skipped after the checks above;
* when it shows output (``#>`` print comments, pytest-examples' format), the output of
  its ``print`` calls must match. ``pytest tests/docs/test_examples.py --update-examples``
  rewrites the ``#>`` comments from a real run (for every block that runs).
"""

from __future__ import annotations

import ast
import importlib
import json
import multiprocessing
import multiprocessing.context
import os
import re
import shlex
import threading
from dataclasses import asdict
from pathlib import Path
from textwrap import indent

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples
from pytest_examples.lint import FormatError, code_diff, ruff_check
from pytest_examples.run_code import comment_prefix_re

from tests.docs import examples_support
from tests.servers import REPO_ROOT, GradioServer, app_path, missing_venv_reason, start_many, venv_exists

DOCS_VERSION = "6.31.0"
DEMO_APP = REPO_ROOT / "src" / "gradio_jobs" / "cli" / "demo_apps.py"
PLACEHOLDER = "127.0.0.1:7860"
DEFAULT_TIMEOUT = 60.0
#: pyflakes and syntax errors only; what documentation may do freely is ignored.
RUFF_IGNORE = [
    "F401",  # an unused import (examples import what the reader will use)
    "F841",  # an unused variable (`job = client.submit(...)` to show the name)
    "E402",  # an import after code
    "E731",  # a lambda bound to a name
    "E741",  # an ambiguous variable name
]
#: ruff's own settings only (not this repo's), and its classic default rules (newer ruffs add isort).
RUFF_ARGS = ("--isolated", "--select=E4,E7,E9,F")
KNOWN_SETTINGS = {"test", "app", "args", "timeout"}

EXAMPLES = list(find_examples(REPO_ROOT / "README.md", REPO_ROOT / "docs"))


def _example_id(example: CodeExample) -> str:
    return f"{example.path.relative_to(REPO_ROOT)}:{example.start_line}-{example.end_line}"


# ---------------------------------------------------------------- the apps


class _Apps:
    """The apps the examples need, each started once, all stopped at the end.

    ``start_all`` starts the apps of the selected examples together (their start-up is
    mostly imports, so it overlaps); ``url`` starts one that is still missing.
    """

    def __init__(self) -> None:
        self._servers: dict[tuple[str, str], GradioServer] = {}
        self._failed: dict[tuple[str, str], BaseException] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _server(key: tuple[str, str]) -> GradioServer:
        app, args = key
        app_file = DEMO_APP if app == "demo" else app_path(app)
        if not app_file.exists():
            pytest.fail(f'app="{app}": no such app {app_file}', pytrace=False)
        return GradioServer(DOCS_VERSION, app=str(app_file), args=shlex.split(args))

    def start_all(self, keys: set[tuple[str, str]]) -> None:
        if not venv_exists(DOCS_VERSION):
            return
        keys = {k for k in keys if k not in self._servers and (k[0] == "demo" or app_path(k[0]).exists())}
        servers = [self._server(k) for k in sorted(keys)]
        for key, srv, res in zip(sorted(keys), servers, start_many(servers, return_exceptions=True), strict=True):
            if isinstance(res, BaseException):
                self._failed[key] = res
            else:
                self._servers[key] = srv

    def url(self, app: str | None, args: str = "") -> str:
        key = (app or "demo", args)
        with self._lock:
            if key in self._failed:
                raise self._failed[key]
            srv = self._servers.get(key)
            if srv is None:
                if not venv_exists(DOCS_VERSION):
                    pytest.skip(missing_venv_reason(DOCS_VERSION))
                srv = self._server(key)
                self._servers[key] = srv
                srv.start()
            return srv.url

    def stop(self) -> None:
        for srv in self._servers.values():
            srv.stop()


def _app_key(example: CodeExample) -> tuple[str, str] | None:
    settings = example.prefix_settings()
    if settings.get("test") == "skip":
        return None
    return (settings.get("app", "demo"), settings.get("args", ""))


@pytest.fixture(scope="module")
def apps(request: pytest.FixtureRequest):
    a = _Apps()
    selected = [
        item.callspec.params["example"]
        for item in request.session.items
        if getattr(item, "callspec", None) is not None and isinstance(item.callspec.params.get("example"), CodeExample)
    ]
    a.start_all({key for key in map(_app_key, selected) if key is not None})
    yield a
    a.stop()


# ---------------------------------------------------------------- the checks


def _settings(example: CodeExample) -> dict[str, str]:
    """The fence's settings, checked: ```` ```python test="skip" app="files_app" ```` ."""
    language = example.prefix.split(maxsplit=1)[0] if example.prefix.strip() else ""
    if language not in ("python", "py"):
        pytest.fail(f"a ```{language} block: write ```python (a script that runs), or ```text", pytrace=False)
    settings = example.prefix_settings()
    unknown = set(settings) - KNOWN_SETTINGS
    if unknown:
        pytest.fail(f"unknown fence setting(s) {sorted(unknown)}; known: {sorted(KNOWN_SETTINGS)}", pytrace=False)
    if settings.get("test", "run") not in ("run", "skip"):
        pytest.fail(f'test="{settings["test"]}": use test="skip" or nothing', pytrace=False)
    return settings


def _check_syntax_and_names(eval_example: EvalExample, example: CodeExample) -> None:
    """Syntax, undefined names (ruff), and that every gradio_jobs name imported exists."""
    try:
        ruff_check(example, eval_example.config, extra_ruff_args=RUFF_ARGS)
        lint_error = None
    except FormatError as exc:
        lint_error = str(exc)
    if lint_error:
        # point ruff's `-:LINE:COL` (stdin) at the Markdown file's line
        lint_error = re.sub(
            r"-:(\d+):(\d+)", lambda m: f"{example.path}:{int(m[1]) + example.start_line}:{m[2]}", lint_error
        )
        pytest.fail(lint_error, pytrace=False)
    tree = ast.parse(example.source, filename=str(example.path))
    missing: list[str] = []
    aliases: dict[str, str] = {}  # name bound by `import gradio_jobs[.x] [as y]` -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gradio_jobs":
            mod = _import(node.module, missing, node.lineno + example.start_line)
            if mod is None:
                continue
            for alias in node.names:
                if alias.name != "*" and not _has(mod, alias.name):
                    missing.append(f"line {node.lineno + example.start_line}: {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "gradio_jobs":
                    _import(alias.name, missing, node.lineno + example.start_line)
                    aliases[alias.asname or "gradio_jobs"] = alias.name if alias.asname else "gradio_jobs"
    for node in ast.walk(tree):
        # gradio_jobs.X (and gj.X after `import gradio_jobs as gj`)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            mod = _import(aliases[node.value.id], [], 0)
            if mod is not None and not _has(mod, node.attr):
                missing.append(f"line {node.lineno + example.start_line}: {aliases[node.value.id]}.{node.attr}")
    if missing:
        pytest.fail("names that gradio_jobs does not have:\n  " + "\n  ".join(missing), pytrace=False)


def _import(name: str, missing: list[str], line: int):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing.append(f"line {line}: import {name} ({exc})")
        return None


def _has(mod, name: str) -> bool:
    if hasattr(mod, name):
        return True
    try:  # a submodule not imported by its package
        importlib.import_module(f"{mod.__name__}.{name}")
    except ImportError:
        return False
    return True


def _shows_output(example: CodeExample) -> bool:
    """Has ``#>`` print comments, or pytest-examples' triple-quoted form of a long output."""
    long_output = re.search(r"^ *print\(.*\n *\"\"\"$", example.source, re.M)
    return bool(comment_prefix_re.search(example.source)) or bool(long_output)


@pytest.fixture(scope="module")
def fork_server() -> multiprocessing.context.ForkServerContext:
    """Starts each example's process from a server that has imported gradio_jobs & co. once."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(examples_support.PRELOAD)
    return ctx


def _run_in_own_process(
    ctx: multiprocessing.context.ForkServerContext,
    eval_example: EvalExample,
    example: CodeExample,
    url: str,
    mode: str,
    timeout: float,
    tmp_path: Path,
    thread_grace: float = examples_support.THREAD_GRACE,
) -> tuple[str | None, str]:
    """Run ``example`` with ``127.0.0.1:7860`` pointing at ``url``; (new source or None, its output).

    Fails the test (``pytest.fail``) when the example raises, leaves a non-daemon thread
    running ``thread_grace`` seconds after its last line, or does not end within ``timeout``.
    """
    real = url.removeprefix("http://").rstrip("/")
    workdir = tmp_path / "cwd"
    workdir.mkdir(parents=True)
    no_proxy = ",".join([h for h in os.environ.get("NO_PROXY", "").split(",") if h] + ["127.0.0.1", "localhost"])
    request = {
        "source": example.source.replace(PLACEHOLDER, real),
        "path": str(example.path),
        "start_line": example.start_line,
        "prefix": example.prefix,
        "config": asdict(eval_example.config),
        "mode": mode,
        "python_file": str(tmp_path / f"{example.module_name}.py"),
        "cwd": str(workdir),
        "thread_grace": thread_grace,
        "env": {"NO_PROXY": no_proxy, "no_proxy": no_proxy, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"},
    }
    res_file, out_file = tmp_path / "result.json", tmp_path / "output.txt"
    proc = ctx.Process(target=examples_support.run_example, args=(request, str(res_file), str(out_file)))
    proc.start()
    proc.join(timeout)
    timed_out = proc.is_alive()
    if timed_out:
        proc.kill()
        proc.join()
    output = out_file.read_text(errors="replace") if out_file.exists() else ""
    shown = indent(output, "  ")
    if not res_file.exists():
        if timed_out:
            pytest.fail(f"the example did not finish within {timeout:g} s\noutput:\n{shown}", pytrace=False)
        pytest.fail(f"the example's process exited ({proc.exitcode}) without a result:\n{shown}", pytrace=False)
    result = json.loads(res_file.read_text())
    if result["threads"]:
        pytest.fail(
            f"the example left threads running, so a script of it would not end: {result['threads']}\noutput:\n{shown}",
            pytrace=False,
        )
    if result["error"]:
        pytest.fail(f"the example raised:\n{indent(result['error'], '  ')}\noutput:\n{shown}", pytrace=False)
    if timed_out or not result["exited"]:
        pytest.fail(
            f"the example ran, but its process did not end within {timeout:g} s (an atexit handler?)\noutput:\n{shown}",
            pytrace=False,
        )
    if proc.exitcode != 0:
        pytest.fail(f"the example's process exited with {proc.exitcode}:\n{shown}", pytrace=False)
    new_source = result["new_source"]
    if new_source is not None:
        new_source = new_source.replace(real, PLACEHOLDER)
        if new_source == example.source:
            new_source = None
    return new_source, output


# The first test also starts the apps (all at once; tens of seconds on a busy machine), and each
# example has its own timeout (DEFAULT_TIMEOUT, or the fence's): the suite's 120 s is too tight.
@pytest.mark.timeout(300)
@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_example(
    example: CodeExample,
    eval_example: EvalExample,
    apps: _Apps,
    fork_server: multiprocessing.context.ForkServerContext,
    tmp_path: Path,
) -> None:
    settings = _settings(example)
    eval_example.set_config(line_length=120, target_version="py310", ruff_ignore=RUFF_IGNORE)
    _check_syntax_and_names(eval_example, example)
    if settings.get("test") == "skip":
        pytest.skip('test="skip": its syntax and names were checked; it does not run here')
    url = apps.url(settings.get("app"), settings.get("args", ""))
    timeout = float(settings.get("timeout", DEFAULT_TIMEOUT))
    if eval_example.update_examples:
        new_source, _ = _run_in_own_process(fork_server, eval_example, example, url, "update", timeout, tmp_path)
        if new_source is not None:
            example.source = new_source
            eval_example.to_update.append(example)
        return
    mode = "check" if _shows_output(example) else "run"
    new_source, _ = _run_in_own_process(fork_server, eval_example, example, url, mode, timeout, tmp_path)
    if new_source is not None:
        diff = code_diff(example, new_source, eval_example.config)
        pytest.fail(
            f"the printed output differs from the #> comments (--update-examples rewrites them):\n{indent(diff, '  ')}",
            pytrace=False,
        )


# ---------------------------------------------------------------- the harness itself


def _snippet(source: str) -> CodeExample:
    return CodeExample.create(source, path=REPO_ROOT / "docs" / "snippet.md", start_line=10, prefix="python")


FAKE_URL = "http://127.0.0.1:5555/"  # never connected to: these snippets only print


def test_harness_sees_wrong_output(eval_example: EvalExample, fork_server, tmp_path: Path) -> None:
    """A ``#>`` comment that the print does not produce is reported; the right one passes."""
    wrong, _ = _run_in_own_process(
        fork_server, eval_example, _snippet("print(1 + 1)\n#> 3\n"), FAKE_URL, "check", 30, tmp_path / "a"
    )
    assert wrong == "print(1 + 1)\n#> 2\n"
    right, _ = _run_in_own_process(
        fork_server, eval_example, _snippet("print(1 + 1)\n#> 2\n"), FAKE_URL, "check", 30, tmp_path / "b"
    )
    assert right is None


def test_harness_maps_the_address_both_ways(eval_example: EvalExample, fork_server, tmp_path: Path) -> None:
    """The example sees the app's real address; its output is compared with the placeholder's."""
    source = 'url = "http://127.0.0.1:7860/"\nprint(url)\n#> http://127.0.0.1:7860/\n'
    example = _snippet(source + 'print(url.endswith(":5555/"))\n#> True\n')
    new_source, _ = _run_in_own_process(fork_server, eval_example, example, FAKE_URL, "check", 30, tmp_path)
    assert new_source is None


def test_harness_fails_an_error_with_the_markdown_line(eval_example: EvalExample, fork_server, tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r'(?s)snippet\.md", line 12.*ZeroDivisionError'):
        _run_in_own_process(fork_server, eval_example, _snippet("x = 1\n1 / 0\n"), FAKE_URL, "run", 30, tmp_path)


def test_harness_fails_a_script_that_would_not_end(eval_example: EvalExample, fork_server, tmp_path: Path) -> None:
    source = "import threading\nimport time\n\nthreading.Thread(target=time.sleep, args=(60,), name='stuck').start()\n"
    with pytest.raises(pytest.fail.Exception, match=r"left threads running.*stuck"):
        _run_in_own_process(
            fork_server, eval_example, _snippet(source), FAKE_URL, "run", 30, tmp_path, thread_grace=0.5
        )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("from gradio_jobs import Client, NoSuchThing\n", "gradio_jobs.NoSuchThing"),
        ("import gradio_jobs\n\ngradio_jobs.NoSuchThing\n", "gradio_jobs.NoSuchThing"),
        ("from gradio_jobs.nosuchmodule import Client\n", "import gradio_jobs.nosuchmodule"),
        ("from gradio_jobs import Client\n\nClient(undefined_name)\n", "F821"),
        ("def broken(:\n", "SyntaxError|invalid-syntax|Expected"),
    ],
)
def test_harness_checks_names_and_syntax(eval_example: EvalExample, source: str, message: str) -> None:
    """What even a test="skip" block gets: missing gradio_jobs names, undefined names, bad syntax."""
    eval_example.set_config(line_length=120, target_version="py310", ruff_ignore=RUFF_IGNORE)
    with pytest.raises(pytest.fail.Exception, match=message):
        _check_syntax_and_names(eval_example, _snippet(source))
    fine = "from gradio_jobs import Client, events\nimport gradio_jobs\n\ngradio_jobs.Job\n"
    _check_syntax_and_names(eval_example, _snippet(fine))
