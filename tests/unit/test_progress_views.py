"""The pure parts of the live views: a job's state from its events, its HTML, a map's rate and
ETA, the plain lines' pace, and which display ``watch()`` and ``map(progress=True)`` pick."""

from __future__ import annotations

import asyncio
import html
import io
import re
import signal
import sys
import threading
import types
from dataclasses import dataclass

import pytest
from rich.console import Console

from gradio_jobs._exceptions import AppError
from gradio_jobs._live import mapbar, notebook
from gradio_jobs._live.displays import PlainDisplay
from gradio_jobs._live.html import job_html, map_html
from gradio_jobs._live.terminal import LiveDisplay, MapLive
from gradio_jobs._live.view import JobView, MapMeter, format_rate, format_seconds, unit_fraction, unit_text
from gradio_jobs._live.watch import NOTEBOOK_TICK, Watch, choose_display, ctrl_c_cancels
from gradio_jobs._map import MapProgress, map_request
from gradio_jobs.protocol import events as ev
from gradio_jobs.protocol.status import LogMessage, ProgressUnit

#: An escape sequence of a terminal.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _view(*events: ev.JobEvent) -> JobView:
    return JobView.of("/progress", list(events))


def _text(markup: str) -> str:
    """The text a browser shows of ``markup`` (tags dropped, then entities read)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)).strip())


# -- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds,text", [(0.04, "0.0 s"), (4.25, "4.2 s"), (59.9, "59.9 s"), (60, "1 min 00 s"), (185.4, "3 min 05 s")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("rate,text", [(3.21, "3.2/s"), (0.1, "0.1/s"), (0.05, "3.0/min"), (0.0, "0.0/min")])
def test_format_rate(rate: float, text: str) -> None:
    assert format_rate(rate) == text


@pytest.mark.parametrize(
    "unit,text,fraction",
    [
        (ProgressUnit(3, 5, "epochs", None, "training"), "3/5 epochs", 0.6),
        (ProgressUnit(None, None, None, 0.4, None), "40%", 0.4),
        (ProgressUnit(7, None, "steps", None, None), "7 steps", None),
        (ProgressUnit(9, 5, None, None, None), "9/5", 1.0),
        (ProgressUnit(0, 0, None, None, None), "0/0", 1.0),
    ],
)
def test_progress_units_in_words_and_fractions(unit: ProgressUnit, text: str, fraction: float | None) -> None:
    assert unit_text(unit) == text
    assert unit_fraction(unit) == fraction


# -- a job's state ----------------------------------------------------------------------------


def test_a_queued_job_shows_its_position_and_an_eta_counting_down() -> None:
    view = _view(ev.Submitted("/progress", at=10.0), ev.Joined("abcdef123456", at=10.1),
                 ev.Queued(1, 3, 4.0, at=10.2))
    assert view.status_text(now=11.2) == "queued: position 2 of 3 · ETA 3.0 s"
    assert view.status_text(now=20.0) == "queued: position 2 of 3 · ETA any moment now"
    text = _text(job_html(view, now=11.2))
    assert text == "job /progress job abcdef12 status queued: position 2 of 3 · ETA 3.0 s"


def test_a_running_job_shows_its_bars_logs_and_latest_output() -> None:
    view = _view(
        ev.Submitted("/progress", at=0.0), ev.Started(None, at=1.0),
        ev.Logged(LogMessage("warming up", "INFO"), at=1.1),
        ev.ProgressReported([ProgressUnit(2, 4, "epochs", None, "training")], at=1.5),
        ev.OutputProduced(0, "one", at=1.6), ev.OutputProduced(1, "one two", at=1.7),
    )
    markup = job_html(view, now=3.0)
    assert '<progress style="width:12em" max="1000" value="500"></progress>' in markup
    assert _text(markup) == (
        'job /progress status running 2.0 s training 2/4 epochs log info : warming up '
        'outputs (2), latest "one two"'
    )


def test_a_completed_job_shows_its_result_and_time_in_the_queue() -> None:
    view = _view(ev.Submitted("/add", at=0.0), ev.Queued(0, 1, None, at=0.1), ev.Started(None, at=1.1),
                 ev.ProgressReported([ProgressUnit(4, 4, None, None, None)], at=1.5),
                 ev.OutputProduced(0, 3, at=2.0), ev.Completed(3, at=2.0))
    assert view.over and view.has_result and view.result == 3
    text = _text(job_html(view, now=9.0))
    assert text == "job /progress status completed in 2.0 s, 1.0 s of it in the queue result 3"  # bars are gone


def test_a_failed_job_shows_its_error_and_a_none_result_is_still_a_result() -> None:
    failed = _view(ev.Submitted("/add", at=0.0), ev.Failed(AppError("boom <b>"), at=0.5))
    text = _text(job_html(failed, now=1.0))
    assert text == "job /progress status failed after 0.5 s error AppError: boom <b>"  # escaped: not a tag
    none = _view(ev.Submitted("/add", at=0.0), ev.Completed(None, at=0.5))
    assert _text(job_html(none, now=1.0)).endswith("result null")


def test_everything_shown_is_escaped() -> None:
    view = JobView.of("<script>", [ev.Submitted("/x", at=0.0), ev.OutputProduced(0, "<img src=x>", at=0.1)])
    markup = job_html(view, now=1.0)
    assert "<script>" not in markup and "<img" not in markup
    assert "&lt;script&gt;" in markup and "&lt;img src=x&gt;" in markup


def test_a_cancelled_job_says_what_the_server_did() -> None:
    view = _view(ev.Submitted("/x", at=0.0), ev.Cancelled("requested", at=0.2),
                 ev.CancelResolved(ev.OUTCOME_DEQUEUED, at=0.3))
    assert _text(job_html(view, now=1.0)) == (
        "job /progress status cancelled after 0.2 s note it was taken off the server's queue"
    )


# -- a map's meter ----------------------------------------------------------------------------


def test_the_map_meter_measures_rate_and_eta_from_the_start() -> None:
    meter = MapMeter(now=100.0)
    assert meter.line(100.0) == "starting"
    meter.update(MapProgress(total=10, submitted=2, done=0, failed=0, running=2))
    assert meter.rate(101.0) is None and meter.eta(101.0) is None
    assert meter.line(101.0) == "0/10 done, 0 failed, 2 running, -/s, ETA ?"
    meter.update(MapProgress(total=10, submitted=6, done=4, failed=1, running=2))
    assert meter.rate(102.0) == 2.0
    assert meter.eta(102.0) == 3.0
    assert meter.fraction() == 0.4
    assert meter.line(102.0) == "4/10 done, 1 failed, 2 running, 2.0/s, ETA 3.0 s"
    meter.update(MapProgress(total=10, submitted=10, done=8, failed=1, running=0, cancelled=2))
    meter.end(now=104.0)
    assert meter.line(500.0) == "8/10 done, 1 failed, 0 running, 2 cancelled, 2.0/s, took 4.0 s"


def test_the_map_meter_without_a_total() -> None:
    meter = MapMeter(now=0.0)
    meter.update(MapProgress(total=None, submitted=5, done=3, failed=0, running=2))
    assert meter.fraction() is None and meter.eta(1.0) is None
    assert meter.line(1.0) == "3 done, 0 failed, 2 running, 3.0/s, ETA ?"
    assert "<progress style=\"width:12em\"></progress>" in map_html(meter, 1.0)  # an indeterminate bar


def test_plain_map_lines_come_at_most_once_an_interval_and_once_at_the_end() -> None:
    out = io.StringIO()
    plain = mapbar.MapPlain(out, MapMeter(), interval=3600.0)
    for done in range(5):
        plain.update(MapProgress(total=5, submitted=5, done=done, failed=0, running=5 - done))
    plain.update(MapProgress(total=5, submitted=5, done=5, failed=0, running=0))
    plain.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("map: 0/5 done, 0 failed, 5 running, -/s, ETA ?")
    assert lines[1].startswith("map: 5/5 done, 0 failed, 0 running, ") and ", took " in lines[1]


def test_inputs_done_before_the_meter_started_count_as_done_but_not_in_the_rate() -> None:
    meter = MapMeter(now=0.0)
    meter.resumed = 6
    meter.update(MapProgress(total=10, submitted=10, done=6, failed=1, running=2))
    assert meter.rate(1.0) is None and meter.fraction() == 0.6
    assert meter.line(1.0) == "6/10 done, 1 failed, 2 running, 6 resumed, -/s, ETA ?"
    meter.update(MapProgress(total=10, submitted=10, done=8, failed=1, running=2))
    assert meter.rate(2.0) == 1.0 and meter.eta(2.0) == 2.0
    assert meter.line(2.0) == "8/10 done, 1 failed, 2 running, 6 resumed, 1.0/s, ETA 2.0 s"


def test_plain_map_lines_write_an_extra_block_now_and_then_and_at_the_end() -> None:
    out = io.StringIO()
    ticked = threading.Event()
    calls: list[str] = []

    def extra() -> str | None:
        calls.append(threading.current_thread().name)
        if len(calls) == 2:
            ticked.set()
        return None if len(calls) == 1 else f"block {len(calls)}"  # None: nothing to write now

    plain = mapbar.MapPlain(out, MapMeter(), interval=3600.0, extra=extra, extra_interval=0.01)
    plain.update(MapProgress(total=2, submitted=2, done=0, failed=0, running=2))
    assert ticked.wait(30), "the extra block was never asked for"
    plain.update(MapProgress(total=2, submitted=2, done=2, failed=0, running=0))
    plain.close()
    lines = out.getvalue().splitlines()
    assert calls[0] == calls[1] == "gradio-jobs-map-extra" and calls[-1] == threading.current_thread().name
    assert lines[0].startswith("map: 0/2 done, ") and "block 2" in lines
    assert lines[-2].startswith("map: 2/2 done, 0 failed, 0 running, ") and ", took " in lines[-2]
    assert lines[-1] == f"block {len(calls)}"  # the last block comes after the last line
    assert not any(line.startswith("map: ") for line in lines[1:-2])  # one line an interval at most


def test_the_terminal_bar_draws_its_extra_under_it() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    shown: list[str | None] = [None]
    bar = MapLive(console, MapMeter(), extra=lambda: shown[0])
    bar.update(MapProgress(total=3, submitted=3, done=1, failed=1, running=2))
    shown[0] = "the replicas here"
    bar.close()
    screen = ANSI.sub("", out.getvalue())
    assert re.search(r"map .*━.* 1/3 done, 1 failed, 2 running, .*took", screen), screen
    assert screen.rstrip().endswith("the replicas here"), screen


def test_the_cli_map_bar_reads_a_batch_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio_jobs._batch import BatchProgress
    from gradio_jobs.cli import _map as cli_map

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    display, show = cli_map._open_bar(Console(file=err, force_terminal=False), None)
    # 5 inputs in the output already and 3 failed ones retried: 2 of those written again (1 ok)
    show(BatchProgress(10, 2, 3, 5, 4, 0.0, 0.0, None, ran=0))
    show(BatchProgress(10, 3, 2, 5, 3, 1.0, 2.0, 2.5, ran=2))
    display.close()
    assert isinstance(display, mapbar.MapPlain)
    lines = err.getvalue().splitlines()
    assert lines[0] == "map: 5/10 done, 3 failed, 4 running, 5 resumed, -/s, ETA ?"
    assert re.fullmatch(r"map: 7/10 done, 2 failed, 3 running, 5 resumed, \d+\.\d/(s|min), took \d+\.\d s", lines[-1])


# -- where the views go -------------------------------------------------------------------------


def test_watch_draws_on_the_console_given() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    display, tick = choose_display(terminal, transient=True)
    assert isinstance(display, LiveDisplay) and display.transient and tick is None
    file = io.StringIO()
    display, tick = choose_display(Console(file=file, force_terminal=False), transient=False)
    assert isinstance(display, PlainDisplay) and display.stream is file


def test_watch_writes_plain_lines_to_a_stdout_that_is_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    display, _ = choose_display(None, transient=False)
    assert isinstance(display, PlainDisplay) and display.stream is out


def _fake_ipython(monkeypatch: pytest.MonkeyPatch, shell_class: str | None) -> list[tuple[str, object]]:
    """An IPython whose shell is of class ``shell_class`` (None: no shell); what it displays."""
    shown: list[tuple[str, object]] = []

    class Handle:
        def update(self, obj: object) -> None:
            shown.append(("update", obj))

    @dataclass
    class HTML:
        data: str

    def display(obj: object, display_id: bool = False) -> Handle:
        shown.append(("display", obj))
        return Handle()

    shell = type(shell_class, (), {})() if shell_class else None
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    shown_module = types.ModuleType("IPython.display")
    shown_module.HTML = HTML  # type: ignore[attr-defined]
    shown_module.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", shown_module)
    return shown


def test_notebooks_are_told_from_terminal_ipython(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not notebook.in_notebook()
    _fake_ipython(monkeypatch, "TerminalInteractiveShell")
    assert not notebook.in_notebook()
    _fake_ipython(monkeypatch, None)
    assert not notebook.in_notebook()
    _fake_ipython(monkeypatch, "ZMQInteractiveShell")
    assert notebook.in_notebook()


def test_in_a_notebook_watch_updates_one_html_output_and_transient_empties_it(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = _fake_ipython(monkeypatch, "ZMQInteractiveShell")
    display, tick = choose_display(None, transient=True)
    assert isinstance(display, notebook.NotebookDisplay) and tick == NOTEBOOK_TICK
    view = JobView("/add")
    with display.showing([view]):
        view.apply(ev.Completed(3, at=view.since + 1))
        display.ended(view)
    kinds = [kind for kind, _ in shown]
    assert kinds[0] == "display" and set(kinds[1:]) == {"update"}
    assert "completed in 1.0 s" in shown[-2][1].data  # type: ignore[attr-defined]
    assert shown[-1][1].data == ""  # type: ignore[attr-defined]


def test_in_a_notebook_a_map_bar_is_html(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = _fake_ipython(monkeypatch, "ZMQInteractiveShell")
    bar = mapbar.open_map_display()
    assert isinstance(bar, notebook.MapNotebook)
    bar.update(MapProgress(total=2, submitted=2, done=2, failed=1, running=0))
    bar.close()
    assert "2/2 done, 1 failed, 0 running" in shown[-1][1].data  # type: ignore[attr-defined]


def test_ctrl_c_cancels_the_watching_tasks_only_while_they_watch() -> None:
    """A real SIGINT while two watches run (on this, the main thread): both tasks are cancelled
    and know it was Ctrl+C; the handler from before is back once the last ends (not LIFO)."""
    before = signal.getsignal(signal.SIGINT)

    async def main() -> list[tuple[str, bool]]:
        inside = {"first": asyncio.Event(), "second": asyncio.Event()}
        second_out = asyncio.Event()
        seen: list[tuple[str, bool]] = []

        async def watching(name: str) -> None:
            with ctrl_c_cancels(asyncio.current_task()) as by_ctrl_c:
                assert signal.getsignal(signal.SIGINT) is not before
                try:
                    inside[name].set()
                    await asyncio.get_running_loop().create_future()  # until cancelled
                except asyncio.CancelledError:
                    seen.append((name, by_ctrl_c()))
                if name == "first":
                    await second_out.wait()  # the first in leaves last
            if name == "second":
                assert signal.getsignal(signal.SIGINT) is not before  # the first still watches
                second_out.set()

        first = asyncio.ensure_future(watching("first"))
        await inside["first"].wait()
        second = asyncio.ensure_future(watching("second"))
        await inside["second"].wait()
        signal.raise_signal(signal.SIGINT)
        await asyncio.gather(first, second)
        return seen

    assert sorted(asyncio.run(main())) == [("first", True), ("second", True)]
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_is_left_alone_off_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGINT)
    seen: list[bool] = []

    async def main() -> None:
        with ctrl_c_cancels(asyncio.current_task()) as by_ctrl_c:
            seen.append(signal.getsignal(signal.SIGINT) is before and not by_ctrl_c())

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join()
    assert seen == [True]


# -- checked options ----------------------------------------------------------------------------


def test_progress_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="progress must be True or False"):
        map_request([1], api_name="/add", progress="yes")  # type: ignore[arg-type]
    assert map_request([1], api_name="/add", progress=True).progress is True
    assert map_request([1], api_name="/add").progress is False


@pytest.mark.parametrize("timeout", [-1, "5", True])
def test_watch_timeout_must_be_seconds(timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout must be a number of seconds"):
        Watch("/add", timeout, Console(file=io.StringIO()), False)  # type: ignore[arg-type]
