"""The journal of a batch run: its JSONL output file, read back to resume (pure logic, no I/O).

Each finished input is one line, ``{"index": i, "input": ..., "ok": ..., ...}``, appended whole
and ended by a newline. Reading a journal back:

- every complete line must be a JSON object with an ``index`` within the inputs and the very
  ``input`` that index has now (after a JSON round trip): otherwise the file belongs to other
  inputs and the run refuses to resume (:class:`~gradio_jobs.BatchJournalError`);
- the last line, when it has no newline or is not valid JSON, was torn by a kill: it is cut
  away (``valid_length``) and its input is run again;
- several lines for one index (``retry_failed`` appends a new one): the last line wins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._exceptions import BatchJournalError

__all__ = ["JournalState", "as_json_value", "encode_record", "pending_indices", "read_journal"]


def as_json_value(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, unknown types their ``str``)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def encode_record(record: dict[str, Any]) -> bytes:
    """One journal line: compact JSON, UTF-8, ended by a newline."""
    return (json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")) + "\n").encode()


@dataclass
class JournalState:
    """What a journal holds: the last record of each index, and how many bytes of it are whole."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: The length to truncate the file to (everything after it is a torn last line).
    valid_length: int = 0
    #: Bytes cut away at the end (0 when the journal ended cleanly).
    torn_bytes: int = 0
    #: Complete lines read.
    lines: int = 0

    @property
    def ok(self) -> set[int]:
        """The indices whose last record succeeded."""
        return {i for i, r in self.records.items() if r.get("ok") is True}

    @property
    def failed(self) -> set[int]:
        """The indices whose last record failed."""
        return {i for i, r in self.records.items() if r.get("ok") is not True}


def read_journal(data: bytes, inputs: Sequence[Any], name: str = "the output") -> JournalState:
    """Read the journal ``data`` (the output file's bytes) written for ``inputs`` (JSON values).

    ``name`` names the file in errors. Raises :class:`BatchJournalError` when a complete line
    (not the last) is no record, or a record's index or input does not match ``inputs``.
    """
    state = JournalState()
    position = 0
    size = len(data)
    while position < size:
        end = data.find(b"\n", position)
        if end < 0:  # no newline: the last write was torn
            break
        line = data[position:end]
        is_last = end + 1 >= size
        record = _parse(line)
        if record is None:
            if is_last and line.strip():
                break  # a last line that is not JSON: torn (garbage after a crash), redone
            if not line.strip():
                position = end + 1
                state.valid_length = position
                continue
            raise BatchJournalError(f"{name}: line {state.lines + 1} is not a journal record: {line[:80]!r}")
        _check(record, inputs, name, state.lines + 1)
        state.records[record["index"]] = record
        state.lines += 1
        position = end + 1
        state.valid_length = position
    state.torn_bytes = size - state.valid_length
    return state


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _check(record: dict[str, Any], inputs: Sequence[Any], name: str, line: int) -> None:
    index = record.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or "input" not in record:
        raise BatchJournalError(f"{name}: line {line} is not a journal record (no index or input)")
    if not 0 <= index < len(inputs):
        raise BatchJournalError(
            f"{name}: line {line} is for input {index}, but there are {len(inputs)} inputs: "
            "it belongs to other inputs (use another output file)"
        )
    if record["input"] != inputs[index]:
        raise BatchJournalError(
            f"{name}: line {line} has input {index} = {record['input']!r}, but the input now is "
            f"{inputs[index]!r}: it belongs to other inputs (use another output file)"
        )


def pending_indices(state: JournalState, total: int, retry_failed: bool) -> list[int]:
    """The indices still to run, in order: those with no record, and with ``retry_failed`` those
    whose last record failed."""
    return [
        i for i in range(total)
        if i not in state.records or (retry_failed and state.records[i].get("ok") is not True)
    ]
