"""The SSE decoder and message parser against real captured streams."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs import ProtocolError
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.sse import SSEDecoder
from tests.fixtures import captures

STREAMS = ["add4", "add5", "add6", "count6", "queue6", "cancel6", "grow4", "grow5", "grow6", "slow4", "slow6",
           "notify4", "notify5", "notify6", "fail4", "fail5", "fail6", "crash4", "crash6", "heartbeat6", "incr6_1"]


@pytest.mark.parametrize("name", STREAMS)
def test_decoder_yields_every_captured_payload(name: str) -> None:
    decoder = SSEDecoder()
    payloads = decoder.feed(captures.stream_bytes(name)) + decoder.close()
    assert payloads == captures.stream_payloads(name)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(STREAMS), cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
       crlf=st.booleans())
def test_decoder_is_independent_of_chunking(name: str, cuts: list[int], crlf: bool) -> None:
    body = captures.stream_bytes(name)
    if crlf:
        body = body.replace(b"\n", b"\r\n")
    points = sorted({c % (len(body) + 1) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)])]
    decoder = SSEDecoder()
    payloads: list[str] = []
    for chunk in chunks:
        payloads += decoder.feed(chunk)
    payloads += decoder.close()
    assert payloads == captures.stream_payloads(name)


def test_decoder_ignores_other_fields_and_joins_multiline_data() -> None:
    decoder = SSEDecoder()
    out = decoder.feed(b": comment\nevent: generating\nid: 3\ndata: [1,\ndata: 2]\n\ndata:{\"a\":1}\n\n")
    assert out == ["[1,\n2]", '{"a":1}']


def test_decoder_keeps_utf8_split_across_chunks() -> None:
    body = 'data: {"t":"héllo ✓"}\n\n'.encode()
    decoder = SSEDecoder()
    out = []
    for i in range(len(body)):
        out += decoder.feed(body[i:i + 1])
    assert json.loads(out[0]) == {"t": "héllo ✓"}


@pytest.mark.parametrize("name", STREAMS)
def test_every_captured_message_parses_to_a_known_type(name: str) -> None:
    for payload in captures.stream_payloads(name):
        message = m.decode_message(payload)
        assert not isinstance(message, m.UnknownMessage), payload


def test_message_fields() -> None:
    queue = [m.decode_message(p) for p in captures.stream_payloads("queue6")]
    assert queue[3] == m.Estimation("c72c481d1b3a442eb70e881218addda2", 1, 2, None)
    assert queue[5].rank_eta == pytest.approx(3.004884958267212)
    assert isinstance(queue[6], m.ProcessStarts) and queue[6].eta == pytest.approx(1.5024540424346924)
    notify = [m.decode_message(p) for p in captures.stream_payloads("notify6")]
    log = notify[2]
    assert isinstance(log, m.Log)
    assert (log.log.message, log.log.level, log.log.title, log.log.duration) == ("an info message", "info", "Info", 10.0)
    fail = m.decode_message(captures.stream_payloads("fail6")[2])
    assert isinstance(fail, m.Completed) and not fail.success
    assert fail.error == {"error": "bad input: x", "duration": 5, "visible": True, "title": "Oops"}
    cancel = m.decode_message(captures.stream_payloads("cancel6")[-2])
    assert isinstance(cancel, m.Completed) and cancel.cancelled and cancel.data is None
    assert m.decode_message('{"msg":"close_stream","event_id":null}') == m.CloseStream()
    unexpected = m.decode_message(
        '{"msg":"unexpected_error","event_id":null,"message":"404: Not Found","session_not_found":true,"success":false}'
    )
    assert unexpected == m.UnexpectedError(None, "404: Not Found", True)


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        '{"event_id": "x"}',
        '{"msg": "estimation", "event_id": 5}',
        '{"msg": "estimation", "event_id": "x", "rank": "first"}',
        '{"msg": "process_generating", "event_id": "x", "output": {"data": 3}}',
        '{"msg": "process_completed", "event_id": "x", "output": [1], "success": true}',
        '{"msg": "log", "event_id": "x", "log": 3, "level": "info"}',
        '{"msg": "progress", "event_id": "x", "progress_data": 7}',
    ],
)
def test_malformed_messages_raise_protocol_error(payload: str) -> None:
    with pytest.raises(ProtocolError):
        m.decode_message(payload)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
PARSED_AS = {
    "estimation": m.Estimation, "process_starts": m.ProcessStarts, "progress": m.Progress, "log": m.Log,
    "process_generating": m.Generating, "process_completed": m.Completed, "heartbeat": m.Heartbeat,
    "close_stream": m.CloseStream, "unexpected_error": m.UnexpectedError, "other": m.UnknownMessage,
}
MSGS = st.sampled_from(sorted(PARSED_AS))


@settings(max_examples=500, deadline=None)
@given(msg=MSGS, fields=st.dictionaries(
    st.sampled_from(["event_id", "rank", "queue_size", "rank_eta", "eta", "progress_data", "log", "level",
                     "output", "success", "title", "message", "duration", "visible"]), JSON, max_size=8))
def test_any_message_parses_or_raises_protocol_error(msg: str, fields: dict) -> None:
    # one bad message fails one job, never the reader: anything a server may send either becomes
    # the record its "msg" names, for the job it names, or raises ProtocolError with the payload
    raw = {"msg": msg, **fields}
    try:
        message = m.parse_message(raw)
    except ProtocolError as exc:
        assert exc.payload == raw
        return
    assert type(message) is PARSED_AS[msg], (raw, message)
    if msg not in ("heartbeat", "close_stream"):  # never about one job
        assert message.event_id == raw.get("event_id")
    if msg == "other":  # a newer server's message is kept whole
        assert message.msg == "other" and message.raw == raw
