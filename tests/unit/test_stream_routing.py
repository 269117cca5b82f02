"""Routing of one session's multiplexed stream to its jobs (the reader's pure logic)."""

from __future__ import annotations

import json

from gradio_jobs import ProtocolError
from gradio_jobs.protocol import messages as m
from gradio_jobs.transport.stream import SessionStream
from tests.fixtures import captures


class Sink:
    def __init__(self) -> None:
        self.messages: list[m.Message] = []
        self.lost: list[str] = []
        self.rejected: list[ProtocolError] = []

    @property
    def finished(self) -> bool:
        return bool(self.lost or self.rejected) or any(isinstance(x, m.Completed) for x in self.messages)

    def deliver(self, message: m.Message) -> None:
        self.messages.append(message)

    def lose(self, reason: str) -> None:
        self.lost.append(reason)

    def reject(self, error: ProtocolError) -> None:
        self.rejected.append(error)


def stream() -> SessionStream:
    s = SessionStream(None, "http://x/queue/data", "h", close_stream=True, read_timeout=None)  # type: ignore[arg-type]
    s._task = _Running()  # type: ignore[assignment]  # pretend the reader runs: only routing is tested here
    return s


class _Running:
    def done(self) -> bool:
        return False


def payload(**fields) -> str:
    return json.dumps(fields)


def test_messages_are_routed_by_event_id_and_close_stream_ends() -> None:
    s = stream()
    sinks = {eid: Sink() for eid in ("8695fb71ecff4bd599220d20482d61c7", "8e75eb1fc8914bd18dd9a916780949aa",
                                      "c72c481d1b3a442eb70e881218addda2")}
    for eid, sink in sinks.items():
        s.register(eid, sink)
    ends = [s._handle(p) for p in captures.stream_payloads("queue6")]
    assert ends[-1] is True and not any(ends[:-1])
    for sink in sinks.values():
        assert isinstance(sink.messages[-1], m.Completed) and sink.messages[-1].data == ["slept 1.5"]
    assert s.pending == 0


def test_messages_before_registration_are_replayed_in_order() -> None:
    s = stream()
    payloads = captures.stream_payloads("count6")
    for p in payloads[:3]:
        s._handle(p)
    sink = Sink()
    s.register("584d289431f540539168631b7865762c", sink)
    assert [type(x) for x in sink.messages] == [m.Estimation, m.ProcessStarts, m.Generating]
    for p in payloads[3:]:
        s._handle(p)
    assert len(sink.messages) == 7 and isinstance(sink.messages[-1], m.Completed)


def test_duplicate_completion_after_cancel_is_dropped() -> None:
    s = stream()
    sink = Sink()
    s.register("b", sink)
    s._handle(payload(msg="process_completed", event_id="b", output={}, success=True))
    s._handle(payload(msg="process_completed", event_id="b", output={"data": [1]}, success=True))
    assert len(sink.messages) == 1 and sink.messages[0].cancelled
    assert "b" not in s._early


def test_stream_level_unexpected_error_fails_every_pending_job() -> None:
    s = stream()
    a, b = Sink(), Sink()
    s.register("a", a)
    s.register("b", b)
    ended = s._handle(payload(msg="unexpected_error", event_id=None, message="404: Not Found",
                              session_not_found=True, success=False))
    assert ended and a.lost and b.lost and "unknown to the server" in a.lost[0]
    assert s.pending == 0


def test_malformed_message_fails_only_its_job() -> None:
    s = stream()
    a, b = Sink(), Sink()
    s.register("a", a)
    s.register("b", b)
    assert s._handle(payload(msg="estimation", event_id="a", rank="first")) is False
    assert a.rejected and not b.rejected and s.pending == 1
    s._handle("not json at all")
    s._handle(payload(msg="process_completed", event_id="b", output={"data": [2]}, success=True))
    assert b.messages[-1].data == [2]


def test_heartbeats_and_unknown_messages_are_harmless() -> None:
    s = stream()
    a = Sink()
    s.register("a", a)
    assert s._handle(payload(msg="heartbeat", event_id=None)) is False
    assert s._handle(payload(msg="something_new", event_id="a", x=1)) is False
    assert isinstance(a.messages[0], m.UnknownMessage) and not a.finished
