"""``AsyncClientPool``: one client over several replicas of an app; ``ClientPool`` is its sync view.

The pool holds one :class:`AsyncClient` per replica and places each job on one of them
(the :class:`~gradio_jobs._async_job.Placement` the job talks to). Which replica, and when,
is the router's answer (``protocol/routing.py``, no I/O). A replica that fails is marked
down and probed with backoff by a task of its own; the jobs it failed before they started are
moved to another replica (the same job object, a ``Resubmitted`` event).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._async_client import AsyncClient
from ._async_job import AsyncJob, Dispatch, EventListener
from ._call import CallRequest, PreparedCall, await_job, call_request
from ._callbacks import guarded
from ._exceptions import (
    ArgumentError,
    ConnectionLostError,
    GradioJobsError,
    NoReplicaAvailableError,
    ReplicaMismatchError,
    ServerError,
    ServerUnreachableError,
    SpaceUnavailableError,
)
from ._map import AsyncMapRun, map_request, start_async_map
from ._options import ClientOptions, token_fields
from ._signatures import parameters_of
from ._view_api import view_api
from .protocol import events as ev
from .protocol.api import App
from .protocol.routing import Router, api_difference

__all__ = ["AsyncClientPool", "ReplicaStats", "replica_failure"]

logger = logging.getLogger("gradio_jobs")

#: HTTP answers that say the replica (or the proxy before it) cannot take work now.
_REPLICA_DOWN_STATUSES = (502, 503, 504)


def replica_failure(error: BaseException) -> bool:
    """``error`` says the replica is down (it cannot be reached, or its proxy says it is gone),
    not that the call itself is wrong: the pool takes the replica out and moves the job."""
    if isinstance(error, NoReplicaAvailableError):
        return False
    if isinstance(error, ServerUnreachableError):
        return not error.request_sent
    if isinstance(error, ServerError):
        return error.status_code in _REPLICA_DOWN_STATUSES
    return False


def _down_at_connect(error: BaseException) -> bool:
    """A replica failing to connect with ``error`` is down (probed later), not misconfigured."""
    if isinstance(error, (ServerUnreachableError, SpaceUnavailableError)):
        return True
    return isinstance(error, ServerError) and (error.status_code or 0) >= 500


def _refused(error: BaseException) -> bool:
    """The replica refused the connection (nothing listens there), so its queue is gone: the
    error's causes include ``ConnectionRefusedError``. A reset or a timeout says nothing of it."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


@dataclass(frozen=True)
class ReplicaStats:
    """What a pool knows of one replica (see :meth:`AsyncClientPool.stats`).

    ``src`` is its URL (a Space id until its URL is known); ``state`` ``"up"``, ``"down"``
    (it failed and is being probed) or ``"mismatch"`` (it came back with other endpoints and
    is left out); ``in_flight`` the pool's jobs on it now; ``done`` and ``failed`` the jobs
    that succeeded or failed there; ``moved`` the jobs moved away from it after it failed
    (each job the pool sent it is counted once: done, failed, moved or in flight);
    ``mean_queue_wait`` and ``mean_run_time`` in seconds (None before the first);
    ``queue_size`` the latest size of its queue a job's estimate reported (all users' jobs;
    None before any); ``last_error`` why it was last taken out (None if never).
    """

    src: str
    state: str
    in_flight: int
    done: int
    failed: int
    moved: int
    mean_queue_wait: float | None
    mean_run_time: float | None
    queue_size: int | None
    last_error: str | None

    def __str__(self) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.3g} s"

        text = (
            f"{self.src} {self.state}: {self.done} done, {self.failed} failed, {self.in_flight} in flight, "
            f"{self.moved} moved; queue wait {seconds(self.mean_queue_wait)}, run {seconds(self.mean_run_time)}"
        )
        return text + (f" (last error: {self.last_error})" if self.last_error and self.state != "up" else "")


class _Replica:
    """One replica: where it is, its current client, and its probe while it is down."""

    def __init__(self, index: int, source: str | AsyncClient) -> None:
        self.index = index
        self.source = source
        self.client: AsyncClient | None = source if isinstance(source, AsyncClient) else None
        self.state = "down"
        self.last_error: str | None = None
        self.probe: asyncio.Task[None] | None = None
        #: Jobs it lost while they were queued on a server that may keep running them, and why.
        self.doubtful: list[tuple[AsyncJob, str]] = []

    def settle_doubts(self, gone: bool) -> None:
        """The replica is ``gone`` (its queue went with it: move the doubtful jobs) or not."""
        doubtful, self.doubtful = self.doubtful, []
        for job, reason in doubtful:
            job._settle_doubt(gone, reason)

    @property
    def src(self) -> str:
        client = self.client
        if client is not None and client.src:
            return client.src
        if isinstance(self.source, AsyncClient):
            return self.source.src or self.source.space_id or ""
        return self.source


@dataclass
class _Placed:
    """A job on a replica: where, for which endpoint, and how far it got there."""

    replica: int
    key: str
    joined_at: float | None = None
    started_at: float | None = None
    ended: bool = False


class AsyncClientPool:
    """One client over several replicas of the same app: each job goes to the replica where it
    should finish soonest, and a replica that fails is taken out until it answers again.

    ``sources`` are the replicas: app URLs, Space ids (``"owner/name"``) or connected
    :class:`AsyncClient` objects (e.g. from :meth:`AsyncClient.duplicate`), at least one.
    ``token`` (or ``hf_token``), ``options`` and every other keyword (a
    :class:`ClientOptions` field: ``download_files``, ``retry``, ``headers``, ...) make the
    clients of the replicas given as text.

    ``max_in_flight`` (default None: no cap) caps the pool's jobs on one replica (queued
    there and running). ``queue_depth`` (default 2) bounds how many of the pool's jobs wait
    in a replica's queue beyond the jobs it was seen running at once (at least that many
    again); the others wait in the pool and go to the first replica with room, so a slow
    replica is not handed a share of the work up front. None sends every job to a replica at
    once. ``probe_backoff`` (default 1.0) is the seconds before a replica that failed is
    tried again, doubled after each failed try up to ``max_probe_backoff`` (default 30.0).

    Use it as ``async with AsyncClientPool([...]) as pool:`` (or ``await pool.connect()``),
    then :meth:`submit`, :meth:`predict` and :meth:`map` as on a client. Each replica's jobs
    share that replica's session: ``gr.State`` does not travel between replicas, so use
    :meth:`pin` for stateful endpoints.
    """

    def __init__(
        self,
        sources: Iterable[str | AsyncClient],
        token: str | None = None,
        *,
        max_in_flight: int | None = None,
        queue_depth: int | None = 2,
        probe_backoff: float = 1.0,
        max_probe_backoff: float = 30.0,
        hf_token: str | None = None,
        options: ClientOptions | None = None,
        **option_fields: Any,
    ) -> None:
        if isinstance(sources, (str, AsyncClient)):
            raise TypeError("sources must be a list of replicas (URLs, Space ids or clients), not one")
        given = list(sources)
        if not given:
            raise ArgumentError("a pool needs at least one replica")
        for source in given:
            if not isinstance(source, (str, AsyncClient)):
                raise TypeError(f"a replica is an app URL, a Space id or an AsyncClient, got {source!r}")
        for name, value in (("probe_backoff", probe_backoff), ("max_probe_backoff", max_probe_backoff)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be seconds > 0, got {value!r}")
        option_fields.update(token_fields(token, hf_token))
        #: The options of the replicas' clients made here (and of :meth:`pin`'s clients).
        self.options = ClientOptions.build(options, "AsyncClientPool.__init__()", **option_fields)
        self._replicas = [_Replica(i, source) for i, source in enumerate(given)]
        self._router = Router(len(given), max_in_flight, queue_depth)
        self._probe_backoff = float(probe_backoff)
        self._max_probe_backoff = float(max_probe_backoff)
        self._app: App | None = None
        self._placed: dict[AsyncJob, _Placed] = {}
        self._requests: dict[AsyncJob, CallRequest] = {}
        #: Jobs waiting for a replica with room, per endpoint, oldest first.
        self._waiting: dict[str, deque[AsyncJob]] = {}
        self._pins: list[AsyncClient] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connect_lock: asyncio.Lock | None = None
        self._closed = False
        self._seats = _Seats(self)

    # -- connecting -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """The pool has connected (and is not closed)."""
        return self._app is not None and not self._closed

    @property
    def app(self) -> App:
        """The app's API model (the first replica that answered at connect)."""
        if self._app is None:
            raise GradioJobsError(
                "the pool is not connected yet: use `async with AsyncClientPool(...)` or `await pool.connect()`"
            )
        return self._app

    @property
    def replicas(self) -> list[str]:
        """The replicas' URLs (Space ids until their URL is known), in the order given."""
        return [replica.src for replica in self._replicas]

    @property
    def src(self) -> str:
        """The first replica's URL (where a single address is asked for)."""
        return self._replicas[0].src

    def __len__(self) -> int:
        return len(self._replicas)

    async def connect(self) -> AsyncClientPool:
        """Connect every replica at once and check they expose the same API. Safe to repeat.

        Raises :class:`ReplicaMismatchError` when a replica's endpoints or parameters differ
        from the first one's, :class:`NoReplicaAvailableError` when none can be reached;
        either way nothing is left open. A replica that cannot be reached is marked down and
        probed with backoff. Another failure (a wrong login, say) is raised as it is.
        """
        if self._closed:
            raise GradioJobsError("the pool is closed")
        if self._app is not None:
            return self
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._app is None:
                await self._connect_all()
        return self

    async def _connect_all(self) -> None:
        clients = [replica.client or self._client_for(replica) for replica in self._replicas]
        outcomes = await asyncio.gather(*(client.connect() for client in clients), return_exceptions=True)
        try:
            for outcome in outcomes:
                if isinstance(outcome, BaseException) and not (
                    isinstance(outcome, Exception) and _down_at_connect(outcome)
                ):
                    raise outcome
            up = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, BaseException)]
            if not up:
                reasons = "; ".join(f"{r.src}: {o}" for r, o in zip(self._replicas, outcomes, strict=True))
                raise NoReplicaAvailableError(f"no replica of the pool could be reached ({reasons})")
            reference = clients[up[0]].app
            for i in up[1:]:
                difference = api_difference(reference, clients[i].app)
                if difference is not None:
                    raise ReplicaMismatchError(clients[i].src, difference)
        except BaseException:
            await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
            raise
        self._app = reference
        for replica, client, outcome in zip(self._replicas, clients, outcomes, strict=True):
            replica.client = client
            if isinstance(outcome, BaseException):
                await client.close()
                replica.client = None
                self._take_out(replica.index, str(outcome))
            else:
                replica.state = "up"
                self._router.set_up(replica.index, True)

    def _client_for(self, replica: _Replica) -> AsyncClient:
        """A new client of ``replica``, with the options its clients have."""
        address, options = self._address_of(replica)
        return AsyncClient(address, options=options)

    def _address_of(self, replica: _Replica) -> tuple[str, ClientOptions]:
        """Where ``replica`` is (its Space id or URL) and the options of its clients."""
        source = replica.source
        if isinstance(source, AsyncClient):
            return source.space_id or source.src, source.options
        return source, self.options

    def _pin_address(self, replica: int | str | None) -> tuple[str, ClientOptions]:
        """The address and options of the replica :meth:`pin` connects to."""
        chosen = self._replica_named(replica)
        address, options = self._address_of(chosen)
        return chosen.client.src if chosen.client is not None and chosen.client.src else address, options

    # -- calling --------------------------------------------------------------------------

    @parameters_of(call_request)
    def submit(self, *args: Any, **kwargs: Any) -> AsyncJob:
        """Start a job on the replica where it should finish soonest and return it at once
        (call it on the pool's event loop, connected).

        Takes what :meth:`AsyncClient.submit` takes: the endpoint's inputs as ``args`` and
        ``kwargs``; ``api_name`` or ``fn_index``; ``headers``; ``deadline`` (it counts
        the time a job waits in the pool); ``keep_outputs``; the callbacks ``on_status``,
        ``on_output``, ``on_log`` and ``result_callbacks``. Bad arguments raise here.
        ``job.replica`` says where it runs (None while it waits in the pool for room).
        """
        return self._launch(self._prepare(call_request(*args, **kwargs)))

    @parameters_of(call_request)
    async def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Run a job on the pool and return its result (the final value for generators).

        ``args``/``kwargs`` (the inputs), ``api_name``, ``fn_index``, ``headers``, ``deadline``,
        ``keep_outputs`` and the callbacks ``on_status``, ``on_output``, ``on_log`` and
        ``result_callbacks`` are those of :meth:`submit`. Connects first if needed;
        cancelling the awaiting task cancels the job.
        """
        await self.connect()
        return await await_job(self.submit(*args, **kwargs))

    @parameters_of(map_request)
    def map(self, *args: Any, **kwargs: Any) -> AsyncMapRun:
        """``async for result in pool.map(inputs, api_name=...)``: one result per input, in
        input order, the jobs spread over the replicas.

        ``inputs``, ``api_name``, ``fn_index``, ``concurrency`` (jobs in flight, default 8:
        raise it to keep every replica busy), ``stop_on_error``, ``on_progress`` and
        ``progress`` (True: a live bar) are those of :meth:`AsyncClient.map`.
        """
        return start_async_map(self, map_request(*args, **kwargs))

    async def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the endpoints, as :meth:`AsyncClient.view_api` (connecting first if needed).

        ``all_endpoints``, ``print_info`` and ``return_format`` are that method's.
        """
        await self.connect()
        return view_api(self.app, all_endpoints, print_info, return_format)

    def stats(self) -> list[ReplicaStats]:
        """What the pool knows of each replica, in the order given (see :class:`ReplicaStats`)."""
        result = []
        for replica, figures in zip(self._replicas, self._router.replicas, strict=True):
            result.append(
                ReplicaStats(
                    src=replica.src,
                    state=replica.state,
                    in_flight=figures.in_flight,
                    done=figures.done,
                    failed=figures.failed,
                    moved=figures.moved,
                    mean_queue_wait=figures.mean_queue_wait,
                    mean_run_time=figures.mean_run_time,
                    queue_size=figures.queue_size,
                    last_error=replica.last_error,
                )
            )
        return result

    async def pin(self, replica: int | str | None = None) -> AsyncClient:
        """A new connected client of one replica, with a session of its own: for endpoints
        that keep ``gr.State`` (state does not travel between replicas).

        ``replica`` is the replica's index or URL (default None: the up replica with the
        fewest of the pool's jobs). The client is closed with the pool.
        """
        await self.connect()
        address, options = self._pin_address(replica)
        client = AsyncClient(address, options=options)
        self._pins.append(client)
        try:
            return await client.connect()
        except BaseException:
            self._pins.remove(client)
            await client.close()
            raise

    async def close(self) -> None:
        """Cancel the jobs waiting in the pool, stop the probes, and close every replica's
        client (cancelling their pending jobs on the servers) and the pinned clients."""
        if self._closed:
            return
        self._closed = True
        for queue in list(self._waiting.values()):
            for job in list(queue):
                job.cancel()
        self._waiting.clear()
        for replica in self._replicas:
            replica.settle_doubts(gone=False)
        probes = [r.probe for r in self._replicas if r.probe is not None]
        for task in probes + list(self._tasks):
            task.cancel()
        clients = [r.client for r in self._replicas if r.client is not None] + self._pins
        await asyncio.gather(*probes, *self._tasks, return_exceptions=True)
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)

    async def __aenter__(self) -> AsyncClientPool:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        states = ", ".join(f"{r.src} {r.state}" for r in self._replicas)
        return f"<AsyncClientPool {len(self._replicas)} replicas: {states}>"

    # -- the submit path both pools share --------------------------------------------------

    def _prepare(self, request: CallRequest) -> PreparedCall:
        """Bind a call to the app (pure: any thread); it is bound again to the replica it goes to."""
        if self._closed:
            raise GradioJobsError("the pool is closed")
        for replica in self._replicas:
            if replica.state == "up" and replica.client is not None:
                return replica.client._prepare(request)
        client = next((r.client for r in self._replicas if r.client is not None and r.client.connected), None)
        if client is None:
            self.app  # noqa: B018 (raises: not connected)
            raise NoReplicaAvailableError(self._down_message())
        return client._prepare(request)

    def _launch(
        self, call: PreparedCall, listener: EventListener | None = None, dispatch: Dispatch | None = None
    ) -> AsyncJob:
        """Start a job bound by :meth:`_prepare` (on the loop); it waits in the pool for a replica."""
        if self._closed:
            raise GradioJobsError("the pool is closed")
        job = AsyncJob(None, call, listener=listener, dispatch=dispatch, placement=self._seats)
        self._requests[job] = call.request
        self._queue(job, call.endpoint.label)
        self._fill()
        return job

    # -- what the jobs ask (through _Seats) -------------------------------------------------

    def _observe(self, job: AsyncJob, event: ev.JobEvent) -> None:
        """Follow a placed job's events into the replica's figures."""
        placed = self._placed.get(job)
        if placed is None:
            return
        router = self._router
        if isinstance(event, ev.Joined):
            placed.joined_at = event.at
        elif isinstance(event, ev.Queued):
            router.queue_reported(placed.replica, event.queue_size, event.rank, event.eta)
        elif isinstance(event, ev.Started):
            placed.started_at = event.at
            wait = event.at - placed.joined_at if placed.joined_at is not None else None
            router.started(placed.replica, placed.key, wait)
        elif isinstance(event, ev.Resubmitted):  # the same replica runs it again (a quota wait)
            if placed.started_at is not None and not placed.ended:
                router.left(placed.replica, placed.key, started=True)
                router.placed(placed.replica, placed.key)
            placed.joined_at = placed.started_at = None
        elif isinstance(event, ev.TERMINAL_EVENTS) and not placed.ended:
            if isinstance(event, ev.Failed) and isinstance(event.error, ConnectionLostError):
                self._take_out(placed.replica, str(event.error))
            placed.ended = True
            started = placed.started_at is not None
            run_time = event.at - placed.started_at if placed.started_at is not None else None
            router.finished(placed.replica, placed.key, isinstance(event, ev.Completed), started, run_time)

    def _left(self, job: AsyncJob) -> None:
        """A job's server side is over: free its place, and give it to a waiting job."""
        placed = self._placed.pop(job, None)
        self._requests.pop(job, None)
        if placed is not None:
            self._router.left(placed.replica, placed.key, started=placed.started_at is not None and not placed.ended)
            self._fill()

    def _withdraw(self, job: AsyncJob) -> None:
        """A job waiting in the pool ended (cancelled, or its deadline passed)."""
        self._requests.pop(job, None)
        queue = self._waiting.get(job.endpoint.label)
        if queue is not None and job in queue:
            queue.remove(job)

    def _takes_over(self, job: AsyncJob, error: BaseException) -> bool:
        """Whether ``job`` moves after ``error`` (a failed submission): it surely did not reach
        the replica, or it may have and its endpoint is safe to run again (``retry``). A
        replica that failed either way is taken out."""
        if replica_failure(error):
            return True
        placed = self._placed.get(job)
        if isinstance(error, ServerUnreachableError) and placed is not None:
            # The join went out and no answer came: the replica is failing, and the job may or
            # may not be in its queue, so only an endpoint safe to repeat goes elsewhere.
            self._take_out(placed.replica, str(error))
            client = self._replicas[placed.replica].client
            policy = client.options.retry if client is not None else None
            return policy is not None and policy.allows(job.endpoint, 0)
        return False

    def _relocate(self, job: AsyncJob, reason: str) -> BaseException | None:
        """A replica failed ``job`` (``reason``): take the replica out, put the job first in line."""
        placed = self._placed.pop(job, None)
        if placed is not None:
            started = placed.started_at is not None and not placed.ended
            self._router.left(placed.replica, placed.key, started=started, moved=True)
            self._take_out(placed.replica, reason)
        if self._closed or not self._router.any_up:
            self._requests.pop(job, None)
            if self._closed:
                return GradioJobsError("the pool was closed")
            return NoReplicaAvailableError(self._down_message())
        logger.info("moving a job of %s to another replica (%s)", job.endpoint.label, reason)
        self._queue(job, job.endpoint.label, first=True)
        self._fill()
        return None

    def _doubt(self, job: AsyncJob, reason: str) -> bool:
        """A job lost while queued on a server that may keep it: decide at the next probe."""
        placed = self._placed.get(job)
        if placed is None or self._closed:
            return False
        self._replicas[placed.replica].doubtful.append((job, reason))
        self._take_out(placed.replica, reason)
        return True

    def _run_awaitable(self, awaitable: Any) -> None:
        """Run what a callback of a waiting job returned, as a task of the pool."""
        self._spawn(guarded(awaitable))

    # -- placing ---------------------------------------------------------------------------

    def _queue(self, job: AsyncJob, key: str, first: bool = False) -> None:
        queue = self._waiting.setdefault(key, deque())
        if first:
            queue.appendleft(job)
        else:
            queue.append(job)

    def _fill(self) -> None:
        """Give waiting jobs to replicas with room, oldest first; fail them if none is up."""
        if not self._router.any_up and not self._closed:
            waiting = [job for queue in self._waiting.values() for job in queue]
            self._waiting.clear()
            for job in waiting:
                self._requests.pop(job, None)
                job._fail_waiting(NoReplicaAvailableError(self._down_message()))
            return
        for key, queue in list(self._waiting.items()):
            while queue:
                index = self._router.choose(key)
                if index is None:
                    break
                job = queue.popleft()
                if job.done():
                    continue
                self._place(job, index, key)
            if not queue:
                del self._waiting[key]

    def _place(self, job: AsyncJob, index: int, key: str) -> None:
        replica = self._replicas[index]
        client = replica.client
        request = self._requests.get(job)
        if client is None or request is None:  # cannot happen: an up replica has a client
            job._fail_waiting(GradioJobsError("gradio-jobs: the pool lost track of a job"))
            return
        try:
            call = client._prepare(request)
            host = client._job_host()
        except GradioJobsError as exc:
            self._requests.pop(job, None)
            job._fail_waiting(exc)
            return
        self._placed[job] = _Placed(index, key)
        self._router.placed(index, key)
        job._place(host, call)

    # -- replicas down and back up -----------------------------------------------------------

    def _take_out(self, index: int, reason: str) -> None:
        """Mark replica ``index`` down (once) and start probing it."""
        replica = self._replicas[index]
        replica.last_error = reason
        if replica.state == "down" and replica.probe is not None:
            return
        if replica.state == "up":
            logger.warning("replica %s is down (%s); probing it", replica.src, reason)
        replica.state = "down"
        self._router.set_up(index, False)
        if not self._closed:
            replica.probe = asyncio.get_running_loop().create_task(self._probe(replica))

    async def _probe(self, replica: _Replica) -> None:
        """Try the replica with a new client, with backoff, until it answers; then take it back."""
        delay = self._probe_backoff
        while not self._closed:
            await asyncio.sleep(delay * (0.75 + random.random() * 0.5))
            client = self._client_for(replica)
            try:
                await client.connect()
            except Exception as exc:  # still down: try again later
                await client.close()
                replica.last_error = str(exc)
                replica.settle_doubts(gone=_refused(exc))
                delay = min(delay * 2, self._max_probe_backoff)
                continue
            replica.settle_doubts(gone=False)
            difference = api_difference(self.app, client.app)
            if difference is not None:
                await client.close()
                replica.state = "mismatch"
                replica.last_error = str(ReplicaMismatchError(client.src, difference))
                logger.error("%s; it stays out of the pool", replica.last_error)
                replica.probe = None
                return
            old, replica.client = replica.client, client
            replica.state = "up"
            replica.probe = None
            self._router.set_up(replica.index, True)
            logger.warning("replica %s is up again", replica.src)
            if old is not None and old is not client:
                self._spawn(old.close())
            self._fill()
            return

    # -- helpers ---------------------------------------------------------------------------

    def _replica_named(self, replica: int | str | None) -> _Replica:
        if replica is None:
            up = [r for r in self._replicas if r.state == "up"]
            if not up:
                raise NoReplicaAvailableError(self._down_message())
            return min(up, key=lambda r: self._router.replicas[r.index].in_flight)
        if isinstance(replica, int) and not isinstance(replica, bool):
            if not 0 <= replica < len(self._replicas):
                raise GradioJobsError(f"the pool has replicas 0 to {len(self._replicas) - 1}, not {replica}")
            return self._replicas[replica]
        if isinstance(replica, str):
            wanted = replica if replica.endswith("/") else replica + "/"
            for candidate in self._replicas:
                if candidate.src in (replica, wanted):
                    return candidate
            raise GradioJobsError(f"no replica {replica!r} in the pool (replicas: {', '.join(self.replicas)})")
        raise TypeError(f"replica must be an index, a URL or None, got {replica!r}")

    def _down_message(self) -> str:
        reasons = "; ".join(f"{r.src}: {r.last_error or r.state}" for r in self._replicas)
        return f"no replica of the pool is up ({reasons})"

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Seats:
    """The pool as its jobs see it (:class:`~gradio_jobs._async_job.Placement`)."""

    def __init__(self, pool: AsyncClientPool) -> None:
        self.observe = pool._observe
        self.left = pool._left
        self.withdraw = pool._withdraw
        self.takes_over = pool._takes_over
        self.relocate = pool._relocate
        self.doubt = pool._doubt
        self.run_awaitable = pool._run_awaitable
