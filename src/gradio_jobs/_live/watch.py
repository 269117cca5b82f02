"""``job.watch()``: the job's live view where the caller works, until it ends.

The display is chosen as ``gradio-jobs call`` chooses it, plus notebooks: an HTML table
updated in place in a Jupyter kernel, a rich live panel on a terminal, plain lines
otherwise. :class:`Watch` holds what the sync and async drivers share; they only differ in
how they wait for the job's next events (on the caller's thread, or on its event loop).

Ctrl+C reaches a coroutine as a cancel, not as ``KeyboardInterrupt``: ``asyncio.run`` (and
a notebook's kernel) cancel the running task, a cancel like any other. So while an
``await job.watch()`` runs on the main thread, :func:`ctrl_c_cancels` handles SIGINT instead:
it cancels the watching tasks and marks them, and each cancels its job and raises
``KeyboardInterrupt`` as the sync ``watch()`` does. A second Ctrl+C goes to the handler that
was there before (``asyncio.run``'s, the kernel's or Python's), and it is back when no
watch runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from ..protocol import events as ev
from .displays import Display, PlainDisplay
from .view import JobView, describe_cancel_outcome

if TYPE_CHECKING:
    from .._async_job import AsyncJob
    from .._job import Job

__all__ = ["CANCEL_WAIT", "NOTEBOOK_TICK", "Watch", "choose_display", "ctrl_c_cancels", "watch_async", "watch_sync"]

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


#: The tasks in an ``await job.watch()`` on the main thread -> whether Ctrl+C cancelled them.
_watching: dict[asyncio.Task[Any], bool] = {}
#: The SIGINT handler :func:`ctrl_c_cancels` replaced (while ``_watching`` is not empty).
_previous: Any = None


def _pass_on(previous: Any, signum: int, frame: Any) -> None:
    """Ctrl+C as it would be without the watches: to ``previous``, the handler they replaced."""
    if callable(previous):
        previous(signum, frame)
    else:
        raise KeyboardInterrupt


def _on_sigint(signum: int, frame: Any) -> None:
    previous = _previous
    fresh = [task for task, hit in _watching.items() if not hit]
    if not fresh:  # a second Ctrl+C: the watches are already ending
        _pass_on(previous, signum, frame)
        return

    def cancel(task: asyncio.Task[Any]) -> None:  # on the task's loop, where it may have ended meanwhile
        if task in _watching and not _watching[task]:
            _watching[task] = True
            task.cancel()
        elif not any(_watching.values()):  # the watch ended first: this Ctrl+C is for the code after it
            _pass_on(previous, signum, None)

    for task in fresh:
        task.get_loop().call_soon_threadsafe(cancel, task)


@contextlib.contextmanager
def ctrl_c_cancels(task: asyncio.Task[Any] | None) -> Iterator[Callable[[], bool]]:
    """Inside this block, Ctrl+C cancels ``task`` (the one watching, on the main thread's loop);
    yields a function that says whether it did. Elsewhere (another thread, no task, Ctrl+C
    ignored or left to the system) it changes nothing and the function says False."""
    global _previous
    if task is None or threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    if not _watching:
        current = signal.getsignal(signal.SIGINT)
        if not callable(current):  # SIG_IGN or SIG_DFL: not ours to change
            yield lambda: False
            return
        signal.signal(signal.SIGINT, _on_sigint)
        _previous = current
    _watching[task] = False
    try:
        yield lambda: _watching.get(task, False)
    finally:
        del _watching[task]
        if not _watching:
            if signal.getsignal(signal.SIGINT) is _on_sigint:  # nobody replaced ours meanwhile
                signal.signal(signal.SIGINT, _previous)
            _previous = None


async def watch_async(
    job: AsyncJob, batches: AsyncBatches, title: str, timeout: float | None, console: Any, transient: bool
) -> None:
    """Show ``job`` (whose events ``batches`` gives) on its event loop until it ends; as
    :func:`watch_sync` otherwise. Ctrl+C on the main thread is told from other cancels of the
    awaiting task (see :func:`ctrl_c_cancels`); those leave the job running."""
    watch = Watch(title, timeout, console, transient)
    task = asyncio.current_task()
    with watch.display.showing([watch.view]), ctrl_c_cancels(task) as by_ctrl_c:
        try:
            async with contextlib.aclosing(batches(watch.tick, watch.until)) as stream:
                async for batch in stream:
                    if watch.take(batch):
                        break
        except (KeyboardInterrupt, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                if not by_ctrl_c():
                    raise
                uncancel = getattr(task, "uncancel", None)  # Python 3.11+: the cancel is handled
                if uncancel is not None:
                    uncancel()
            job.cancel()
            with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):  # a second Ctrl+C: stop waiting
                await job.wait_settled(CANCEL_WAIT)
            watch.interrupted(job.cancel_outcome)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise KeyboardInterrupt from None
        finally:
            watch.display.ended(watch.view)
