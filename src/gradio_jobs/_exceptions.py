"""Every error gradio-jobs raises derives from :class:`GradioJobsError`.

Several also derive from the builtin the official ``gradio_client`` used for the same case
(``ValueError`` for app errors, ``TypeError`` for bad arguments), so that ``except`` clauses
written against it keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

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

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        """``message`` says what failed; ``request_sent`` (default True, the cautious answer)
        is False only when the request surely never left the client, so a retry cannot make
        the server run a job twice."""
        super().__init__(message)
        self.request_sent = request_sent


class ServerError(GradioJobsError):
    """The server answered a request with an unexpected HTTP status."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str | None = None) -> None:
        """``message`` names the request and the status; ``status_code`` is the HTTP status
        (default None: none was received) and ``body`` the start of the answer's body (default
        None). ``retry_after`` starts as None and is set by the caller that read the header."""
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

    def __init__(self, message: str, *, valid: Sequence[str] = ()) -> None:
        """``message`` says what was asked for; ``valid`` (default empty) lists the
        ``api_name`` of every endpoint that could have been called, kept as ``self.valid``."""
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
    ) -> None:
        """The fields of the server's error message.

        ``message`` is the error text (None when the app hides it); ``title`` the
        ``gr.Error`` title (default None, kept as ``"Error"``); ``duration`` how long the app
        asked to show it, in seconds (default None); ``visible`` whether the app shows it
        (default True); ``job_id`` the server's id of the failed job (default None: unknown).
        """
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

    def __init__(self, message: str = "The app's queue is full; try again later.") -> None:
        """``message`` defaults to a generic text; ``retry_after`` starts as None and is set
        to the seconds the server asked to wait, when it said."""
        super().__init__(message)
        self.retry_after: float | None = None


#: The official client's name for the same error.
QueueError = QueueFullError


class ValidationError(GradioJobsError, ValueError):
    """The endpoint's validator rejected the inputs (HTTP 422); ``errors`` maps parameter to message."""

    def __init__(self, errors: Mapping[str, str] | None = None, *, message: str | None = None) -> None:
        """``errors`` maps each rejected parameter to the validator's message (default None:
        none given); ``message`` overrides the text, which by default lists ``errors``."""
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
    ) -> None:
        """``message`` says how the connection ended; ``job_id`` (default None) and
        ``last_status`` (default None) are added to the text when known."""
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

    def __init__(self, message: str, *, payload: Any = None) -> None:
        """``message`` says what was wrong; ``payload`` is the offending message or body, for
        debugging (default None)."""
        super().__init__(message)
        self.payload = payload


class UnsupportedServerError(GradioJobsError):
    """The server is too old (or too new) for the requested feature."""


class JobTimeoutError(GradioJobsError, TimeoutError):
    """A submit-time deadline ran out; the job was cancelled on the server.

    ``phase`` says which one: ``"queue"`` (waiting for a worker), ``"run"`` (running) or
    ``"total"``; ``last_status`` is the job's status when it ran out.
    """

    def __init__(
        self, phase: str, limit: float, *, job_id: str | None = None, last_status: StatusUpdate | None = None
    ) -> None:
        """``phase`` is the deadline that ran out (``"queue"``, ``"run"`` or ``"total"``),
        ``limit`` its length in seconds; ``job_id`` (default None: the job had no id yet) and
        ``last_status`` (default None) say how far the job got."""
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
    """A file to upload or download is larger than the limit.

    The limit is the app's ``max_file_size`` for uploads, the client's ``max_download_size``
    for downloads.
    """

    def __init__(
        self, message: str, *, name: str | None = None, size: int | None = None, limit: int | None = None
    ) -> None:
        """``message`` says which limit; ``name`` is the file's name, ``size`` its size in bytes
        (as far as it was read) and ``limit`` the limit in bytes; each defaults to None
        (unknown)."""
        super().__init__(message)
        self.name = name
        self.size = size
        self.limit = limit


class InputFileError(GradioJobsError, FileNotFoundError):
    """A file given as an input does not exist or cannot be read."""


class SpaceError(GradioJobsError):
    """A Hugging Face Space could not be turned into a running app."""

    def __init__(self, message: str, *, space_id: str, stage: str | None = None) -> None:
        """``message`` says what went wrong; ``space_id`` is the Space (``"owner/name"``) and
        ``stage`` its runtime stage when giving up (default None: unknown)."""
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

    def __init__(self, message: str, *, space_id: str, stage: str | None = None, timed_out: bool = False) -> None:
        """``message``, ``space_id`` and ``stage`` (default None) as for :class:`SpaceError`;
        ``timed_out`` (default False) is True when the Space was still starting when
        ``space_timeout`` ran out."""
        super().__init__(message, space_id=space_id, stage=stage)
        self.timed_out = timed_out
