"""Where a replica pool sends each job, from what it already knows (sans-I/O).

The pool tells the :class:`Router` what happens to its jobs (placed on a replica, started,
finished, moved away, the queue sizes the replicas report); the router answers which replica
a job should go to, or that every replica is full and it should wait in the pool. Nothing is
polled: every figure comes from the jobs' own events.

A job's expected finish on a replica is its run time there (measured per replica and
endpoint; before the first, what the replica's own ETAs imply) times one plus the jobs ahead
of it per worker: the pool's jobs queued there for that endpoint, plus the other users' jobs
the replica's last queue report counted. The replica's workers are measured too: the most of
the pool's jobs it was seen running at once.

Late binding: a replica takes a job only while its jobs of that endpoint number fewer than
its workers plus ``queue_depth`` (at least its workers), so a slow replica is never handed a
share of the work up front; the rest waits in the pool for the first replica with room.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .api import App, Endpoint

__all__ = ["Router", "api_difference"]

#: Weight of the newest run time in the running average.
RUN_TIME_WEIGHT = 0.2
#: Seconds a replica's queue report counts for; older, the other users' jobs are assumed gone.
QUEUE_REPORT_LIFETIME = 5.0


@dataclass
class Lane:
    """The pool's jobs of one endpoint on one replica."""

    in_flight: int = 0
    running: int = 0
    #: The most of them seen running at once: the replica's measured workers for the endpoint.
    most_running: int = 0
    #: Running average of their run times (seconds); None before the first.
    run_time: float | None = None

    @property
    def workers(self) -> int:
        return max(1, self.most_running)


@dataclass
class ReplicaFigures:
    """What the pool knows of one replica."""

    up: bool = True
    in_flight: int = 0
    done: int = 0
    failed: int = 0
    moved: int = 0
    queue_wait_total: float = 0.0
    queue_waits: int = 0
    run_time_total: float = 0.0
    run_times: int = 0
    #: The latest queue size the replica reported, and the other users' share of it.
    queue_size: int | None = None
    others_queued: int = 0
    reported_at: float | None = None
    #: Seconds per job the replica's own estimates imply (its ETA over the jobs ahead), if it sent any.
    estimated_job_time: float | None = None
    lanes: dict[str, Lane] = field(default_factory=dict)

    def lane(self, key: str) -> Lane:
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane()
        return lane

    @property
    def queued(self) -> int:
        """The pool's jobs on the replica not running yet."""
        return sum(lane.in_flight - lane.running for lane in self.lanes.values())

    @property
    def mean_queue_wait(self) -> float | None:
        return self.queue_wait_total / self.queue_waits if self.queue_waits else None

    @property
    def mean_run_time(self) -> float | None:
        return self.run_time_total / self.run_times if self.run_times else None


class Router:
    """The pool's bookkeeping and its choice of replica (see the module docstring).

    ``replicas`` is how many there are; ``max_in_flight`` (None: no cap) caps the pool's jobs
    on one replica; ``queue_depth`` (None: no late binding) is how many may wait in a
    replica's queue beyond its measured workers; ``clock`` gives seconds (monotonic).
    """

    def __init__(
        self,
        replicas: int,
        max_in_flight: int | None = None,
        queue_depth: int | None = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value, least in (("max_in_flight", max_in_flight, 1), ("queue_depth", queue_depth, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise ValueError(f"{name} must be an int >= {least} or None, got {value!r}")
        self.replicas = [ReplicaFigures() for _ in range(replicas)]
        self.max_in_flight = max_in_flight
        self.queue_depth = queue_depth
        self._clock = clock
        self._turn = 0

    # -- the choice ---------------------------------------------------------------------

    def has_room(self, index: int, key: str) -> bool:
        """Replica ``index`` may take one more job of endpoint ``key`` now."""
        replica = self.replicas[index]
        if not replica.up:
            return False
        if self.max_in_flight is not None and replica.in_flight >= self.max_in_flight:
            return False
        if self.queue_depth is None:
            return True
        lane = replica.lanes.get(key) or Lane()
        return lane.in_flight < lane.workers + max(self.queue_depth, lane.workers)

    def expected_finish(self, index: int, key: str) -> float:
        """Seconds until a new job of ``key`` sent to replica ``index`` should be done."""
        replica = self.replicas[index]
        lane = replica.lanes.get(key) or Lane()
        run_time = lane.run_time
        if run_time is None:
            run_time = replica.estimated_job_time or self._typical_run_time(key)
        others = replica.others_queued if self._fresh(replica) else 0
        ahead = max(0, lane.in_flight + others - lane.workers + 1)
        return run_time * (1.0 + ahead / lane.workers)

    def choose(self, key: str, among: Iterable[int] | None = None) -> int | None:
        """The replica a job of ``key`` should go to, or None when none that is up has room."""
        candidates = [i for i in (range(len(self.replicas)) if among is None else among) if self.has_room(i, key)]
        if not candidates:
            return None
        count = len(self.replicas)
        self._turn = (self._turn + 1) % count
        turn = self._turn
        return min(
            candidates,
            key=lambda i: (self.expected_finish(i, key), self.replicas[i].in_flight, (i - turn) % count),
        )

    @property
    def any_up(self) -> bool:
        return any(replica.up for replica in self.replicas)

    # -- what happened -------------------------------------------------------------------

    def placed(self, index: int, key: str) -> None:
        """A job of ``key`` was sent to replica ``index``."""
        replica = self.replicas[index]
        replica.in_flight += 1
        replica.lane(key).in_flight += 1

    def started(self, index: int, key: str, queue_wait: float | None) -> None:
        """A job of ``key`` on replica ``index`` started, after ``queue_wait`` seconds queued."""
        replica = self.replicas[index]
        lane = replica.lane(key)
        lane.running += 1
        lane.most_running = max(lane.most_running, lane.running)
        if queue_wait is not None:
            replica.queue_wait_total += queue_wait
            replica.queue_waits += 1

    def queue_reported(
        self, index: int, queue_size: int | None, rank: int | None = None, eta: float | None = None
    ) -> None:
        """A job's queue estimate on replica ``index``: its ``rank`` (0: next), the
        ``queue_size`` and the server's ``eta`` (seconds until the job is done), each None
        when the server did not send it."""
        replica = self.replicas[index]
        if eta is not None and rank is not None and eta > 0 and rank >= 0:
            replica.estimated_job_time = eta / (rank + 1)
        if queue_size is None:
            return
        replica.queue_size = queue_size
        replica.others_queued = max(0, queue_size - replica.queued)
        replica.reported_at = self._clock()

    def finished(self, index: int, key: str, ok: bool, started: bool, run_time: float | None) -> None:
        """A job of ``key`` on replica ``index`` ended there (``ok``: it succeeded)."""
        replica = self.replicas[index]
        lane = replica.lane(key)
        if started:
            lane.running = max(0, lane.running - 1)
        if ok:
            replica.done += 1
        else:
            replica.failed += 1
        if run_time is not None and ok:
            replica.run_time_total += run_time
            replica.run_times += 1
            lane.run_time = run_time if lane.run_time is None else (
                lane.run_time + RUN_TIME_WEIGHT * (run_time - lane.run_time)
            )

    def left(self, index: int, key: str, started: bool = False, moved: bool = False) -> None:
        """A job of ``key`` is no longer on replica ``index``: its server side is over there
        (``started`` if it was running and :meth:`finished` was not told), or it was
        ``moved`` to another replica after this one failed."""
        replica = self.replicas[index]
        lane = replica.lane(key)
        replica.in_flight = max(0, replica.in_flight - 1)
        lane.in_flight = max(0, lane.in_flight - 1)
        if started:
            lane.running = max(0, lane.running - 1)
        if moved:
            replica.moved += 1

    def set_up(self, index: int, up: bool) -> None:
        """Replica ``index`` is up (it answers) or down (it failed; it is being probed)."""
        replica = self.replicas[index]
        replica.up = up
        if up:
            # A replica that comes back is a new server: its queue and workers are measured anew.
            replica.queue_size = None
            replica.others_queued = 0
            replica.estimated_job_time = None
            for lane in replica.lanes.values():
                lane.most_running = 0

    # -- internals -----------------------------------------------------------------------

    def _fresh(self, replica: ReplicaFigures) -> bool:
        return replica.reported_at is not None and self._clock() - replica.reported_at < QUEUE_REPORT_LIFETIME

    def _typical_run_time(self, key: str) -> float:
        """A replica's run time for ``key`` before it was measured: the fastest measured
        elsewhere (so it is tried), or 1 s when none is (every replica then looks alike)."""
        known = [
            lane.run_time
            for replica in self.replicas
            if (lane := replica.lanes.get(key)) is not None and lane.run_time is not None
        ]
        return min(known) if known else 1.0


def _signature(endpoint: Endpoint) -> tuple[object, ...]:
    return tuple((p.name, p.component, p.has_default) for p in endpoint.parameters)


def _describe(endpoint: Endpoint) -> str:
    params = ", ".join(f"{p.name}: {p.component}" + ("=..." if p.has_default else "") for p in endpoint.parameters)
    return f"({params})"


def _callable_endpoints(app: App) -> dict[str, Endpoint]:
    return {e.label: e for e in app.endpoints if e.callable}


def api_difference(reference: App, other: App) -> str | None:
    """How ``other``'s callable endpoints differ from ``reference``'s (None: they match).

    Endpoints are compared by name (``fn_index`` for unnamed ones): the same names, and for
    each the same parameters (name, component, whether it has a default) and generator kind.
    """
    ours, theirs = _callable_endpoints(reference), _callable_endpoints(other)
    missing = sorted(set(ours) - set(theirs))
    if missing:
        return f"it has no endpoint {', '.join(missing)}"
    extra = sorted(set(theirs) - set(ours))
    if extra:
        return f"it has endpoint(s) the first replica lacks: {', '.join(extra)}"
    for label, endpoint in ours.items():
        there = theirs[label]
        if _signature(there) != _signature(endpoint):
            return f"{label} takes {_describe(there)}, the first replica's {_describe(endpoint)}"
        if there.is_generator != endpoint.is_generator:
            kind = "is" if there.is_generator else "is not"
            return f"{label} {kind} a generator there, unlike on the first replica"
    return None

