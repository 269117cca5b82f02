"""``gradio-jobs map``: run an endpoint on every input of a file, resumably, with a progress bar.

Inputs are read from JSONL (a list of positional arguments, an object of keyword arguments,
or one value per line) or CSV (the header row names the parameters); the results go to a
JSONL file that is also the journal (see ``gradio_jobs._batch``). One SRC makes a ``Client``,
several a ``ClientPool`` (each line's ``replica`` is then the replica that ran the input).
Progress is the bar of ``map(..., progress=True)`` (``gradio_jobs._live.mapbar``): a rich bar on
a terminal (stderr), one plain line a second otherwise; with a pool, one line per replica from
``pool.stats()`` under it (live on a terminal, every few seconds and at the end in plain
lines). The summary goes to stdout, with a pool's per-replica figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .._batch import BatchProgress, BatchSummary, run_batch
from .._client import Client
from .._client_pool import ClientPool
from .._exceptions import BatchJournalError, GradioJobsError
from .._live.mapbar import MapDisplay, MapPlain
from .._live.terminal import MapLive
from .._live.view import MapMeter
from .._pool import ReplicaStats
from ._args import UsageError, parse_auth
from ._call import connecting, print_error
from ._display import format_seconds
from ._exit import ExitCode, exit_code_for

__all__ = ["read_inputs", "replica_line", "run"]

#: Plain mode with several SRC: one line per replica every this many seconds (and at the end).
PLAIN_REPLICA_INTERVAL = 5.0

#: The replicas' figures now (``pool.stats``), or None for one client.
StatsSource = Callable[[], Sequence[ReplicaStats]] | None


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


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else format_seconds(value)


def replica_line(stats: ReplicaStats) -> str:
    """One plain line of the figures in ``stats`` (one replica's ``ReplicaStats``): URL, state, done,
    failed, in flight, moved, mean run time and queue wait, and the last error of a replica not up."""
    text = (
        f"  {stats.src}  {stats.state}: {stats.done} done, {stats.failed} failed, "
        f"{stats.in_flight} in flight, {stats.moved} moved, mean run {_seconds(stats.mean_run_time)}, "
        f"mean queue wait {_seconds(stats.mean_queue_wait)}"
    )
    if stats.state != "up" and stats.last_error:
        text += f"; last error: {' '.join(stats.last_error.split())}"
    return text


def _replica_table(replicas: Iterable[ReplicaStats], *, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for name in ("replica", "state"):
        table.add_column(name, no_wrap=True)
    for name in ("done", "failed", "in flight", "moved", "mean run", "queue wait"):
        table.add_column(name, justify="right", no_wrap=True)
    for stats in replicas:
        style = {"up": "green", "down": "red"}.get(stats.state, "yellow")
        table.add_row(
            Text(stats.src), Text(stats.state, style=style), str(stats.done), str(stats.failed), str(stats.in_flight),
            str(stats.moved), _seconds(stats.mean_run_time), _seconds(stats.mean_queue_wait),
        )
    return table


def _read_stats(stats: StatsSource) -> Sequence[ReplicaStats]:
    if stats is None:
        return ()
    try:
        return stats()
    except Exception:  # the pool is closing: nothing to show
        return ()


@dataclass(frozen=True)
class _RunCounts:
    """Where a batch run stands, as a map's bar reads it (a ``MapCounts``): ``done`` are the
    inputs it is done with (the ones already in the output that it does not run again, and the
    ones it has written), of ``total``; ``failed`` have a failure as their last line."""

    total: int
    done: int
    failed: int
    running: int
    cancelled: int = 0


def _open_bar(err: Console, stats: StatsSource) -> tuple[MapDisplay, Callable[[BatchProgress], None]]:
    """The map's bar on ``err`` (live on a terminal, plain lines on stderr otherwise), with the
    replicas ``stats`` gives under it; and the ``on_progress`` that moves it."""
    meter = MapMeter()
    display: MapDisplay
    if err.is_terminal:

        def table() -> RenderableType | None:
            replicas = _read_stats(stats)
            return _replica_table(replicas) if replicas else None

        display = MapLive(err, meter, extra=None if stats is None else table)
    else:

        def block() -> str | None:
            replicas = _read_stats(stats)
            return "replicas:\n" + "\n".join(map(replica_line, replicas)) if replicas else None

        display = MapPlain(
            sys.stderr, meter, extra=None if stats is None else block, extra_interval=PLAIN_REPLICA_INTERVAL
        )

    def show(p: BatchProgress) -> None:
        meter.resumed = p.skipped  # in the output already: done, but not in this run's rate
        display.update(_RunCounts(p.total, p.skipped + p.ran, p.failed, p.running))

    return display, show


def _make_client(args: argparse.Namespace) -> Client | ClientPool:
    """One SRC: a ``Client``; several: a ``ClientPool``."""
    auth = parse_auth(args.auth)
    if len(args.src) == 1:
        if args.max_in_flight is not None:
            raise UsageError("--max-in-flight caps each replica of a pool: it needs two or more SRC")
        return Client(args.src[0], hf_token=args.hf_token, auth=auth, verbose=False)
    return ClientPool(args.src, args.hf_token, auth=auth, verbose=False, max_in_flight=args.max_in_flight)


def run(args: argparse.Namespace) -> int:
    out = Console()
    err = Console(stderr=True)
    try:
        parse_auth(args.auth)
        inputs = _load(args)
    except UsageError as exc:
        print_error(err, str(exc))
        return ExitCode.USAGE
    client = connecting(err, lambda: _make_client(args))
    if isinstance(client, int):
        return client
    stats = None if isinstance(client, Client) else client.stats
    replicas: Sequence[ReplicaStats] = ()
    try:
        if not args.quiet and not err.is_terminal:
            sys.stderr.write(f"{len(inputs)} inputs from {args.input}, results to {args.output}\n")
        display, show = (None, None) if args.quiet else _open_bar(err, stats)
        try:
            summary = run_batch(
                client, inputs, output=args.output, api_name=args.api_name,
                concurrency=args.concurrency, retry_failed=args.retry_failed, on_progress=show,
            )
        finally:
            if display is not None:
                display.close()
        replicas = _read_stats(stats)
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
    return _report(summary, replicas, out)


def _report(summary: BatchSummary, replicas: Sequence[ReplicaStats], out: Console) -> int:
    parts = [f"{summary.ok} ok, {summary.failed} failed of {summary.total}"]
    parts.append(f"{summary.ran} run now, {summary.skipped} already in the output")
    if summary.truncated:
        parts.append(f"a torn last line of {summary.truncated} bytes redone")
    out.print(
        "; ".join(parts) + f" ({format_seconds(summary.seconds)}) -> {summary.output}",
        markup=False, highlight=False, soft_wrap=True,
    )
    if replicas:
        if out.is_terminal:
            out.print(_replica_table(replicas, title="replicas (this run)"))
        else:
            out.print("replicas (this run):\n" + "\n".join(map(replica_line, replicas)),
                      markup=False, highlight=False, soft_wrap=True)
    return int(ExitCode.OK if summary.all_ok else ExitCode.APP_ERROR)
