"""The rich live views of a terminal: a panel per job (``LiveDisplay``) and a map's bar (``MapLive``).

Rich redraws them on its own refresh thread, ten times a second, so a queue ETA counts
down between two events; what they show is read from the views under their locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .._map_counts import MapCounts
from ..protocol import events as ev
from ..protocol.status import ProgressUnit
from .displays import Display
from .view import JobView, MapMeter, short, unit_text

__all__ = ["LiveDisplay", "MapLive"]

_PHASE_STYLE = {
    "completed": ("✔", "green"),
    "failed": ("✘", "red"),
    "cancelled": ("■", "yellow"),
    "timed out": ("⏱", "yellow"),
    "interrupted": ("■", "yellow"),
}

_LOG_STYLE = {"warning": "yellow", "error": "red", "success": "green"}


class LiveDisplay(Display):
    """A rich ``Live`` view of the jobs on ``console``: one panel each, redrawn ten times a
    second; the app's logs are printed above it. ``transient`` erases the panels at the end."""

    def __init__(self, console: Console, transient: bool = False) -> None:
        self.console = console
        self.transient = transient
        self._views: list[JobView] = []
        self._spinners: dict[int, Spinner] = {}

    @contextmanager
    def showing(self, views: Sequence[JobView]) -> Iterator[None]:
        self._views = list(views)
        self._spinners = {id(view): Spinner("dots", style="cyan") for view in self._views}
        live = Live(
            console=self.console,
            get_renderable=self._render,
            refresh_per_second=10,
            transient=self.transient,
        )
        with live:
            try:
                yield
            finally:
                live.refresh()
        self._views = []

    def event(self, view: JobView, event: ev.JobEvent) -> None:
        if isinstance(event, ev.Logged):
            level = event.log.level.lower()
            style = _LOG_STYLE.get(level, "blue")
            prefix = f"{view.tag} " if view.tag and len(self._views) > 1 else ""
            line = Text.assemble((f"{prefix}{level}: ", f"bold {style}"), event.log.message)
            self.console.print(line)

    def note(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""))

    def _render(self) -> RenderableType:
        now = time.monotonic()
        return Group(*(self._panel(view, now) for view in self._views))

    def _panel(self, view: JobView, now: float) -> RenderableType:
        with view.lock:
            lines: list[RenderableType] = []
            status = view.status_text(now)
            if view.over:
                symbol, style = _PHASE_STYLE.get(view.phase, ("•", "white"))
                lines.append(Text.assemble((f"{symbol} ", style), (status, f"bold {style}")))
                if view.end_note:
                    lines.append(Text(f"  {view.end_note}", style=style))
            else:
                spinner = self._spinners.setdefault(id(view), Spinner("dots", style="cyan"))
                spinner.update(text=Text(status))
                lines.append(spinner)
            if view.phase != "completed":  # a finished job's bars would stop one step short
                lines.extend(self._bar(unit) for unit in view.progress)
            if view.outputs:
                label = "output" if view.outputs == 1 else f"output {view.outputs}"
                room = max(40, 2 * (self.console.width - 6) - len(label) - 4)  # two lines at most
                lines.append(Text.assemble((f"  {label}: ", "bold"), short(view.last_output, room)))
            title = Text.assemble((view.title, "bold"))
            if view.job_id:
                title.append(f"  job {view.job_id[:8]}", style="dim")
            if view.resubmitted:
                title.append(f"  submitted again \N{MULTIPLICATION SIGN}{view.resubmitted}", style="yellow")
            border = _PHASE_STYLE.get(view.phase, ("", "cyan"))[1] if view.over else "cyan"
            return Panel(Group(*lines), title=title, title_align="left", border_style=border, expand=True)

    @staticmethod
    def _bar(unit: ProgressUnit) -> RenderableType:
        row = Table.grid(padding=(0, 1))
        row.add_column(no_wrap=True, width=1)
        row.add_column(no_wrap=True)
        row.add_column(no_wrap=True)
        row.add_column(no_wrap=True)
        if unit.length is not None and unit.index is not None:
            bar = ProgressBar(total=float(unit.length) or 1.0, completed=float(unit.index), width=30)
        elif unit.progress is not None:
            bar = ProgressBar(total=1.0, completed=float(unit.progress), width=30)
        else:
            bar = ProgressBar(total=None, width=30)
        row.add_row("", Text(unit.desc or "progress", style="magenta"), bar, Text(unit_text(unit)))
        return row


class MapLive:
    """A map's bar on a terminal ``console``: done of total, failed, running, rate and ETA as
    ``meter`` measures them, redrawn four times a second until :meth:`close`.

    ``extra``, when given, returns what to draw under the bar at each redraw (None: nothing
    now); ``gradio-jobs map`` draws a pool's replicas there.
    """

    def __init__(
        self, console: Console, meter: MapMeter, extra: Callable[[], RenderableType | None] | None = None
    ) -> None:
        self.meter = meter
        self.extra = extra  # first: rich may draw as soon as it starts
        self._live = Live(console=console, get_renderable=self._render, refresh_per_second=4, transient=False)
        self._live.start()

    def update(self, counts: MapCounts) -> None:
        """The map now stands at ``counts`` (drawn at the next refresh)."""
        self.meter.update(counts)

    def close(self) -> None:
        """Draw the final state and stop redrawing."""
        self.meter.end()
        self._live.refresh()
        self._live.stop()

    def _render(self) -> RenderableType:
        meter = self.meter
        fraction = meter.fraction()
        bar = ProgressBar(total=None if fraction is None else 1.0, completed=fraction or 0.0, width=30)
        failed = meter.counts is not None and meter.counts.failed > 0
        row = Table.grid(padding=(0, 1))
        row.add_column(no_wrap=True)
        row.add_column(no_wrap=True)
        row.add_column()
        row.add_row(
            Text("map", style="bold magenta"), bar, Text(meter.line(time.monotonic()), style="yellow" if failed else "")
        )
        below = self.extra() if self.extra is not None else None
        return row if below is None else Group(row, below)
