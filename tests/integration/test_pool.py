"""The replica pool (``AsyncClientPool`` / ``ClientPool``) against real replicas of one app.

Each version gets a fleet of pool_app servers for the module (tests/apps/pool_app.py): a slow
replica (``--delay 0.6``), two fast ones (``--delay 0.2``) and a victim for the failover test,
each running one ``/work`` at a time. Every server appends the inputs it starts to a file of its
own (``--ran-file``), which outlives a SIGKILL: the tests count who ran what from those files
(the same as the app's ``/counts``), so a killed replica's runs are counted too. Each test uses
inputs of its own, so the counts of tests sharing a fleet do not mix. The ``--variant`` replica
(another ``/work``) is shared by the module too; tests that kill a replica or need one on a
given port start their own (stopped at the test's end). The module's tests are grouped by
version (module-scoped parameters), so one version's fleet is up at a time.

Routing and failover run on every server generation; the rest on 6.31.0 and 4.44.1.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psutil
import pytest
from hub import hub_behind_hf_endpoint
from servers import (
    ALL_VERSIONS,
    GradioServer,
    free_port,
    missing_venv_reason,
    requested_versions,
    start_many,
    venv_exists,
)
from waiting import await_until, wait_until

from gradio_jobs import (
    AsyncClient,
    AsyncClientPool,
    Client,
    ClientPool,
    ConnectionLostError,
    GradioJobsError,
    NoReplicaAvailableError,
    ReplicaMismatchError,
    ReplicaStats,
    RetryPolicy,
    ServerUnreachableError,
    arun_batch,
    run_batch,
)
from gradio_jobs.protocol.events import Cancelled, Completed, Failed, Joined, Resubmitted, Started

#: The generations the whole pool suite runs on.
CORE = [v for v in requested_versions() if v in ("6.31.0", "4.44.1")]
#: Every generation: routing and failover (the protocols differ in how a stream is lost).
EVERY = requested_versions(ALL_VERSIONS)

TIMEOUT = 60.0
SLOW, FAST = 0.6, 0.2


def _vid(version: str) -> str:
    return f"gradio-{version}"


on_core = pytest.mark.parametrize("version", CORE, ids=_vid, scope="module")
on_every = pytest.mark.parametrize("version", EVERY, ids=_vid, scope="module")


# ---------------------------------------------------------------- replicas


class Replica(GradioServer):
    """One pool_app server that logs the inputs it starts to ``ran_file``; ``port`` (optional)
    is the port to start on (GradioServer itself always takes one the OS hands out)."""

    def __init__(self, version: str, ran_file: Path, delay: float = FAST, *, variant: bool = False,
                 port: int | None = None) -> None:
        args = ["--delay", str(delay), "--ran-file", str(ran_file)] + (["--variant"] if variant else [])
        super().__init__(version, app="pool_app", args=args)
        self.ran_file = ran_file
        self.fixed_port = port
        self.port = port  # its URL is known before it starts

    def _spawn(self, python: Path, port: int) -> None:
        super()._spawn(python, self.fixed_port or port)

    def ran(self, inputs: Iterable[float] | None = None) -> Counter[float]:
        """How often each input started here (of ``inputs``, if given); readable after a kill."""
        try:
            text = self.ran_file.read_text()
        except FileNotFoundError:
            text = ""
        counts = Counter(float(line) for line in text.split())
        if inputs is None:
            return counts
        wanted = {float(x) for x in inputs}
        return Counter({x: n for x, n in counts.items() if x in wanted})

    def kill(self) -> None:
        """SIGKILL the server's process group: no goodbye to the clients."""
        assert self.proc is not None and self.running, f"{self!r} is not running"
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


class Fleet:
    """The module's replicas of one version: ``slow``, ``fast1``, ``fast2`` and ``victim``."""

    def __init__(self, version: str, workdir: Path) -> None:
        self.version = version
        self.workdir = workdir
        self.slow = Replica(version, workdir / "slow.ran", SLOW)
        self.fast1 = Replica(version, workdir / "fast1.ran")
        self.fast2 = Replica(version, workdir / "fast2.ran")
        self.victim = Replica(version, workdir / "victim.ran")

    @property
    def all(self) -> list[Replica]:
        return [self.slow, self.fast1, self.fast2, self.victim]


def skip_missing(version: str) -> None:
    if not venv_exists(version):
        pytest.skip(missing_venv_reason(version))


@pytest.fixture(scope="module")
def fleet(version, tmp_path_factory):
    skip_missing(version)
    fleet = Fleet(version, tmp_path_factory.mktemp(f"pool-{version}"))
    start_many(fleet.all)
    try:
        yield fleet
    finally:
        for srv in fleet.all:
            srv.stop()


@pytest.fixture(scope="module")
def variant(version, tmp_path_factory):
    """A replica whose ``/work`` takes a second input (so its API differs), for the module."""
    skip_missing(version)
    with Replica(version, tmp_path_factory.mktemp(f"variant-{version}") / "variant.ran", variant=True) as srv:
        yield srv


@pytest.fixture
def extra(version, tmp_path):
    """``extra(n, **kwargs)``: ``n`` more replicas of the test's version (started together),
    stopped at the test's end; ``start=False`` only makes them."""
    made: list[Replica] = []

    def factory(n: int = 1, *, start: bool = True, **kwargs: Any) -> list[Replica]:
        skip_missing(version)
        new = [Replica(version, tmp_path / f"extra{len(made) + i}.ran", **kwargs) for i in range(n)]
        made.extend(new)
        if start:
            start_many(new)
        return new

    try:
        yield factory
    finally:
        for srv in made:
            srv.stop()


# ---------------------------------------------------------------- helpers


def same(url: str | None, replica: GradioServer) -> bool:
    return url is not None and url.rstrip("/") == replica.url.rstrip("/")


def stats_of(pool: Any, replica: GradioServer) -> ReplicaStats:
    found = [s for s in pool.stats() if same(s.src, replica)]
    assert len(found) == 1, f"{replica.url} not once among {pool.stats()}"
    return found[0]


def had(job: Any, event_type: type) -> bool:
    return any(isinstance(e, event_type) for e in job.event_log())


def running_on(job: Any, replica: GradioServer) -> bool:
    """The job runs on ``replica`` now: placed there, and its last step there is a Started."""
    if job.done() or not same(job.replica, replica):
        return False
    steps = [e for e in job.event_log() if isinstance(e, (Joined, Started, Resubmitted))]
    return bool(steps) and isinstance(steps[-1], Started)


def in_doubt(job: Any, error: BaseException) -> bool:
    """The job's join request reached a replica that died before answering: it may have been
    queued there, so the pool does not run it elsewhere (a ServerUnreachableError that says the
    request was sent, and the job never had a Joined event)."""
    return (
        isinstance(error, ServerUnreachableError)
        and not isinstance(error, NoReplicaAvailableError)
        and error.request_sent
        and not had(job, Joined)
    )


def job_input(job: Any) -> float:
    """The input a done /work job (sync or async) was given: the pool_app doubles it."""
    assert job.done() and job.exception() is None, job
    completed = [e for e in job.event_log() if isinstance(e, Completed)]
    return float(completed[-1].value) / 2


def occupancy(jobs: list[Any]) -> dict[str, int]:
    """Per replica, the most of the jobs that were on it at once, from the jobs' own events:
    a job is on its replica from its Joined (the replica took it) to its end. For jobs that
    ran on one replica each (none was moved)."""
    steps: dict[str, list[tuple[float, int]]] = {}
    for job in jobs:
        log = job.event_log()
        joined = [e.at for e in log if isinstance(e, Joined)]
        ends = [e.at for e in log if isinstance(e, (Completed, Failed, Cancelled))]
        assert len(joined) == 1 and ends and not had(job, Resubmitted), f"expected one stay, got {log}"
        steps.setdefault(str(job.replica).rstrip("/"), []).extend([(joined[0], 1), (ends[-1], -1)])
    most = {}
    for replica, changes in steps.items():
        changes.sort()  # at a tie an end (-1) comes first: the next job took its place
        most[replica] = max(itertools.accumulate(change for _, change in changes))
    return most


def our_connections(*replicas: GradioServer) -> list[Any]:
    """This process's sockets to the replicas, in any state: one the server closed but we hold
    (CLOSE_WAIT, as an idle keep-alive becomes after the server's 5 s) is a leak as well."""
    ports = {r.port for r in replicas}
    return [c for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port in ports]


def outcome(job: Any) -> BaseException | None:
    """The error a done job ended with (None for a success)."""
    assert job.done(), job
    return job.exception()


async def all_ended(jobs: list[Any], timeout: float = TIMEOUT) -> None:
    """Every job ends, with a result or an error, within ``timeout`` (else: which did not)."""
    waits = [asyncio.ensure_future(job.wait_settled()) for job in jobs]
    _, pending = await asyncio.wait(waits, timeout=timeout)
    for task in pending:
        task.cancel()
    stuck = [job for job in jobs if not job.done()]
    assert not stuck, f"{len(stuck)} jobs did not end within {timeout:.0f} s: {stuck[:3]}"


async def ended_count(jobs: list[Any], n: int, timeout: float = TIMEOUT) -> None:
    """Until at least ``n`` of the jobs have ended (on their own done callbacks)."""
    reached = asyncio.Event()

    def note(_job: Any = None) -> None:
        if sum(job.done() for job in jobs) >= n:
            reached.set()

    for job in jobs:
        job.add_done_callback(note)
    note()
    await asyncio.wait_for(reached.wait(), timeout)


# ---------------------------------------------------------------- connect and mismatch


@on_core
async def test_a_replica_with_another_api_is_refused_at_connect(version, fleet, variant) -> None:
    pool = AsyncClientPool([fleet.fast1.url, variant.url], verbose=False)
    with pytest.raises(ReplicaMismatchError) as info:
        await pool.connect()
    error = info.value
    assert isinstance(error, GradioJobsError) and isinstance(error, ValueError)
    assert same(error.replica, variant), error.replica
    assert "/work" in error.difference, error.difference
    assert variant.url.rstrip("/") in str(error) and "/work" in str(error)
    # nothing is left open: the pool let go of both replicas' connections on its own
    await await_until(lambda: not our_connections(fleet.fast1, variant), timeout=10,
                      describe=lambda: our_connections(fleet.fast1, variant))
    await pool.close()  # and closing it again does no harm


@on_core
def test_sync_pool_refuses_a_mismatch_naming_the_replica_that_differs_from_the_first(version, fleet, variant) -> None:
    with pytest.raises(ReplicaMismatchError) as info:
        ClientPool([variant.url, fleet.fast2.url], verbose=False)  # the first replica is the reference
    assert same(info.value.replica, fleet.fast2), info.value.replica
    assert "/work" in info.value.difference
    wait_until(lambda: not our_connections(fleet.fast2, variant), timeout=10,
               describe=lambda: our_connections(fleet.fast2, variant))


def test_a_pool_needs_a_replica_and_one_that_answers() -> None:
    with pytest.raises(ValueError):
        AsyncClientPool([])
    dead = [f"http://127.0.0.1:{free_port()}/", f"http://127.0.0.1:{free_port()}/"]
    with pytest.raises(NoReplicaAvailableError) as info:
        ClientPool(dead, verbose=False)
    assert isinstance(info.value, ServerUnreachableError) and isinstance(info.value, ConnectionError)


async def test_an_async_pool_with_no_replica_up_says_so_at_connect() -> None:
    pool = AsyncClientPool([f"http://127.0.0.1:{free_port()}/"], verbose=False)
    with pytest.raises(NoReplicaAvailableError):
        await asyncio.wait_for(pool.connect(), TIMEOUT)
    await pool.close()


# ---------------------------------------------------------------- the basics, sync and async


@on_core
def test_sync_pool_over_a_client_and_a_url(version, fleet) -> None:
    inputs = [100 + i for i in range(8)]
    with Client(fleet.fast1.url, verbose=False) as single:
        expected_api = single.view_api(print_info=False, return_format="dict")
        with ClientPool([single, fleet.fast2.url], verbose=False) as pool:
            assert len(pool) == 2
            assert [u.rstrip("/") for u in pool.replicas] == [fleet.fast1.url.rstrip("/"), fleet.fast2.url.rstrip("/")]
            assert pool.view_api(print_info=False, return_format="dict") == expected_api
            assert pool.predict(inputs[0], api_name="/work") == 2 * inputs[0]
            jobs = [pool.submit(x, api_name="/work") for x in inputs[1:]]
            assert [job.result(timeout=TIMEOUT) for job in jobs] == [2 * x for x in inputs[1:]]
            assert {job.replica for job in jobs} == set(pool.replicas)
            for job in jobs:  # job.replica is where it ran
                home = fleet.fast1 if same(job.replica, fleet.fast1) else fleet.fast2
                assert home.ran([job_input(job)]) == Counter({float(job_input(job)): 1})
            stats = pool.stats()
            assert [s.src.rstrip("/") for s in stats] == [u.rstrip("/") for u in pool.replicas]
            assert sum(s.done for s in stats) == len(inputs)
            assert all(s.state == "up" and s.in_flight == 0 and s.failed == 0 for s in stats)
    ran = fleet.fast1.ran(inputs) + fleet.fast2.ran(inputs)
    assert ran == Counter({float(x): 1 for x in inputs})


@on_core
async def test_async_pool_submit_predict_and_job_replica(version, fleet) -> None:
    inputs = [200 + i for i in range(6)]
    async with (
        AsyncClient(fleet.fast2.url, verbose=False) as single,
        AsyncClientPool([fleet.fast1.url, single], verbose=False, max_in_flight=1) as pool,
    ):
        assert await pool.predict(inputs[0], api_name="/work") == 2 * inputs[0]
        assert pool.app.endpoint("/work").api_name == "/work"
        jobs = [pool.submit(x, api_name="/work") for x in inputs[1:]]
        # two replicas of room one: the others wait in the pool, placed nowhere yet
        assert [job.replica for job in jobs[2:]] == [None] * 3
        assert [await job.result(timeout=TIMEOUT) for job in jobs] == [2 * x for x in inputs[1:]]
        assert {job.replica for job in jobs} == set(pool.replicas)
        assert await pool.view_api(print_info=False, return_format="dict") == await single.view_api(
            print_info=False, return_format="dict")


@on_core
def test_a_pool_of_a_space_id_and_a_duplicated_space(version, fleet, monkeypatch, tmp_path) -> None:
    inputs = [300 + i for i in range(8)]
    with hub_behind_hf_endpoint(monkeypatch, tmp_path) as hub:
        hub.add_user("me", token="hf_me")
        hub.add_space("owner/pool-app", host=fleet.fast1.url)
        hub.add_space("owner/pool-app-2", host=fleet.fast2.url)
        copy = Client.duplicate("owner/pool-app", token="hf_me")  # me/pool-app, served by fast1
        assert copy.space_id == "me/pool-app"
        with ClientPool([copy, "owner/pool-app-2"], verbose=False) as pool:
            assert [u.rstrip("/") for u in pool.replicas] == [fleet.fast1.url.rstrip("/"), fleet.fast2.url.rstrip("/")]
            assert [s.src.rstrip("/") for s in pool.stats()] == [u.rstrip("/") for u in pool.replicas]
            assert list(pool.map(inputs, api_name="/work", concurrency=4)) == [2 * x for x in inputs]
    assert fleet.fast1.ran(inputs) + fleet.fast2.ran(inputs) == Counter({float(x): 1 for x in inputs})
    assert fleet.fast1.ran(inputs) and fleet.fast2.ran(inputs)


# ---------------------------------------------------------------- routing


@on_every
async def test_routing_gives_the_slow_replica_less_and_every_input_runs_once(version, fleet) -> None:
    inputs = [1000 + i for i in range(30)]
    trio = [fleet.slow, fleet.fast1, fleet.fast2]
    async with AsyncClientPool([r.url for r in trio], verbose=False) as pool:
        results = [r async for r in pool.map(inputs, api_name="/work", concurrency=12)]
        stats = {r.url: stats_of(pool, r) for r in trio}
    assert results == [2 * x for x in inputs]
    ran = {r.url: r.ran(inputs) for r in trio}
    assert sum(ran.values(), Counter()) == Counter({float(x): 1 for x in inputs})  # each input once
    slow, fast1, fast2 = (sum(ran[r.url].values()) for r in trio)
    assert slow < fast1 and slow < fast2, f"slow {slow}, fast {fast1} and {fast2}"
    for r in trio:
        s = stats[r.url]
        assert s.done == sum(ran[r.url].values()), s
        assert s.state == "up" and s.failed == 0 and s.moved == 0 and s.in_flight == 0 and s.last_error is None, s
        delay = SLOW if r is fleet.slow else FAST
        assert s.mean_run_time is not None and delay * 0.75 <= s.mean_run_time < 30, s
        assert s.mean_queue_wait is not None and s.mean_queue_wait >= 0, s
        assert s.queue_size is not None and s.queue_size >= 0, s  # its streams reported the queue
        assert r.url.rstrip("/") in str(s) and "up" in str(s)
    assert stats[fleet.slow.url].mean_run_time > stats[fleet.fast1.url].mean_run_time


@on_core
async def test_max_in_flight_caps_every_replica(version, fleet) -> None:
    inputs = [1100 + i for i in range(12)]
    trio = [fleet.slow, fleet.fast1, fleet.fast2]
    seen: list[list[int]] = []
    async with AsyncClientPool([r.url for r in trio], verbose=False, max_in_flight=1) as pool:
        def look(_status: Any) -> None:
            seen.append([s.in_flight for s in pool.stats()])

        jobs = [pool.submit(x, api_name="/work", on_status=look) for x in inputs]
        await all_ended(jobs)
    assert [await job.result() for job in jobs] == [2 * x for x in inputs]
    assert seen and max(max(row) for row in seen) == 1, seen  # the pool's own count: never two
    assert set(occupancy(jobs).values()) == {1}, occupancy(jobs)  # the jobs' own events: never two
    assert {job.replica.rstrip("/") for job in jobs} == {r.url.rstrip("/") for r in trio}


@on_core
@pytest.mark.parametrize("depth", [2, None], ids=["queue_depth-2", "queue_depth-None"])
async def test_late_binding_keeps_the_rest_in_the_pool(version, fleet, depth) -> None:
    """Default ``queue_depth=2``: one worker measured, so at most 1 + 2 of the pool's jobs are on
    the replica at once; ``queue_depth=None`` sends every job at once."""
    inputs = [1150 + (10 if depth is None else 0) + i for i in range(6)]
    seen: list[int] = []
    async with AsyncClientPool([fleet.slow.url], verbose=False, queue_depth=depth) as pool:
        def look(_status: Any) -> None:
            seen.append(pool.stats()[0].in_flight)

        jobs = [pool.submit(x, api_name="/work", on_status=look) for x in inputs]
        await all_ended(jobs)
    assert [await job.result() for job in jobs] == [2 * x for x in inputs]
    most = occupancy(jobs)[fleet.slow.url.rstrip("/")]
    if depth == 2:
        assert most <= 3 and max(seen) <= 3, (most, seen)
    else:
        assert most > 3 and max(seen) == len(inputs), (most, seen)  # all sent, none held back
    assert fleet.slow.ran(inputs) == Counter({float(x): 1 for x in inputs})


@on_core
async def test_closing_the_pool_cancels_its_jobs_on_the_replicas(version, fleet) -> None:
    inputs = [1170 + i for i in range(6)]
    pool = AsyncClientPool([fleet.slow.url], verbose=False, queue_depth=None)  # all six sent at once
    await pool.connect()
    jobs = [pool.submit(x, api_name="/work") for x in inputs]
    await await_until(lambda: any(had(job, Started) for job in jobs), timeout=TIMEOUT,
                      describe=lambda: [job.event_log() for job in jobs])
    await pool.close()
    await all_ended(jobs)
    assert sum(not job.cancelled() and job.exception() is None for job in jobs) <= 1  # the one running may finish
    # The replica runs one job at a time, first come first served: once a job sent after the
    # close has run, whatever of the pool's was still queued there would have run before it.
    async with AsyncClient(fleet.slow.url, verbose=False) as probe:
        assert await probe.predict(1179, api_name="/work") == 2358
    assert sum(fleet.slow.ran(inputs).values()) <= 2, fleet.slow.ran(inputs)  # not the four behind them


@on_core
def test_sync_map_over_a_pool(version, fleet) -> None:
    inputs = [1200 + i for i in range(10)]
    progress = []
    with ClientPool([fleet.fast1.url, fleet.fast2.url], verbose=False) as pool:
        run = pool.map(inputs, api_name="/work", concurrency=4, on_progress=progress.append)
        assert list(run) == [2 * x for x in inputs]
    assert progress[-1].done == len(inputs) and progress[-1].failed == 0
    assert fleet.fast1.ran(inputs) + fleet.fast2.ran(inputs) == Counter({float(x): 1 for x in inputs})
    assert fleet.fast1.ran(inputs) and fleet.fast2.ran(inputs)  # both took a share


# ---------------------------------------------------------------- failover


@on_every
async def test_a_replica_killed_mid_run_loses_nothing_and_runs_nothing_twice(version, fleet) -> None:
    inputs = [2000 + i for i in range(60)]
    live, victim = [fleet.fast1, fleet.fast2], fleet.victim
    async with AsyncClientPool([fleet.fast1.url, victim.url, fleet.fast2.url], verbose=False) as pool:
        jobs = [pool.submit(x, api_name="/work") for x in inputs]
        await ended_count(jobs, 3)  # some results are in
        await await_until(lambda: any(running_on(job, victim) for job in jobs), timeout=TIMEOUT,
                          describe=lambda: [(job.replica, job.status()) for job in jobs if not job.done()])
        victim.kill()
        await all_ended(jobs)
        await await_until(lambda: stats_of(pool, victim).state == "down", timeout=TIMEOUT,
                          describe=lambda: pool.stats())
        stats = {r.url: stats_of(pool, r) for r in [*live, victim]}

    on_live = sum((r.ran(inputs) for r in live), Counter())
    on_victim = victim.ran(inputs)
    assert all(n == 1 for n in on_live.values()), f"ran twice on the live replicas: {on_live}"
    lost = []
    for x, job in zip(inputs, jobs, strict=True):
        error = outcome(job)
        if error is None:
            assert await job.result() == 2 * x
            ran_here = on_victim if same(job.replica, victim) else on_live
            assert ran_here[float(x)] == 1, (x, job.replica)  # it ran where the pool says it did
            assert on_live[float(x)] + on_victim[float(x)] == 1, (x, on_live[float(x)], on_victim[float(x)])
        else:
            # Only a job caught on the killed replica may fail: one that had started there (lost),
            # or one whose join request it took without an answer (it may have been queued: in
            # doubt, the pool does not run it again elsewhere).
            assert same(job.replica, victim), (x, job.replica, repr(error))
            if isinstance(error, ConnectionLostError):
                assert had(job, Started), (x, job.event_log())
            else:
                assert in_doubt(job, error), (x, repr(error), job.event_log())
            assert on_live[float(x)] == 0 and on_victim[float(x)] <= 1
            lost.append(x)
    assert lost, "the job running on the victim when it was killed did not fail"
    # every input is accounted for exactly once: run on a replica, or lost with the victim
    ran_ok_on_victim = sum(on_victim[float(x)] for x, j in zip(inputs, jobs, strict=True) if outcome(j) is None)
    assert sum(on_live.values()) + ran_ok_on_victim + len(lost) == len(inputs)

    moved = [job for job in jobs if had(job, Resubmitted)]
    s = stats[victim.url]
    assert s.state == "down" and s.last_error, s
    assert s.moved > 0 and s.moved == len(moved), (s, len(moved))
    assert s.failed >= len(lost), s
    for job in moved:  # a moved job ran, once, on a live replica
        assert outcome(job) is None and not same(job.replica, victim)
    for r in live:
        assert stats[r.url].state == "up" and stats[r.url].failed == 0
    assert sum(st.done for st in stats.values()) == len(inputs) - len(lost)


@on_core
def test_retry_policy_runs_a_started_job_again_on_another_replica(version, fleet, extra) -> None:
    (victim,) = extra()
    inputs = [2100 + i for i in range(6)]
    retry = RetryPolicy("work", backoff=0.1)
    with ClientPool([victim.url, fleet.fast1.url], verbose=False, retry=retry) as pool:
        jobs = [pool.submit(x, api_name="/work") for x in inputs]
        wait_until(lambda: any(running_on(job, victim) for job in jobs), timeout=TIMEOUT,
                   describe=lambda: [(job.replica, job.status()) for job in jobs])
        started = [job for job in jobs if running_on(job, victim)]
        victim.kill()
        assert [job.result(timeout=TIMEOUT) for job in jobs] == [2 * x for x in inputs]
        assert stats_of(pool, victim).state == "down"
    for job in started:  # it ran twice: started on the victim, then again on fast1 (a safe endpoint)
        assert had(job, Resubmitted) and same(job.replica, fleet.fast1), job.event_log()
        assert victim.ran([job_input(job)])[job_input(job)] == 1
        assert fleet.fast1.ran([job_input(job)])[job_input(job)] == 1
    assert all(n == 1 for n in fleet.fast1.ran(inputs).values()), fleet.fast1.ran(inputs)
    assert fleet.fast1.ran(inputs) + victim.ran(inputs) >= Counter({float(x): 1 for x in inputs})


@on_core
def test_when_the_only_replica_dies_every_job_ends_with_a_typed_error(version, extra) -> None:
    (only,) = extra()
    inputs = [2200 + i for i in range(3)]
    with ClientPool([only.url], verbose=False, probe_backoff=0.2, max_probe_backoff=1.0) as pool:
        assert pool.predict(2199, api_name="/work") == 4398
        jobs = [pool.submit(x, api_name="/work") for x in inputs]
        wait_until(lambda: any(running_on(job, only) for job in jobs), timeout=TIMEOUT,
                   describe=lambda: [job.event_log() for job in jobs])
        only.kill()
        for job in jobs:
            with pytest.raises(ConnectionError) as info:  # nothing hangs: each ends, typed
                job.result(timeout=TIMEOUT)
            error = info.value
            if had(job, Started):
                assert isinstance(error, ConnectionLostError), (job.event_log(), repr(error))
            else:  # no replica left to move it to (or its join was in doubt: see in_doubt)
                assert isinstance(error, NoReplicaAvailableError) or in_doubt(job, error), (
                    job.event_log(), repr(error))
        assert any(had(job, Started) for job in jobs)
        s = stats_of(pool, only)
        assert s.state == "down" and s.last_error and s.in_flight == 0, s
        late = pool.submit(2299, api_name="/work")
        with pytest.raises(NoReplicaAvailableError) as info:
            late.result(timeout=TIMEOUT)
        assert isinstance(info.value, ServerUnreachableError) and isinstance(info.value, ConnectionError)
        with pytest.raises(NoReplicaAvailableError):
            pool.predict(2298, api_name="/work")


# ---------------------------------------------------------------- probing


@on_core
async def test_a_replica_down_at_connect_is_probed_until_it_comes_up(version, fleet, extra) -> None:
    port = free_port()
    (late,) = extra(start=False, port=port)
    first = [2300 + i for i in range(6)]
    then = [2400 + i for i in range(16)]
    async with AsyncClientPool([late.url, fleet.fast1.url], verbose=False,
                               probe_backoff=0.2, max_probe_backoff=1.0) as pool:
        s = stats_of(pool, late)
        assert s.state == "down" and s.last_error, s
        assert stats_of(pool, fleet.fast1).state == "up"
        jobs = [pool.submit(x, api_name="/work") for x in first]
        assert [await job.result(timeout=TIMEOUT) for job in jobs] == [2 * x for x in first]
        assert all(same(job.replica, fleet.fast1) for job in jobs)

        await asyncio.to_thread(late.start)  # a real server on the very port that was dead
        assert late.port == port
        await await_until(lambda: stats_of(pool, late).state == "up", timeout=TIMEOUT,
                          describe=lambda: pool.stats())
        jobs = [pool.submit(x, api_name="/work") for x in then]
        assert [await job.result(timeout=TIMEOUT) for job in jobs] == [2 * x for x in then]
        revived = [job for job in jobs if same(job.replica, late)]
        assert revived, [job.replica for job in jobs]
        assert late.ran(then) == Counter({float(job_input(job)): 1 for job in revived})
        assert stats_of(pool, late).done == len(revived)


@on_core
def test_a_replica_that_comes_back_with_another_api_is_left_out(version, fleet, extra) -> None:
    port = free_port()
    (changed,) = extra(start=False, port=port, variant=True)
    inputs = [2450 + i for i in range(4)]
    with ClientPool([fleet.fast2.url, changed.url], verbose=False, probe_backoff=0.2, max_probe_backoff=1.0) as pool:
        assert stats_of(pool, changed).state == "down"
        changed.start()  # on the port that was dead, but its /work takes two inputs
        wait_until(lambda: stats_of(pool, changed).state == "mismatch", timeout=TIMEOUT,
                   describe=lambda: pool.stats())
        assert "/work" in (stats_of(pool, changed).last_error or ""), stats_of(pool, changed)
        jobs = [pool.submit(x, api_name="/work") for x in inputs]
        assert [job.result(timeout=TIMEOUT) for job in jobs] == [2 * x for x in inputs]
        assert all(same(job.replica, fleet.fast2) for job in jobs)
        assert stats_of(pool, changed).state == "mismatch"
    assert not changed.ran(inputs)


# ---------------------------------------------------------------- sessions


@on_core
async def test_pinned_sessions_keep_their_state_on_one_replica(version, fleet) -> None:
    async with AsyncClientPool([fleet.fast1.url, fleet.fast2.url], verbose=False) as pool:
        a = await pool.pin()
        assert isinstance(a, AsyncClient) and a.src in pool.replicas
        assert await a.predict("a", api_name="/remember") == "a"
        assert await a.predict("b", api_name="/remember") == "a,b"
        b = await pool.pin(1)
        assert same(b.src, fleet.fast2)
        assert await b.predict("x", api_name="/remember") == "x"  # a session of its own
        assert await a.predict("c", api_name="/remember") == "a,b,c"
        c = await pool.pin(fleet.fast1.url)
        assert same(c.src, fleet.fast1)
        assert await c.predict("y", api_name="/remember") == "y"
    with pytest.raises(GradioJobsError):  # closed with the pool
        await a.predict("d", api_name="/remember")


@on_core
def test_sync_pinned_sessions(version, fleet) -> None:
    with ClientPool([fleet.fast1.url, fleet.fast2.url], verbose=False) as pool:
        a, b = pool.pin(0), pool.pin(0)
        assert isinstance(a, Client) and same(a.src, fleet.fast1) and same(b.src, fleet.fast1)
        assert a.predict("a", api_name="/remember") == "a"
        assert b.predict("p", api_name="/remember") == "p"
        assert a.predict("b", api_name="/remember") == "a,b"
        assert b.predict("q", api_name="/remember") == "p,q"


# ---------------------------------------------------------------- batch runs


@on_core
def test_run_batch_on_a_pool_names_the_replica_of_each_line(version, fleet, tmp_path) -> None:
    import json

    inputs = [[2500 + i] for i in range(12)]
    out = tmp_path / "out.jsonl"
    with ClientPool([fleet.fast1.url, fleet.fast2.url], verbose=False) as pool:
        summary = run_batch(pool, inputs, api_name="/work", output=out, concurrency=6)
        replicas = list(pool.replicas)
    assert summary.all_ok and summary.ran == 12
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["index"] for r in records) == list(range(12))
    by_url = {fleet.fast1.url.rstrip("/"): fleet.fast1, fleet.fast2.url.rstrip("/"): fleet.fast2}
    for r in records:
        assert r["replica"] in replicas, r
        assert by_url[r["replica"].rstrip("/")].ran([r["input"][0]]) == Counter({float(r["input"][0]): 1}), r
    assert len({r["replica"] for r in records}) == 2


@on_core
async def test_arun_batch_on_an_async_pool(version, fleet, tmp_path) -> None:
    import json

    out = tmp_path / "out.jsonl"
    async with AsyncClientPool([fleet.fast1.url, fleet.fast2.url], verbose=False) as pool:
        summary = await arun_batch(pool, [2600 + i for i in range(8)], api_name="/work", output=out, concurrency=4)
        replicas = list(pool.replicas)
    assert summary.all_ok and summary.ran == 8
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["index"], r["result"]) for r in records) == [(i, 2 * (2600 + i)) for i in range(8)]
    assert all(r["replica"] in replicas for r in records)

