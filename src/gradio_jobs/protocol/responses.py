"""Reading the server's answers to plain HTTP requests (status code + body -> value or error).

In every function here, ``status`` is the answer's HTTP status and ``body`` its raw body.
Where the official client has words for a failure, the error's message starts with them.
"""

from __future__ import annotations

import json
from typing import Any

from .._exceptions import (
    QUEUE_FULL_MESSAGE,
    AuthenticationError,
    ProtocolError,
    QueueFullError,
    ServerError,
    TooManyRequestsError,
    ValidationError,
)

__all__ = ["read_json", "read_join", "raise_for_status", "detail_of", "TOO_MANY_REQUESTS_MESSAGE"]

#: The official client's message for HTTP 429.
TOO_MANY_REQUESTS_MESSAGE = "Too many requests to the API, please try again later."


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def detail_of(body: bytes) -> str:
    """The human-readable part of the error ``body`` (FastAPI's ``detail`` when there is one,
    else the body's first 500 characters)."""
    parsed = _loads(body)
    if isinstance(parsed, dict) and "detail" in parsed:
        detail = parsed["detail"]
        if isinstance(detail, dict):
            detail = detail.get("error") or detail
        return detail if isinstance(detail, str) else json.dumps(detail)
    text = body.decode("utf-8", errors="replace").strip()
    return text[:500]


def raise_for_status(status: int, body: bytes, what: str) -> None:
    """Raise the precise error for a failed request; return for a 2xx ``status``.

    ``what`` names the request in the message (``"Loading the app's config"``). 401 and 403
    raise :class:`AuthenticationError`, 429 :class:`TooManyRequestsError`, any other status
    :class:`ServerError`.
    """
    if 200 <= status < 300:
        return
    detail = detail_of(body)
    text = body.decode("utf-8", errors="replace")[:2000]
    if status in (401, 403):
        raise AuthenticationError(
            f"{what}: the app requires authentication ({status}: {detail})", status_code=status, body=text
        )
    if status == 429:
        raise TooManyRequestsError(
            f"{TOO_MANY_REQUESTS_MESSAGE} ({what}: too many requests, 429: {detail})", status_code=status, body=text
        )
    raise ServerError(f"{what} failed with HTTP {status}: {detail}", status_code=status, body=text)


def read_json(status: int, body: bytes, what: str) -> Any:
    """The decoded JSON of a successful answer; errors as :func:`raise_for_status` (``what``
    names the request), and :class:`ProtocolError` for a body that is not JSON."""
    raise_for_status(status, body, what)
    parsed = _loads(body)
    if parsed is None and body.strip() != b"null":
        raise ProtocolError(f"{what}: the answer is not JSON: {body[:200]!r}", payload=body)
    return parsed


def read_join(status: int, body: bytes) -> str:
    """The ``event_id`` from a ``queue/join`` answer, or the error it stands for.

    503 raises :class:`QueueFullError`, a validator's 422 :class:`ValidationError`, other
    failures as :func:`raise_for_status`, an answer without an id :class:`ProtocolError`.
    """
    if status == 503:
        raise QueueFullError(f"{QUEUE_FULL_MESSAGE} (the app's queue is full: {detail_of(body)})")
    if status == 422:
        parsed = _loads(body)
        detail = parsed.get("detail") if isinstance(parsed, dict) else None
        if isinstance(detail, list) and any(isinstance(d, dict) and d.get("__type__") == "validate" for d in detail):
            errors = {
                str(d.get("parameter_name") or f"parameter_{n}"): str(d.get("message") or "invalid")
                for n, d in enumerate(detail)
                if isinstance(d, dict) and d.get("is_valid") is False
            }
            raise ValidationError(errors)
    parsed = read_json(status, body, "Joining the queue")
    event_id = parsed.get("event_id") if isinstance(parsed, dict) else None
    if not isinstance(event_id, str) or not event_id:
        raise ProtocolError(f"queue/join answered without an event_id: {parsed!r}", payload=parsed)
    return event_id
