"""Streaming-input endpoints (``.stream`` listeners) in the sans-I/O core, against real captures.

The captures come from ``tests/apps/stream_input_app.py``: its config on every server version
(``config_stream_input_gradio-<version>.json``), and on 5.50.0 and 6.31.0 the raw
``queue/data`` stream of one call whose input stream nobody closed (``stream_input5.txt`` and
``stream_input6.txt`` with ``--time-limit 2``; ``stream_input5_no_limit.txt`` without a time
limit): the server answers the frame with ``process_streaming``, waits for the next frame until
the time limit, then completes.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from gradio_jobs import Status
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.api import App, build_app
from gradio_jobs.protocol.job import JobState, Lifecycle, PendingOutput
from gradio_jobs.protocol.requests import input_close_route
from tests.fixtures import captures

ALL_VERSIONS = ("6.31.0", "5.50.0", "4.44.1", "4.21.0", "4.20.1", "4.16.0", "4.8.0", "3.50.2")
STREAMING_SERVERS = ("6.31.0", "5.50.0")
STREAMS = {"stream_input6": "6.31.0", "stream_input5": "5.50.0", "stream_input5_no_limit": "5.50.0"}


def app_of(version: str) -> App:
    config = json.loads((captures.CAPTURES / f"config_stream_input_gradio-{version}.json").read_text())
    return build_app("http://x/", config, None)


def messages(capture: str) -> list[m.Message]:
    return [m.decode_message(payload) for payload in captures.stream_payloads(capture)]


def job_messages(capture: str) -> list[m.Message]:
    return [msg for msg in messages(capture) if msg.event_id is not None]


def new_state(app: App, api_name: str = "/measure") -> JobState:
    state = JobState(app.endpoint(api_name), app.capabilities)
    state.submitted()
    return state


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_streaming_inputs_are_recognised_from_the_config(version: str) -> None:
    app = app_of(version)
    measure, add = app.endpoint("/measure"), app.endpoint("/add")
    # Every generation has the .stream trigger; only 5.x and later run it as an input stream.
    dependency = next(d for d in app.config["dependencies"] if d.get("api_name") == "measure")
    assert [event for _, event in dependency["targets"]] == ["stream"]
    assert measure.streams_inputs is (version in STREAMING_SERVERS)
    assert add.streams_inputs is False


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_the_close_route_is_asked_only_for_streaming_inputs(version: str) -> None:
    app = app_of(version)
    measure, add = app.endpoint("/measure"), app.endpoint("/add")
    expected = "stream/abc123/close" if version in STREAMING_SERVERS else None
    assert input_close_route(measure, "abc123") == expected
    assert input_close_route(measure, None) is None  # no id yet: nothing to close
    assert input_close_route(add, "abc123") is None


def test_process_streaming_is_parsed_as_an_output() -> None:
    kinds = [type(msg).__name__ for msg in messages("stream_input6")]
    assert kinds == ["Estimation", "ProcessStarts", "Generating", "Completed", "CloseStream"]
    streamed = messages("stream_input6")[2]
    assert isinstance(streamed, m.Generating) and streamed.data == ["7x5"] and streamed.success


@pytest.mark.parametrize("capture", sorted(STREAMS))
def test_the_first_streamed_output_completes_the_job(capture: str) -> None:
    state = new_state(app_of(STREAMS[capture]))
    before_answer: list[ev.JobEvent] = []
    for msg in job_messages(capture):
        if state.job_id is None:
            state.joined(msg.event_id)
        produced = state.feed(msg)
        if isinstance(msg, m.Generating) and not before_answer:
            before_answer = list(state.events)
            # Done at the answer, not when the server's time limit ends the event later.
            assert [type(e) for e in produced] == [ev.OutputProduced, ev.Completed]
    assert state.done and state.settled and state.error is None
    assert state.result == "7x5" and state.outputs == ["7x5"]
    assert state.status.code is Status.FINISHED and state.status.success
    kinds = [type(e) for e in state.events]
    assert kinds == [ev.Submitted, ev.Joined, ev.Queued, ev.Started, ev.OutputProduced, ev.Completed]
    # What the server sends once the caller has its answer changes nothing.
    assert state.events == before_answer


def test_the_streamed_answer_is_handed_back_as_the_final_output() -> None:
    # Its files (if any) are downloaded before delivery, as a completion's are.
    state = new_state(app_of("6.31.0"))
    pending = None
    for msg in job_messages("stream_input6"):
        if state.job_id is None:
            state.joined(msg.event_id)
        if isinstance(msg, m.Generating):
            pending = state.take(msg)
            break
        state.feed(msg)
    assert isinstance(pending, PendingOutput) and pending.final and pending.value == "7x5"
    assert state.lifecycle is Lifecycle.FINISHING and not state.done
    assert state.cancel() == []  # the server has answered: too late to cancel
    events = state.commit(pending, "7x5 (finished)")
    assert [type(e) for e in events] == [ev.OutputProduced, ev.Completed]
    assert state.result == "7x5 (finished)" and state.lifecycle is Lifecycle.SETTLED


def test_an_ordinary_generator_still_waits_for_its_completion() -> None:
    # The same stream for an endpoint that is not a streaming input: an output, then the end.
    app = app_of("6.31.0")
    endpoint = dataclasses.replace(app.endpoint("/measure"), streams_inputs=False)
    state = JobState(endpoint, app.capabilities)
    for msg in job_messages("stream_input6"):
        if state.job_id is None:
            state.joined(msg.event_id)
        state.feed(msg)
        if isinstance(msg, m.Generating):
            assert not state.done and state.outputs == ["7x5"]
    assert state.done and state.result == "7x5" and state.outputs == ["7x5"]


def test_a_job_cancelled_while_running_does_not_complete_on_its_answer() -> None:
    state = new_state(app_of("5.50.0"))
    for msg in job_messages("stream_input5"):
        if state.job_id is None:
            state.joined(msg.event_id)
        if isinstance(msg, m.Generating):
            cancelled = state.cancel()
            assert [type(e) for e in cancelled] == [ev.Cancelled]
        state.feed(msg)
    assert state.cancelled and state.outputs == []
    # The server ran it to its end: a cancel after the start says so once its completion came.
    assert state.settled and state.cancel_outcome == ev.OUTCOME_FINISHED_FIRST
