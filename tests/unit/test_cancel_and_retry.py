"""Pure decisions: which cancel request to send, what its answer means, what may be retried."""

from __future__ import annotations

import dataclasses

import pytest

from gradio_jobs import (
    AppError,
    QueueFullError,
    RetryPolicy,
    ServerError,
    ServerUnreachableError,
    SubmitRetry,
)
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.cancel import CancelAction, Phase, outcome_of_stopping, plan_cancel
from gradio_jobs.protocol.capabilities import Capabilities
from gradio_jobs.protocol.job import JobState
from gradio_jobs.transport.http import _retry_after
from tests.fixtures import captures

APP6 = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
APP4 = build_app("http://x/", captures.config("4.44.1"), captures.info("4.44.1"))
PLAIN, GEN = APP6.endpoint("/add"), APP6.endpoint("/count")


@pytest.mark.parametrize(
    "version,endpoint,phase,expected",
    [
        ("6.31.0", PLAIN, Phase.JOINING, CancelAction.WAIT),
        ("6.31.0", PLAIN, Phase.QUEUED, CancelAction.TARGETED),  # 6.14+ dequeues
        ("6.13.0", PLAIN, Phase.QUEUED, CancelAction.WAIT),  # cannot dequeue: act when it starts
        ("4.44.1", GEN, Phase.QUEUED, CancelAction.WAIT),
        ("6.31.0", PLAIN, Phase.RUNNING, CancelAction.NONE),  # a worker thread cannot be interrupted
        ("6.31.0", GEN, Phase.RUNNING, CancelAction.KILL),
        ("4.44.1", GEN, Phase.RUNNING, CancelAction.KILL),
        ("4.30.0", GEN, Phase.RUNNING, CancelAction.RESET),  # no cancel route before 4.31: reset
        ("4.30.0", PLAIN, Phase.RUNNING, CancelAction.NONE),
        ("4.36.0", GEN, Phase.RUNNING, CancelAction.KILL),
    ],
)
def test_plan_cancel(version, endpoint, phase, expected) -> None:
    caps = Capabilities.from_config({"version": version, "protocol": "sse_v3"})
    assert plan_cancel(caps, endpoint, phase) is expected


@pytest.mark.parametrize(
    "config,endpoint,phase,expected,outcome",
    [
        # Each job has its own connection: dropping it is the cancel.
        ({"version": "3.50.2"}, PLAIN, Phase.QUEUED, CancelAction.CLOSE, "dequeued"),
        ({"version": "3.50.2"}, GEN, Phase.RUNNING, CancelAction.CLOSE, "stopped"),
        ({"version": "3.50.2"}, PLAIN, Phase.RUNNING, CancelAction.CLOSE, "server continues"),
        ({"version": "4.8.0", "protocol": "sse"}, GEN, Phase.QUEUED, CancelAction.CLOSE, "dequeued"),
        ({"version": "4.8.0", "protocol": "sse"}, GEN, Phase.RUNNING, CancelAction.CLOSE, "stopped"),
        # The session stream before the cancel route: reset stops generators only.
        ({"version": "4.16.0", "protocol": "sse_v1"}, GEN, Phase.QUEUED, CancelAction.WAIT, "dequeued"),
        ({"version": "4.16.0", "protocol": "sse_v1"}, GEN, Phase.RUNNING, CancelAction.RESET, "stopped"),
        ({"version": "4.21.0", "protocol": "sse_v2.1"}, GEN, Phase.RUNNING, CancelAction.RESET, "server continues"),
        ({"version": "4.21.0", "protocol": "sse_v2.1"}, PLAIN, Phase.RUNNING, CancelAction.NONE, "server continues"),
        ({"version": "3.50.2", "enable_queue": False}, PLAIN, Phase.RUNNING, CancelAction.NONE, "server continues"),
        ({"version": "3.50.2"}, GEN, Phase.JOINING, CancelAction.WAIT, "never sent"),
        # 4.17 to 4.21 run a session's jobs to their end when its stream is dropped (measured)
        ({"version": "4.20.1", "protocol": "sse_v2"}, GEN, Phase.QUEUED, CancelAction.WAIT, "server continues"),
    ],
)
def test_plan_cancel_older_generations(config, endpoint, phase, expected, outcome) -> None:
    caps = Capabilities.from_config(config)
    assert plan_cancel(caps, endpoint, phase) is expected
    assert outcome_of_stopping(caps, endpoint, phase) == outcome


def _state(endpoint=GEN, app=APP6) -> JobState:
    state = JobState(endpoint, app.capabilities)
    state.joined("e")
    return state


EMPTY = m.Completed("e", True, None, None, None, True)


def test_kill_of_running_generator_is_confirmed_by_the_empty_completion() -> None:
    state = _state()
    state.feed(m.ProcessStarts("e", None))
    assert [type(e) for e in state.cancel()] == [ev.Cancelled]
    assert state.done and state.cancelled and not state.settled and state.cancel_outcome == "requested"
    state.cancel_sent(CancelAction.KILL)
    events = state.feed(EMPTY)
    assert events == [ev.CancelResolved(ev.OUTCOME_STOPPED, at=events[0].at, wallclock=events[0].wallclock)]
    assert state.settled and state.last_cancel_killed


def test_dequeue_then_a_late_start_waits_for_what_the_start_triggers() -> None:
    state = _state(PLAIN)
    state.cancel()
    state.cancel_sent(CancelAction.TARGETED)
    state.feed(m.ProcessStarts("e", None))  # it started before the dequeue landed
    assert state.feed(EMPTY) == [] and not state.settled


def test_dequeued_and_finished_first_outcomes() -> None:
    queued = _state(PLAIN)
    queued.cancel()
    queued.cancel_sent(CancelAction.TARGETED)
    queued.feed(EMPTY)
    assert queued.cancel_outcome == ev.OUTCOME_DEQUEUED

    running = _state(GEN)
    running.feed(m.ProcessStarts("e", None))
    running.cancel()
    running.cancel_sent(CancelAction.KILL)
    running.feed(m.Completed("e", True, ["done", []], None, None, False))
    assert running.cancel_outcome == ev.OUTCOME_FINISHED_FIRST and running.result == ("done", [])

    ran_anyway = _state(PLAIN)  # cancelled while queued on a server that cannot dequeue
    ran_anyway.cancel()
    ran_anyway.feed(m.ProcessStarts("e", None))
    ran_anyway.feed(m.Completed("e", True, [3], None, None, False))
    assert ran_anyway.cancel_outcome == ev.OUTCOME_SERVER_CONTINUES


def test_expiry_fails_with_the_phase_and_last_status() -> None:
    state = _state(PLAIN)
    state.feed(m.Estimation("e", 2, 3, 4.0))
    state.expire("queue", 1.5)
    err = state.error
    assert err.phase == "queue" and err.limit == 1.5 and err.last_status.rank == 2
    assert "rank 2 of 3" in str(err) and isinstance(err, TimeoutError)
    assert state.cancelling


def test_restart_keeps_outputs_and_does_not_deliver_them_twice() -> None:
    state = _state(GEN)
    state.feed(m.ProcessStarts("e", None))
    state.feed(m.Generating("e", ["a", [1]], True))
    assert [type(e) for e in state.restart("lost")] == [ev.Resubmitted]
    assert state.job_id is None and state.attempt == 2 and state.phase is Phase.JOINING
    state.joined("f")
    state.feed(m.Generating("f", ["a", [1]], True))  # the repeated run re-yields the first output
    state.feed(m.Generating("f", [[["append", [], "b"]], [["replace", [], [1, 2]]]], True))
    assert state.outputs == [("a", [1]), ("ab", [1, 2])]


def test_submit_retry_decisions() -> None:
    policy = SubmitRetry(attempts=3, backoff=0.5, max_backoff=4)
    refused = ServerUnreachableError("refused", request_sent=False)
    assert 0.3 < policy.should_retry(refused, 0) < 0.7
    assert policy.should_retry(refused, 3) is None  # attempts used up
    assert policy.should_retry(ServerUnreachableError("read error"), 0) is None  # may have been taken
    for status in (429, 502, 503):
        assert policy.should_retry(ServerError("x", status_code=status), 0) is not None
    assert policy.should_retry(ServerError("x", status_code=500), 0) is None
    assert policy.should_retry(AppError("x"), 0) is None
    busy = ServerError("x", status_code=429)
    busy.retry_after = 2.5
    assert policy.should_retry(busy, 1) == 2.5
    busy.retry_after = 60
    assert policy.should_retry(busy, 1) == 4  # capped
    assert policy.should_retry(QueueFullError(), 0) is None
    assert dataclasses.replace(policy, retry_queue_full=True).should_retry(QueueFullError(), 0) is not None


def test_retry_policy_names_safe_endpoints() -> None:
    policy = RetryPolicy(safe_endpoints=["add", "/count"], attempts=2)
    assert policy.allows(PLAIN, 0) and policy.allows(GEN, 1) and not policy.allows(GEN, 2)
    assert not policy.allows(APP6.endpoint("/sleeper"), 0)
    assert RetryPolicy(safe_endpoints="*").allows(APP6.endpoint("/sleeper"), 0)
    assert not RetryPolicy().allows(PLAIN, 0)


@pytest.mark.parametrize("value,expected", [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("", None), (None, None),
                                            ("soon", None)])
def test_retry_after(value, expected) -> None:
    assert _retry_after(value) == expected


def test_retry_after_http_date() -> None:
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
