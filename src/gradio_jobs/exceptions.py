"""``gradio_client.exceptions`` under gradio-jobs' name, with every gradio-jobs error.

``AppError``, ``AuthenticationError``, ``ValidationError`` and ``SerializationSetupError``
are the official module's names; the rest are gradio-jobs' typed errors (all derive from
``GradioJobsError``). ``FileAccessError`` and ``FileDownloadError`` are also ``httpx.HTTPStatusError``: they
load (with httpx) when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import *  # noqa: F403
from ._exceptions import __all__ as _errors

if TYPE_CHECKING:
    from .transport.errors import FileAccessError, FileDownloadError, TooManyRedirectsError

__all__ = [*_errors, "FileAccessError", "FileDownloadError", "TooManyRedirectsError"]


def __getattr__(name: str) -> Any:
    """The errors that are also httpx's load with httpx, when first used."""
    if name in ("FileAccessError", "FileDownloadError", "TooManyRedirectsError"):
        from .transport import errors

        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
