"""The job state machine fed with real captured streams."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs import AppError, ConnectionLostError, GradioJobsError, Status
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.job import JobState, PendingOutput
from tests.fixtures import captures

MAJOR_TO_VERSION = {"4": "4.44.1", "5": "5.50.0", "6": "6.31.0"}


def run(capture: str, api_name: str, version: str | None = None) -> JobState:
    version = version or MAJOR_TO_VERSION[capture.rstrip("e")[-1]]
    app = build_app("http://x/", captures.config(version), captures.info(version))
    endpoint = app.endpoint(api_name) if api_name.startswith("/") else app.endpoint(fn_index=int(api_name))
    state = JobState(endpoint, app.capabilities)
    state.submitted()
    for payload in captures.stream_payloads(capture):
        message = m.decode_message(payload)
        if message.event_id is not None:
            if state.job_id is None:
                state.joined(message.event_id)
            state.feed(message)
    return state


@pytest.mark.parametrize("capture", ["add4", "add5", "add6"])
def test_plain_call(capture: str) -> None:
    state = run(capture, "/add")
    assert state.done and state.result == 3 and state.outputs == [3]
    assert state.status.code is Status.FINISHED and state.status.success
    kinds = [type(e) for e in state.events]
    assert kinds == [ev.Submitted, ev.Joined, ev.Queued, ev.Started, ev.OutputProduced, ev.Completed]


def test_generator_outputs_once_each_in_order() -> None:
    state = run("count6", "/count")
    texts = [out[0] for out in state.outputs]
    assert texts == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 ", "tok0 tok1 tok2 tok3 "]
    assert state.outputs[-1][1] == [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]
    assert state.result == state.outputs[-1]


@pytest.mark.parametrize("capture", ["grow4", "grow5", "grow6"])
def test_shrinking_list_generator_including_intermediate_values(capture: str) -> None:
    # 4.44.1 sends unshifted delete indices: the official client dies with IndexError here.
    state = _grow(capture)
    assert state.error is None
    assert [o[0] for o in state.outputs] == [["a"], ["a", "b"], ["a", "b", "c"], ["c"]]
    assert [o[1] for o in state.outputs] == ["abc", "abcdef", "xyz", "xyz!"]
    assert state.outputs[-1][2] == {"value": "v3", "__type__": "update"}
    assert state.result == (["c"], "xyz!", {"value": "v3", "__type__": "update"})


def _grow(capture: str) -> JobState:
    # The grow captures come from an earlier app whose /grow was fn_index 9 with three outputs.
    version = MAJOR_TO_VERSION[capture[-1]]
    app = build_app("http://x/", captures.config(version), None)
    base = app.endpoint(fn_index=1)
    endpoint = dataclasses.replace(base, output_ids=(1, 2, 3), api_output_positions=(0, 1, 2))
    state = JobState(endpoint, app.capabilities)
    for payload in captures.stream_payloads(capture):
        message = m.decode_message(payload)
        if message.event_id:
            state.feed(message)
    return state


def test_app_error_keeps_title_and_message() -> None:
    err = run("fail6", "/fail").error
    assert isinstance(err, AppError)
    assert (err.message, err.title, err.duration, err.visible) == ("bad input: x", "Oops", 5.0, True)
    err5 = run("fail5", "/fail").error
    assert (err5.message, err5.title) == ("bad input: x", "Oops")


def test_app_error_on_4x_has_no_stray_quotes() -> None:
    err = run("fail4", "/fail").error
    assert isinstance(err, AppError)
    assert err.message == "bad input: x" and err.title == "Error"


@pytest.mark.parametrize("capture", ["crash4", "crash5", "crash6"])
def test_hidden_error(capture: str) -> None:
    err = run(capture, "/crash").error
    assert isinstance(err, AppError) and err.hidden
    # the official client's message, attributes and defaults
    assert err.message == str(err) == (
        "The upstream Gradio app has raised an exception but has not enabled verbose error reporting. "
        "To enable, set show_error=True in launch()."
    )
    assert (err.title, err.duration, err.visible, err.print_exception) == ("Error", 10, True, True)


@pytest.mark.parametrize("capture", ["notify4", "notify5", "notify6"])
def test_logs_become_log_events(capture: str) -> None:
    state = run(capture, "/notify")
    logs = [e.log for e in state.events if isinstance(e, ev.Logged)]
    assert [(log.level, log.message) for log in logs] == [("info", "an info message"), ("warning", "a warning message")]
    if capture.endswith("6"):
        assert [log.title for log in logs] == ["Info", "Warning"]
    assert state.result == "HI"


def test_progress_and_queue_statuses() -> None:
    state = run("slow6", "/slow")
    progress = [e.units[0] for e in state.events if isinstance(e, ev.ProgressReported)]
    assert [(p.index, p.length, p.unit, p.desc) for p in progress] == [
        (0, 3, "steps", "looping"), (1, 3, "steps", "looping"), (2, 3, "steps", "looping")]
    assert state.result == "done 3"


def test_estimation_sets_rank_queue_size_and_eta() -> None:
    app = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
    state = JobState(app.endpoint("/sleeper"), app.capabilities)
    messages = [m.decode_message(p) for p in captures.stream_payloads("queue6")]
    mine = [x for x in messages if x.event_id == "c72c481d1b3a442eb70e881218addda2"]
    state.feed(mine[0])
    assert (state.status.code, state.status.rank, state.status.queue_size, state.status.eta) == (Status.IN_QUEUE, 1, 2, None)
    state.feed(mine[1])
    assert state.status.rank == 0 and state.status.eta == pytest.approx(3.0048849)
    state.feed(mine[2])
    assert state.status.code is Status.PROCESSING and state.status.eta is None
    assert state.status.run_eta == pytest.approx(1.50237786)


def test_state_output_is_dropped() -> None:
    assert run("incr6_1", "/incr", version="6.31.0").result == 1


def test_cancel_completion_and_duplicates() -> None:
    state = run("cancel6", "/count")
    assert state.cancelled and state.cancel_outcome == "cancelled by the server"
    assert len(state.outputs) == 5
    # a second, real completion after the cancel is ignored
    assert state.feed(m.Completed("x", True, ["late", []], None, None, False)) == []
    assert state.cancelled and state.result is None


def test_lost_connection_carries_job_id_and_last_status() -> None:
    app = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
    state = JobState(app.endpoint("/add"), app.capabilities)
    state.joined("abc")
    state.feed(m.ProcessStarts("abc", 1.0))
    state.lost("the connection to the server was lost")
    assert isinstance(state.error, ConnectionLostError)
    assert state.error.job_id == "abc" and state.error.last_status.code is Status.PROCESSING
    assert "abc" in str(state.error)


def test_status_ordering_matches_official() -> None:
    assert Status.STARTING < Status.IN_QUEUE < Status.PROCESSING < Status.PROGRESS < Status.ITERATING < Status.FINISHED
    with pytest.raises(ValueError):
        Status.ordering(Status.LOG)
    assert [s.value for s in Status] == ["STARTING", "JOINING_QUEUE", "QUEUE_FULL", "IN_QUEUE", "SENDING_DATA",
                                          "PROCESSING", "ITERATING", "PROGRESS", "FINISHED", "CANCELLED", "LOG"]


_EVENT_IDS = st.sampled_from(["e1", "e1", "e1", None, "other"])
_ANY = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=8)
_OPS = st.lists(st.tuples(st.sampled_from(["replace", "append", "add", "delete", "bogus"]),
                          st.lists(st.integers(-2, 3) | st.text(max_size=2), max_size=2), _ANY).map(list), max_size=3)
_RAW = st.one_of(
    st.fixed_dictionaries({"msg": st.just("estimation"), "event_id": _EVENT_IDS, "rank": st.integers(0, 5) | st.none(),
                           "queue_size": st.integers(0, 5), "rank_eta": st.floats(0, 9) | st.none()}),
    st.fixed_dictionaries({"msg": st.just("process_starts"), "event_id": _EVENT_IDS, "eta": st.none() | st.floats(0, 9)}),
    st.fixed_dictionaries({"msg": st.just("process_generating"), "event_id": _EVENT_IDS,
                           "output": st.fixed_dictionaries({"data": st.lists(_OPS | _ANY, min_size=0, max_size=3)}),
                           "success": st.booleans()}),
    st.fixed_dictionaries({"msg": st.just("process_completed"), "event_id": _EVENT_IDS, "success": st.booleans(),
                           "output": st.one_of(st.just({}), st.fixed_dictionaries({"data": st.lists(_ANY, max_size=3)}),
                                               st.fixed_dictionaries({"error": st.none() | st.text(max_size=5)}))}),
    st.fixed_dictionaries({"msg": st.sampled_from(["log", "progress", "unexpected_error", "heartbeat", "weird"]),
                           "event_id": _EVENT_IDS}),
    _ANY,
)


@settings(max_examples=300, deadline=None)
@given(raws=st.lists(_RAW, max_size=12), version=st.sampled_from(captures.VERSIONS))
def test_any_message_sequence_ends_in_a_typed_outcome(raws, version) -> None:
    """Fuzz: whatever the server sends, the job state never raises anything but typed errors."""
    app = build_app("http://x/", captures.config(version), captures.info(version))
    state = JobState(app.endpoint("/count"), app.capabilities)
    state.joined("e1")
    for raw in raws:
        try:
            message = m.parse_message(raw)
        except GradioJobsError as exc:
            state.fail(exc)
            continue
        state.feed(message)
    if state.done:
        assert state.cancelled or state.error is not None or state.result is not None or state.outputs
        if state.error is not None:
            assert isinstance(state.error, GradioJobsError)


# -- outputs finished outside the state machine (file downloads) ----------------------------


def _payloads(capture: str) -> list[m.Message]:
    return [m.decode_message(p) for p in captures.stream_payloads(capture)]


def _fresh(api_name: str) -> JobState:
    app = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
    state = JobState(app.endpoint(api_name), app.capabilities)
    state.submitted()
    return state


def _take_outputs(state: JobState, capture: str, limit: int | None = None) -> list[PendingOutput]:
    """Feed a capture through ``take``; the outputs it hands back (at most ``limit``)."""
    pendings: list[PendingOutput] = []
    for message in _payloads(capture):
        if message.event_id is None:
            continue
        if state.job_id is None:
            state.joined(message.event_id)
        taken = state.take(message)
        if isinstance(taken, PendingOutput):
            pendings.append(taken)
            if len(pendings) == limit:
                break
    return pendings


def test_take_hands_outputs_back_and_commit_delivers_their_finished_form() -> None:
    state = _fresh("/add")
    (pending,) = _take_outputs(state, "add6")
    assert pending.final and pending.value == 3
    assert not state.done and state.finishing
    # The server is done with it: a cancel or a dropped connection changes nothing now.
    assert state.cancel() == [] and state.lost("gone") == [] and state.expire("total", 1.0) == []
    events = state.commit(pending, "finished form")
    assert [type(e) for e in events] == [ev.OutputProduced, ev.Completed]
    assert state.done and state.settled and state.result == "finished form" and state.outputs == ["finished form"]


def test_a_yield_finished_after_a_cancel_is_dropped() -> None:
    state = _fresh("/count")
    pendings = _take_outputs(state, "count6", limit=2)
    assert [p.final for p in pendings] == [False, False]
    state.commit(pendings[0], "first")
    state.cancel()
    assert state.commit(pendings[1], "second") == []
    assert state.outputs == ["first"] and state.cancelled


def test_a_yield_of_an_earlier_attempt_is_dropped() -> None:
    state = _fresh("/count")
    (taken,) = _take_outputs(state, "count6", limit=1)
    state.restart("lost")
    assert state.commit(taken, "stale") == []
    assert state.outputs == []


# -- bounded memory and timings -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(keep=st.integers(1, 6), count=st.integers(0, 60), reader_at=st.integers(0, 70))
def test_keep_outputs_keeps_a_window_ending_at_the_last_output(keep: int, count: int, reader_at: int) -> None:
    app = build_app("http://x/", captures.config("6.31.0"), captures.info("6.31.0"))
    state = JobState(app.endpoint("/count"), app.capabilities, keep_outputs=keep)
    state.submitted()
    state.joined("e")
    for value in range(count):
        state.commit(PendingOutput(False, value, state.attempt), value)
        first, kept = state.output_window
        assert first + len(kept) == state.outputs_total == value + 1
        assert kept[-1] == value and len(kept) < 2 * keep
    produced = [e.index for e in state.events if isinstance(e, ev.OutputProduced)]
    assert produced == list(range(count))[-len(produced):] if produced else count == 0
    assert len(produced) < 2 * keep + 1
    # a reader resuming at any sequence number gets the kept events after it, in order
    numbers = [n for n, _ in state.events_since(reader_at)]
    assert numbers == sorted(numbers) and all(n >= reader_at for n in numbers)


def test_timings_follow_the_events() -> None:
    state = run("add6", "/add")
    t = state.timings
    assert t.submitted <= t.queued <= t.started <= t.finished
    assert t.queue_wait >= 0 and t.run_time >= 0 and t.total >= t.run_time
    assert JobState(state.endpoint, state.capabilities).timings.finished is None
