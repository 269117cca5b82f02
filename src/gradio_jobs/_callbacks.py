"""A job's callbacks (``on_status``, ``on_output``, ``on_log``, ``result_callbacks``), for both clients.

Which callback runs with what comes from the job's events, in their order; where it runs is
the client's choice (the async client calls them on its loop, the sync one on its callback
thread). An awaitable a callback returns is run on the client's loop, guarded like the call.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .protocol import events as ev
from .protocol.status import LogMessage, StatusUpdate

__all__ = ["Call", "JobCallbacks", "guarded", "run_calls"]

logger = logging.getLogger("gradio_jobs")

#: One callback to run and its arguments.
Call = tuple[Callable[..., Any], tuple[Any, ...]]


def _callable_or_none(name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable, got {value!r}")


@dataclass
class JobCallbacks:
    """The callbacks of one job; ``calls`` says which to run for a batch of its events."""

    on_status: Callable[[StatusUpdate], Any] | None = None
    on_output: Callable[[Any], Any] | None = None
    on_log: Callable[[LogMessage], Any] | None = None
    #: Called with the job's outputs (``fn(*outputs)``) when it succeeds.
    result_callbacks: Sequence[Callable[..., Any]] = ()
    _last_status: StatusUpdate | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _callable_or_none("on_status", self.on_status)
        _callable_or_none("on_output", self.on_output)
        _callable_or_none("on_log", self.on_log)
        if callable(self.result_callbacks):
            self.result_callbacks = [self.result_callbacks]
        self.result_callbacks = list(self.result_callbacks or ())
        for callback in self.result_callbacks:
            _callable_or_none("a result callback", callback)

    def __bool__(self) -> bool:
        return any((self.on_status, self.on_output, self.on_log, self.result_callbacks))

    def calls(self, events: Iterable[ev.JobEvent], status: StatusUpdate) -> list[Call]:
        """What to call for these events, in order; ``status`` is the job's status after them."""
        calls: list[Call] = []
        completed: ev.Completed | None = None
        for event in events:
            if isinstance(event, ev.OutputProduced) and self.on_output is not None:
                calls.append((self.on_output, (event.value,)))
            elif isinstance(event, ev.Logged) and self.on_log is not None:
                calls.append((self.on_log, (event.log,)))
            elif isinstance(event, ev.Completed):
                completed = event
        if self.on_status is not None and status is not self._last_status:
            self._last_status = status
            calls.append((self.on_status, (status,)))
        if completed is not None:
            value = completed.value
            args = value if isinstance(value, tuple) else (value,)
            calls.extend((callback, args) for callback in self.result_callbacks)
        return calls


def run_calls(calls: Iterable[Call], run_awaitable: Callable[[Awaitable[Any]], None]) -> None:
    """Run callbacks in order; one that raises is logged and the rest still run.

    An awaitable a callback returns (a coroutine, a future, anything with ``__await__``) is
    handed to ``run_awaitable``, which must run it as :func:`guarded` does.
    """
    for callback, arguments in calls:
        try:
            outcome = callback(*arguments)
            if inspect.isawaitable(outcome):
                run_awaitable(outcome)
        except Exception:
            logger.exception("gradio-jobs: callback %r failed", callback)


async def guarded(awaitable: Awaitable[Any]) -> None:
    """Await what a callback returned; its failure is logged, never raised into the job."""
    try:
        await awaitable
    except Exception:
        logger.exception("gradio-jobs: the awaitable returned by a callback failed")
