"""Support for tests/docs/test_examples.py: run one documentation example in a process of its own.

``run_example`` is the target of a ``multiprocessing`` process started through a fork server
that has already imported gradio_jobs, httpx and pytest-examples (``PRELOAD``): each example
gets a fresh process (fresh globals, nothing shared with other examples) without paying for
those imports each time. In that process, in a temporary working directory, it runs the example
as ``__main__`` through pytest-examples' own ``run_code`` (so ``print`` calls are recorded
against their lines, as ``run_print_check`` does), then ends as a script would: it waits for the
example's non-daemon threads and runs the ``atexit`` handlers. It writes its result (JSON) for
the test: the example's source with its ``#>`` print comments recomputed (``None`` when they
already match), or the error, with a traceback whose lines point into the Markdown file, and the
threads that would have kept a script of it from ending. The example's own stdout and stderr go
to a file. The test kills the process when it outlives its timeout.

Modes: ``"run"`` (print is not mocked), ``"check"`` / ``"update"`` (print is recorded and
the ``#>`` comments computed; the test compares or rewrites them).
"""

from __future__ import annotations

import atexit
import json
import linecache
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

#: Imported once by the fork server, so that each example's process starts with them loaded.
PRELOAD = ["tests.docs.examples_support", "pytest_examples.run_code", "gradio_jobs", "httpx", "rich"]

#: How long the example's own non-daemon threads get to finish after its last line.
THREAD_GRACE = 10.0


def _format_error(exc: BaseException, example_path: str) -> str:
    """The traceback, by hand: pytest-examples' rewritten frames (lines in the Markdown file)
    lack the code positions that ``traceback.format_exception`` needs on Python 3.11+."""
    lines = ["Traceback (most recent call last):"]
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != example_path:  # this runner's own frames
        tb = tb.tb_next
    tb = tb or exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}')
        text = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        if text:
            lines.append(f"    {text}")
        tb = tb.tb_next
    lines.extend(line.rstrip("\n") for line in traceback.format_exception_only(type(exc), exc))
    return "\n".join(lines) + "\n"


def _lingering_threads(grace: float) -> list[str]:
    """Wait (up to ``grace`` seconds) for the non-daemon threads, as the interpreter would at exit."""
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(grace)
    return [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]


def run_example(request: dict[str, Any], result_path: str, output_path: str) -> None:
    """Run the example of ``request`` (see test_examples.py), write the result to ``result_path``."""
    out = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    # As when a reader runs the example as a script: its folder first on sys.path.
    sys.path.insert(0, request["cwd"])

    from pytest_examples.config import ExamplesConfig
    from pytest_examples.find_examples import CodeExample
    from pytest_examples.run_code import run_code

    example = CodeExample.create(
        request["source"],
        path=Path(request["path"]),
        start_line=request["start_line"],
        prefix=request["prefix"],
    )
    mode = request["mode"]
    python_file = Path(request["python_file"])
    python_file.write_text(example.source)
    result: dict[str, Any] = {"new_source": None, "error": None, "threads": [], "exited": False}
    try:
        insert_print, _ = run_code(
            example=example,
            python_file=python_file,
            loader=None,
            config=ExamplesConfig(**request["config"]),
            enable_print_mock=mode in ("check", "update"),
            print_callback=None,
            include_print=None,
            module_globals=None,
            call=None,
        )
        if mode in ("check", "update"):
            result["new_source"] = insert_print.updated_print_statements(example)
    except BaseException as exc:  # reported to the test
        result["error"] = _format_error(exc, str(example.path))
    result["threads"] = _lingering_threads(request.get("thread_grace", THREAD_GRACE))
    Path(result_path).write_text(json.dumps(result))
    if result["threads"]:
        os._exit(3)  # the test fails it; end now rather than wait for them at the timeout
    atexit._run_exitfuncs()  # the interpreter's last step for a script; a hang here is the test's timeout
    result["exited"] = True
    Path(result_path).write_text(json.dumps(result))
    sys.stdout.flush()
    sys.stderr.flush()
