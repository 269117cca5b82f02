"""Applying the edit operations of streamed generator outputs (the ``sse_v2`` diffs).

From protocol ``sse_v2`` (gradio 4.17) on, every ``process_generating`` message after the
first carries, per output slot, a list of operations ``[action, path, value]`` turning the
slot's previous full value into the new one. :func:`apply_diff` rebuilds the new value.

The operations are well defined except for list ``delete`` s, whose indices depend on the
server version. Each behaviour below was read from the servers' diff routine, and the
current ones are checked against the real routines by the unit tests. Routines read:
4.16.0 (no diffs yet), 4.17.0, 4.44.1, 5.29.0, 5.29.1, 5.30.0, 5.31.0, 5.32.0, 5.32.1,
5.33.0, 5.34.0, 5.35.0, 5.36.2, 5.50.0 and 6.31.0:

``UNSHIFTED`` (gradio 4.17.0 – 5.29.0)
    Every ``delete`` carries the index the element had in the *previous* value. When a list
    shrinks by k elements, the server emits the k trailing indices in ascending order
    (``[[1], [2]]`` for ``[a, b, c] -> [a]``). Applied one after the other they fail or
    remove the wrong element, which is why the reference client crashes on them.
    Here a run of consecutive deletes on the same parent is applied as a set of original
    indices (highest first), which is exactly the server's value.

``TRUNCATED_PATHS`` (gradio 5.29.1 – 5.35.0)
    Deletes are shifted for in-order application, but every delete below a list loses its
    path: it becomes ``[index]``, addressed to the root. If no list sits below the root
    (and no nested dict has a key that may have been a Python int on the server) this is
    right, and the diff is applied as given. Otherwise a one-element integer delete is
    ambiguous: for ``[[1, 2], [3, 4]]`` the three new values ``[[1], [3, 4]]``,
    ``[[1, 2], [3]]`` and ``[[1, 2]]`` all give ``[["delete", [1], null]]``. Then
    :class:`DiffError` is raised rather than returning a value that may be wrong; the
    final ``process_completed`` carries the full value. (Up to 5.32.1 a dict key deleted
    below a list even makes the server's routine raise, so such a diff never arrives; from
    5.33.0 those keep their full path and are applied as given.)

``SHIFTED`` (gradio 5.36 – 6.31.0 at least; 5.36.0/5.36.1 were never published, the first
release is 5.36.2)
    Deletes keep their full path, and each list the routine walks through subtracts from
    the last path element of every integer-keyed delete below it the number of such
    deletes emitted before it below that same list. For a flat list that is exactly the
    in-order index (``[a, b, c] -> [a]`` gives ``[[1], [1]]``). But a delete nested in
    several lists is shifted once per enclosing list, and it also counts the deletes of
    *other* branches: ``[[1, 2, 3], [4]] -> [[1], [4]]`` gives ``[[0, 1], [0, 0]]``
    (in order: ``[[3], [4]]``), ``[[1, 2], [3, 4]] -> [[1], [3]]`` gives
    ``[[0, 1], [1, 0]]`` (in order: ``[[1], [4]]``), ``[[1, 2], 5, 6] -> [[1]]`` gives
    ``[[0, 1], [0], [0]]`` (in order: ``[6]``) and ``[[1, 2, 3, 4]] -> [[1]]`` even
    gives index ``-1``. The shift depends only on the order of the operations and on
    which containers on the path are lists, both of which the client knows, so it is
    undone exactly here: each delete gets back its original index and is then applied as
    for ``UNSHIFTED``. (A gradio release that fixes this numbering would need a new
    member: this compensation would then over-correct nested deletes.)

A known limit that no client can undo (all versions): the server compares with ``==``
first, so a change between equal values of different types (``1`` -> ``True``, ``1`` ->
``1.0``) produces no operation, and the client keeps the old spelling.

Values are JSON-like (dict with str keys, list, str, int, float, bool, None). Copying is
copy-on-write: only the containers on the paths that operations touch are copied, so the
result shares every untouched sub-value with ``previous`` (and inserted sub-values with
``ops``). Neither input is ever mutated; callers that hand results to user code which may
mutate them should copy at that point.
"""

from __future__ import annotations

import enum
from typing import Any, TypeAlias

__all__ = ["DeleteSemantics", "DiffError", "apply_diff", "delete_semantics_for"]

_Key: TypeAlias = str | int
_Path = tuple[_Key, ...]
_Op = tuple[str, _Path, Any]

_ACTIONS = ("replace", "append", "add", "delete")


class DeleteSemantics(enum.Enum):
    """How a server numbers the ``delete`` operations of a shrinking list."""

    #: gradio 4.17.0 – 5.29.0: deletes carry the indices of the previous value.
    UNSHIFTED = "unshifted"
    #: gradio 5.29.1 – 5.35.0: shifted, but paths below a list are cut to ``[index]``.
    TRUNCATED_PATHS = "truncated_paths"
    #: gradio 5.36 and later: shifted once per enclosing list (undone exactly here).
    SHIFTED = "shifted"


def delete_semantics_for(version: tuple[int, ...]) -> DeleteSemantics:
    """The delete numbering of a gradio server of ``version`` (e.g. ``(4, 44, 1)``).

    Missing parts count as 0: ``(5, 29)`` is 5.29.0. Servers older than 4.17 never send
    diffs; they map to ``UNSHIFTED`` like the first versions that do.
    """
    if (
        not isinstance(version, tuple)
        or not version
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in version)
    ):
        raise ValueError(f"not a parsed version tuple: {version!r}")
    padded = (*version, 0, 0, 0)[:3]
    if padded <= (5, 29, 0):
        return DeleteSemantics.UNSHIFTED
    if padded < (5, 36, 0):
        return DeleteSemantics.TRUNCATED_PATHS
    return DeleteSemantics.SHIFTED


class DiffError(Exception):
    """The operations cannot be applied to the previous value (or, for
    ``TRUNCATED_PATHS``, cannot be applied unambiguously). The slot's value is unknown
    until the next full value (``process_completed``)."""


def apply_diff(previous: Any, ops: list[Any], semantics: DeleteSemantics) -> Any:
    """Return the value obtained by applying the server's ``ops`` to ``previous``.

    ``previous`` is the slot's last full value (not mutated); ``ops`` the slot's list of
    ``[action, path, value]`` operations from the message; ``semantics`` the sending
    server's delete numbering (``Capabilities.diff_semantics``). Raises :class:`DiffError`
    (and nothing else) for malformed operations, paths that do not exist, out-of-range
    indices, and wrong types.
    """
    if not isinstance(semantics, DeleteSemantics):
        raise TypeError(f"semantics must be a DeleteSemantics, not {semantics!r}")
    if not isinstance(ops, (list, tuple)):
        raise DiffError(f"operations must be a list, not {type(ops).__name__}")
    if len(ops) == 1:
        # Fast path for the usual streaming step: one root append (text) or replace.
        op = ops[0]
        if (
            isinstance(op, (list, tuple))
            and len(op) == 3
            and isinstance(op[1], (list, tuple))
            and not op[1]
        ):
            if op[0] == "append":
                return _concat(previous, op[2], 0)
            if op[0] == "replace":
                return op[2]
    parsed = [_parse_op(op, n) for n, op in enumerate(ops)]
    if not parsed:
        return previous

    if (
        semantics is DeleteSemantics.TRUNCATED_PATHS
        and _has_cut_looking_delete(parsed)
        and _may_hide_cut_deletes(previous)
    ):
        raise DiffError(
            "ambiguous list delete: this server version (5.29.1 - 5.35.x) cuts the "
            "path of deletes inside nested lists to [index]"
        )

    editor = _Editor(previous)
    # SHIFTED only: number of integer-keyed deletes seen so far below each list path.
    seen_below: dict[_Path, int] = {}
    count = len(parsed)
    n = 0
    while n < count:
        action, path, value = parsed[n]
        if action == "delete" and semantics is not DeleteSemantics.TRUNCATED_PATHS:
            # A run of consecutive deletes on the same parent (the server emits a
            # shrinking list's deletes together, with nothing in between).
            parent_path = path[:-1]
            depth = len(path)
            end = n + 1
            while (
                end < count
                and parsed[end][0] == "delete"
                and len(parsed[end][1]) == depth
                and parsed[end][1][:-1] == parent_path
            ):
                end += 1
            editor.delete_run(
                parent_path,
                [(parsed[i][1][-1], i) for i in range(n, end)],
                seen_below if semantics is DeleteSemantics.SHIFTED else None,
            )
            n = end
            continue
        editor.apply(action, path, value, n)
        n += 1
    return editor.root


# --------------------------------------------------------------------------- parsing


def _parse_op(op: Any, n: int) -> _Op:
    if not isinstance(op, (list, tuple)) or len(op) != 3:
        raise DiffError(f"operation {n}: expected [action, path, value], got {_show(op)}")
    action, path, value = op
    if not isinstance(action, str) or action not in _ACTIONS:
        raise DiffError(f"operation {n}: unknown action {_show(action)}")
    if not isinstance(path, (list, tuple)):
        raise DiffError(f"operation {n}: path must be a list, got {_show(path)}")
    for key in path:
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise DiffError(f"operation {n}: bad path element {_show(key)}")
    if not path and action in ("add", "delete"):
        raise DiffError(f"operation {n}: {_show(action)} needs a non-empty path")
    return action, tuple(path), value


# --------------------------------------------------------------------------- applying


class _Editor:
    """Copy-on-write editing of a JSON-like value.

    ``_owned`` maps ``id()`` to the containers this editor created; they may be mutated
    in place. Holding them also keeps their ids from being reused.
    """

    __slots__ = ("_owned", "root")

    def __init__(self, root: Any) -> None:
        self.root = root
        self._owned: dict[int, list[Any] | dict[str, Any]] = {}

    def _own(self, obj: list[Any] | dict[str, Any]) -> list[Any] | dict[str, Any]:
        if self._owned.get(id(obj)) is obj:
            return obj
        copy: list[Any] | dict[str, Any] = list(obj) if isinstance(obj, list) else dict(obj)
        self._owned[id(copy)] = copy
        return copy

    def container(
        self, path: _Path, where: int, list_levels: list[bool] | None = None
    ) -> list[Any] | dict[str, Any]:
        """The (owned, mutable) container at ``path``, copying along the way.

        If ``list_levels`` is given, one flag per level (root first, the container
        itself last) is appended to it: whether that level is a list.
        """
        current = self.root
        if not isinstance(current, (list, dict)):
            raise DiffError(
                f"operation {where}: cannot index into {type(current).__name__}"
            )
        current = self._own(current)
        self.root = current
        if list_levels is not None:
            list_levels.append(isinstance(current, list))
        for key in path:
            key = _key_for(current, key, where)
            try:
                child = current[key]  # type: ignore[index]
            except (IndexError, KeyError):
                raise DiffError(
                    f"operation {where}: path element {_show(key)} not found"
                ) from None
            if not isinstance(child, (list, dict)):
                raise DiffError(
                    f"operation {where}: cannot index into {type(child).__name__}"
                )
            owned = self._own(child)
            if owned is not child:
                current[key] = owned  # type: ignore[index]
            current = owned
            if list_levels is not None:
                list_levels.append(isinstance(current, list))
        return current

    def apply(self, action: str, path: _Path, value: Any, where: int) -> None:
        """One replace/append/add, or a delete applied as given (in order)."""
        if not path:
            if action == "replace":
                self.root = value
            else:  # "append"; add/delete with an empty path were rejected when parsing
                self.root = _concat(self.root, value, where)
            return
        parent = self.container(path[:-1], where)
        key = _key_for(parent, path[-1], where)
        if isinstance(parent, list):
            assert isinstance(key, int)
            size = len(parent)
            limit = size + 1 if action == "add" else size
            if not 0 <= key < limit:
                raise DiffError(
                    f"operation {where}: index {_show(key)} out of range for a list of {size}"
                )
            if action == "replace":
                parent[key] = value
            elif action == "append":
                parent[key] = _concat(parent[key], value, where)
            elif action == "add":
                parent.insert(key, value)
            else:
                del parent[key]
            return
        assert isinstance(key, str)
        if action in ("replace", "add"):
            parent[key] = value
        elif key not in parent:
            raise DiffError(f"operation {where}: key {_show(key)} not found")
        elif action == "append":
            parent[key] = _concat(parent[key], value, where)
        else:
            del parent[key]

    def delete_run(
        self,
        parent_path: _Path,
        keys: list[tuple[_Key, int]],
        seen_below: dict[_Path, int] | None,
    ) -> None:
        """Consecutive deletes on one parent, as original (pre-run) keys.

        ``seen_below`` is None for UNSHIFTED (keys are already original). For SHIFTED it
        holds, per list path, how many integer-keyed deletes were emitted below it so far;
        the server subtracted exactly that count, at every enclosing list level, from the
        last element of each integer-keyed delete, so adding the counts back gives the
        original index.
        """
        where = keys[0][1]
        levels: list[bool] | None = [] if seen_below is not None else None
        parent = self.container(parent_path, where, levels)
        if seen_below is not None:
            assert levels is not None
            list_prefixes = [
                parent_path[:depth] for depth, is_list in enumerate(levels) if is_list
            ]
            restored: list[tuple[_Key, int]] = []
            for key, n in keys:
                if isinstance(key, int):
                    for prefix in list_prefixes:
                        before = seen_below.get(prefix, 0)
                        key += before
                        seen_below[prefix] = before + 1
                restored.append((key, n))
            keys = restored

        if isinstance(parent, list):
            size = len(parent)
            indices: set[int] = set()
            for key, n in keys:
                if not isinstance(key, int):
                    raise DiffError(f"operation {n}: list index must be an int, got {_show(key)}")
                if not 0 <= key < size or key in indices:
                    raise DiffError(
                        f"operation {n}: cannot delete index {_show(key)} of a list of {size}"
                        + (" twice" if key in indices else "")
                    )
                indices.add(key)
            if len(indices) == size - min(indices) and max(indices) == size - 1:
                del parent[min(indices) :]  # the usual case: a trailing block
            else:
                for index in sorted(indices, reverse=True):
                    del parent[index]
            return
        for key, n in keys:
            name = _key_for(parent, key, n)
            if name not in parent:
                raise DiffError(f"operation {n}: key {_show(name)} not found")
            del parent[name]


def _key_for(container: list[Any] | dict[str, Any], key: _Key, where: int) -> _Key:
    """Check ``key`` against the container's kind. An int key on a dict is the JSON
    form of a Python int key on the server, which the wire turned into a string."""
    if isinstance(container, list):
        if not isinstance(key, int):
            raise DiffError(f"operation {where}: list index must be an int, got {_show(key)}")
        if key < 0:
            raise DiffError(f"operation {where}: negative list index {_show(key)}")
        return key
    if isinstance(key, str):
        return key
    try:
        return str(key)
    except ValueError:  # more digits than int-to-str conversion allows
        raise DiffError(f"operation {where}: bad dict key") from None


def _concat(old: Any, extra: Any, where: int) -> Any:
    """``old + extra`` for two strings (streamed text) or two lists; else :class:`DiffError`."""
    if isinstance(old, str) and isinstance(extra, str):
        return old + extra
    if isinstance(old, list) and isinstance(extra, list):
        return old + extra
    raise DiffError(
        f"operation {where}: cannot append {type(extra).__name__} "
        f"to {type(old).__name__}"
    )


# ------------------------------------------------------- TRUNCATED_PATHS ambiguity


def _has_cut_looking_delete(parsed: list[_Op]) -> bool:
    return any(
        action == "delete" and len(path) == 1 and isinstance(path[0], int)
        for action, path, _ in parsed
    )


def _may_hide_cut_deletes(value: Any) -> bool:
    """Whether a one-element integer delete path may really address something nested.

    True if a list sits below the root, or a dict below the root has a key that may have
    been a Python int on the server (its deletes are cut the same way).
    """
    stack: list[Any] = []
    if isinstance(value, list):
        stack.extend(value)
    elif isinstance(value, dict):
        stack.extend(value.values())
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            return True
        if isinstance(item, dict):
            if any(isinstance(k, str) and _int_like(k) for k in item):
                return True
            stack.extend(item.values())
    return False


def _show(obj: Any) -> str:
    """A short repr for error messages, which never raises."""
    try:
        text = repr(obj)
    except Exception:
        return f"<{type(obj).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _int_like(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return digits.isascii() and digits.isdigit()
