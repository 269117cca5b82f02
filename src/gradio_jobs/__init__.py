"""gradio-jobs: a job-centred client for Gradio apps.

``from gradio_jobs import Client`` is a drop-in for ``gradio_client.Client``;
``AsyncClient`` is the same client for async code.
"""

from ._async_client import AsyncClient
from ._async_job import AsyncJob
from ._call import Deadline
from ._client import Client, amap_jobs, map_jobs
from ._exceptions import (
    AppError,
    ArgumentError,
    AuthenticationError,
    ConnectionLostError,
    EndpointNotFoundError,
    FileTooLargeError,
    GradioJobsError,
    InputFileError,
    JobTimeoutError,
    ProtocolError,
    QueueError,
    QueueFullError,
    ServerError,
    ServerUnreachableError,
    SpaceError,
    SpaceNotFoundError,
    SpaceUnavailableError,
    TooManyRequestsError,
    UnsupportedServerError,
    ValidationError,
)
from ._fanin import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, DoneAndNotDone, as_completed, wait
from ._job import Job
from ._map import AsyncMapRun, MapProgress, MapRun
from ._options import ClientOptions
from ._retry import RetryPolicy, SubmitRetry
from ._version import __version__
from .protocol import events
from .protocol.files import handle_file
from .protocol.job import Timings
from .protocol.status import LogMessage, ProgressUnit, Status, StatusUpdate

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "ClientOptions",
    "handle_file",
    "as_completed",
    "wait",
    "map_jobs",
    "amap_jobs",
    "MapRun",
    "AsyncMapRun",
    "MapProgress",
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "DoneAndNotDone",
    "Job",
    "AsyncJob",
    "Deadline",
    "Timings",
    "RetryPolicy",
    "SubmitRetry",
    "JobTimeoutError",
    "Status",
    "StatusUpdate",
    "ProgressUnit",
    "LogMessage",
    "events",
    "GradioJobsError",
    "AppError",
    "ArgumentError",
    "AuthenticationError",
    "ConnectionLostError",
    "EndpointNotFoundError",
    "FileTooLargeError",
    "InputFileError",
    "ProtocolError",
    "QueueError",
    "QueueFullError",
    "ServerError",
    "ServerUnreachableError",
    "SpaceError",
    "SpaceNotFoundError",
    "SpaceUnavailableError",
    "TooManyRequestsError",
    "UnsupportedServerError",
    "ValidationError",
]
