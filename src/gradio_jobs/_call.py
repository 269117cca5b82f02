"""A call prepared for submission: the one submit path of both clients.

Preparing is pure (it binds the arguments to the endpoint and checks the input files) and
may run on any thread: the sync client prepares on the caller's thread, so bad arguments
raise there, and only launches on the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._callbacks import JobCallbacks
from .protocol import files
from .protocol.api import App, Endpoint
from .protocol.job import JobState
from .protocol.status import LogMessage, StatusUpdate

__all__ = ["Deadline", "PreparedCall", "prepare_call"]


@dataclass(frozen=True)
class Deadline:
    """Limits for one job, in seconds; each one that runs out cancels the job on the server.

    ``queue`` bounds the wait for a worker, ``run`` the time from start to end, ``total``
    everything from submission (each None: no limit). The job then fails with
    :class:`JobTimeoutError` naming the phase. (``result(timeout)`` only bounds one wait and
    leaves the job running.)
    """

    queue: float | None = None
    run: float | None = None
    total: float | None = None

    @classmethod
    def of(cls, value: Deadline | float | None) -> Deadline | None:
        """``value`` as a deadline: a number of seconds is a ``total`` limit; None is none."""
        if value is None or isinstance(value, Deadline):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return cls(total=float(value))
        raise TypeError(f"deadline must be a Deadline or a number of seconds, got {value!r}")


@dataclass(frozen=True)
class PreparedCall:
    """Everything a job needs to start: what it calls, with what, and what to tell whom."""

    endpoint: Endpoint
    data: list[Any]
    state: JobState
    callbacks: JobCallbacks
    deadline: Deadline | None
    session_hash: str


def prepare_call(
    app: App,
    session_hash: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    api_name: str | None,
    fn_index: int | None,
    result_callbacks: Callable[..., Any] | Sequence[Callable[..., Any]] | None,
    deadline: Deadline | float | None,
    on_status: Callable[[StatusUpdate], Any] | None,
    on_output: Callable[[Any], Any] | None,
    on_log: Callable[[LogMessage], Any] | None,
    keep_outputs: int | None,
) -> PreparedCall:
    """Choose the endpoint, bind the arguments and check every option; raises before anything is sent."""
    endpoint = app.endpoint(api_name=api_name, fn_index=fn_index)
    data = endpoint.bind(args, kwargs)
    files.local_files(data)  # a missing input file fails here, before anything is sent
    if callable(result_callbacks):
        result_callbacks = [result_callbacks]
    callbacks = JobCallbacks(on_status, on_output, on_log, list(result_callbacks or ()))
    state = JobState(endpoint, app.capabilities, keep_outputs)
    return PreparedCall(endpoint, data, state, callbacks, Deadline.of(deadline), session_hash)
