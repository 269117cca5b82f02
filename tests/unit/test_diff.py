"""Tests of gradio_jobs.protocol.diff: the output diffs of each server generation.

The key property: applying any sequence of a server's own diffs reproduces the server's
values. The oracles are

* SHIFTED (gradio >= 5.36): the real ``gradio.utils.diff`` of the installed gradio 6.31.0;
* UNSHIFTED (gradio <= 5.29.0): ``server_diff(..., "unshifted")`` below, written for these
  tests from the facts of gradio 4.44.1's routine and cross-checked against the real one
  by running it in the 4.44.1 venv (``test_oracle_matches_real_server``);
* TRUNCATED_PATHS (5.29.1 - 5.35.0): ``server_diff(..., "cut_all" | "cut_int")``.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import random
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from gradio_jobs.protocol.diff import (
    DeleteSemantics,
    DiffError,
    apply_diff,
    delete_semantics_for,
)

UNSHIFTED = DeleteSemantics.UNSHIFTED
TRUNCATED = DeleteSemantics.TRUNCATED_PATHS
SHIFTED = DeleteSemantics.SHIFTED

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def real_diff() -> Callable[[Any, Any], list[Any]]:
    """gradio 6.31.0's server-side diff routine (importing gradio is slow: done once)."""
    from gradio.utils import diff

    return diff


def wire(obj: Any) -> Any:
    """What the client receives: the JSON round trip of ``obj``."""
    return json.loads(json.dumps(obj))


# ------------------------------------------------------------------ the test oracle


def server_diff(old: Any, new: Any, mode: str) -> list[list[Any]]:
    """The operations a gradio server emits for ``old -> new``, per version range.

    mode: "unshifted" (4.17.0 - 5.29.0), "cut_all" (5.29.1 - 5.32.1: every delete below
    a list gets its path replaced by [last - deletes seen]; a str key makes the server
    raise TypeError), "cut_int" (5.33.0 - 5.35.0: the same for int keys only), "shifted"
    (5.36 on: the last element of int-keyed deletes is decremented in place).
    """

    def renumber(ops: list[list[Any]]) -> None:
        if mode == "unshifted":
            return
        seen = 0
        for op in ops:
            if op[0] != "delete":
                continue
            last = op[1][-1]
            if mode != "cut_all" and not isinstance(last, int):
                continue
            if mode == "shifted":
                op[1][-1] = last - seen
            else:
                op[1] = [last - seen]  # TypeError for a str key, as on the server
            seen += 1

    def walk(a: Any, b: Any, path: list[Any]) -> list[list[Any]]:
        if a == b:
            return []
        if type(a) is not type(b):
            return [["replace", path, b]]
        if isinstance(a, str) and b.startswith(a):
            return [["append", path, b[len(a) :]]]
        if isinstance(a, list):
            shared = min(len(a), len(b))
            ops: list[list[Any]] = []
            for i in range(shared):
                ops += walk(a[i], b[i], path + [i])
            ops += [["delete", path + [i], None] for i in range(shared, len(a))]
            ops += [["add", path + [i], b[i]] for i in range(shared, len(b))]
            renumber(ops)
            return ops
        if isinstance(a, dict):
            ops = []
            for key, value in a.items():
                if key in b:
                    ops += walk(value, b[key], path + [key])
                else:
                    ops.append(["delete", path + [key], None])
            ops += [["add", path + [k], v] for k, v in b.items() if k not in a]
            return ops
        return [["replace", path, b]]

    return walk(old, new, [])


# ------------------------------------------------------------ value generation
#
# One generator serves both hypothesis (choose = draw an integer) and the fixed batch
# sent to the real 4.44.1 routine (choose = random.Random). Values evolve by mutations
# so that consecutive values share structure: nested lists shrink by several elements,
# dict keys come and go, strings grow.

Chooser = Callable[[int], int]  # returns an int in range(n)
KEYS = ("a", "b", "c", "d")


def gen_value(choose: Chooser, depth: int = 0) -> Any:
    kind = choose(10 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return bool(choose(2))
    if kind == 2:
        return choose(7) - 3
    if kind == 3:
        return (0.5, -1.25, 3.0, 1e20)[choose(4)]
    if kind == 4:
        return "".join("xy"[choose(2)] for _ in range(choose(4)))
    if kind in (5, 6, 7, 8):
        return [gen_value(choose, depth + 1) for _ in range(choose(5))]
    return {k: gen_value(choose, depth + 1) for k in KEYS if choose(2)}


def gen_nested_lists(choose: Chooser, depth: int = 0) -> Any:
    """Lists of lists (of lists) of small ints: the shape the delete bugs are about."""
    if depth >= 3 or (depth and not choose(3)):
        return choose(4)
    return [gen_nested_lists(choose, depth + 1) for _ in range(choose(5))]


def locations(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from locations(item, path + (i,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from locations(item, path + (key,))


def set_at(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head = copy.copy(value)
    head[path[0]] = set_at(value[path[0]], path[1:], new)
    return head


def mutated(choose: Chooser, node: Any) -> Any:
    if isinstance(node, list) and node:
        how = choose(6)
        if how in (0, 1):  # shrink by one or several trailing elements
            return node[: len(node) - 1 - choose(len(node))]
        if how == 2:
            rest = list(node)
            del rest[choose(len(rest))]
            return rest
        if how == 3:
            return node + [gen_value(choose, 2) for _ in range(1 + choose(3))]
        if how == 4:
            return [gen_value(choose, 2)] + node
    elif isinstance(node, list):
        if choose(2):
            return [gen_value(choose, 2) for _ in range(1 + choose(3))]
    elif isinstance(node, dict):
        how = choose(3)
        if how == 0 and node:
            rest = dict(node)
            del rest[list(rest)[choose(len(rest))]]
            return rest
        if how == 1:
            return {**node, ("a", "b", "c", "d", "e")[choose(5)]: gen_value(choose, 2)}
    elif isinstance(node, str) and choose(2):
        return node + "".join("xyz"[choose(3)] for _ in range(1 + choose(3)))
    return gen_value(choose, 1)


def evolve(choose: Chooser, value: Any) -> Any:
    for _ in range(1 + choose(3)):
        places = list(locations(value))
        lists = [place for place in places if isinstance(place[1], list) and place[1]]
        if lists and choose(2):  # favour the interesting case: lists that shrink
            places = lists
        path, node = places[choose(len(places))]
        value = set_at(value, path, mutated(choose, node))
    return value


def gen_sequence(choose: Chooser, max_steps: int = 6) -> list[Any]:
    values = [gen_nested_lists(choose) if choose(3) == 0 else gen_value(choose)]
    for _ in range(1 + choose(max_steps)):
        values.append(evolve(choose, values[-1]))
    return values


@st.composite
def sequences(draw: st.DrawFn) -> list[Any]:
    return gen_sequence(lambda n: draw(st.integers(0, n - 1)))


# Hand-picked value sequences: each runs through every property test.
TRICKY = [
    [["a", "b", "c"], ["c"]],
    [[[1, 2, 3], [4]], [[1], [4]]],
    [[[1, 2], [3, 4]], [[1], [3]]],
    [[[1, 2], 5, 6], [[1]]],
    [[[1, 2, 3, 4]], [[1]]],
    [[[1, 2, 3], [4, 5, 6], 7, 8], [[1], [4], 7], [[1]], []],
    [[{"a": [1, 2, 3]}, {"b": 1}], [{"a": [1]}, {}]],
    [{"a": [1, 2, 3], "b": [[1, 2], [3, 4, 5]]}, {"a": [1], "b": [[1], [3]]}],
    [[[[1, 2, 3], [4, 5]], [[6, 7]]], [[[1], [4]], [[6]]], [[[1]]]],
    [[{"a": 1, "b": 2}, 3], [{"a": 1}]],
    [None, "abc", "abcdef", "xyz", ["x"], ["x", "y", "z"], []],
]


# ------------------------------------------------------------------ captures


def _capture_steps() -> dict[str, list[list[Any]]]:
    """``output.data`` of every process_generating / process_completed message, in order.

    Copied from the captures in tests/fixtures/captures ({grow4,grow6,count6}.txt).
    """
    grow_first = [["a"], "abc", {"visible": True, "value": "v1", "__type__": "update"}]
    grow_2 = [
        [["add", [1], "b"]],
        [["append", [], "def"]],
        [["delete", ["visible"], None], ["replace", ["value"], "v2"]],
    ]
    grow_3 = [[["add", [2], "c"]], [["replace", [], "xyz"]], [["add", ["visible"], False]]]
    grow_last = [["c"], "xyz!", {"value": "v3", "__type__": "update"}]

    def grow_4(second_delete: int) -> list[Any]:
        return [
            [["replace", [0], "c"], ["delete", [1], None], ["delete", [second_delete], None]],
            [["append", [], "!"]],
            [["delete", ["visible"], None], ["replace", ["value"], "v3"]],
        ]

    return {
        "grow4": [grow_first, grow_2, grow_3, grow_4(2), grow_last],
        "grow6": [grow_first, grow_2, grow_3, grow_4(1), grow_last],
        "count6": [
            ["tok0 ", [{"i": 0}]],
            [[["append", [], "tok1 "]], [["replace", [], [{"i": 0}, {"i": 1}]]]],
            [[["append", [], "tok2 "]], [["replace", [], [{"i": 0}, {"i": 1}, {"i": 2}]]]],
            [
                [["append", [], "tok3 "]],
                [["replace", [], [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]]],
            ],
            ["tok0 tok1 tok2 tok3 ", [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]],
        ],
    }


GROW_VALUES = [
    [["a"], "abc", {"visible": True, "value": "v1", "__type__": "update"}],
    [["a", "b"], "abcdef", {"value": "v2", "__type__": "update"}],
    [["a", "b", "c"], "xyz", {"value": "v2", "__type__": "update", "visible": False}],
    [["c"], "xyz!", {"value": "v3", "__type__": "update"}],
]


def replay(steps: list[list[Any]], semantics: DeleteSemantics) -> list[list[Any]]:
    """The client's value of every slot after each process_generating message."""
    values = [steps[0]]
    for diffs in steps[1:-1]:
        values.append(
            [apply_diff(prev, ops, semantics) for prev, ops in zip(values[-1], diffs)]
        )
    return values


@pytest.mark.parametrize(
    ("capture", "semantics"), [("grow4", UNSHIFTED), ("grow6", SHIFTED)]
)
def test_grow_capture(capture: str, semantics: DeleteSemantics) -> None:
    steps = _capture_steps()[capture]
    values = replay(steps, semantics)
    assert values == GROW_VALUES
    assert values[-1] == steps[-1] == [["c"], "xyz!", {"value": "v3", "__type__": "update"}]


def test_count6_capture() -> None:
    steps = _capture_steps()["count6"]
    values = replay(steps, SHIFTED)
    assert [v[0] for v in values] == [
        "tok0 ",
        "tok0 tok1 ",
        "tok0 tok1 tok2 ",
        "tok0 tok1 tok2 tok3 ",
    ]
    assert values[-1] == steps[-1]


def test_grow4_breaks_in_order_application() -> None:
    """Why UNSHIFTED exists: the reference client crashes on the 4.44.1 capture."""
    from gradio_client.utils import apply_diff as reference_apply_diff

    steps = _capture_steps()["grow4"]
    with pytest.raises(IndexError):
        reference_apply_diff(GROW_VALUES[2][0], steps[3][0])
    # ... and so would ours if told the server shifts its deletes.
    with pytest.raises(DiffError):
        apply_diff(GROW_VALUES[2][0], steps[3][0], SHIFTED)


def test_grow_previous_not_mutated() -> None:
    previous = copy.deepcopy(GROW_VALUES[2])
    for slot, ops in zip(previous, _capture_steps()["grow4"][3]):
        apply_diff(slot, ops, UNSHIFTED)
    assert previous == GROW_VALUES[2]


# ------------------------------------------------------------- version mapping


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ((3, 50, 2), UNSHIFTED),
        ((4, 17, 0), UNSHIFTED),
        ((4, 21), UNSHIFTED),
        ((4, 44, 1), UNSHIFTED),
        ((5, 0, 0), UNSHIFTED),
        ((5, 29), UNSHIFTED),
        ((5, 29, 0), UNSHIFTED),
        ((5, 29, 1), TRUNCATED),
        ((5, 32, 1), TRUNCATED),
        ((5, 33, 0), TRUNCATED),
        ((5, 35, 0), TRUNCATED),
        ((5, 35, 9), TRUNCATED),
        ((5, 36), SHIFTED),
        ((5, 36, 2), SHIFTED),
        ((5, 50, 0), SHIFTED),
        ((6,), SHIFTED),
        ((6, 31, 0), SHIFTED),
        ((6, 31, 0, 1), SHIFTED),
    ],
)
def test_delete_semantics_for(version: tuple[int, ...], expected: DeleteSemantics) -> None:
    assert delete_semantics_for(version) is expected


@pytest.mark.parametrize("bad", [(), (5, "29"), "5.29.0", (5.0, 29), (True, 1)])
def test_delete_semantics_for_rejects(bad: Any) -> None:
    with pytest.raises(ValueError):
        delete_semantics_for(bad)


# ------------------------------------------------------------ SHIFTED (>= 5.36)

# (old, new, what gradio 6.31 emits). Applied in order, these ops give the wrong value.
SHIFTED_NESTED = [
    ([[1, 2, 3], [4]], [[1], [4]], [["delete", [0, 1], None], ["delete", [0, 0], None]]),
    ([[1, 2], [3, 4]], [[1], [3]], [["delete", [0, 1], None], ["delete", [1, 0], None]]),
    (
        [[1, 2], 5, 6],
        [[1]],
        [["delete", [0, 1], None], ["delete", [0], None], ["delete", [0], None]],
    ),
    (
        [[1, 2, 3, 4]],
        [[1]],
        [["delete", [0, 1], None], ["delete", [0, 0], None], ["delete", [0, -1], None]],
    ),
    (
        {"a": [1, 2, 3]},
        {"a": [1]},
        [["delete", ["a", 1], None], ["delete", ["a", 1], None]],
    ),
]


@pytest.mark.parametrize(("old", "new", "ops"), SHIFTED_NESTED)
def test_shifted_nested_lists_are_compensated(old: Any, new: Any, ops: list[Any]) -> None:
    assert wire(real_diff()(old, new)) == ops  # the server really emits these
    assert apply_diff(old, ops, SHIFTED) == new


def test_shifted_int_dict_keys() -> None:
    """Server-side int dict keys: str keys on the wire, int in paths, and shifted too."""
    old = [{1: "a", 2: "b", "x": 0}, [7, 8]]
    new = [{"x": 0}, [7]]
    ops = wire(real_diff()(old, new))
    assert ops == [["delete", [0, 1], None], ["delete", [0, 1], None], ["delete", [1, -1], None]]
    assert apply_diff(wire(old), ops, SHIFTED) == wire(new)


def check_sequence(
    values: list[Any],
    semantics: DeleteSemantics,
    make_diff: Callable[[Any, Any], list[Any]],
) -> None:
    """Stream ``values`` as a server would and check the client's value at every step."""
    client = wire(values[0])
    for old, new in zip(values, values[1:]):
        ops = wire(make_diff(old, new))
        deletes = [op[1] for op in ops if op[0] == "delete" and isinstance(op[1][-1], int)]
        if len(deletes) >= 2 and any(len(path) >= 2 for path in deletes):
            event("list deletes, some nested, two or more")
        snapshot = json.dumps(client)
        previous = client
        client = apply_diff(previous, ops, semantics)
        assert client == wire(new), (old, new, ops)
        # the previous value (which may share parts with the result) is untouched
        assert json.dumps(previous) == snapshot


def _examples(test: Callable[..., None]) -> Callable[..., None]:
    for values in TRICKY:
        test = example(values=values)(test)
    return test


@_examples
@given(values=sequences())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_shifted_reproduces_real_server(values: list[Any]) -> None:
    check_sequence(values, SHIFTED, real_diff())


@_examples
@given(values=sequences())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_oracle_shifted_mode_matches_real_server(values: list[Any]) -> None:
    """The oracle's renumbering modes share one walk; check it on the routine we have."""
    for old, new in zip(values, values[1:]):
        assert json.dumps(server_diff(old, new, "shifted")) == json.dumps(
            real_diff()(old, new)
        )


# ----------------------------------------------------------- UNSHIFTED (<= 5.29.0)


@_examples
@given(values=sequences())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_unshifted_reproduces_server(values: list[Any]) -> None:
    check_sequence(values, UNSHIFTED, lambda a, b: server_diff(a, b, "unshifted"))


def test_unshifted_examples() -> None:
    assert apply_diff([1, 2, 3], [["delete", [1], None], ["delete", [2], None]], UNSHIFTED) == [1]
    assert apply_diff(
        [[1, 2, 3], [4, 5]],
        [["delete", [0, 1], None], ["delete", [0, 2], None], ["delete", [1], None]],
        UNSHIFTED,
    ) == [[1]]
    # a non-trailing set of original indices is honoured too
    ops = [["delete", [0], None], ["delete", [2], None]]
    assert apply_diff([0, 1, 2, 3], ops, UNSHIFTED) == [1, 3]
    # in-order (shifted) numbering is not what these servers send
    with pytest.raises(DiffError):
        apply_diff([1, 2, 3], [["delete", [1], None], ["delete", [1], None]], UNSHIFTED)


_BATCH_SCRIPT = """
import json, sys
from gradio.utils import diff
pairs = json.load(sys.stdin)
json.dump([diff(old, new) for old, new in pairs], sys.stdout)
"""


def _batch_pairs() -> list[list[Any]]:
    rng = random.Random(20250101)
    pairs: list[list[Any]] = []
    for values in TRICKY:
        pairs += [[a, b] for a, b in zip(values, values[1:])]
    while len(pairs) < 3000:
        values = gen_sequence(rng.randrange)
        pairs += [[a, b] for a, b in zip(values, values[1:])]
    return pairs


@pytest.fixture(scope="session")
def real_server_diffs() -> Callable[[str], tuple[list[Any], list[Any]]]:
    """Runs the server routine of an installed gradio venv on one batch of value pairs
    (once per venv per session) and returns the pairs and the wire form of the diffs."""
    cache: dict[str, tuple[list[Any], list[Any]]] = {}

    def run(venv: str) -> tuple[list[Any], list[Any]]:
        if venv not in cache:
            python = ROOT / ".venvs" / venv / "bin" / "python"
            if not python.exists():
                pytest.skip(
                    f"{python} is missing (./dev setup builds it): "
                    "cannot cross-check against that server"
                )
            pairs = _batch_pairs()
            done = subprocess.run(
                [str(python), "-c", _BATCH_SCRIPT],
                input=json.dumps(pairs),
                capture_output=True,
                text=True,
                timeout=100,
                cwd="/",
                env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
            )
            assert done.returncode == 0, done.stderr[-2000:]
            cache[venv] = pairs, json.loads(done.stdout)
        return cache[venv]

    return run


@pytest.mark.parametrize(
    ("venv", "mode", "semantics"),
    [("gradio-4.44.1", "unshifted", UNSHIFTED), ("gradio-5.50.0", "shifted", SHIFTED)],
)
def test_oracle_matches_real_server(
    real_server_diffs: Callable[[str], tuple[list[Any], list[Any]]],
    venv: str,
    mode: str,
    semantics: DeleteSemantics,
) -> None:
    pairs, diffs = real_server_diffs(venv)
    assert len(pairs) == len(diffs) >= 3000
    nested_multi_deletes = 0
    for (old, new), ops in zip(pairs, diffs):
        assert json.dumps(server_diff(old, new, mode)) == json.dumps(ops), (old, new)
        assert apply_diff(old, ops, semantics) == new, (old, new, ops)
        deletes = [op for op in ops if op[0] == "delete" and isinstance(op[1][-1], int)]
        nested_multi_deletes += len(deletes) >= 2 and any(len(op[1]) >= 2 for op in deletes)
    assert nested_multi_deletes >= 50  # the batch does exercise the hard case


# ------------------------------------------------------ TRUNCATED_PATHS (5.29.1 - 5.35)


def has_nested_list(value: Any) -> bool:
    return any(isinstance(node, list) for path, node in locations(value) if path)


@pytest.mark.parametrize("mode", ["cut_all", "cut_int"])
@_examples
@given(values=sequences())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_truncated_is_right_or_refuses(mode: str, values: list[Any]) -> None:
    """Never a wrong value: either the server's value, or DiffError when the cut paths
    are ambiguous (then the client waits for the next full value)."""
    client = values[0]
    for old, new in zip(values, values[1:]):
        try:
            ops = wire(server_diff(old, new, mode))
        except TypeError:  # the server's own routine fails: the job fails
            return
        try:
            client = apply_diff(client, ops, TRUNCATED)
        except DiffError:
            assert has_nested_list(old), (old, new, ops)
            client = new  # resynchronised by the next full value
            continue
        assert client == new, (old, new, ops)


def test_truncated_ambiguity_is_real() -> None:
    old = [[1, 2], [3, 4]]
    news = [[[1], [3, 4]], [[1, 2], [3]], [[1, 2]]]
    emitted = [wire(server_diff(old, new, "cut_int")) for new in news]
    assert emitted == [[["delete", [1], None]]] * 3
    with pytest.raises(DiffError):
        apply_diff(old, emitted[0], TRUNCATED)


def test_truncated_flat_and_dict_deletes() -> None:
    ops = [["delete", [1], None], ["delete", [1], None]]
    assert apply_diff(["a", "b", "c"], ops, TRUNCATED) == ["a"]
    old = [{"a": 1, "b": 2}, "s"]
    ops = wire(server_diff(old, [{"a": 1}], "cut_int"))
    assert ops == [["delete", [0, "b"], None], ["delete", [1], None]]
    assert apply_diff(old, ops, TRUNCATED) == [{"a": 1}]
    with pytest.raises(TypeError):
        server_diff(old, [{"a": 1}], "cut_all")  # 5.29.1 - 5.32.1 cannot even send it


# ------------------------------------------------------------------ basics & errors


@pytest.mark.parametrize("semantics", list(DeleteSemantics))
def test_root_operations(semantics: DeleteSemantics) -> None:
    assert apply_diff("ab", [["append", [], "cd"]], semantics) == "abcd"
    assert apply_diff("ab", [["replace", [], [1]]], semantics) == [1]
    assert apply_diff(None, [["replace", [], {"a": 1}]], semantics) == {"a": 1}
    assert apply_diff([1], [["append", [], [2]]], semantics) == [1, 2]
    assert apply_diff({"a": "x"}, [], semantics) == {"a": "x"}
    ops = [["append", ["a", 0], "y"], ["add", ["a", 1], "z"], ["add", ["b"], 1]]
    assert apply_diff({"a": ["x"]}, ops, semantics) == {"a": ["xy", "z"], "b": 1}


def test_result_shares_nothing_that_later_ops_change() -> None:
    previous = {"keep": [1, 2], "edit": {"deep": [1, 2, 3]}}
    before = copy.deepcopy(previous)
    ops = [["add", ["edit", "deep", 3], 4], ["replace", ["edit", "new"], [0]]]
    result = apply_diff(previous, ops, SHIFTED)
    assert previous == before
    assert result == {"keep": [1, 2], "edit": {"deep": [1, 2, 3, 4], "new": [0]}}
    assert result["keep"] is previous["keep"]  # untouched parts are shared (copy-on-write)
    assert result["edit"] is not previous["edit"]
    # the inserted value belongs to the result; editing it later must not touch ops
    again = apply_diff(result, [["add", ["edit", "new", 1], 9]], SHIFTED)
    assert ops[1][2] == [0] and result["edit"]["new"] == [0] and again["edit"]["new"] == [0, 9]


@pytest.mark.parametrize(
    "ops",
    [
        None,
        "ops",
        [["replace"]],
        [["replace", [], 1, 2]],
        [["move", [0], 1]],
        [[["delete"], [0], None]],
        [["replace", "a", 1]],
        [["replace", [1.0], 1]],
        [["replace", [True], 1]],
        [["replace", [None], 1]],
        [["add", [], 1]],
        [["delete", [], None]],
        [["replace", [5], 1]],
        [["replace", [-1], 1]],
        [["add", [4], 1]],
        [["delete", [3], None]],
        [["delete", [0], None]] * 4,
        [["replace", ["a"], 1]],
        [["replace", [0, 0], 1]],
        [["replace", [1, "k"], 1]],
        [["append", [0], 1]],
        [["append", [], "s"]],
        [["delete", [2, "zz"], None]],
        [["append", [2, "zz"], "s"]],
        [["replace", [10**5000], 1]],
        [["delete", [2, 10**5000], None]],
    ],
)
@pytest.mark.parametrize("semantics", list(DeleteSemantics))
def test_malformed_ops(ops: Any, semantics: DeleteSemantics) -> None:
    previous = [1, "s", {"k": "v"}]
    with pytest.raises(DiffError):
        apply_diff(previous, ops, semantics)
    assert previous == [1, "s", {"k": "v"}]


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=2), inner, max_size=4),
    max_leaves=12,
)
anything = st.recursive(
    json_scalars | st.tuples() | st.builds(object) | st.binary(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner, inner),
    max_leaves=6,
)
path_keys = (
    st.integers(-2, 5)
    | st.sampled_from(["", "a", "b", "k", "0"])
    | st.integers()
    | st.booleans()
    | st.floats()
    | st.none()
)
plausible_ops = st.tuples(
    st.sampled_from(["replace", "append", "add", "delete"]) | st.text(max_size=3),
    st.lists(path_keys, max_size=3),
    json_values,
).map(list)


@given(
    previous=json_values,
    ops=st.lists(plausible_ops | anything, max_size=6) | anything,
    semantics=st.sampled_from(list(DeleteSemantics)),
)
@settings(max_examples=1000, deadline=None)
def test_random_ops_only_raise_diff_error(
    previous: Any, ops: Any, semantics: DeleteSemantics
) -> None:
    before = repr(previous)
    ops_before = repr(ops)
    try:
        apply_diff(previous, ops, semantics)
    except DiffError:
        pass
    assert repr(previous) == before
    assert repr(ops) == ops_before


gen_sequence_strategy = st.builds(lambda v: v[-1], sequences())


@st.composite
def value_and_near_ops(draw: st.DrawFn) -> tuple[Any, list[Any]]:
    """Ops whose paths mostly exist, with the last element sometimes off by a bit."""
    previous = draw(gen_sequence_strategy)
    places = [p for p, _ in locations(previous)]
    ops = []
    for _ in range(draw(st.integers(1, 6))):
        path = list(draw(st.sampled_from(places)))
        if path and draw(st.booleans()):
            last = path[-1]
            if isinstance(last, int):
                path[-1] = last + draw(st.integers(-2, 2))
            else:
                path[-1] = draw(path_keys)
        action = draw(st.sampled_from(["replace", "append", "add", "delete"]))
        ops.append([action, path, draw(json_values)])
    return previous, ops


@given(case=value_and_near_ops(), semantics=st.sampled_from(list(DeleteSemantics)))
@settings(max_examples=600, deadline=None)
def test_near_valid_ops_only_raise_diff_error(
    case: tuple[Any, list[Any]], semantics: DeleteSemantics
) -> None:
    previous, ops = case
    before = json.dumps(previous)
    ops_before = json.dumps(ops)
    try:
        apply_diff(previous, ops, semantics)
    except DiffError:
        pass
    assert json.dumps(previous) == before
    assert json.dumps(ops) == ops_before


def test_unknown_semantics() -> None:
    with pytest.raises(TypeError):
        apply_diff([], [], "shifted")  # type: ignore[arg-type]
