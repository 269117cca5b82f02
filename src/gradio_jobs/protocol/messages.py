"""Server messages of the queue stream, parsed into typed records.

``parse_message`` is the only place that reads the raw JSON of a queue message; everything
above works on these records. A message that does not have the shape its ``msg`` promises
raises :class:`ProtocolError`, so one bad message can fail one job, never the reader.

Every record has an ``event_id``: the id of the job the message is about, None where the
route carries none (the 3.x websocket, a job's own stream on 4.0 to 4.8) and for the
messages about the whole stream (:class:`Heartbeat`, :class:`CloseStream`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeAlias

from .._exceptions import ProtocolError
from .status import LogMessage, ProgressUnit

__all__ = [
    "Message",
    "Estimation",
    "ProcessStarts",
    "Progress",
    "Log",
    "Generating",
    "Completed",
    "Heartbeat",
    "CloseStream",
    "UnexpectedError",
    "SendHash",
    "SendData",
    "QueueFull",
    "UnknownMessage",
    "parse_message",
    "decode_message",
]


@dataclass(frozen=True, slots=True)
class Estimation:
    """``estimation``: the job waits in the queue.

    ``event_id`` is the job's id (see above); ``rank`` its 0-based place in the queue, ``queue_size`` the
    queue's length, ``rank_eta`` the seconds until it should be done (each None when the
    server does not say).
    """

    event_id: str | None
    rank: int | None
    queue_size: int | None
    rank_eta: float | None


@dataclass(frozen=True, slots=True)
class ProcessStarts:
    """``process_starts``: a worker took the job; ``eta`` is the server's average run time of
    the function in seconds (None until it has timed one run)."""

    event_id: str | None
    eta: float | None


@dataclass(frozen=True, slots=True)
class Progress:
    """``progress``: the job's ``gr.Progress`` trackers, one :class:`ProgressUnit` each in ``units``."""

    event_id: str | None
    units: list[ProgressUnit]


@dataclass(frozen=True, slots=True)
class Log:
    """``log``: a ``gr.Info``/``gr.Warning`` message the app sent while the job ran (``log``)."""

    event_id: str | None
    log: LogMessage


@dataclass(frozen=True, slots=True)
class Generating:
    """One yield of a generator: ``data`` holds full values or diffs, per the protocol.

    ``success`` is the server's flag (True unless it says otherwise).
    """

    event_id: str | None
    data: list[Any]
    success: bool


@dataclass(frozen=True, slots=True)
class Completed:
    """The job's last message: a result (``data``), an app error (``error`` set), or a cancel.

    After ``/cancel`` the server completes a job with an empty, successful ``output``:
    that is ``cancelled``. ``success`` is the server's flag; ``data`` the output values
    (None on failure or cancel); ``error`` the output's fields on failure (``error``,
    ``title``, ...; else None); ``title`` the message's title, if any.
    """

    event_id: str | None
    success: bool
    data: list[Any] | None
    error: dict[str, Any] | None
    title: str | None
    cancelled: bool


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``heartbeat``: the stream is alive (the server sends one when idle); names no job."""

    event_id: None = None


@dataclass(frozen=True, slots=True)
class CloseStream:
    """``close_stream``: the server is ending the session's stream (sse_v3); names no job."""

    event_id: None = None


@dataclass(frozen=True, slots=True)
class UnexpectedError:
    """``unexpected_error``: the server failed the stream or a job.

    ``message`` is its text (a generic one when it sends none); ``session_not_found`` is
    True when the server no longer knows the session.
    """

    event_id: str | None
    message: str
    session_not_found: bool


@dataclass(frozen=True, slots=True)
class SendHash:
    """``send_hash``: the 3.x websocket asks for the session hash."""

    event_id: str | None


@dataclass(frozen=True, slots=True)
class SendData:
    """``send_data``: the server asks for the job's input data (3.x websocket, 4.0 to 4.8)."""

    event_id: str | None


@dataclass(frozen=True, slots=True)
class QueueFull:
    """``queue_full``: the server refused the job, its queue being full (routes with a connection per job)."""

    event_id: str | None


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A ``msg`` this client does not know; kept so a newer server does not break jobs.

    ``msg`` is the message's type and ``raw`` the whole decoded message.
    """

    event_id: str | None
    msg: str
    raw: dict[str, Any]


Message: TypeAlias = (
    Estimation
    | ProcessStarts
    | Progress
    | Log
    | Generating
    | Completed
    | Heartbeat
    | CloseStream
    | UnexpectedError
    | SendHash
    | SendData
    | QueueFull
    | UnknownMessage
)


def _opt_int(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"field {key!r} should be a number, got {value!r}", payload=raw)
    return int(value)


def _opt_float(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"field {key!r} should be a number, got {value!r}", payload=raw)
    return float(value)


def _output(raw: dict[str, Any]) -> dict[str, Any]:
    output = raw.get("output")
    if output is None:
        return {}
    if not isinstance(output, dict):
        raise ProtocolError(f"'output' should be an object, got {type(output).__name__}", payload=raw)
    return output


def _data_list(output: dict[str, Any], raw: dict[str, Any]) -> list[Any]:
    data = output.get("data")
    if not isinstance(data, list):
        raise ProtocolError("'output.data' should be a list", payload=raw)
    return data


def _event_id(raw: dict[str, Any]) -> str | None:
    event_id = raw.get("event_id")
    if event_id is not None and not isinstance(event_id, str):
        raise ProtocolError(f"'event_id' should be a string, got {event_id!r}", payload=raw)
    return event_id


def parse_message(raw: Any) -> Message:
    """Type one decoded queue message.

    ``raw`` is the message as JSON decoded it. A ``msg`` this client does not know gives an
    :class:`UnknownMessage`; a known one of the wrong shape raises :class:`ProtocolError`.
    """
    if not isinstance(raw, dict):
        raise ProtocolError(f"a queue message should be a JSON object, got {type(raw).__name__}", payload=raw)
    msg = raw.get("msg")
    if not isinstance(msg, str):
        raise ProtocolError("a queue message has no 'msg' field", payload=raw)
    event_id = _event_id(raw)

    if msg == "heartbeat":
        return Heartbeat()
    if msg == "estimation":
        return Estimation(event_id, _opt_int(raw, "rank"), _opt_int(raw, "queue_size"), _opt_float(raw, "rank_eta"))
    if msg == "process_starts":
        return ProcessStarts(event_id, _opt_float(raw, "eta"))
    if msg == "progress":
        units = raw.get("progress_data") or []
        if not isinstance(units, list):
            raise ProtocolError("'progress_data' should be a list", payload=raw)
        return Progress(event_id, ProgressUnit.from_msg(units))
    if msg == "log":
        text = raw.get("log")
        level = raw.get("level") or "info"
        if not isinstance(text, str) or not isinstance(level, str):
            raise ProtocolError("a log message needs text 'log' and 'level'", payload=raw)
        title = raw.get("title")
        return Log(
            event_id,
            LogMessage(
                message=text,
                level=level,
                title=title if isinstance(title, str) else None,
                duration=_opt_float(raw, "duration"),
                visible=bool(raw.get("visible", True)),
            ),
        )
    if msg in ("process_generating", "process_streaming"):
        output = _output(raw)
        return Generating(event_id, _data_list(output, raw), bool(raw.get("success", True)))
    if msg == "process_completed":
        output = _output(raw)
        title = raw.get("title")
        title = title if isinstance(title, str) else None
        success = bool(raw.get("success", False))
        if "error" in output or not success:
            error = {k: v for k, v in output.items() if k != "data"}
            error.setdefault("error", None)
            if title is not None:
                error.setdefault("title", title)
            return Completed(event_id, False, None, error, title, False)
        if "data" not in output:
            # The server's answer to /cancel: an empty, "successful" completion.
            return Completed(event_id, True, None, None, title, True)
        return Completed(event_id, True, _data_list(output, raw), None, title, False)
    if msg == "close_stream":
        return CloseStream()
    if msg == "unexpected_error":
        message = raw.get("message")
        return UnexpectedError(
            event_id,
            message if isinstance(message, str) else "the server reported an unexpected error",
            bool(raw.get("session_not_found", False)),
        )
    if msg == "send_hash":
        return SendHash(event_id)
    if msg == "send_data":
        return SendData(event_id)
    if msg == "queue_full":
        return QueueFull(event_id)
    return UnknownMessage(event_id, msg, raw)


def decode_message(payload: str) -> Message:
    """Parse ``payload``, one SSE ``data`` payload or websocket frame (JSON text), into a
    typed message; :class:`ProtocolError` if it is not JSON or not a valid message."""
    try:
        raw = json.loads(payload)
    except ValueError as exc:
        raise ProtocolError(f"a queue message is not valid JSON: {payload[:200]!r}", payload=payload) from exc
    return parse_message(raw)
