"""Every error gradio-jobs raises derives from :class:`GradioJobsError`.

Several also derive from the builtin the official ``gradio_client`` used for the same case
(``ValueError`` for app errors, ``TypeError`` for bad arguments), so that ``except`` clauses
written against it keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from .protocol.status import StatusUpdate

__all__ = [
    "GradioJobsError",
    "ServerUnreachableError",
    "ServerError",
    "AuthenticationError",
    "TooManyRequestsError",
    "EndpointNotFoundError",
    "ArgumentError",
    "AppError",
    "QueueFullError",
    "QueueError",
    "ValidationError",
    "ConnectionLostError",
    "ProtocolError",
    "UnsupportedServerError",
    "JobTimeoutError",
    "FileTooLargeError",
    "InputFileError",
    "SpaceError",
    "SpaceNotFoundError",
    "SpaceUnavailableError",
]


class GradioJobsError(Exception):
    """Base class of every error raised by gradio-jobs."""


class ServerUnreachableError(GradioJobsError, ConnectionError):
    """The app could not be reached at all (refused, DNS failure, TLS failure, timeout).

    ``request_sent`` is False when the request surely never reached the server.
    """

    def __init__(self, message: str, *, request_sent: bool = True):
        super().__init__(message)
        self.request_sent = request_sent


class ServerError(GradioJobsError):
    """The server answered a request with an unexpected HTTP status."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        #: Seconds the server asked to wait (``Retry-After``), if it said.
        self.retry_after: float | None = None


class AuthenticationError(ServerError):
    """The app requires credentials that were missing or wrong (HTTP 401)."""


class TooManyRequestsError(ServerError):
    """The server or the Hugging Face proxy rate-limited the request (HTTP 429)."""


class EndpointNotFoundError(GradioJobsError, ValueError):
    """No callable endpoint matches the given ``api_name`` or ``fn_index``."""

    def __init__(self, message: str, *, valid: Sequence[str] = ()):
        super().__init__(message)
        self.valid = list(valid)


class ArgumentError(GradioJobsError, TypeError):
    """The arguments do not fit the endpoint's parameters (count, names, missing values)."""


class AppError(GradioJobsError, ValueError):
    """The app's function raised: ``gr.Error`` keeps its title and message.

    ``message`` is None when the app hides the details of its exceptions (``show_error=False``).
    """

    def __init__(
        self,
        message: str | None,
        *,
        title: str | None = None,
        duration: float | None = None,
        visible: bool = True,
        job_id: str | None = None,
    ):
        self.message = message
        self.title = title if title else "Error"
        self.duration = duration
        self.visible = visible
        self.job_id = job_id
        self.hidden = message is None
        if message is None:
            text = (
                "The Gradio app raised an exception but does not show its details "
                "(launch it with show_error=True to see them)."
            )
        elif title:
            text = f"{title}: {message}"
        else:
            text = message
        super().__init__(text)


class QueueFullError(GradioJobsError):
    """The app's queue is full (HTTP 503 on join, or ``queue_full`` on old servers)."""

    def __init__(self, message: str = "The app's queue is full; try again later."):
        super().__init__(message)
        self.retry_after: float | None = None


#: The official client's name for the same error.
QueueError = QueueFullError


class ValidationError(GradioJobsError, ValueError):
    """The endpoint's validator rejected the inputs (HTTP 422); ``errors`` maps parameter to message."""

    def __init__(self, errors: Mapping[str, str] | None = None, *, message: str | None = None):
        self.errors = dict(errors or {})
        if message is None:
            lines = [f"- {name}: {text}" for name, text in self.errors.items()]
            message = "The app rejected the inputs:\n" + "\n".join(lines)
        super().__init__(message)


class ConnectionLostError(GradioJobsError, ConnectionError):
    """The job's connection to the server ended before the job did.

    ``job_id`` is the server's event id (None if the job never got one) and ``last_status``
    the last status the job had, so the caller knows how far it got.
    """

    def __init__(
        self,
        message: str,
        *,
        job_id: str | None = None,
        last_status: StatusUpdate | None = None,
    ):
        self.job_id = job_id
        self.last_status = last_status
        detail = message
        if job_id:
            detail += f" (job {job_id}"
            if last_status is not None:
                detail += f", last status {last_status.code.value}"
            detail += ")"
        super().__init__(detail)


class ProtocolError(GradioJobsError):
    """The server sent something this client cannot understand."""

    def __init__(self, message: str, *, payload: Any = None):
        super().__init__(message)
        self.payload = payload


class UnsupportedServerError(GradioJobsError):
    """The server is too old (or too new) for the requested feature."""


class JobTimeoutError(GradioJobsError, TimeoutError):
    """A submit-time deadline ran out; the job was cancelled on the server.

    ``phase`` says which one: ``"queue"`` (waiting for a worker), ``"run"`` (running) or
    ``"total"``; ``last_status`` is the job's status when it ran out.
    """

    def __init__(self, phase: str, limit: float, *, job_id: str | None = None, last_status: StatusUpdate | None = None):
        self.phase = phase
        self.limit = limit
        self.job_id = job_id
        self.last_status = last_status
        where = {"queue": "waiting in the queue", "run": "running", "total": "in total"}.get(phase, phase)
        text = f"the job's {phase} deadline of {limit:g} s ran out ({where})"
        if last_status is not None:
            text += f"; last status {last_status.code.value}"
            if last_status.rank is not None:
                text += f" (rank {last_status.rank} of {last_status.queue_size})"
        super().__init__(text)


class FileTooLargeError(GradioJobsError, ValueError):
    """A file to upload or download is larger than the limit (the app's ``max_file_size``,
    or the client's ``max_download_size``)."""

    def __init__(self, message: str, *, name: str | None = None, size: int | None = None, limit: int | None = None):
        super().__init__(message)
        self.name = name
        self.size = size
        self.limit = limit


class InputFileError(GradioJobsError, FileNotFoundError):
    """A file given as an input does not exist or cannot be read."""


class SpaceError(GradioJobsError):
    """A Hugging Face Space could not be turned into a running app."""

    def __init__(self, message: str, *, space_id: str, stage: str | None = None):
        super().__init__(message)
        self.space_id = space_id
        #: The Space's runtime stage when giving up (``"PAUSED"``, ``"BUILD_ERROR"``, ...).
        self.stage = stage


class SpaceNotFoundError(SpaceError, ValueError):
    """The Hub knows no such Space, or it is private and no valid token was given."""


class SpaceUnavailableError(SpaceError):
    """The Space exists but cannot serve: paused, broken, or not up before the deadline.

    ``timed_out`` is True when it was still starting (building, waking) when the time ran out.
    """

    def __init__(self, message: str, *, space_id: str, stage: str | None = None, timed_out: bool = False):
        super().__init__(message, space_id=space_id, stage=stage)
        self.timed_out = timed_out
