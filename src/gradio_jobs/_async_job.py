"""``AsyncJob``: one call to the app, driven by the session's stream reader."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Generator, Sequence

from ._exceptions import ProtocolError
from .protocol import events as ev
from .protocol import messages as m
from .protocol.api import Endpoint
from .protocol.job import JobState
from .protocol.status import StatusUpdate

if TYPE_CHECKING:
    from ._async_client import AsyncClient

__all__ = ["AsyncJob"]

logger = logging.getLogger("gradio_jobs")

#: Called on the event loop for every event of the job, in order.
EventListener = Callable[[ev.JobEvent], None]


class AsyncJob:
    """A submitted call: await it for the result, iterate it for generator outputs.

    Created by :meth:`AsyncClient.submit`; never construct one directly.
    """

    def __init__(
        self,
        client: AsyncClient,
        endpoint: Endpoint,
        data: list[Any],
        state: JobState,
        *,
        listener: EventListener | None = None,
        result_callbacks: Sequence[Callable[..., Any]] = (),
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._state = state
        self._listener = listener
        self._result_callbacks = list(result_callbacks)
        self._waiters: list[asyncio.Future[None]] = []
        self._loop = asyncio.get_running_loop()
        self._session_hash = client.session_hash
        self._apply(state.submitted())
        self._task: asyncio.Task[None] | None = self._loop.create_task(self._submit(data))

    # -- public API ---------------------------------------------------------------------

    @property
    def job_id(self) -> str | None:
        """The server's ``event_id`` once the job has joined the queue."""
        return self._state.job_id

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    @property
    def cancel_outcome(self) -> str | None:
        return self._state.cancel_outcome

    def status(self) -> StatusUpdate:
        return self._state.status

    def outputs(self) -> list[Any]:
        """Every output so far (each yield of a generator; the result of a plain function)."""
        return list(self._state.outputs)

    def done(self) -> bool:
        return self._state.done

    def cancelled(self) -> bool:
        return self._state.cancelled

    def event_log(self) -> list[ev.JobEvent]:
        """Every event of the job so far, in order."""
        return list(self._state.events)

    def cancel(self) -> bool:
        """Stop the job on the server. False if it had already ended."""
        if self._state.done:
            return False
        self._state.cancel_requested = True
        job_id = self._state.job_id
        self._apply(self._state.cancel("cancel requested"))
        if job_id is not None:
            self._client._stream_forget(job_id)
            self._client._spawn(self._client._cancel_on_server(self._endpoint, job_id, self._session_hash))
        # A job still joining is cancelled on the server as soon as it has an id (_submit).
        return True

    async def result(self, timeout: float | None = None) -> Any:
        """The job's result; raises the app's error, ``CancelledError`` or ``TimeoutError``."""
        if timeout is None:
            await self._wait_done()
        else:
            try:
                await asyncio.wait_for(self._wait_done(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(f"the job did not finish within {timeout} s") from None
        return self._outcome()

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result().__await__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        """Each output once, in order, until the job ends; then raises the job's error if any."""
        seen = 0
        while True:
            outputs = self._state.outputs
            while seen < len(outputs):
                yield outputs[seen]
                seen += 1
            if self._state.done:
                break
            await self._wait_change()
        if self._state.error is not None:
            raise self._state.error

    # -- plumbing -------------------------------------------------------------------------

    def _outcome(self) -> Any:
        state = self._state
        if state.cancelled:
            raise CancelledError(f"the job was cancelled ({state.cancel_outcome})")
        if state.error is not None:
            raise state.error
        return state.result

    async def _wait_done(self) -> None:
        while not self._state.done:
            await self._wait_change()

    def _wait_change(self) -> asyncio.Future[None]:
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter

    def _apply(self, events: list[ev.JobEvent]) -> None:
        """Publish events: wake waiters, tell the listener, run callbacks on completion."""
        if not events:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        for event in events:
            if self._listener is not None:
                try:
                    self._listener(event)
                except Exception:
                    logger.exception("gradio-jobs: a job listener failed")
            if isinstance(event, ev.Completed) and self._result_callbacks:
                self._run_result_callbacks(event.value)

    def _run_result_callbacks(self, value: Any) -> None:
        args = value if isinstance(value, tuple) else (value,)
        for callback in self._result_callbacks:
            try:
                outcome = callback(*args)
                if asyncio.iscoroutine(outcome):
                    self._client._spawn(outcome)
            except Exception:
                logger.exception("gradio-jobs: result callback %r failed", callback)

    async def _submit(self, data: list[Any]) -> None:
        try:
            job_id = await self._client._join(self._endpoint, data, self._session_hash)
        except asyncio.CancelledError:
            self._apply(self._state.lost("the client was closed while the job was joining"))
            raise
        except Exception as exc:
            self._apply(self._state.fail(exc))
            return
        finally:
            self._task = None
        if self._state.done:
            # Cancelled while joining: the server has it now, so stop it there.
            if self._state.cancelled:
                self._client._spawn(self._client._cancel_on_server(self._endpoint, job_id, self._session_hash))
            return
        self._apply(self._state.joined(job_id))
        self._client._stream_register(job_id, self, self._session_hash)

    # JobSink, called by the session's stream reader.

    @property
    def finished(self) -> bool:
        return self._state.done

    def deliver(self, message: m.Message) -> None:
        self._apply(self._state.feed(message))

    def lose(self, reason: str) -> None:
        self._apply(self._state.lost(reason))

    def reject(self, error: ProtocolError) -> None:
        self._apply(self._state.fail(error))

    def __repr__(self) -> str:
        return f"<AsyncJob {self._endpoint.label} id={self.job_id} status={self._state.status.code.value}>"
