"""Cancelling jobs on the server: the one place that does it.

The sans-I/O planner (``protocol/cancel.py``) says what stops a job in its phase on a
server; this module sends it and deals with what follows:

- killing cancels of one endpoint in one session go one at a time (a kill takes down every
  running job of the endpoint in the session, and only the empty completion of the job it
  names marks which ones it hit, so a second kill before that mark could hit jobs that
  nothing would tell about);
- the siblings a kill hit are found once its mark is read: cancelled ones are settled as
  stopped, the others are submitted again.

Jobs are reached only through :class:`CancelTarget`, the runtime through
:class:`CancelRuntime`: nothing here touches a job's state but through its methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._exceptions import GradioJobsError
from ._limits import KILL_MARKER_TIMEOUT
from .protocol import events as ev
from .protocol.api import App, Endpoint
from .protocol.cancel import NO_TASK, CancelAction, outcome_of_stopping, plan_cancel
from .protocol.job import JobState
from .protocol.requests import reset_body

__all__ = ["CancelCoordinator", "CancelRuntime", "CancelTarget"]

logger = logging.getLogger("gradio_jobs")


class CancelTarget(Protocol):
    """What the coordinator needs of a job."""

    @property
    def state(self) -> JobState:
        """The job's state, read only."""
        ...

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint the job calls."""
        ...

    @property
    def session_hash(self) -> str:
        """The session the job runs in."""
        ...

    def resolve_cancel(self, outcome: str) -> None:
        """The server's verdict on the cancel is known: settle the job with ``outcome``."""

    def cancel_sent(self, action: CancelAction) -> None:
        """A cancel request for the job went out (its empty completion will answer it)."""

    def drop_connection(self) -> None:
        """Close the job's own connection, on the routes that give each job one."""

    def restart(self, reason: str) -> None:
        """Submit the same call again: its run was killed on the server."""

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the server's part of the job is over."""
        ...


class CancelRuntime(Protocol):
    """What the coordinator needs of the client's runtime."""

    @property
    def app(self) -> App:
        """The connected app."""
        ...

    @property
    def closing(self) -> bool:
        """The client is closing: dropping its sessions cancels what is left."""
        ...

    def live_jobs(self) -> Iterable[CancelTarget]:
        """The jobs whose server side is not over yet."""
        ...

    def forget(self, job_id: str) -> None:
        """Drop the later messages of ``job_id`` from its session's stream."""

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the runtime owns (cancelled when it closes)."""
        ...

    async def post_ok(self, route: str, body: Any, what: str) -> None:
        """``POST`` ``body`` to the app's API ``route``; raises a typed error unless it succeeds."""


@dataclass
class _Bookkeeping:
    """The cancel protocol's own facts about one job."""

    #: One request at a time per job, so the server's empty completions answer them in order.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Killing cancels sent and not yet answered by the server.
    kills_in_flight: int = 0
    #: The job finished before its killing cancel landed: look for killed siblings once it has.
    siblings_after_kill: bool = False


class CancelCoordinator:
    """Sends what stops each cancelled job (see the module docstring); one per client."""

    def __init__(self, runtime: CancelRuntime) -> None:
        self._runtime = runtime
        self._jobs: weakref.WeakKeyDictionary[CancelTarget, _Bookkeeping] = weakref.WeakKeyDictionary()
        #: One killing cancel at a time per (session, fn_index), with how many jobs want a turn.
        self._kill_turns: dict[tuple[str, int], tuple[asyncio.Lock, list[int]]] = {}
        self._pending: set[asyncio.Task[Any]] = set()

    @property
    def pending(self) -> set[asyncio.Task[Any]]:
        """The cancel requests in flight."""
        return set(self._pending)

    # -- what jobs tell the coordinator ------------------------------------------------------

    def request(self, job: CancelTarget) -> None:
        """Stop ``job`` (cancelled or timed out) on the server, as its current phase allows.

        Called again when the job's phase changes (it got an id, it started) until the
        planner has something to send.
        """
        state = job.state
        if not state.cancelling:
            return
        caps = self._runtime.app.capabilities
        action = plan_cancel(caps, job.endpoint, state.phase)
        if action is CancelAction.WAIT:
            return
        if action is CancelAction.NONE:
            logger.info("job %s cannot be stopped on the server; it runs to its end, unheard", state.job_id)
            if state.job_id is not None:
                self._runtime.forget(state.job_id)
            job.drop_connection()
            job.resolve_cancel(ev.OUTCOME_SERVER_CONTINUES)
            return
        if action is CancelAction.CLOSE:
            job.drop_connection()
            job.resolve_cancel(outcome_of_stopping(caps, job.endpoint, state.phase))
            return
        if self._runtime.closing:
            return  # close() drops the session, which cancels the job on the server
        sender = self._send_reset(job) if action is CancelAction.RESET else self._send_cancel(job, action)
        task = self._runtime.spawn(sender)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def completed(self, job: CancelTarget, cancelled: bool) -> None:
        """The stream delivered ``job``'s completion (``cancelled``: the empty one of a cancel)."""
        state = job.state
        if cancelled:
            if state.last_cancel_killed:
                self._siblings_killed(job)
            return
        if CancelAction.KILL in state.cancel_requests:
            # It finished just before a kill sent for it landed: the kill still takes down the
            # running siblings, but no empty completion will mark the moment (measured on 6.31).
            # They are resubmitted once the kill has surely happened (its request has returned),
            # or the kill would take their new runs down too; one may then run twice, but
            # waiting for a word that never comes would hang.
            books = self._books(job)
            if books.kills_in_flight:
                books.siblings_after_kill = True
            else:
                self._siblings_killed(job)

    def settle_for_close(self, job: CancelTarget) -> None:
        """The client closes with ``job`` pending: dropping the session decides what happens to it."""
        state = job.state
        job.resolve_cancel(outcome_of_stopping(self._runtime.app.capabilities, job.endpoint, state.phase))

    # -- sending ---------------------------------------------------------------------------

    def _books(self, job: CancelTarget) -> _Bookkeeping:
        books = self._jobs.get(job)
        if books is None:
            books = self._jobs[job] = _Bookkeeping()
        return books

    async def _send_cancel(self, job: CancelTarget, action: CancelAction) -> None:
        state = job.state
        async with self._books(job).lock:
            if state.settled or state.job_id is None:
                return
            if action is not CancelAction.KILL:
                await self._post_cancel(job, action)
                return
            async with self._kill_turn(job):
                # The kill of a sibling that went first may have stopped this job already: a
                # second kill would find no task of its own and take down the jobs of the
                # endpoint that started since, with no message to say so (measured on 6.31).
                if state.settled:
                    return
                if await self._post_cancel(job, action):
                    await self._await_kill_marker(job)

    async def _post_cancel(self, job: CancelTarget, action: CancelAction) -> bool:
        """``POST cancel`` for ``job``; False (and the job settled) if it could not be sent."""
        state = job.state
        kill = action is CancelAction.KILL
        fn_index = job.endpoint.fn_index if kill else NO_TASK
        body = {"fn_index": fn_index, "session_hash": job.session_hash, "event_id": state.job_id}
        job.cancel_sent(action)
        books = self._books(job)
        books.kills_in_flight += kill
        try:
            await self._runtime.post_ok("cancel", body, "Cancelling a job")
        except GradioJobsError as exc:
            logger.warning("could not cancel job %s on the server: %s", state.job_id, exc)
            job.resolve_cancel(ev.OUTCOME_CONNECTION_LOST)
            return False
        finally:
            books.kills_in_flight -= kill
        if books.siblings_after_kill and not books.kills_in_flight:
            books.siblings_after_kill = False
            self._siblings_killed(job)
        return True

    @contextlib.asynccontextmanager
    async def _kill_turn(self, job: CancelTarget) -> AsyncIterator[None]:
        """Killing cancels of one endpoint in one session go one at a time (module docstring)."""
        key = (job.session_hash, job.endpoint.fn_index)
        lock, users = self._kill_turns.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._kill_turns[key]

    async def _await_kill_marker(self, job: CancelTarget) -> None:
        """Wait until the stream has said how the kill ended for ``job``.

        The server queues the empty completion before it answers the cancel request, so it
        is normally read within moments; the bound only keeps a stalled stream from holding
        every later kill of the endpoint.
        """
        if not await job.wait_settled(KILL_MARKER_TIMEOUT):
            logger.warning(
                "job %s: no word from the server %.0f s after its cancel", job.state.job_id, KILL_MARKER_TIMEOUT
            )

    async def _send_reset(self, job: CancelTarget) -> None:
        """Stop a running generator where the server has no cancel route (4.x before 4.31).

        No message follows a reset: the job is settled here and its later messages dropped.
        """
        state = job.state
        body = reset_body(self._runtime.app.capabilities, job.endpoint, job.session_hash, state.job_id)
        if state.settled or body is None:
            return
        try:
            await self._runtime.post_ok("reset", body, "Cancelling a job")
        except GradioJobsError as exc:
            logger.warning("could not cancel job %s on the server: %s", state.job_id, exc)
            job.resolve_cancel(ev.OUTCOME_CONNECTION_LOST)
            return
        if state.job_id is not None:
            self._runtime.forget(state.job_id)
        job.resolve_cancel(ev.OUTCOME_STOPPED)

    def _siblings_killed(self, target: CancelTarget) -> None:
        """A killing cancel of ``target`` also killed the running jobs of its endpoint in its session.

        Its empty completion was just read; the stream is in order, so every sibling that had
        started and not finished by now was running when the server killed it, and will never
        hear back. Those are submitted again (cancelled ones are simply settled).
        """
        for job in list(self._runtime.live_jobs()):
            state = job.state
            if (
                job is target
                or job.session_hash != target.session_hash
                or job.endpoint.fn_index != target.endpoint.fn_index
                or not state.started
                or state.settled
            ):
                continue
            if state.cancelling:
                job.resolve_cancel(ev.OUTCOME_STOPPED)
            else:
                logger.info(
                    "job %s was killed by the cancel of job %s; submitting it again", state.job_id, target.state.job_id
                )
                job.restart(f"killed on the server when job {target.state.job_id} of the same endpoint was cancelled")
