"""Showing jobs while they run: the command line's names for the shared live views.

``gradio-jobs call`` and the demo show jobs with the very views of ``job.watch()``
(``gradio_jobs._live``): ``JobView`` folds a job's events into what there is to show;
``LiveDisplay`` redraws it on a terminal (rich's ``Live``, which also counts the queue ETA
down between two events), ``PlainDisplay`` writes one line per meaningful event (no escape
codes), ``NullDisplay`` shows nothing.
"""

from __future__ import annotations

from .._live.displays import Display, NullDisplay, PlainDisplay
from .._live.terminal import LiveDisplay
from .._live.view import JobView, describe_cancel_outcome, format_bytes, format_seconds, media_segments, short

__all__ = [
    "Display",
    "JobView",
    "LiveDisplay",
    "NullDisplay",
    "PlainDisplay",
    "describe_cancel_outcome",
    "format_bytes",
    "format_seconds",
    "media_segments",
    "short",
]
