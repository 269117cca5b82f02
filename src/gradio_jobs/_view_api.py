"""``view_api()``: the one place where the library prints (the official client does too)."""

from __future__ import annotations

from typing import Any

from .protocol.api import App
from .protocol.view import render_api


def view_api(app: App, all_endpoints: bool | None, print_info: bool, return_format: str | None) -> Any:
    description = app.describe(all_endpoints=bool(all_endpoints))
    text = render_api(app.src, description)
    if print_info:
        print(text)
    return description if return_format == "dict" else text
