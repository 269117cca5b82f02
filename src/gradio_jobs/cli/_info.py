"""``gradio-jobs info``: the app's endpoints, their parameters, types and defaults, and its queue."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._client import Client
from .._exceptions import GradioJobsError, UnsupportedServerError
from ._call import connect
from ._exit import ExitCode

__all__ = ["endpoints_table", "queue_line", "run"]


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def endpoints_table(src: str, description: Mapping[str, Any]) -> Table:
    """One row per parameter: endpoint, parameter, type, default, component, and what it returns."""
    named = description.get("named_endpoints") or {}
    unnamed = description.get("unnamed_endpoints") or {}
    count = len(named) + len(unnamed)
    table = Table(
        title=f"{src}: {count} endpoint{'s' if count != 1 else ''}",
        title_justify="left",
    )
    table.add_column("endpoint", style="bold cyan", no_wrap=True)
    table.add_column("parameter", style="bold")
    table.add_column("type")
    table.add_column("default")
    table.add_column("component", style="dim")
    table.add_column("returns")
    entries = [(name, entry) for name, entry in named.items()]
    entries += [(f"fn_index={index}", entry) for index, entry in unnamed.items()]
    for name, entry in entries:
        label = Text(name)
        if entry.get("is_generator"):
            label.append("\ngenerator", style="italic magenta")
        if entry.get("visibility") not in (None, "public"):
            label.append(f"\n{entry['visibility']}", style="dim")
        returns = "\n".join(
            f"{r.get('label') or 'output'}: {(r.get('python_type') or {}).get('type') or 'Any'}"
            for r in entry.get("returns") or []
        ) or "-"
        params = entry.get("parameters") or []
        if not params:
            table.add_row(label, Text("(none)", style="dim"), "", "", "", returns, end_section=True)
            continue
        for n, p in enumerate(params):
            if p.get("parameter_has_default"):
                default = Text(_json_text(p.get("parameter_default")))
            else:
                default = Text("required", style="yellow")
            table.add_row(
                label if n == 0 else "",
                p.get("parameter_name") or p.get("label") or f"arg{n}",
                (p.get("python_type") or {}).get("type") or "Any",
                default,
                p.get("component") or "",
                returns if n == 0 else "",
                end_section=n == len(params) - 1,
            )
    return table


def queue_line(client: Client) -> str:
    """One line on ``client``'s app's queue: the jobs waiting now, or why it cannot say."""
    try:
        status = client.queue_status()
    except UnsupportedServerError:
        return "queue: none (the app runs without a queue)"
    except GradioJobsError as exc:
        return f"queue: unknown ({exc})"
    line = f"queue: {status.queue_size} waiting"
    if status.queue_eta is not None:
        line += f", about {status.queue_eta:.1f} s to get through"
    return line


def run(args: argparse.Namespace) -> int:
    out = Console()
    err = Console(stderr=True)
    client = connect(args, err)
    if not isinstance(client, Client):
        return client
    try:
        description = client.app.describe(all_endpoints=args.all)
        src = client.src
        queue = None if args.json else queue_line(client)  # --json stays the API description alone
    finally:
        client.close()
    if args.json:
        out.file.write(json.dumps(description, ensure_ascii=False, indent=2, default=str) + "\n")
        out.file.flush()
    else:
        out.print(endpoints_table(src, description))
        out.print(queue)
    return ExitCode.OK
