"""A pool whose replica's connection is cut while the replica itself stays alive.

Replica A is reached through a fault-injecting proxy, replica B directly; both run
``pool_app`` (``/work`` sleeps, one at a time, and counts every input it starts). Cutting A's
connections loses its jobs: the one running there fails with ``ConnectionLostError`` (no retry
policy), those waiting in its queue are moved to B, and A, which is alive, must not run them
anyway: its own counts (read directly, not through the proxy) show it never started a moved
input. Refused while the test checks, A is "down"; accepted again, the probe takes it back.
"""

from __future__ import annotations

import pytest

from gradio_jobs import Client, ClientPool, ConnectionLostError, Status
from gradio_jobs.protocol import events as ev
from proxy import FaultProxy
from tests.servers import ALL_VERSIONS, GradioServer, missing_venv_reason, requested_versions, venv_exists
from waiting import wait_until


@pytest.fixture(params=requested_versions(ALL_VERSIONS), ids=lambda v: f"gradio-{v}")
def replicas(request):
    if not venv_exists(request.param):
        pytest.skip(missing_venv_reason(request.param))
    with (
        GradioServer(request.param, app="pool_app", args=["--delay", "0.4", "--name", "a"]) as a,
        GradioServer(request.param, app="pool_app", args=["--delay", "0.4", "--name", "b"]) as b,
        FaultProxy(a.port) as proxy,
    ):
        yield a, b, proxy


def counts(url: str) -> dict[float, int]:
    with Client(url, verbose=False) as direct:
        return {float(k): v for k, v in direct.predict(api_name="/counts").items()}


def test_cut_replica_moves_its_waiting_jobs_and_never_runs_them_twice(replicas) -> None:
    a, b, proxy = replicas
    with ClientPool([proxy.url, b.url], verbose=False, probe_backoff=0.2, max_probe_backoff=0.5) as pool:
        jobs = [pool.submit(float(i), api_name="/work") for i in range(16)]

        def on_a() -> list:
            return [j for j in jobs if j.replica == proxy.url and not j.done()]

        def surely_waiting() -> list:
            # Two places or more from the front of A's queue: A cannot start it within the
            # moment between this look and the cut (its worker takes 0.4 s a job).
            return [j for j in on_a() if j.status().code is Status.IN_QUEUE and (j.status().rank or 0) >= 1]

        wait_until(lambda: any(j.status().code is Status.PROCESSING for j in on_a()) and surely_waiting(), timeout=60)
        waiting = surely_waiting()
        proxy.refuse()
        assert proxy.cut() >= 1

        outcomes = {}
        for i, job in enumerate(jobs):
            try:
                outcomes[float(i)] = job.result(timeout=60)
            except ConnectionLostError:
                outcomes[float(i)] = "lost"
        lost = [x for x, out in outcomes.items() if out == "lost"]
        assert all(outcomes[x] == 2 * x for x in outcomes if x not in lost)
        assert lost
        stats = {s.src: s for s in pool.stats()}
        assert stats[proxy.url].state == "down"
        moved = [j for j in jobs if any(isinstance(e, ev.Resubmitted) for e in j.event_log())]
        assert all(j.replica == b.url for j in moved)
        assert stats[proxy.url].moved == len(moved)
        if pool.app.capabilities.dropping_cancels:
            check_moved_jobs_ran_once(jobs, waiting, moved, lost, a, b)
        else:
            # 4.17 to 4.21 keep running the queued jobs of a lost stream: moving one would run
            # it twice, so the pool moves none that had joined A (no retry policy: only joins the
            # cut stopped before they reached A move) and they fail as lost, and A, which is
            # alive, runs them all.
            assert not [j for j in moved if joined_before_moving(j)]
            assert {float(jobs.index(j)) for j in waiting} <= set(lost)
            wait_until(lambda: set(lost) <= set(counts(a.url)), timeout=60)
            ran_a, ran_b = counts(a.url), counts(b.url)
            assert set(ran_a) == set(lost) and not set(ran_a) & set(ran_b)
            assert all(n == 1 for n in [*ran_a.values(), *ran_b.values()])

        proxy.accept()
        wait_until(lambda: pool.stats()[0].state == "up", timeout=30)
        more = [pool.submit(100.0 + i, api_name="/work") for i in range(8)]
        assert [j.result(timeout=60) for j in more] == [2 * (100.0 + i) for i in range(8)]
        assert proxy.url in {j.replica for j in more}


def check_moved_jobs_ran_once(jobs, waiting, moved, lost, a, b) -> None:
    """Where losing the stream drops the queued jobs: only started jobs are lost, the waiting
    ones moved to B, and A never ran those."""
    # Only jobs A had started are lost (on 3.x more than one counts as started: the app
    # holds them at a gate of its own, past the server's queue).
    assert all(any(isinstance(e, ev.Started) for e in jobs[int(x)].event_log()) for x in lost)
    assert all(j in moved for j in waiting)
    # The lost jobs go on running on A (the cut did not stop them): wait until A counted them.
    wait_until(lambda: set(lost) <= set(counts(a.url)), timeout=30)
    ran_a, ran_b = counts(a.url), counts(b.url)
    # A, alive all along, never started a job that waited in its queue when it was cut: B ran them.
    waiting_inputs = {float(jobs.index(j)) for j in waiting}
    assert not waiting_inputs & set(ran_a)
    assert all(ran_b.get(x) == 1 for x in waiting_inputs)
    # Each input ran, on one replica, once; except that a job A started in the instant of the
    # cut, before its start reached the client, was moved and ran on B too.
    assert all(n == 1 for n in [*ran_a.values(), *ran_b.values()])
    assert set(ran_a) | set(ran_b) == {float(i) for i in range(len(jobs))}
    twice = set(ran_a) & set(ran_b)
    assert not twice & waiting_inputs
    assert len(twice) <= 1, twice


def joined_before_moving(job) -> bool:
    """The job had an id on its first replica before it was moved."""
    for event in job.event_log():
        if isinstance(event, ev.Resubmitted):
            return False
        if isinstance(event, ev.Joined) and event.job_id is not None:
            return True
    return False
