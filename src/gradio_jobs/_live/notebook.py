"""Views in a Jupyter notebook: an HTML output displayed once, then updated in place.

``IPython.display.display(HTML(...), display_id=True)`` gives a handle whose ``update``
replaces that output (no ipywidgets, no JavaScript). IPython is only ever imported here,
and only when a notebook's kernel is already running it.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._map_counts import MapCounts
from .displays import Display
from .html import job_html, map_html
from .view import JobView, MapMeter

__all__ = ["MapNotebook", "NotebookDisplay", "in_notebook"]

#: At most this many redraws a second (the last state is always drawn).
MIN_INTERVAL = 0.1


def in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, JupyterLab, VS Code notebooks), not in a
    terminal IPython nor a plain interpreter."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or too odd to tell
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class _Output:
    """One HTML output of the current cell, updated in place; ``transient`` removes it at the end."""

    def __init__(self, markup: str) -> None:
        shown: Any = importlib.import_module("IPython.display")  # untyped: held as Any
        self._html: Any = shown.HTML
        self._handle: Any = shown.display(self._html(markup), display_id=True)
        self._last = time.monotonic()

    def update(self, markup: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < MIN_INTERVAL:
            return
        self._last = now
        if self._handle is not None:
            self._handle.update(self._html(markup))


class NotebookDisplay(Display):
    """Shows jobs as HTML tables in the notebook, each redrawn after its events; with
    ``transient`` the output is emptied when they end."""

    def __init__(self, transient: bool = False) -> None:
        self.transient = transient
        self._views: list[JobView] = []
        self._output: _Output | None = None

    def _markup(self) -> str:
        now = time.monotonic()
        return "".join(job_html(view, now) for view in self._views)

    @contextmanager
    def showing(self, views: Sequence[JobView]) -> Iterator[None]:
        self._views = list(views)
        self._output = _Output(self._markup())
        try:
            yield
        finally:
            self._output.update("" if self.transient else self._markup(), force=True)
            self._output = None
            self._views = []

    def refresh(self) -> None:
        if self._output is not None:
            self._output.update(self._markup())

    def ended(self, view: JobView) -> None:
        if self._output is not None:
            self._output.update(self._markup(), force=True)


class MapNotebook:
    """A map's bar as HTML in the notebook, redrawn at most ten times a second until :meth:`close`."""

    def __init__(self, meter: MapMeter) -> None:
        self.meter = meter
        self._output = _Output(map_html(meter, time.monotonic()))

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts``."""
        self.meter.update(counts)
        self._output.update(map_html(self.meter, time.monotonic()))

    def close(self) -> None:
        """Draw the final state."""
        self.meter.end()
        self._output.update(map_html(self.meter, time.monotonic()), force=True)
