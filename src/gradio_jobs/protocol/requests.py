"""What the client sends on each route, and the direct route's answers as queue messages.

Every route of every server generation carries the same few fields (the routes are listed in
the README's "Servers it speaks to"); this module is the one place that spells them out. Pure
functions, no I/O.

In every function here, ``endpoint`` is the endpoint the job calls, ``data`` its input list
(:meth:`Endpoint.bind`, files already prepared), ``session_hash`` the client's session id and
``event_id`` the job's id on the server (None where the route gives none).
"""

from __future__ import annotations

from typing import Any

from .._exceptions import ProtocolError
from . import messages as m
from .api import Endpoint
from .capabilities import Capabilities

__all__ = [
    "join_body", "hash_reply", "data_reply", "predict_body", "predict_messages", "reset_body", "input_close_route",
]


def join_body(
    endpoint: Endpoint, data: list[Any], session_hash: str, oauth_token: str | None = None
) -> dict[str, Any]:
    """The body of ``POST queue/join`` (sse_v1 and later).

    ``oauth_token`` (default None) goes in only when the endpoint's API description says
    its function takes a ``gr.OAuthToken`` (``"oauth_token": "required"`` or
    ``"optional"``, gradio 6): it is the user's token, for those endpoints alone.
    """
    body: dict[str, Any] = {
        "data": data,
        "fn_index": endpoint.fn_index,
        "session_hash": session_hash,
        "event_data": None,
        "trigger_id": None,
    }
    if oauth_token and endpoint.info.get("oauth_token") in ("required", "optional"):
        body["oauth_token"] = oauth_token
    return body


def hash_reply(endpoint: Endpoint, session_hash: str) -> dict[str, Any]:
    """The answer to ``send_hash`` on the 3.x websocket."""
    return {"fn_index": endpoint.fn_index, "session_hash": session_hash}


def data_reply(endpoint: Endpoint, data: list[Any], session_hash: str, event_id: str | None) -> dict[str, Any]:
    """The answer to ``send_data`` (3.x websocket; ``POST queue/data`` on 4.0 to 4.8)."""
    body: dict[str, Any] = {
        "data": data,
        "event_data": None,
        "fn_index": endpoint.fn_index,
        "session_hash": session_hash,
    }
    if event_id is not None:
        body["event_id"] = event_id
    return body


def predict_body(endpoint: Endpoint, data: list[Any], session_hash: str) -> dict[str, Any]:
    """The body of ``POST run/predict``: the route of events that bypass the queue."""
    return {"data": data, "fn_index": endpoint.fn_index, "session_hash": session_hash, "event_data": None}


def reset_body(
    caps: Capabilities, endpoint: Endpoint, session_hash: str, event_id: str | None
) -> dict[str, Any] | None:
    """The body of ``POST reset``, which stops a job where the server has no ``cancel`` route.

    None when the server of ``caps`` cannot stop the job this way (``Capabilities.reset_by``),
    or needs the ``event_id`` the job does not have yet.
    """
    if caps.reset_by == "fn_index":
        return {"fn_index": endpoint.fn_index, "session_hash": session_hash}
    if caps.reset_by == "event_id" and event_id is not None:
        return {"event_id": event_id, "fn_index": endpoint.fn_index, "session_hash": session_hash}
    return None


def input_close_route(endpoint: Endpoint, event_id: str | None) -> str | None:
    """The API route that ends a streaming-input job's input stream (``POST``, no body), or None.

    A ``.stream`` listener of gradio 5 and later (:attr:`Endpoint.streams_inputs`) answers
    each input chunk and then waits, up to the event's ``time_limit`` (30 s when it has none),
    for the next one. An API call sends one chunk, so its stream ends as soon as the server
    has the job: after ``POST stream/<event_id>/close`` the server runs the function once on
    that chunk and completes the job (measured on 6.31.0, and on 5.50.0 for an event with a
    ``time_limit``; closed after the first output instead, 5.x runs the function a second
    time on the same chunk). A 5.x event without a ``time_limit`` ignores the close and
    completes after 30 s: the job's first output completes it for the caller all the same
    (:class:`~gradio_jobs.protocol.job.JobState`). None for every other endpoint, and while
    the job has no ``event_id``.
    """
    if not endpoint.streams_inputs or event_id is None:
        return None
    return f"stream/{event_id}/close"


def predict_messages(status_code: int, body: Any) -> list[m.Message]:
    """A ``run/predict`` answer as the queue messages it stands for.

    ``status_code`` is the HTTP status and ``body`` the decoded JSON body. 200 carries the
    output; an app error comes back as a non-200 answer whose body has an ``error`` key. A
    generator called this way answers with its first value only (measured on 3.50.2 to
    4.21): that is its result. Anything else raises :class:`ProtocolError`.
    """
    if isinstance(body, dict) and status_code == 200 and isinstance(body.get("data"), list):
        return [m.Completed(None, True, body["data"], None, None, False)]
    if isinstance(body, dict) and "error" in body:
        error = {k: v for k, v in body.items() if k != "data"}
        title = error.get("title") if isinstance(error.get("title"), str) else None
        return [m.Completed(None, False, None, error, title, False)]
    raise ProtocolError(f"run/predict answered HTTP {status_code} with {str(body)[:200]!r}", payload=body)
