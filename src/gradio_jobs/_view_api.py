"""``view_api()``: the one place where the library prints (the official client does too)."""

from __future__ import annotations

from typing import Any

from .protocol.api import App
from .protocol.view import render_api


def view_api(app: App, all_endpoints: bool | None, print_info: bool, return_format: str | None) -> Any:
    """Describe ``app``'s endpoints, as ``Client.view_api`` does.

    ``all_endpoints`` also lists the undocumented ones when true (None or False: only the
    public ones); ``print_info`` prints the text description; ``return_format`` ``"dict"``
    returns the description as a dict in ``/info``'s shape, anything else (``"str"``, None)
    returns the text.
    """
    description = app.describe(all_endpoints=bool(all_endpoints))
    text = render_api(app.src, description)
    if print_info:
        print(text)
    return description if return_format == "dict" else text
