"""``view_api()``: the one place where the library prints (the official client does too)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._exceptions import ArgumentError, GradioJobsError, ProtocolError, ServerError
from .protocol.api import App
from .protocol.view import api_info_of_app, render_api

if TYPE_CHECKING:
    from .transport import HttpTransport

__all__ = ["client_repr", "read_api_info", "view_api", "view_text"]

logger = logging.getLogger("gradio_jobs")

_RETURN_FORMATS = (None, "str", "dict")


async def read_api_info(transport: HttpTransport, app: App) -> dict[str, Any] | None:
    """The app's public API description, as the official client reads it for ``view_api``.

    ``transport`` sends the request (with the client's headers and login cookies); ``app`` is
    the app's model, whose ``api_url`` the ``info`` route hangs from. Asks for
    ``info?serialize=False`` (the public endpoints only; 3.x servers describe the values as
    the queue sends them with ``serialize=False``). None, logged, when the server has no
    usable answer: ``view_api`` then describes the endpoints from the app model.
    """
    try:
        answer = await transport.get_json(
            app.api_url + "info", "Loading the app's public API description", params={"serialize": "False"}
        )
    except (ServerError, ProtocolError) as exc:
        logger.debug("no public API description (%s); view_api() describes the endpoints from the app model", exc)
        return None
    return answer if isinstance(answer, dict) else None


def view_text(app: App, all_endpoints: bool | None = None) -> str:
    """The text ``view_api()`` prints for ``app``: ``all_endpoints`` True also lists the
    unnamed endpoints, None (the default) only when the app has no named one, False never."""
    return render_api(api_info_of_app(app), all_endpoints)


def view_api(app: App, all_endpoints: bool | None, print_info: bool, return_format: str | None) -> Any:
    """Describe ``app``'s endpoints, as ``gradio_client``'s ``Client.view_api`` does.

    ``all_endpoints`` chooses what the text lists (see :func:`view_text`); ``print_info``
    prints the text; ``return_format`` None returns None, ``"str"`` the text and ``"dict"``
    the description as a dict (a fresh copy, the same whatever ``all_endpoints`` says).
    Another ``return_format`` raises :class:`ArgumentError` before anything is printed.
    """
    if return_format not in _RETURN_FORMATS:
        raise ArgumentError(f"return_format must be None, 'str' or 'dict', got {return_format!r}")
    info = api_info_of_app(app)
    text = render_api(info, all_endpoints) if print_info or return_format == "str" else ""
    if print_info:
        print(text)
    if return_format == "str":
        return text
    if return_format == "dict":
        return info
    return None


def client_repr(client: Any, kind: str) -> str:
    """``repr(client)``: the ``view_api`` text once the client has read the app (as the
    official client's ``repr`` and ``str``), else ``<kind src (not connected)>``.

    ``client`` is an :class:`AsyncClient` (the sync ``Client`` passes the one it runs);
    ``kind`` names its class in the short form. Never raises and never does I/O.
    """
    try:
        app = client.app
    except (GradioJobsError, AttributeError):
        return f"<{kind} {getattr(client, 'src', '?')} (not connected)>"
    return view_text(app)
