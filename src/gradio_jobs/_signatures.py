"""One parameter list for a sync method and its async twin.

The sync client's ``submit`` takes exactly what the async client's takes; writing the list
twice lets the two drift apart. ``parameters_of(source)`` gives a ``*args, **kwargs``
function (after its own first parameter, ``self`` or a client) the parameters of
``source``: type checkers and editors see them (through
``ParamSpec``), and so do ``inspect.signature`` and ``help()`` (through ``__signature__``),
while the function keeps its own docstring and return type.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

__all__ = ["parameters_of"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def parameters_of(
    source: Callable[P, object],
) -> Callable[[Callable[Concatenate[S, ...], R]], Callable[Concatenate[S, P], R]]:
    """Give the decorated function, after its own first parameter, the parameters of ``source``.

    The first parameter (``self``, or the client of a module-level function) and the return
    annotation stay the decorated function's own.
    """
    source_parameters = list(inspect.signature(source).parameters.values())

    def decorate(function: Callable[Concatenate[S, ...], R]) -> Callable[Concatenate[S, P], R]:
        own = inspect.signature(function)
        first = next(iter(own.parameters.values()))
        function.__signature__ = own.replace(parameters=[first, *source_parameters])  # type: ignore[attr-defined]
        return function

    return decorate
