"""What ``view_api()`` returns and prints, in the official client's shapes (pure functions).

The official ``gradio_client`` reads the app's public API description (``/info?serialize=False``,
without ``all_endpoints``), drops each endpoint's ``code_snippets``, drops the private ones
and the visibility keys it tested, and hands that dict back as ``view_api(return_format="dict")``.
Its text lists the named endpoints (and, when asked or when there are no named ones, the
unnamed ones) as ``predict(...)`` signatures with each parameter and return value.
:func:`api_info` and :func:`render_api` do the same, so the dict equals the official one on
the same app and the text reads the same.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import App, Endpoint

__all__ = ["api_info", "api_info_of_app", "label_text", "python_name", "render_api", "render_endpoint"]

_ENDPOINT_KINDS = ("named_endpoints", "unnamed_endpoints")


def _listed(entry: dict[str, Any]) -> bool:
    """Whether the official client keeps ``entry`` (removing the visibility keys it reads)."""
    if "api_visibility" in entry and entry.pop("api_visibility") != "private":
        return True
    # No visibility, or a private one: the older ``show_api`` flag decides (absent: shown).
    return bool(entry.pop("show_api", True))


def api_info(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The dict ``view_api(return_format="dict")`` returns, from the app's public ``/info``.

    ``raw`` is the parsed answer of ``/info?serialize=False`` (without ``all_endpoints``), as
    the official client requests it; it is not changed (the result is a deep copy). Each
    endpoint loses its ``code_snippets``; private ones are dropped, and so are the visibility
    keys that decided it, exactly as ``gradio_client`` 2.7.2 does. Everything else the
    server sent stays (``description``, ``oauth_token``, ``type``, ``example_input``, ...).
    """
    info: dict[str, Any] = copy.deepcopy(dict(raw))
    for kind in _ENDPOINT_KINDS:
        endpoints = info.get(kind)
        kept: dict[str, Any] = {}
        if isinstance(endpoints, Mapping):
            for key, entry in endpoints.items():
                if not isinstance(entry, dict):
                    continue
                entry.pop("code_snippets", None)
                if _listed(entry):
                    kept[str(key)] = entry
        info[kind] = kept
    return info


def _parameter_entry(p: Any) -> dict[str, Any]:
    return {
        "label": p.label,
        "parameter_name": p.name,
        "parameter_has_default": p.has_default,
        "parameter_default": p.default,
        "type": p.type_schema,
        "python_type": {"type": p.python_type or "Any", "description": p.description or ""},
        "component": p.component,
        "example_input": p.example,
    }


def _return_entry(r: Any) -> dict[str, Any]:
    return {
        "label": r.label,
        "type": r.type_schema,
        "python_type": {"type": r.python_type or "Any", "description": ""},
        "component": r.component,
    }


def _endpoint_entry(e: Endpoint) -> dict[str, Any]:
    return {
        "parameters": [_parameter_entry(p) for p in e.parameters],
        "returns": [_return_entry(r) for r in e.returns],
    }


def api_info_of_app(app: App) -> dict[str, Any]:
    """The ``view_api`` dict of ``app``: its public ``/info`` (see :func:`api_info`) when the
    server answered one, else its public endpoints described from the app model, in the
    same shape (``parameters`` and ``returns`` of each, named by ``api_name`` or, for
    unnamed ones, by ``fn_index`` as a string)."""
    raw = app.api_info
    if isinstance(raw, Mapping):
        return api_info(raw)
    named: dict[str, Any] = {}
    unnamed: dict[str, Any] = {}
    for e in app.callable_endpoints():
        if e.visibility != "public":
            continue
        if e.api_name:
            named[e.api_name] = _endpoint_entry(e)
        else:
            unnamed[str(e.fn_index)] = _endpoint_entry(e)
    return {"named_endpoints": named, "unnamed_endpoints": unnamed}


def label_text(label: Any) -> str:
    """A label as text. gradio 6 sends some labels as translation metadata
    (``{"__type__": "translation_metadata", "key": "chat_interface.chatbot"}``): their text is
    the key's last part (``"chatbot"``). None is ``""``; anything else its ``str()``.
    """
    if isinstance(label, str):
        return label
    if label is None:
        return ""
    if isinstance(label, Mapping):
        key = label.get("key")
        if isinstance(key, str):
            return key.rsplit(".", 1)[-1]
    return str(label)


def python_name(label: Any) -> str:
    """``label`` (any value, see :func:`label_text`) as the official client shows a parameter
    or return name: letters, digits, spaces and underscores kept, spaces made underscores,
    lower case (``"Some text!"`` is ``some_text``)."""
    text = label_text(label)
    return "".join(c for c in text if c.isalnum() or c in " _").replace(" ", "_").lower()


def _is_file_data(value: Any) -> bool:
    if not isinstance(value, Mapping) or not isinstance(value.get("path"), str):
        return False
    meta = value.get("meta")
    return isinstance(meta, Mapping) and meta.get("_type") == "gradio.FileData"


def _shown_default(value: Any) -> Any:
    """A default with each FileData in it shown as ``handle_file("url")``, containers rebuilt
    as dicts and lists (tuples become lists), as the official text shows them."""
    if _is_file_data(value):
        return f'handle_file("{value.get("url") or value.get("path")}")'
    if isinstance(value, Mapping):
        return {k: _shown_default(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown_default(v) for v in value]
    return value


def _type_of(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The Python type text of a parameter or return entry and its `` (description)`` suffix."""
    python_type = entry.get("python_type")
    if isinstance(python_type, Mapping):
        type_ = python_type.get("type")
        description = python_type.get("description")
    else:
        type_, description = python_type, None
    return (type_ if isinstance(type_, str) else "Any"), (f" ({description})" if description else "")


def render_endpoint(name_or_index: str | int, entry: Mapping[str, Any]) -> str:
    """The text of one endpoint: ``name_or_index`` is its ``api_name`` (``"/add"``) or, for an
    unnamed endpoint, its ``fn_index`` (an int); ``entry`` its dict in :func:`api_info`'s shape.
    Starts with a blank line; every line ends with a newline.
    """
    parameters = [p for p in entry.get("parameters") or [] if isinstance(p, Mapping)]
    returns = [r for r in entry.get("returns") or [] if isinstance(r, Mapping)]
    names = [python_name(p.get("parameter_name") or p.get("label")) for p in parameters]
    rendered_parameters = "".join(name + ", " for name in names)
    return_names = [python_name(r.get("label")) for r in returns]
    rendered_returns = ", ".join(return_names)
    if len(return_names) > 1:
        rendered_returns = f"({rendered_returns})"
    final = f'api_name="{name_or_index}"' if isinstance(name_or_index, str) else f"fn_index={name_or_index}"
    lines = [f"\n - predict({rendered_parameters}{final}) -> {rendered_returns}\n"]
    oauth = entry.get("oauth_token")
    if oauth:
        lines.append(
            f"    Acts on your behalf: this endpoint takes your Hugging Face token ({oauth}). "
            "Pass it with Client(..., oauth_token=...) to grant it.\n"
        )
    lines.append("    Parameters:\n")
    for p, name in zip(parameters, names, strict=True):
        type_, description = _type_of(p)
        if p.get("parameter_has_default", False):
            default = _shown_default(p.get("parameter_default"))
            need = f"(not required, defaults to:   {default})"
            if default is None:
                type_ += " | None"
        else:
            need = "(required)"
        lines.append(f"     - [{p.get('component')}] {name}: {type_} {need} {description} \n")
    if not parameters:
        lines.append("     - None\n")
    lines.append("    Returns:\n")
    for r, name in zip(returns, return_names, strict=True):
        type_, description = _type_of(r)
        lines.append(f"     - [{r.get('component')}] {name}: {type_}{description} \n")
    if not returns:
        lines.append("     - None\n")
    return "".join(lines)


def render_api(info: Mapping[str, Any], all_endpoints: bool | None = None) -> str:
    """The text ``view_api()`` prints, from ``info`` in :func:`api_info`'s shape.

    ``all_endpoints`` True also lists the unnamed endpoints; None (the default) lists them
    only when the app has no named endpoint; False never lists them, saying how many there
    are. The text ends with a newline, as the official one does.
    """
    named = info.get("named_endpoints") or {}
    unnamed = info.get("unnamed_endpoints") or {}
    if all_endpoints is None and not named:
        all_endpoints = True
    parts = ["Client.predict() Usage Info\n---------------------------\n", f"Named API endpoints: {len(named)}\n"]
    parts += [render_endpoint(str(name), entry) for name, entry in named.items()]
    if all_endpoints:
        parts.append(f"\nUnnamed API endpoints: {len(unnamed)}\n")
        for index, entry in unnamed.items():
            try:
                key: str | int = int(index)
            except (TypeError, ValueError):
                key = str(index)
            parts.append(render_endpoint(key, entry))
    elif unnamed:
        parts.append(
            f"\nUnnamed API endpoints: {len(unnamed)}, to view, run Client.view_api(all_endpoints=True)\n"
        )
    return "".join(parts)
