"""``job.watch()``: the job's live view where the caller works, until it ends.

The display is chosen as ``gradio-jobs call`` chooses it, plus notebooks: an HTML table
updated in place in a Jupyter kernel, a rich live panel on a terminal, plain lines
otherwise. :class:`Watch` holds what the sync and async drivers share; they only differ in
how they wait for the job's next events (on the caller's thread, or on its event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

from ..protocol import events as ev
from .displays import Display, PlainDisplay
from .view import JobView, describe_cancel_outcome

if TYPE_CHECKING:
    from .._async_job import AsyncJob
    from .._job import Job

__all__ = ["CANCEL_WAIT", "NOTEBOOK_TICK", "Watch", "choose_display", "watch_async", "watch_sync"]

#: After Ctrl+C, how long to wait for the server's answer about the cancel.
CANCEL_WAIT = 5.0
#: A notebook view is redrawn at least this often (seconds), so a queue ETA counts down.
NOTEBOOK_TICK = 1.0

#: ``batches(tick, until)``: the job's events in batches, an empty one every ``tick`` seconds
#: without news; raises ``TimeoutError`` at monotonic time ``until``; ends when the job settled.
SyncBatches = Callable[[float | None, float | None], Generator[list[ev.JobEvent], None, None]]
AsyncBatches = Callable[[float | None, float | None], AsyncGenerator[list[ev.JobEvent], None]]


def choose_display(console: Any, transient: bool) -> tuple[Display, float | None]:
    """The display for ``watch(console=..., transient=...)`` and how often it wants a redraw
    (None: it redraws itself)."""
    if console is None:
        from .notebook import NotebookDisplay, in_notebook

        if in_notebook():
            return NotebookDisplay(transient), NOTEBOOK_TICK
        stdout = sys.stdout
        if stdout is None or not stdout.isatty():
            return PlainDisplay(stdout if stdout is not None else sys.stderr), None
        from rich.console import Console

        console = Console()
    if console.is_terminal:
        from .terminal import LiveDisplay

        return LiveDisplay(console, transient), None
    return PlainDisplay(console.file), None


class Watch:
    """One watch of a job: its view, its display, and what the drivers do with each batch."""

    def __init__(self, title: str, timeout: float | None, console: Any, transient: bool) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0):
            raise ValueError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")
        self.view = JobView(title)
        self.display, self.tick = choose_display(console, transient)
        self.until = None if timeout is None else time.monotonic() + timeout

    def take(self, batch: list[ev.JobEvent]) -> bool:
        """Show ``batch``; True once the job has ended."""
        over = False
        for event in batch:
            self.view.apply(event)
            self.display.event(self.view, event)
            over = over or isinstance(event, ev.TERMINAL_EVENTS)
        self.display.refresh()
        return over

    def interrupted(self, outcome: str | None) -> None:
        """Ctrl+C cancelled the job; ``outcome`` is what the server did (None: not known yet)."""
        self.view.end("interrupted", f"cancelled by Ctrl+C: {describe_cancel_outcome(outcome)}")


def watch_sync(
    job: Job, batches: SyncBatches, title: str, timeout: float | None, console: Any, transient: bool
) -> None:
    """Show ``job`` (whose events ``batches`` gives) on the caller's thread until it ends.

    Raises ``TimeoutError`` when ``timeout`` passes first (the job keeps running); Ctrl+C
    cancels the job, waits a little for the server's answer and re-raises.
    """
    watch = Watch(title, timeout, console, transient)
    with watch.display.showing([watch.view]):
        try:
            with contextlib.closing(batches(watch.tick, watch.until)) as stream:
                for batch in stream:
                    if watch.take(batch):
                        break
        except KeyboardInterrupt:
            job.cancel()
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl+C: stop waiting
                job.wait_settled(CANCEL_WAIT)
            watch.interrupted(job.cancel_outcome)
            raise
        finally:
            watch.display.ended(watch.view)


async def watch_async(
    job: AsyncJob, batches: AsyncBatches, title: str, timeout: float | None, console: Any, transient: bool
) -> None:
    """Show ``job`` (whose events ``batches`` gives) on its event loop until it ends; as
    :func:`watch_sync` otherwise (cancelling the awaiting task leaves the job running)."""
    watch = Watch(title, timeout, console, transient)
    with watch.display.showing([watch.view]):
        try:
            async with contextlib.aclosing(batches(watch.tick, watch.until)) as stream:
                async for batch in stream:
                    if watch.take(batch):
                        break
        except KeyboardInterrupt:
            job.cancel()
            with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
                await job.wait_settled(CANCEL_WAIT)
            watch.interrupted(job.cancel_outcome)
            raise
        finally:
            watch.display.ended(watch.view)
