"""``gradio-jobs map``: run an endpoint on every input of a file, resumably, with a progress bar.

Inputs are read from JSONL (a list of positional arguments, an object of keyword arguments,
or one value per line) or CSV (the header row names the parameters); the results go to a
JSONL file that is also the journal (see ``gradio_jobs._batch``). Progress is a rich bar on
a terminal (stderr), one plain line a second otherwise; the summary goes to stdout.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from .._batch import BatchProgress, BatchSummary, run_batch
from .._client import Client
from .._exceptions import BatchJournalError, GradioJobsError
from ._args import UsageError, parse_auth
from ._call import connect, print_error
from ._display import format_seconds
from ._exit import ExitCode, exit_code_for

__all__ = ["read_inputs", "run"]

#: Plain mode: at most one progress line per this many seconds (and one at the end).
PLAIN_INTERVAL = 1.0


def _cell(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_inputs(text: str, fmt: str, name: str) -> list[Any]:
    """The inputs in ``text`` (``fmt`` "jsonl" or "csv"; ``name`` for errors).

    JSONL: each non-blank line is one JSON value. CSV: each row is a dict of the header's names;
    a cell is read as JSON when it parses (``3`` -> 3), else kept as text; an empty cell is left
    out (the parameter takes its default).
    """
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            raise UsageError(f"{name}: a CSV input needs a header row naming the parameters")
        names = [h.strip() for h in header]
        rows: list[Any] = []
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise UsageError(f"{name}: line {number} has {len(row)} cells, the header {len(names)}")
            rows.append({n: _cell(c) for n, c in zip(names, row, strict=True) if c != ""})
        return rows
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise UsageError(f"{name}: line {number} is not JSON ({exc})") from None
    return items


def _load(args: argparse.Namespace) -> list[Any]:
    fmt = args.format or ("csv" if str(args.input).lower().endswith(".csv") else "jsonl")
    if args.input == "-":
        return read_inputs(sys.stdin.read(), fmt, "stdin")
    try:
        with open(args.input, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read --input {args.input}: {exc.strerror or exc}") from None
    return read_inputs(text, fmt, args.input)


def _line(p: BatchProgress) -> str:
    eta = "?" if p.eta is None else format_seconds(p.eta)
    return (
        f"{p.finished}/{p.total} done, {p.failed} failed, {p.running} running, "
        f"{p.rate:.1f}/s, ETA {eta}"
    )


@contextmanager
def _live(err: Console) -> Iterator[Any]:
    progress = Progress(
        TextColumn("[bold]map"), BarColumn(), MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"), TextColumn("{task.fields[rate]}/s"),
        TextColumn("ETA {task.fields[eta]}"), console=err, refresh_per_second=8,
    )
    task: TaskID = progress.add_task("map", total=None, failed=0, rate="0.0", eta="?")

    def show(p: BatchProgress) -> None:
        progress.update(
            task, total=p.total, completed=p.finished, failed=p.failed, rate=f"{p.rate:.1f}",
            eta="?" if p.eta is None else format_seconds(p.eta),
        )

    with progress:
        yield show


@contextmanager
def _plain(err: Console) -> Iterator[Any]:
    lock = threading.Lock()
    last: list[Any] = [0.0, None]

    def show(p: BatchProgress) -> None:
        with lock:
            last[1] = p
            now = time.monotonic()
            if now - last[0] >= PLAIN_INTERVAL:
                last[0] = now
                sys.stderr.write(_line(p) + "\n")
                sys.stderr.flush()

    yield show
    with lock:
        if last[1] is not None:
            sys.stderr.write(_line(last[1]) + "\n")
            sys.stderr.flush()


@contextmanager
def _quiet(err: Console) -> Iterator[Any]:
    yield None


def run(args: argparse.Namespace) -> int:
    out = Console()
    err = Console(stderr=True)
    try:
        parse_auth(args.auth)
        inputs = _load(args)
    except UsageError as exc:
        print_error(err, str(exc))
        return ExitCode.USAGE
    client = connect(args, err)
    if not isinstance(client, Client):
        return client
    shown = _quiet if args.quiet else _live if err.is_terminal else _plain
    try:
        with shown(err) as show:
            if show is not None and not err.is_terminal:
                sys.stderr.write(f"{len(inputs)} inputs from {args.input}, results to {args.output}\n")
            summary = run_batch(
                client, inputs, output=args.output, api_name=args.api_name,
                concurrency=args.concurrency, retry_failed=args.retry_failed, on_progress=show,
            )
    except KeyboardInterrupt:
        err.print("interrupted: what finished is in the output; run again to go on", style="yellow")
        return ExitCode.INTERRUPTED
    except BatchJournalError as exc:  # an output of other inputs, or in use
        print_error(err, exc)
        return ExitCode.USAGE
    except GradioJobsError as exc:  # unknown endpoint
        print_error(err, exc)
        return exit_code_for(exc)
    finally:
        client.close()
    return _report(summary, out)


def _report(summary: BatchSummary, out: Console) -> int:
    parts = [f"{summary.ok} ok, {summary.failed} failed of {summary.total}"]
    parts.append(f"{summary.ran} run now, {summary.skipped} already in the output")
    if summary.truncated:
        parts.append(f"a torn last line of {summary.truncated} bytes redone")
    out.print(
        "; ".join(parts) + f" ({format_seconds(summary.seconds)}) -> {summary.output}",
        markup=False, highlight=False, soft_wrap=True,
    )
    return int(ExitCode.OK if summary.all_ok else ExitCode.APP_ERROR)
