"""Every error gradio-jobs raises derives from :class:`GradioJobsError`.

Each also derives from what the official ``gradio_client`` raises for the same case
(``ValueError`` for app errors and refused logins, ``TypeError`` for bad arguments, ...), so
that ``except`` clauses written against it keep working, and its message starts with the
official client's words for that case, gradio-jobs' detail after them.

The errors that are also httpx's exceptions (an unreachable server is an
``httpx.ConnectError``, a file the server refuses to serve an ``httpx.HTTPStatusError``)
live in ``transport/errors.py``, so that importing the package does not import httpx.
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
    "QuotaExceededError",
    "QueueFullError",
    "QueueError",
    "ValidationError",
    "ConnectionLostError",
    "ProtocolError",
    "UnsupportedServerError",
    "JobTimeoutError",
    "FileTooLargeError",
    "InputFileError",
    "SerializationSetupError",
    "SpaceError",
    "SpaceNotFoundError",
    "SpaceUnavailableError",
    "SpaceDuplicationError",
    "PrivateNetworkError",
    "LimitExceededError",
    "MessageTooLargeError",
    "AnswerTooLargeError",
    "TransferTooSlowError",
    "StreamStalledError",
    "BatchJournalError",
]


class GradioJobsError(Exception):
    """Base class of every error raised by gradio-jobs."""


class ServerUnreachableError(GradioJobsError, ConnectionError):
    """The app could not be reached at all (refused, DNS failure, TLS failure, timeout).

    ``request_sent`` is False when the request surely never reached the server. What is
    raised is also the httpx exception the official client lets through for the same
    failure (``httpx.ConnectError`` when nothing listens, ``httpx.ConnectTimeout``,
    ``httpx.ReadTimeout``, ...), and its message starts with httpx's.
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


class AuthenticationError(ServerError, ValueError):
    """The app requires credentials that were missing or wrong (HTTP 401), or refused the
    login: a ``ValueError``, as ``gradio_client.exceptions.AuthenticationError`` is."""


class TooManyRequestsError(ServerError):
    """The server or the Hugging Face proxy rate-limited the request (HTTP 429).

    The official client's name for it is ``gradio_client.utils.TooManyRequestsError``.
    """


class EndpointNotFoundError(GradioJobsError, ValueError):
    """No callable endpoint matches the given ``api_name`` or ``fn_index``."""

    def __init__(self, message: str, *, valid: Sequence[str] = ()) -> None:
        """``message`` says what was asked for; ``valid`` (default empty) lists the
        ``api_name`` of every endpoint that could have been called, kept as ``self.valid``."""
        super().__init__(message)
        self.valid = list(valid)


class ArgumentError(GradioJobsError, TypeError, ValueError):
    """The arguments do not fit the endpoint's parameters (count, names, missing values).

    A ``TypeError``, as the official client raises for a missing or unknown argument, and a
    ``ValueError``, as it raises for keyword arguments to an endpoint that has no parameter
    names.
    """


#: The official client's message for an exception the app does not show (no ``show_error``).
HIDDEN_ERROR_MESSAGE = (
    "The upstream Gradio app has raised an exception but has not enabled verbose error "
    "reporting. To enable, set show_error=True in launch()."
)


class AppError(GradioJobsError, ValueError):
    """The app's function raised; ``str(error)`` is its message alone, as in ``gradio_client``.

    The attributes are those of ``gradio_client.exceptions.AppError``, set from what the
    server sent (the defaults where it said nothing): ``message``, ``title`` (``"Error"``),
    ``duration`` (10 seconds), ``visible`` (True) and ``print_exception`` (True). gradio-jobs
    adds ``hidden``, True when the app does not show its exceptions (the message is then the
    official advice to launch it with ``show_error=True``), and ``job_id``.
    """

    def __init__(
        self,
        message: str | None = "Error raised.",
        duration: float | None = 10,
        visible: bool = True,
        title: str = "Error",
        print_exception: bool = True,
        *,
        hidden: bool = False,
        job_id: str | None = None,
    ) -> None:
        """Parameters as in ``gradio_client``, plus two keyword-only ones.

        ``message`` is the error's text (default ``"Error raised."``; None means the app hid
        it, as ``hidden=True``); ``duration`` how long the app asked to show it, in seconds
        (default 10; None: until closed); ``visible`` whether the app shows it (default
        True); ``title`` the ``gr.Error`` title (default ``"Error"``); ``print_exception``
        whether the app prints its traceback (default True; servers do not send it).
        ``hidden`` (default False) says the app does not show its exceptions: the message is
        then the official advice to set ``show_error=True``. ``job_id`` is the server's id
        of the failed job (default None: unknown).
        """
        self.hidden = hidden or message is None
        self.message: str = HIDDEN_ERROR_MESSAGE if self.hidden or message is None else message
        self.title = title
        self.duration = duration
        self.visible = visible
        self.print_exception = print_exception
        self.job_id = job_id
        super().__init__(self.message)


#: The official client's message for a full queue.
QUEUE_FULL_MESSAGE = "Queue is full! Please try again."


class QueueFullError(GradioJobsError):
    """The app's queue is full (HTTP 503 on join, or ``queue_full`` on old servers).

    The official client's name for it is ``gradio_client.utils.QueueError`` (an alias here).
    """

    def __init__(self, message: str = QUEUE_FULL_MESSAGE) -> None:
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
        if message is None:  # the official client's text
            lines = [f"- {name}: {text}" for name, text in self.errors.items()]
            message = "\n".join([f"{len(lines)} parameter(s) failed validation:", *lines])
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


class InputFileError(GradioJobsError, FileNotFoundError, ValueError):
    """A file given as an input does not exist or cannot be read.

    Also a ``ValueError``, as the official ``handle_file`` raises for a missing file.
    """


class SerializationSetupError(GradioJobsError, ValueError):
    """The official client's error for serializers it cannot set up.

    gradio-jobs has no serializers and never raises it: it exists so that code importing
    ``gradio_client.exceptions.SerializationSetupError`` works with ``gradio_jobs``.
    """


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


class SpaceUnavailableError(SpaceError, ValueError):
    """The Space exists but cannot serve: paused, broken, or not up before the deadline.

    ``timed_out`` is True when it was still starting (building, waking) when the time ran out.
    A ``ValueError``, as the official client raises for a Space in an invalid state.
    """

    def __init__(self, message: str, *, space_id: str, stage: str | None = None, timed_out: bool = False) -> None:
        """``message``, ``space_id`` and ``stage`` (default None) as for :class:`SpaceError`;
        ``timed_out`` (default False) is True when the Space was still starting when
        ``space_timeout`` ran out."""
        super().__init__(message, space_id=space_id, stage=stage)
        self.timed_out = timed_out


class SpaceDuplicationError(SpaceError, OSError):
    """``Client.duplicate`` could not make or set up the copy of a Space: no Hugging Face
    token (the message is ``huggingface_hub``'s), a token the Hub refused, or the Hub
    refused the duplicate, a secret, the hardware or the sleep time (``OSError``, the
    builtin base of the errors ``huggingface_hub`` raises there). ``space_id`` is the Space
    the failed request was about.
    """


class PrivateNetworkError(GradioJobsError):
    """An app on a public address gave a file URL on a loopback, private or link-local
    address, which the client refused to fetch (Private Network Access, as browsers do).

    ``url`` is the refused URL (a redirect hop's, if a redirect led there), ``address`` the
    address it was refused for (the one the connection reached, or the one written in the
    URL) and ``space`` its address space (``"local"`` or ``"private"``). The client option
    ``allow_private_network_files=True`` allows such fetches.
    """

    def __init__(self, message: str, *, url: str, address: str, space: str) -> None:
        """``message`` says what was refused and why; ``url``, ``address`` and ``space`` are
        kept as attributes of the same names (see the class)."""
        super().__init__(message)
        self.url = url
        self.address = address
        self.space = space


class LimitExceededError(GradioJobsError):
    """The server sent more, or slower, than a bound of :class:`~gradio_jobs.ClientOptions`
    allows (see the README's "Limits against misbehaving servers"); only the call or job
    concerned fails.

    ``option`` names the ``ClientOptions`` field of the bound (``"max_message_size"``,
    ``"max_answer_size"``, ``"max_redirects"``, ``"min_transfer_rate"``, ``"stream_timeout"``),
    ``limit`` is its value, and ``size`` what the server had sent when the client stopped
    (bytes, or redirects; None when it is not a count).
    """

    #: The option a subclass stands for, when ``option`` is not given.
    default_option: str = ""

    def __init__(self, message: str, *, option: str | None = None, limit: float, size: float | None = None) -> None:
        """``message`` says what was stopped and why; ``option`` (default: the class's own
        option), ``limit`` and ``size`` are kept as attributes of the same names (see the class)."""
        super().__init__(message)
        self.option = option if option is not None else self.default_option
        self.limit = limit
        self.size = size


class MessageTooLargeError(LimitExceededError, ProtocolError):
    """One event-stream message (an SSE event, a websocket frame) was larger than
    ``max_message_size``: the pending jobs of that stream fail with it. Also a
    :class:`ProtocolError`. Arguments as for :class:`LimitExceededError` (``option`` is
    ``"max_message_size"``)."""

    default_option = "max_message_size"


class AnswerTooLargeError(LimitExceededError, ProtocolError):
    """An answer read whole (``/config``, ``/info``, a join or upload answer) was larger than
    ``max_answer_size`` once decompressed. Also a :class:`ProtocolError`. Arguments as for
    :class:`LimitExceededError` (``option`` is ``"max_answer_size"``)."""

    default_option = "max_answer_size"


class TransferTooSlowError(LimitExceededError, TimeoutError):
    """A body (a file download, an answer read whole) arrived slower than
    ``min_transfer_rate`` over a ``transfer_window``: the server trickles. Also a
    ``TimeoutError``. Arguments as for :class:`LimitExceededError` (``option`` is
    ``"min_transfer_rate"``, ``size`` the bytes of the last window)."""

    default_option = "min_transfer_rate"


class StreamStalledError(LimitExceededError, ConnectionLostError):
    """The event stream brought bytes but no complete message for ``stream_timeout``
    seconds (a trickle): its pending jobs fail with it. Also a :class:`ConnectionLostError`.

    ``message``, ``limit`` (the seconds) and ``size`` (bytes of the unfinished message) as
    for :class:`LimitExceededError`; ``job_id`` and ``last_status`` as for
    :class:`ConnectionLostError` (set by the job that fails with it).
    """

    def __init__(
        self,
        message: str,
        *,
        option: str = "stream_timeout",
        limit: float,
        size: float | None = None,
        job_id: str | None = None,
        last_status: StatusUpdate | None = None,
    ) -> None:
        """``message``, ``option`` (default ``"stream_timeout"``), ``limit``, ``size``,
        ``job_id`` and ``last_status`` (default None) as the class says."""
        ConnectionLostError.__init__(self, message, job_id=job_id, last_status=last_status)
        self.option = option
        self.limit = limit
        self.size = size


class QuotaExceededError(AppError):
    """The app failed because the caller's ZeroGPU quota on a Hugging Face Space is spent.

    An :class:`AppError` (so ``except AppError`` and ``except ValueError`` still catch it)
    made when the server's error message is one of the quota messages of the ``spaces``
    package (see ``gradio_jobs.protocol.quota``); ``str(error)`` is the server's message,
    unchanged. ``retry_after`` is the wait the message names, in seconds (None when it names
    none: a daily quota, a runs limit). ``SubmitRetry(wait_quota=True)`` waits it out and
    submits the job again.
    """

    def __init__(
        self,
        message: str | None = "Error raised.",
        duration: float | None = 10,
        visible: bool = True,
        title: str = "Error",
        print_exception: bool = True,
        *,
        hidden: bool = False,
        job_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """``message``, ``duration``, ``visible``, ``title``, ``print_exception``, ``hidden``
        and ``job_id`` as for :class:`AppError`; ``retry_after`` (default None: unknown) is
        the seconds the message says to wait before trying again."""
        super().__init__(
            message, duration, visible, title, print_exception, hidden=hidden, job_id=job_id
        )
        self.retry_after = retry_after


class BatchJournalError(GradioJobsError, ValueError):
    """A batch run's output file cannot be resumed: it belongs to other inputs, or a line in
    its middle is not a journal record (use another output file, or fix the inputs)."""


class ReplicaMismatchError(GradioJobsError, ValueError):
    """A replica of a pool does not expose the same endpoints and parameters as the first one.

    ``replica`` is its URL; ``difference`` says what differs (an endpoint missing, or
    another parameter list).
    """

    def __init__(self, replica: str, difference: str) -> None:
        """``replica`` is the replica's URL, ``difference`` what differs from the first replica."""
        super().__init__(f"the replica {replica} does not match the pool's first replica: {difference}")
        self.replica = replica
        self.difference = difference


class NoReplicaAvailableError(ServerUnreachableError):
    """No replica of a pool is up: none could be reached at connect, or every one failed.

    The pool probes the replicas that are down and takes them back once they answer.
    """

    def __init__(self, message: str) -> None:
        """``message`` names the replicas and why each is down."""
        super().__init__(message, request_sent=False)
