"""The batch journal, read back: torn last lines, other inputs, the last line winning, what is left to run."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_jobs import BatchJournalError
from gradio_jobs._journal import as_json_value, encode_record, pending_indices, read_journal


def record(index: int, item, ok: bool = True) -> dict:
    return {
        "index": index, "input": item, "ok": ok, "result": None if not ok else index * 2,
        "error": None if ok else {"type": "AppError", "message": "no"},
        "started": "2026-01-01T00:00:00.000+00:00", "seconds": 0.1, "replica": "http://x/",
    }


def journal(lines: list[dict]) -> bytes:
    return b"".join(encode_record(r) for r in lines)


INPUTS = [[i] for i in range(20)]


def test_a_clean_journal_reads_whole() -> None:
    data = journal([record(3, [3]), record(1, [1], ok=False)])
    state = read_journal(data, INPUTS)
    assert state.valid_length == len(data) and state.torn_bytes == 0 and state.lines == 2
    assert state.ok == {3} and state.failed == {1}
    assert pending_indices(state, len(INPUTS), retry_failed=False) == [i for i in range(20) if i not in (1, 3)]
    assert pending_indices(state, len(INPUTS), retry_failed=True) == [i for i in range(20) if i != 3]


def test_a_last_line_without_newline_is_cut_away() -> None:
    whole = journal([record(0, [0])])
    state = read_journal(whole + b'{"index": 1, "inp', INPUTS)
    assert state.valid_length == len(whole) and state.torn_bytes == len(b'{"index": 1, "inp')
    assert set(state.records) == {0}


def test_a_last_line_of_garbage_with_newline_is_cut_away() -> None:
    whole = journal([record(0, [0])])
    state = read_journal(whole + b"\x00\x00\x00\n", INPUTS)
    assert state.valid_length == len(whole) and set(state.records) == {0}


def test_garbage_in_the_middle_is_refused() -> None:
    data = journal([record(0, [0])]) + b"not json\n" + journal([record(1, [1])])
    with pytest.raises(BatchJournalError, match="line 2"):
        read_journal(data, INPUTS)


def test_the_last_line_of_an_index_wins() -> None:
    data = journal([record(2, [2], ok=False), record(2, [2], ok=True)])
    state = read_journal(data, INPUTS)
    assert state.ok == {2} and state.failed == set() and state.records[2]["ok"] is True


@pytest.mark.parametrize(
    "line, match",
    [
        (record(0, [99]), "belongs to other inputs"),
        (record(25, [25]), "there are 20 inputs"),
        ({"index": "0", "input": [0]}, "not a journal record"),
        ({"result": 1}, "not a journal record"),
        ([1, 2], "not a journal record"),
    ],
)
def test_an_output_of_other_inputs_is_refused(line, match) -> None:
    data = (json.dumps(line) + "\n").encode() + journal([record(1, [1])])
    with pytest.raises(BatchJournalError, match=match):
        read_journal(data, INPUTS)
    assert issubclass(BatchJournalError, ValueError)


def test_inputs_are_compared_as_json() -> None:
    assert as_json_value((1, "a")) == [1, "a"]
    state = read_journal(journal([record(0, as_json_value((0,)))]), [as_json_value((0,))])
    assert state.ok == {0}


@settings(max_examples=300, deadline=None)
@given(
    order=st.permutations(list(range(20))),
    finished=st.integers(0, 20),
    cut=st.floats(0, 1),
)
def test_any_truncation_resumes_to_exactly_once(order, finished, cut) -> None:
    """A journal killed at any byte, then resumed (cut the torn line, run what is pending, append):
    every input ends with exactly one line, and no line that was whole is run again."""
    data = journal([record(i, INPUTS[i]) for i in order[:finished]])
    killed = data[: int(len(data) * cut)]
    state = read_journal(killed, INPUTS)
    assert killed[: state.valid_length].count(b"\n") == state.lines  # only whole lines kept
    kept = set(state.records)
    complete_before = {json.loads(line)["index"] for line in killed.split(b"\n")[:-1]}
    assert kept == complete_before
    pending = pending_indices(state, len(INPUTS), retry_failed=False)
    assert not set(pending) & kept
    resumed = killed[: state.valid_length] + journal([record(i, INPUTS[i]) for i in pending])
    final = read_journal(resumed, INPUTS)
    indices = [json.loads(line)["index"] for line in resumed.splitlines()]
    assert sorted(indices) == list(range(20)) and final.torn_bytes == 0
