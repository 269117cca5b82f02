"""How a sync facade (``Client``, ``ClientPool``) submits: bind the call on the caller's thread,
start it on the loop thread, run its callbacks on the callback thread.

Nothing is decided here: the async core (an ``AsyncClient`` or an ``AsyncClientPool``) binds
and starts the job; the sync :class:`Job` is completed from its events.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from . import _loop
from ._async_job import AsyncJob, Dispatch, EventListener
from ._call import CallRequest, PreparedCall
from ._callbacks import Call, run_calls
from ._job import Job

__all__ = ["SyncSubmitter"]


class _Core(Protocol):
    """What the facade asks of its async core."""

    def _prepare(self, request: CallRequest) -> PreparedCall: ...

    def _launch(
        self, call: PreparedCall, listener: EventListener | None = None, dispatch: Dispatch | None = None
    ) -> AsyncJob: ...

    def _run_awaitable(self, awaitable: Any) -> None: ...


class SyncSubmitter:
    """The submitting half of a sync facade; the facade gives its async core (``_core``)."""

    def _core(self) -> _Core:
        raise NotImplementedError

    def _submit_request(self, request: CallRequest) -> Job:
        """Bind ``request`` here (bad arguments raise on the caller's thread), start it on the loop."""
        call = self._core()._prepare(request)
        job = Job(call.state, self)
        _loop.call_soon(self._launch, call, job)
        return job

    def _launch(self, call: PreparedCall, job: Job) -> None:
        dispatch = self._dispatch if call.callbacks else None
        try:
            async_job = self._core()._launch(call, job._on_event, dispatch)
        except Exception as exc:  # e.g. the client was closed meanwhile
            job._launch_failed(exc)
            return
        job._attach(async_job)

    def _dispatch(self, calls: list[Call]) -> None:
        # Never on the loop thread: a slow callback must not hold up every other job.
        _loop.callback_executor().submit(run_calls, calls, self._run_awaitable)

    def _run_awaitable(self, awaitable: Awaitable[Any]) -> None:
        _loop.call_soon(self._core()._run_awaitable, awaitable)
