"""The replica pool's router (``protocol/routing.py``): where jobs go, when they wait, and the
API comparison that refuses mismatched replicas. No I/O: a fake clock drives the queue reports."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.routing import QUEUE_REPORT_LIFETIME, Router, api_difference
from tests.fixtures import captures


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_one(router: Router, index: int, key: str, run_time: float) -> None:
    router.placed(index, key)
    router.started(index, key, 0.0)
    router.finished(index, key, True, True, run_time)
    router.left(index, key)


def test_an_idle_pool_spreads_jobs_evenly() -> None:
    router = Router(3, queue_depth=None)
    chosen = []
    for _ in range(9):
        index = router.choose("/work")
        assert index is not None
        router.placed(index, "/work")
        chosen.append(index)
    assert sorted(chosen.count(i) for i in range(3)) == [3, 3, 3]


def test_a_faster_replica_gets_more_jobs() -> None:
    router = Router(2, queue_depth=None)
    for _ in range(3):
        run_one(router, 0, "/work", 0.2)
        run_one(router, 1, "/work", 0.6)
    counts = [0, 0]
    for _ in range(40):
        index = router.choose("/work")
        assert index is not None
        router.placed(index, "/work")
        counts[index] += 1
    # Each replica's expected finish grows with its backlog: about 3 jobs to the fast one per slow one.
    assert counts[0] > 2.5 * counts[1]
    assert counts[1] > 0


def test_an_unmeasured_replica_is_tried() -> None:
    router = Router(2, queue_depth=None)
    run_one(router, 0, "/work", 0.5)
    router.placed(0, "/work")
    assert router.choose("/work") == 1


def test_late_binding_holds_jobs_beyond_workers_and_depth() -> None:
    router = Router(2, queue_depth=2)
    placed = []
    while (index := router.choose("/work")) is not None:
        router.placed(index, "/work")
        placed.append(index)
    # One worker measured at most (none yet: 1), plus a queue of 2, per replica.
    assert sorted(placed) == [0, 0, 0, 1, 1, 1]
    router.left(0, "/work")
    assert router.choose("/work") == 0


def test_measured_workers_widen_the_window() -> None:
    router = Router(1, queue_depth=2)
    for _ in range(3):
        router.placed(0, "/work")
    for _ in range(3):
        router.started(0, "/work", 0.0)
    # Three ran at once: three workers, and a queue of three more.
    assert sum(1 for _ in iter(lambda: _place(router), None)) == 3


def _place(router: Router) -> int | None:
    index = router.choose("/work")
    if index is not None:
        router.placed(index, "/work")
    return index


def test_max_in_flight_caps_every_endpoint_together() -> None:
    router = Router(1, max_in_flight=2, queue_depth=None)
    router.placed(0, "/a")
    router.placed(0, "/b")
    assert router.choose("/a") is None and router.choose("/c") is None
    router.left(0, "/a")
    assert router.choose("/c") == 0


def test_a_down_replica_gets_nothing_and_comes_back_measured_anew() -> None:
    router = Router(2, queue_depth=None)
    for _ in range(4):
        router.placed(0, "/work")
        router.started(0, "/work", 0.0)
    router.set_up(0, False)
    assert {router.choose("/work") for _ in range(5)} == {1}
    assert router.any_up
    router.set_up(1, False)
    assert router.choose("/work") is None and not router.any_up
    router.set_up(0, True)
    assert router.replicas[0].lanes["/work"].most_running == 0


def test_other_users_queue_counts_until_the_report_is_stale() -> None:
    clock = Clock()
    router = Router(2, queue_depth=None, clock=clock)
    run_one(router, 0, "/work", 0.2)
    run_one(router, 1, "/work", 0.2)
    router.queue_reported(0, 10)  # ten jobs of other users wait on replica 0
    assert router.expected_finish(0, "/work") > router.expected_finish(1, "/work")
    assert router.choose("/work") == 1
    clock.now += QUEUE_REPORT_LIFETIME + 1
    assert router.expected_finish(0, "/work") == pytest.approx(router.expected_finish(1, "/work"))


def test_the_servers_eta_stands_in_for_an_unmeasured_run_time() -> None:
    router = Router(2, queue_depth=None)
    router.placed(0, "/work")
    router.placed(1, "/work")
    router.queue_reported(0, 1, rank=0, eta=3.0)  # replica 0 thinks a job takes 3 s
    router.queue_reported(1, 1, rank=0, eta=0.5)
    assert router.expected_finish(0, "/work") == pytest.approx(6 * router.expected_finish(1, "/work"))
    assert router.choose("/work") == 1


def test_figures_add_up() -> None:
    router = Router(1)
    router.placed(0, "/work")
    router.started(0, "/work", 0.5)
    router.finished(0, "/work", True, True, 0.25)
    router.left(0, "/work")
    router.placed(0, "/work")
    router.finished(0, "/work", False, False, None)
    router.left(0, "/work", moved=True)
    figures = router.replicas[0]
    assert (figures.done, figures.failed, figures.moved, figures.in_flight) == (1, 1, 1, 0)
    assert figures.mean_queue_wait == 0.5 and figures.mean_run_time == 0.25


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_limits_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        Router(1, max_in_flight=bad)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["place", "start", "finish", "leave", "down", "up"]), st.integers(0, 2)),
        max_size=60,
    ),
    st.one_of(st.none(), st.integers(1, 4)),
    st.one_of(st.none(), st.integers(0, 3)),
)
def test_the_router_never_overfills_or_goes_negative(steps, max_in_flight, queue_depth) -> None:
    router = Router(3, max_in_flight=max_in_flight, queue_depth=queue_depth)
    placed = {0: 0, 1: 0, 2: 0}
    started = {0: 0, 1: 0, 2: 0}
    for action, index in steps:
        if action == "place":
            chosen = router.choose("/work")
            if chosen is None:
                continue
            assert router.replicas[chosen].up
            if max_in_flight is not None:
                assert router.replicas[chosen].in_flight < max_in_flight
            router.placed(chosen, "/work")
            placed[chosen] += 1
        elif action == "start" and started[index] < placed[index]:
            router.started(index, "/work", 0.1)
            started[index] += 1
        elif action == "finish" and placed[index]:
            was_started = started[index] > 0
            router.finished(index, "/work", True, was_started, 0.1 if was_started else None)
            router.left(index, "/work")
            placed[index] -= 1
            started[index] -= was_started
        elif action == "down":
            router.set_up(index, False)
        elif action == "up":
            router.set_up(index, True)
        for i, figures in enumerate(router.replicas):
            assert figures.in_flight == placed[i] >= 0
            lane = figures.lanes.get("/work")
            if lane is not None:
                assert 0 <= lane.running <= lane.in_flight


# -- comparing replicas' APIs -----------------------------------------------------------------


@pytest.fixture(params=captures.VERSIONS)
def app(request):
    return build_app("http://127.0.0.1:7860/", captures.config(request.param), captures.info(request.param))


def test_an_app_matches_itself(app) -> None:
    assert api_difference(app, app) is None


def test_a_missing_endpoint_is_named(app) -> None:
    callable_ = [e for e in app.endpoints if e.callable and e.api_name]
    trimmed = dataclasses.replace(app, endpoints=tuple(e for e in app.endpoints if e is not callable_[0]))
    assert api_difference(app, trimmed) == f"it has no endpoint {callable_[0].api_name}"
    assert "the first replica lacks" in api_difference(trimmed, app)


def test_other_parameters_are_named(app) -> None:
    target = next(e for e in app.endpoints if e.callable and e.api_name and e.parameters)
    renamed = dataclasses.replace(
        target, parameters=(dataclasses.replace(target.parameters[0], name="other_name"), *target.parameters[1:])
    )
    other = dataclasses.replace(app, endpoints=tuple(renamed if e is target else e for e in app.endpoints))
    difference = api_difference(app, other)
    assert difference is not None and difference.startswith(f"{target.api_name} takes (other_name")
