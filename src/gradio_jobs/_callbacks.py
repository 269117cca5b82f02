"""The ``on_status`` / ``on_output`` / ``on_log`` callbacks of a job, shared by both clients.

Which callback runs with what comes from the job's events, in their order; where it runs
differs (the async client calls them on its loop, the sync one on its callback thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .protocol import events as ev
from .protocol.status import StatusUpdate

__all__ = ["JobCallbacks", "Call", "run_calls"]

logger = logging.getLogger("gradio_jobs")

#: One callback to run and its argument.
Call = tuple[Callable[[Any], Any], Any]


@dataclass
class JobCallbacks:
    on_status: Callable[[StatusUpdate], Any] | None = None
    on_output: Callable[[Any], Any] | None = None
    on_log: Callable[[Any], Any] | None = None
    _last_status: StatusUpdate | None = None

    def __post_init__(self) -> None:
        for name in ("on_status", "on_output", "on_log"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise TypeError(f"{name} must be callable, got {value!r}")

    def __bool__(self) -> bool:
        return any((self.on_status, self.on_output, self.on_log))

    def calls(self, events: Iterable[ev.JobEvent], status: StatusUpdate) -> list[Call]:
        """What to call for these events, in order; ``status`` is the job's status after them."""
        calls: list[Call] = []
        for event in events:
            if isinstance(event, ev.OutputProduced) and self.on_output is not None:
                calls.append((self.on_output, event.value))
            elif isinstance(event, ev.Logged) and self.on_log is not None:
                calls.append((self.on_log, event.log))
        if self.on_status is not None and status is not self._last_status:
            self._last_status = status
            calls.append((self.on_status, status))
        return calls


def run_calls(calls: Iterable[Call], on_coroutine: Callable[[Any], None] | None = None) -> None:
    """Run callbacks in order; one that raises is logged and the rest still run."""
    for callback, argument in calls:
        try:
            outcome = callback(argument)
        except Exception:
            logger.exception("gradio-jobs: callback %r failed", callback)
            continue
        if on_coroutine is not None and hasattr(outcome, "__await__"):
            on_coroutine(outcome)
