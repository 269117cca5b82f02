"""gradio-jobs: a job-centred client for Gradio apps.

``from gradio_jobs import Client`` is a drop-in for ``gradio_client.Client``;
``AsyncClient`` is the same client for async code. ``gradio_jobs.utils``,
``gradio_jobs.exceptions``, ``gradio_jobs.data_classes`` and ``gradio_jobs.client`` stand for
the official modules of the same names.
"""

from typing import TYPE_CHECKING, Any

from . import client as client  # gradio_jobs.client, as gradio_client.client (not in __all__)
from . import data_classes, exceptions, utils
from ._async_client import AsyncClient
from ._async_job import AsyncJob
from ._batch import BatchProgress, BatchSummary, arun_batch, run_batch
from ._call import Deadline
from ._client import Client, amap_jobs, map_jobs
from ._client_pool import ClientPool
from ._exceptions import (
    AnswerTooLargeError,
    AppError,
    ArgumentError,
    AuthenticationError,
    BatchJournalError,
    ConnectionLostError,
    EndpointNotFoundError,
    FileTooLargeError,
    GradioJobsError,
    InputFileError,
    JobTimeoutError,
    LimitExceededError,
    MessageTooLargeError,
    NoReplicaAvailableError,
    PrivateNetworkError,
    ProtocolError,
    QueueError,
    QueueFullError,
    QuotaExceededError,
    ReplicaMismatchError,
    SerializationSetupError,
    ServerError,
    ServerUnreachableError,
    SpaceDuplicationError,
    SpaceError,
    SpaceNotFoundError,
    SpaceUnavailableError,
    StreamStalledError,
    TooManyRequestsError,
    TransferTooSlowError,
    UnsupportedServerError,
    ValidationError,
)
from ._fanin import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, DoneAndNotDone, as_completed, wait
from ._job import Job
from ._map import AsyncMapRun, MapProgress, MapRun
from ._options import ClientOptions
from ._pool import AsyncClientPool, ReplicaStats
from ._retry import RetryPolicy, SubmitRetry
from ._version import __version__
from .data_classes import FileData
from .protocol import events
from .protocol.files import file, handle_file
from .protocol.job import Timings
from .protocol.media import MediaSegment
from .protocol.queue_status import QueueStatus
from .protocol.status import LogMessage, OutputUpdate, ProgressUnit, Status, StatusUpdate

if TYPE_CHECKING:
    from .transport.errors import FileAccessError, FileDownloadError, TooManyRedirectsError

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "ClientOptions",
    "handle_file",
    "file",
    "FileData",
    "utils",
    "exceptions",
    "data_classes",
    "as_completed",
    "wait",
    "map_jobs",
    "amap_jobs",
    "MapRun",
    "AsyncMapRun",
    "MapProgress",
    "run_batch",
    "arun_batch",
    "BatchProgress",
    "BatchSummary",
    "BatchJournalError",
    "ClientPool",
    "AsyncClientPool",
    "ReplicaStats",
    "ReplicaMismatchError",
    "NoReplicaAvailableError",
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "DoneAndNotDone",
    "Job",
    "AsyncJob",
    "Deadline",
    "Timings",
    "MediaSegment",
    "RetryPolicy",
    "SubmitRetry",
    "JobTimeoutError",
    "Status",
    "StatusUpdate",
    "OutputUpdate",
    "ProgressUnit",
    "LogMessage",
    "events",
    "GradioJobsError",
    "AppError",
    "ArgumentError",
    "AuthenticationError",
    "ConnectionLostError",
    "EndpointNotFoundError",
    "FileAccessError",
    "FileDownloadError",
    "FileTooLargeError",
    "InputFileError",
    "SerializationSetupError",
    "PrivateNetworkError",
    "LimitExceededError",
    "MessageTooLargeError",
    "AnswerTooLargeError",
    "TransferTooSlowError",
    "StreamStalledError",
    "TooManyRedirectsError",
    "ProtocolError",
    "QueueError",
    "QueueFullError",
    "QuotaExceededError",
    "QueueStatus",
    "ServerError",
    "ServerUnreachableError",
    "SpaceError",
    "SpaceNotFoundError",
    "SpaceUnavailableError",
    "SpaceDuplicationError",
    "TooManyRequestsError",
    "UnsupportedServerError",
    "ValidationError",
]


def __getattr__(name: str) -> Any:
    """The errors that are also httpx's (``FileAccessError``, ``FileDownloadError``,
    ``TooManyRedirectsError``) load with
    httpx, when first used:
    ``import gradio_jobs`` alone does not import httpx."""
    if name in ("FileAccessError", "FileDownloadError", "TooManyRedirectsError"):
        from .transport import errors

        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
