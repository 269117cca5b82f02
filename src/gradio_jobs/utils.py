"""``gradio_client.utils`` under gradio-jobs' name: the names code imports from it.

So that replacing ``gradio_client`` by ``gradio_jobs`` in a code base keeps its imports
working: the status types (``Status``, ``StatusUpdate``, ``ProgressUnit``, ``OutputUpdate``),
the errors (``QueueError``, ``TooManyRequestsError``, ``SpaceDuplicationError``), the file
helpers (``handle_file``, ``file``) and ``is_http_url_like``. The official module's
internals (its threads' ``Communicator``, serializers, base64 helpers) have no counterpart.
"""

from __future__ import annotations

from typing import Any

from ._exceptions import QueueError, SpaceDuplicationError, TooManyRequestsError
from ._version import __version__
from .protocol.files import file, handle_file
from .protocol.status import OutputUpdate, ProgressUnit, Status, StatusUpdate

__all__ = [
    "__version__",
    "OutputUpdate",
    "ProgressUnit",
    "QueueError",
    "SpaceDuplicationError",
    "Status",
    "StatusUpdate",
    "TooManyRequestsError",
    "file",
    "handle_file",
    "is_http_url_like",
]


def is_http_url_like(possible_url: Any) -> bool:
    """Whether ``possible_url`` is a string that starts like an HTTP(S) URL (``http://`` or
    ``https://``), as in ``gradio_client.utils``."""
    return isinstance(possible_url, str) and possible_url.startswith(("http://", "https://"))
