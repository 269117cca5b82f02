"""The command line's grammar (argparse), and turning ARGS into Python values."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from .._version import __version__
from ..protocol.files import handle_file
from ._exit import EXIT_CODE_HELP

__all__ = ["UsageError", "build_parser", "parse_argv", "parse_kw", "parse_value"]


class UsageError(Exception):
    """A bad command line that argparse itself cannot see (e.g. ``--kw`` without ``=``)."""


_CALL_EPILOG = """\
each ARG and each --kw value is read as JSON when it parses as JSON (3 -> 3, true -> True,
'[1, 2]' -> a list, '"3"' -> the string "3"), and as a plain string otherwise. @PATH is a file
input (uploaded); write @@text for a string that starts with @.

exit codes:
""" + "\n".join(f"  {int(code):>3}  {text}" for code, text in EXIT_CODE_HELP.items())

_MAP_EPILOG = """\
several SRC: a replica pool; each input goes to the replica where it should finish soonest, a
replica that cannot be reached is taken out (its inputs that had not started go to another) and
probed again, and each output line's "replica" is the URL of the replica that ran it.

progress: a live bar on stderr when it is a terminal (done, failed, rate, ETA, and with several
SRC one line per replica: state, done, failed, in flight, mean run time), else one plain line a
second (with several SRC, one line per replica every few seconds and at the end); a summary on
stdout at the end (with several SRC, one line per replica).

exit codes:
    0  every input succeeded
    1  some inputs failed (their lines say why: "ok": false, "error": {type, message})
    2  bad command line, unreadable input, unknown endpoint, an output of other inputs, or
       replicas whose endpoints differ
    4  the server (with several SRC: every replica) could not be reached
    5  any other client error
  130  interrupted by Ctrl+C (what finished is in the output: run again to go on)
"""

_DISPLAY_HELP = (
    "On a terminal, jobs show a live view (queue position, ETA, progress bars, logs, outputs); "
    "otherwise one plain line per event."
)


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", metavar="SRC", help="the app's URL (http://127.0.0.1:7860/) or a Space id (owner/name)")
    parser.add_argument("--hf-token", metavar="TOKEN", default=None, help="Hugging Face token (private Spaces)")
    parser.add_argument("--auth", metavar="USER:PASSWORD", default=None, help="log in to an app launched with auth=")


def build_parser() -> argparse.ArgumentParser:
    return _build()[0]


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command's parser, and each sub-command's own parser by name."""
    parser = argparse.ArgumentParser(
        prog="gradio-jobs",
        description="Run and watch jobs on Gradio apps. " + _DISPLAY_HELP,
    )
    parser.add_argument("--version", action="version", version=f"gradio-jobs {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser(
        "info",
        help="list the app's endpoints with their parameters, types and defaults",
        description="List the app's endpoints with their parameters, types and defaults.",
    )
    _add_connection_options(info)
    info.add_argument(
        "--json", action="store_true", help="print the description as JSON (with fn_index, generator, visibility)"
    )
    info.add_argument("--all", action="store_true", help="include undocumented endpoints")

    call = commands.add_parser(
        "call",
        help="run one job with a live display and print its result",
        description=textwrap.fill(
            "Run one job on the app's endpoint API_NAME and print its result. " + _DISPLAY_HELP
            + " Ctrl+C cancels the job on the server.",
            width=92,
        ),
        epilog=_CALL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_connection_options(call)
    call.add_argument("api_name", metavar="API_NAME", help="the endpoint, e.g. /predict (the slash is optional)")
    call.add_argument("args", metavar="ARGS", nargs="*", help="positional arguments of the endpoint")
    call.add_argument(
        "--kw", metavar="NAME=VALUE", action="append", default=[], help="a keyword argument (repeatable)"
    )
    call.add_argument(
        "--json", action="store_true",
        help="print only the result, as JSON, on stdout (the live view goes to stderr when it is a terminal)",
    )
    call.add_argument(
        "--timeout", metavar="S", type=_positive_float, default=None,
        help="give up after S seconds: cancel the job on the server and exit 3",
    )
    call.add_argument("--download-dir", metavar="DIR", default=None, help="where file outputs are saved")
    call.add_argument("-q", "--quiet", action="store_true", help="no live view or event lines: only the result")

    demo = commands.add_parser(
        "demo",
        help="start the bundled demo apps on 127.0.0.1 and tour gradio-jobs against them",
        description="Start the bundled demo app (a calculator, a counting generator, a progress app and "
        "a one-worker queue) on 127.0.0.1, run a short tour of jobs against it with the live display, "
        "then stop it. Needs gradio installed in this Python environment.",
    )
    demo.add_argument(
        "--startup-timeout", metavar="S", type=_positive_float, default=180.0,
        help="how long to wait for the demo app to start (default: 180)",
    )
    batch = commands.add_parser(
        "map",
        help="run an endpoint on every input of a file, resumably, with a progress bar",
        description=textwrap.fill(
            "Run the endpoint API_NAME of the app SRC once on each input of --input and write one JSON "
            "line per input to --output, as each finishes: {index, input, ok, result, error, started, "
            "seconds, replica}. The output is also the journal: run the same command again after a "
            "crash or Ctrl+C and it goes on where it stopped (inputs already written are not run again; "
            "a torn last line is redone); an output written for other inputs is refused. Two or more SRC "
            "make a replica pool of copies of one app, which share the inputs.",
            width=92,
        ),
        epilog=_MAP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument(
        "src", metavar="SRC", nargs="+",
        help="the app's URL (http://127.0.0.1:7860/) or a Space id (owner/name); several: replicas of one app",
    )
    batch.add_argument("api_name", metavar="API_NAME", help="the endpoint, e.g. /predict (the slash is optional)")
    batch.add_argument("--hf-token", metavar="TOKEN", default=None, help="Hugging Face token (private Spaces)")
    batch.add_argument("--auth", metavar="USER:PASSWORD", default=None, help="log in to an app launched with auth=")
    batch.add_argument(
        "--input", metavar="FILE", required=True,
        help="JSONL (a list of positional arguments, an object of keyword arguments or one value per line) "
        "or CSV (header row = parameter names; cells read as JSON when they parse); - for stdin",
    )
    batch.add_argument("--output", metavar="FILE", required=True, help="the JSONL results, also the journal")
    batch.add_argument(
        "--format", choices=("jsonl", "csv"), default=None,
        help="the input's format (default: csv for a .csv file, else jsonl)",
    )
    batch.add_argument(
        "--concurrency", metavar="N", type=_positive_int, default=8,
        help="jobs in flight at once, over all replicas (default: 8)",
    )
    batch.add_argument(
        "--max-in-flight", metavar="N", type=_positive_int, default=None,
        help="with several SRC: at most N jobs on one replica at once, queued there or running "
        "(default: no cap; the pool sends a job to a replica only when it is likely to start soon)",
    )
    batch.add_argument(
        "--retry-failed", action="store_true",
        help="run the inputs whose line says they failed again (a new line is appended; the last one wins)",
    )
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress: only the summary")
    return parser, {"info": info, "call": call, "demo": demo, "map": batch}


def parse_argv(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; ARGS may come before, between or after the options."""
    parser, commands = _build()
    argv = list(argv)
    if argv and argv[0] in commands:
        # parse_intermixed_args cannot handle sub-commands: give the sub-parser the rest
        namespace = commands[argv[0]].parse_intermixed_args(argv[1:])
        namespace.command = argv[0]
        return namespace
    return parser.parse_args(argv)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON, keep the text


def parse_value(text: str) -> Any:
    """A command-line value: ``@path`` is a file, JSON when it parses, else the string itself."""
    if text.startswith("@@"):
        return text[1:]
    if text.startswith("@") and len(text) > 1:
        return handle_file(text[1:])
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError:
        return text


def parse_kw(items: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "name=x"]`` -> ``{"a": 1, "name": "x"}``."""
    kwargs: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--kw needs NAME=VALUE, got {item!r}")
        if name in kwargs:
            raise UsageError(f"--kw {name} given twice")
        kwargs[name] = parse_value(value)
    return kwargs


def parse_auth(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise UsageError("--auth needs USER:PASSWORD")
    return user, password
