"""The job lifecycle: a transition table, fuzzed with what a server and a client can do to a job.

Invariants checked after every step of every generated history:
- every move is in ``TRANSITIONS`` (an illegal one raises ``IllegalTransition``, failing the test);
- a job that is done has exactly one terminal event (Completed, Failed or Cancelled) and one
  outcome, which never changes; a job that is not done has neither;
- each output is delivered once, numbered 0, 1, 2, ... in order;
- a settled job never changes again, whatever follows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs import GradioJobsError
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.cancel import CancelAction
from gradio_jobs.protocol.job import (
    TRANSITIONS,
    EventCursor,
    IllegalTransition,
    JobState,
    Lifecycle,
    OutputCursor,
    Outcome,
    PendingOutput,
)
from tests.fixtures import captures

APP = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
COUNT = APP.endpoint("/count")

_SERVER = st.sampled_from([
    m.Estimation("e", 1, 3, 2.0),
    m.ProcessStarts("e", 1.0),
    m.Progress("e", []),
    m.Generating("e", ["tok ", []], True),
    m.Generating("e", [[["append", [], "x"]], [["append", [], {"i": 1}]]], True),
    m.Generating("e", ["not a diff", 3], True),
    m.Completed("e", True, ["done", []], None, None, False),
    m.Completed("e", True, None, None, None, True),  # the empty completion of a cancel
    m.Completed("e", False, None, {"error": "boom"}, None, False),
    m.Completed("e", True, None, None, None, False),  # no data: a protocol error
    m.UnexpectedError("e", "server error", False),
    m.QueueFull("e"),
])
_CLIENT = st.sampled_from([
    ("joined",), ("cancel",), ("expire",), ("lost",), ("restart",), ("fail",), ("kill_sent",),
    ("targeted_sent",), ("resolve",), ("take_then_commit",), ("take_then_drop",),
])


def _snapshot(state: JobState) -> tuple:
    return (state.lifecycle, state.outcome, state.result, state.error, state.cancel_outcome,
            list(state.outputs), len(state.log), state.status)


def _step(state: JobState, action: object) -> None:
    if isinstance(action, tuple):
        name = action[0]
        if name == "joined":
            state.joined("e")
        elif name == "cancel":
            state.cancel()
        elif name == "expire":
            state.expire("total", 1.0)
        elif name == "lost":
            state.lost("the stream broke")
        elif name == "restart":
            state.restart("killed")
        elif name == "fail":
            state.fail(GradioJobsError("a typed failure"))
        elif name == "kill_sent":
            state.cancel_sent(CancelAction.KILL)
        elif name == "targeted_sent":
            state.cancel_sent(CancelAction.TARGETED)
        elif name == "resolve":
            state.resolve_cancel(ev.OUTCOME_STOPPED)
        elif name in ("take_then_commit", "take_then_drop"):
            taken = state.take(m.Generating("e", ["late ", []], True))
            if isinstance(taken, PendingOutput) and name == "take_then_commit":
                state.commit(taken, taken.value)
        return
    state.feed(action)  # type: ignore[arg-type]


def _check(state: JobState, settled_before: tuple | None) -> None:
    terminal = [e for e in state.events if isinstance(e, ev.TERMINAL_EVENTS)]
    if state.done:
        assert len(terminal) == 1 and state.outcome is not None
        kind = {Outcome.COMPLETED: ev.Completed, Outcome.FAILED: ev.Failed, Outcome.CANCELLED: ev.Cancelled}
        assert isinstance(terminal[0], kind[state.outcome])
    else:
        assert terminal == [] and state.outcome is None
    if state.outcome is Outcome.FAILED:
        assert isinstance(state.error, GradioJobsError)
    indices = [e.index for e in state.events if isinstance(e, ev.OutputProduced)]
    assert indices == list(range(len(indices)))
    assert state.outputs_total == len(indices)
    if settled_before is not None:
        assert _snapshot(state) == settled_before, "a settled job changed"


@settings(max_examples=400, deadline=None)
@given(actions=st.lists(st.one_of(_SERVER, _CLIENT), max_size=25))
def test_any_history_keeps_the_lifecycle_invariants(actions: list[object]) -> None:
    state = JobState(COUNT, APP.capabilities)
    state.submitted()
    outcome = None
    settled: tuple | None = None
    for action in actions:
        _step(state, action)
        _check(state, settled)
        if outcome is not None:
            assert state.outcome is outcome, "the outcome changed"
        outcome = state.outcome
        if state.settled and settled is None:
            settled = _snapshot(state)
        assert state.lifecycle in TRANSITIONS


def test_the_table_has_one_final_state_and_every_state_leads_there() -> None:
    assert [s for s, targets in TRANSITIONS.items() if not targets] == [Lifecycle.SETTLED]
    for start in Lifecycle:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert Lifecycle.SETTLED in seen


def test_an_illegal_move_is_refused() -> None:
    state = JobState(COUNT, APP.capabilities)
    state.feed(m.Completed("e", True, ["done", []], None, None, False))
    assert state.settled
    with pytest.raises(IllegalTransition):
        state._move(Lifecycle.RUNNING)


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0
        self.wall = datetime(2026, 1, 1, 12, 0, 0)

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.wall += timedelta(seconds=seconds)


def test_time_comes_from_the_injected_clock() -> None:
    clock = FakeClock()
    state = JobState(COUNT, APP.capabilities, clock=clock)
    state.submitted()
    clock.advance(1.0)
    state.joined("e")
    clock.advance(2.5)
    state.feed(m.ProcessStarts("e", None))
    clock.advance(4.0)
    state.feed(m.Completed("e", True, ["done", []], None, None, False))
    assert [e.at for e in state.events] == [100.0, 101.0, 103.5, 107.5, 107.5]
    timings = state.timings
    assert (timings.queue_wait, timings.run_time, timings.total) == (2.5, 4.0, 7.5)
    assert timings.finished == datetime(2026, 1, 1, 12, 0, 7, 500000)
    assert state.status.time == clock.wall


def test_cursors_give_each_output_and_event_once_then_end() -> None:
    state = JobState(COUNT, APP.capabilities, keep_outputs=2)
    state.submitted()
    state.joined("e")
    outputs, events = OutputCursor(state), EventCursor(state)
    assert outputs.next() is OutputCursor.NOTHING and not outputs.ended
    assert [type(e) for e in events.next_batch()] == [ev.Submitted, ev.Joined]
    for i in range(6):
        state.commit(PendingOutput(False, i, state.attempt), i)
    # the reader fell behind a window of 2 (kept up to 2 * 2 - 1): it skips what was trimmed
    got = []
    while (value := outputs.next()) is not OutputCursor.NOTHING:
        got.append(value)
    assert got == [4, 5] or got[-2:] == [4, 5]
    assert got == sorted(set(got))
    state.feed(m.Completed("e", True, ["done", []], None, None, False))
    assert outputs.ended and events.ended
    assert isinstance(events.next_batch()[-1], ev.Completed) and events.next_batch() == []
    outputs.raise_failure()  # a success raises nothing
