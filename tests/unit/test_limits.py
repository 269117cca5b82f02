"""The bounds against a misbehaving server, piece by piece (the hostile-server tests are in
tests/integration/test_hostile.py): the SSE decoder's message limit, the decompression in
bounded pieces, the minimum-rate rule and the options that set them."""

from __future__ import annotations

import gzip
import itertools
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs import ClientOptions, LimitExceededError, MessageTooLargeError, ProtocolError, TransferTooSlowError
from gradio_jobs._limits import DECODE_PIECE, MAX_ANSWER_SIZE, MAX_MESSAGE_SIZE, MAX_REDIRECTS
from gradio_jobs.protocol.sse import SSEDecoder
from gradio_jobs.transport.http import BodyDecoder, RateFloor, ServerLimits


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


payloads = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                            min_size=1, max_size=40), min_size=1, max_size=8)


# -- the SSE decoder -----------------------------------------------------------------------------


@given(payloads, st.lists(st.integers(min_value=0, max_value=10_000), max_size=20), st.booleans())
def test_any_split_of_a_stream_gives_the_same_events(events: list[str], cuts: list[int], crlf: bool) -> None:
    end = "\r\n" if crlf else "\n"
    stream = "".join(f"data: {e}{end}{end}" for e in events).encode()
    limit = max(len(f"data: {e}{end}".encode()) for e in events)  # as tight as it gets: no false alarm
    decoder = SSEDecoder(limit)
    got: list[str] = []
    for chunk in _split(stream, cuts):
        got += decoder.feed(chunk)
    got += decoder.close()
    assert got == events


@given(st.integers(min_value=20, max_value=5000), st.lists(st.integers(min_value=1, max_value=3000), min_size=1))
@settings(max_examples=60)
def test_an_endless_line_raises_before_more_than_limit_plus_one_chunk_is_held(limit: int, sizes: list[int]) -> None:
    decoder = SSEDecoder(limit)
    decoder.feed(b"data: {\"msg\": \"")
    fed = 0
    for size in sizes * (limit // sum(sizes) + 2):
        try:
            decoder.feed(b"x" * size)
        except MessageTooLargeError as exc:
            assert exc.option == "max_message_size" and exc.limit == limit
            assert exc.size is not None and limit < exc.size <= limit + size + 20
            assert decoder.pending <= limit + size + 20
            break
        fed += size
        assert decoder.pending <= limit
    else:
        pytest.fail(f"no error after {fed} bytes with a limit of {limit}")
    with pytest.raises(MessageTooLargeError):  # the decoder stays failed: where events start is lost
        decoder.feed(b"\n\n")


def test_many_data_lines_of_one_event_count_together() -> None:
    decoder = SSEDecoder(100)
    with pytest.raises(MessageTooLargeError):
        for _ in range(20):
            decoder.feed(b"data: " + b"y" * 10 + b"\n")


def test_events_completed_before_the_overflow_are_returned_first() -> None:
    decoder = SSEDecoder(50)
    assert decoder.feed(b"data: a\n\ndata: b\n\ndata: " + b"z" * 100) == ["a", "b"]
    with pytest.raises(MessageTooLargeError):
        decoder.feed(b"more")


def test_comment_lines_do_not_count_as_pending_once_ended() -> None:
    decoder = SSEDecoder(100)
    for _ in range(1000):  # a heartbeat comment trickle: each line is small and ends
        assert decoder.feed(b": ping\n") == []
    assert decoder.pending == 0
    decoder.feed(b": unfinished")
    assert decoder.pending == len(b": unfinished")


def test_no_limit_means_none() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: " + b"x" * (1 << 20))
    assert decoder.feed(b"\n\n") == ["x" * (1 << 20)]


def test_long_line_fed_in_small_chunks_is_scanned_once() -> None:
    # Quadratic rescanning would take minutes here; each byte is looked at once.
    decoder = SSEDecoder(None)
    for _ in range(20_000):
        decoder.feed(b"data: abcdefghijklmnopqrstuvwxyz"[:32])
    assert decoder.pending == 20_000 * 32


# -- decompression in bounded pieces ------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "deflate-raw", "identity", ""])
@given(data=st.binary(max_size=5000), cuts=st.lists(st.integers(min_value=0, max_value=50_000), max_size=10))
def test_body_decoder_gives_back_the_body_for_any_split(encoding: str, data: bytes, cuts: list[int]) -> None:
    if encoding in ("gzip", "x-gzip"):
        body = gzip.compress(data)
    elif encoding == "deflate":
        body = zlib.compress(data)
    elif encoding == "deflate-raw":
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = packer.compress(data) + packer.flush()
        encoding = "deflate"
    else:
        body = data
    assert BodyDecoder.handles(encoding)
    decoder = BodyDecoder(encoding)
    out = b"".join(piece for chunk in _split(body, cuts) for piece in decoder.feed(chunk))
    out += b"".join(decoder.flush())
    assert out == data


def test_a_gzip_bomb_inflates_one_piece_at_a_time() -> None:
    bomb = gzip.compress(bytes(64 << 20), compresslevel=9)  # 64 MiB of zeros in ~64 KiB
    decoder = BodyDecoder("gzip")
    pieces = decoder.feed(bomb)
    first = next(pieces)
    assert len(first) <= DECODE_PIECE  # httpx would hand over all 64 MiB at once
    assert all(len(p) <= DECODE_PIECE for p in pieces)


def test_broken_compression_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        list(BodyDecoder("gzip").feed(b"not gzip at all"))


def test_other_encodings_are_left_to_httpx() -> None:
    assert not BodyDecoder.handles("br")
    assert not BodyDecoder.handles("gzip, br")


# -- the minimum-rate rule ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_floor_fails_a_trickle_within_a_window() -> None:
    clock = Clock()
    floor = RateFloor(1000, 30.0, "Downloading 'x'", clock)
    with pytest.raises(TransferTooSlowError) as info:
        for _ in range(100):
            clock.now += 1.0
            floor.add(1)  # a byte a second: a per-read timeout never fires
    assert clock.now == 30.0
    error = info.value
    assert isinstance(error, LimitExceededError) and isinstance(error, TimeoutError)
    assert error.option == "min_transfer_rate" and error.limit == 1000 and error.size == 30
    assert "min_transfer_rate" in str(error) and "Downloading 'x'" in str(error)


def test_rate_floor_lets_a_fast_or_bursty_body_through() -> None:
    clock = Clock()
    floor = RateFloor(1000, 30.0, "x", clock)
    for _ in range(10):
        clock.now += 29.0  # a long pause, then a burst that makes up for it
        floor.add(29_000 + 1)
    none = RateFloor(None, 30.0, "x", clock)
    for _ in range(10):
        clock.now += 100
        none.add(1)


# -- the options --------------------------------------------------------------------------------


def test_option_defaults_come_from_limits() -> None:
    options = ClientOptions()
    assert options.max_message_size == MAX_MESSAGE_SIZE == 64 << 20
    assert options.max_answer_size == MAX_ANSWER_SIZE == 32 << 20
    assert options.max_redirects == MAX_REDIRECTS == 10
    assert options.server_limits() == ServerLimits()


@pytest.mark.parametrize(
    "bad",
    [
        {"max_message_size": 0},
        {"max_answer_size": -1},
        {"max_download_size": 0},
        {"min_transfer_rate": 0},
        {"max_redirects": -1},
        {"max_redirects": 1.5},
        {"transfer_window": 0},
        {"max_message_size": True},
    ],
)
def test_bad_limits_are_refused_clearly(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        ClientOptions(**bad)  # type: ignore[arg-type]


def test_none_switches_a_limit_off() -> None:
    limits = ClientOptions(max_message_size=None, max_answer_size=None, min_transfer_rate=None).server_limits()
    assert limits.max_message_size is None and limits.max_answer_size is None and limits.min_transfer_rate is None


# -- messages for jobs the client does not know (yet) --------------------------------------------


def test_messages_for_unknown_jobs_are_held_within_a_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from gradio_jobs.transport import stream as stream_module
    from gradio_jobs.transport.stream import SessionStream

    monkeypatch.setattr(stream_module, "EARLY_BYTES", 10_000)
    s = SessionStream(None, "http://x/queue/data", "h", close_stream=True, read_timeout=None)  # type: ignore[arg-type]
    big = json.dumps({"msg": "process_generating", "event_id": "", "output": {"data": ["x" * 3000]}, "success": True})
    for i in range(50):  # a hostile server inventing event ids (or piling them on one)
        s._handle(big.replace('"event_id": ""', f'"event_id": "id{i % 7}"'))
        assert s._early_bytes <= 10_000
        assert s._early_bytes == sum(s._early_sizes.values())
        assert set(s._early_sizes) == set(s._early)
    s._handle(json.dumps({"msg": "estimation", "event_id": "mine", "rank": 0, "queue_size": 1}))
    assert "mine" in s._early  # a small early message of a real job is still kept for it
