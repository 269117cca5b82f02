"""Every public name teaches itself: a docstring, and in it each parameter by name.

``help(gradio_jobs.Client)`` must explain the constructor's options; the same holds for every
class, function and method that ``gradio_jobs`` exports (methods inherited from the standard
library, such as a Future's, keep the standard library's documentation).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import gradio_jobs

#: The ``events`` module's dataclasses say what each field is in their own words.
SKIP_MODULES = {"events"}
#: Made by the library, never by users (their docstrings say so): their constructors'
#: parameters are plumbing.
MADE_BY_THE_LIBRARY = {"Job", "AsyncJob", "MapRun", "AsyncMapRun"}


def _public_objects() -> Iterator[tuple[str, Any]]:
    for name in gradio_jobs.__all__:
        if name in SKIP_MODULES or name.startswith("__") or name.isupper():
            continue
        obj = getattr(gradio_jobs, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__",):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    yield f"{name}.{attr}", member
                elif inspect.isfunction(member):
                    yield f"{name}.{attr}", member


def _parameters(fn: Any) -> list[str]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [
        p.name for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def test_every_public_name_has_a_docstring() -> None:
    # A constructor is documented by its class's docstring.
    missing = [
        name for name, obj in _public_objects()
        if not name.endswith(".__init__") and not (obj.__doc__ or "").strip()
    ]
    assert missing == []


def test_docstrings_name_every_parameter() -> None:
    untaught = []
    for name, obj in _public_objects():
        if isinstance(obj, property) or inspect.isclass(obj):
            continue
        doc = obj.__doc__ or ""
        if name.endswith(".__init__"):
            if name.split(".")[0] in MADE_BY_THE_LIBRARY:
                continue
            owner = getattr(gradio_jobs, name.split(".")[0])
            doc = (owner.__doc__ or "") + doc
        for parameter in _parameters(obj):
            if parameter.startswith("_"):
                continue
            if not re.search(rf"\b{re.escape(parameter)}\b", doc):
                untaught.append(f"{name}({parameter})")
    assert untaught == []
