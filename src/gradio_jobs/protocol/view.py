"""The human-readable API description that ``view_api()`` prints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["render_api"]


def _value(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _signature(name: str, entry: Mapping[str, Any], key: str) -> str:
    params = [p.get("parameter_name") or p.get("label") or "arg" for p in entry.get("parameters", [])]
    returns = [r.get("label") or "output" for r in entry.get("returns", [])]
    call = ", ".join([*params, f'{key}={_value(name)}'])
    result = ", ".join(returns) if returns else "None"
    if len(returns) > 1:
        result = f"({result})"
    return f"predict({call}) -> {result}"


def _describe(name: str, entry: Mapping[str, Any], key: str) -> list[str]:
    lines = [f" - {_signature(name, entry, key)}"]
    if entry.get("is_generator"):
        lines.append("    (generator: submit() and iterate the job to stream its outputs)")
    lines.append("    Parameters:")
    if not entry.get("parameters"):
        lines.append("     - None")
    for p in entry.get("parameters", []):
        python_type = (p.get("python_type") or {}).get("type") or "Any"
        if p.get("parameter_has_default"):
            need = f"not required, defaults to: {_value(p.get('parameter_default'))}"
        else:
            need = "required"
        name_ = p.get("parameter_name") or p.get("label")
        lines.append(f"     - [{p.get('component') or '?'}] {name_}: {python_type} ({need})")
    lines.append("    Returns:")
    if not entry.get("returns"):
        lines.append("     - None")
    for r in entry.get("returns", []):
        python_type = (r.get("python_type") or {}).get("type") or "Any"
        lines.append(f"     - [{r.get('component') or '?'}] {r.get('label') or 'output'}: {python_type}")
    return lines


def render_api(src: str, description: Mapping[str, Any]) -> str:
    """The text ``view_api()`` prints for the app at ``src`` (its URL, shown in the title).

    ``description`` is in ``/info``'s shape (``named_endpoints``, ``unnamed_endpoints``), as
    :meth:`App.describe` returns it.
    """
    named = description.get("named_endpoints", {})
    unnamed = description.get("unnamed_endpoints", {})
    lines = [f"Client.predict() Usage Info ({src})", "-" * 40]
    if named:
        lines.append(f"Named API endpoints: {len(named)}")
        lines.append("")
        for name, entry in named.items():
            lines += _describe(name, entry, "api_name")
            lines.append("")
    if unnamed:
        lines.append(f"Unnamed API endpoints: {len(unnamed)}")
        lines.append("")
        for index, entry in unnamed.items():
            lines += _describe(index, entry, "fn_index")
            lines.append("")
    if not named and not unnamed:
        lines.append("This app has no API endpoints.")
    return "\n".join(lines).rstrip()
