"""HTML for notebooks: a job's state as a small table, a map's bar. Pure functions, no IPython.

Every text is escaped; the styles are inline (a notebook keeps no style sheet of ours), and
the markup works in Jupyter, JupyterLab and VS Code without JavaScript or widgets.
"""

from __future__ import annotations

import html

from .view import JobView, MapMeter, short, unit_fraction, unit_text

__all__ = ["job_html", "map_html"]

_PHASE_COLOR = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#b26a00",
    "timed out": "#b26a00",
    "interrupted": "#b26a00",
}
_TABLE = 'class="gradio-jobs" style="border-collapse:collapse;text-align:left;font-size:0.9em"'
_TH = 'style="text-align:left;padding:2px 12px 2px 0;vertical-align:top;font-weight:600"'
_TD = 'style="text-align:left;padding:2px 0"'
_OUTPUT_CHARS = 300


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _bar(fraction: float | None) -> str:
    if fraction is None:
        return '<progress style="width:12em"></progress>'
    return f'<progress style="width:12em" max="1000" value="{round(fraction * 1000)}"></progress>'


def _row(name: str, cell: str) -> str:
    return f"<tr><th {_TH}>{_e(name)}</th><td {_TD}>{cell}</td></tr>"


def job_html(view: JobView, now: float) -> str:
    """The state of ``view``'s job at monotonic time ``now``, as an HTML table: its endpoint
    and job id, status (queue position and ETA while queued), progress bars, latest logs,
    outputs so far, and its result or error."""
    with view.lock:
        rows = []
        title = _e(view.title) + (f' <span style="opacity:0.6">job {_e(view.job_id[:8])}</span>' if view.job_id else "")
        if view.resubmitted:
            title += f" · submitted again ×{view.resubmitted}"
        rows.append(_row("job", title))
        status = _e(view.status_text(now))
        color = _PHASE_COLOR.get(view.phase) if view.over else None
        if color is not None:
            status = f'<span style="color:{color};font-weight:600">{status}</span>'
        rows.append(_row("status", status))
        if view.phase != "completed":
            for unit in view.progress:
                rows.append(_row(unit.desc or "progress", f"{_bar(unit_fraction(unit))} {_e(unit_text(unit))}"))
        for log in view.logs:
            rows.append(_row("log", f"<b>{_e(log.level.lower())}</b>: {_e(log.message)}"))
        if view.outputs and not view.has_result:
            label = "output" if view.outputs == 1 else f"outputs ({view.outputs}), latest"
            rows.append(_row(label, f"<code>{_e(short(view.last_output, _OUTPUT_CHARS))}</code>"))
        if view.has_result:
            rows.append(_row("result", f"<code>{_e(short(view.result, _OUTPUT_CHARS))}</code>"))
        if view.end_note:
            name = "error" if view.phase == "failed" else "note"
            rows.append(_row(name, _e(view.end_note)))
        return f"<table {_TABLE}>{''.join(rows)}</table>"


def map_html(meter: MapMeter, now: float) -> str:
    """A map's bar at monotonic time ``now``: done of total, failed, running, rate and ETA."""
    counts = meter.counts
    failed = counts is not None and counts.failed > 0
    style = "color:#b26a00" if failed else ""
    line = _e(meter.line(now))
    return (
        f'<div class="gradio-jobs-map" style="font-size:0.9em"><b>map</b> {_bar(meter.fraction())} '
        f'<span style="{style}">{line}</span></div>'
    )
