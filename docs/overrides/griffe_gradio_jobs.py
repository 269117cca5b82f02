"""A griffe extension for the API reference (mkdocs.yml loads it; it is build tooling, not a page).

The docstrings are written for ``help()`` and editors: plain prose with ``double backticks``
(which Markdown renders as code already) and Sphinx roles (:class:`Client`). Two things need
turning into what mkdocstrings renders well:

- a Sphinx role becomes a cross-reference to the object it names, resolved from where the
  docstring is (so ``:meth:`submit``` in ``Client`` links to ``Client.submit``); one that names
  nothing documented renders as plain code, without a warning;
- a method decorated with ``@parameters_of(source)`` takes ``*args, **kwargs`` in the source
  but the parameters of ``source`` at run time (``inspect.signature`` sees them): the reference
  shows those, as ``help()`` does.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|exc|mod|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")


class GradioJobsDocs(griffe.Extension):
    """Rewrite roles into cross-references, and give ``parameters_of`` methods their signature."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Walk the whole package once it is loaded (every target can be resolved by then)."""
        if pkg.name != "gradio_jobs":
            return
        seen: set[int] = set()
        self._walk(pkg, loader, seen)

    def _walk(self, obj: griffe.Object, loader: griffe.GriffeLoader, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(lambda m: _reference(obj, m), obj.docstring.value)
        if isinstance(obj, griffe.Function):
            _copy_parameters(obj, loader)
        for member in list(obj.members.values()):
            if isinstance(member, griffe.Alias):
                continue  # documented where it is defined
            self._walk(member, loader, seen)


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """The full path ``target`` names, seen from ``obj`` (its class, its module, the package)."""
    if target.startswith("gradio_jobs."):
        return target
    head, _, rest = target.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        if head in scope.members:
            path = scope.members[head].path
            return f"{path}.{rest}" if rest else path
        try:
            path = scope.resolve(head)
        except Exception:  # griffe raises NameResolutionError and others
            scope = scope.parent
            continue
        return f"{path}.{rest}" if rest else path
    return f"gradio_jobs.{target}"


def _reference(obj: griffe.Object, match: re.Match[str]) -> str:
    target = match["target"].strip()
    shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
    identifier = _resolve(obj, target.removesuffix("()")) or target
    return f'<autoref identifier="{html.escape(identifier)}" optional><code>{html.escape(shown)}</code></autoref>'


def _copy_parameters(func: griffe.Function, loader: griffe.GriffeLoader) -> None:
    """Give a ``@parameters_of(source)`` function the parameters of ``source`` after its first."""
    for decorator in func.decorators:
        text = str(decorator.value)
        found = re.fullmatch(r"parameters_of\((?P<source>[\w.]+)\)", text)
        if not found:
            continue
        try:
            path = func.parent.resolve(found["source"]) if func.parent else None
            source = loader.modules_collection[path] if path else None
        except Exception:  # an unresolvable source keeps the written signature
            return
        if not isinstance(source, griffe.Function):
            return
        own = list(func.parameters)
        first = own[:1]
        func.parameters = griffe.Parameters(*first, *source.parameters)
        return
