"""``job.watch()`` and ``map(progress=True)`` in a real terminal, in pipes, and their costs.

A small script runs in a subprocess against the bundled demo app (``gradio-jobs demo``'s
``cli/demo_apps.py``, served on 127.0.0.1 by ``tests/servers.py``): under a pseudo-terminal
of a fixed size for the rich live views (every frame is read back, escape codes removed, and
the final screen replayed on the small terminal model of ``test_cli``), or with pipes for the
plain lines. Waits read the output until a marker appears, bounded; nothing sleeps.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import requested_versions, serving
from waiting import wait_until

import gradio_jobs
from tests.integration.test_cli import Running, render_screen

DEMO_APP = Path(gradio_jobs.__file__).parent / "cli" / "demo_apps.py"

#: The script's preamble: the client of the demo app whose URL is its first argument.
PREAMBLE = """\
import sys
from gradio_jobs import Client
from gradio_jobs.protocol import events as ev

client = Client(sys.argv[1], verbose=False)
"""


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    """The demo app on the first requested server version it is written for (4.x to 6.x)."""
    with serving(demo_version(), str(DEMO_APP)) as server:
        yield server.url


def demo_version() -> str:
    """The first requested server version the demo app runs on (it is written for 4.x to 6.x)."""
    versions = [v for v in requested_versions() if int(v.split(".")[0]) >= 4]
    if not versions:
        pytest.skip("the demo app needs a gradio 4.x to 6.x server; none is requested")
    return versions[0]


@pytest.fixture
def run_script(tmp_path: Path, demo_url: str) -> Iterator:
    started: list[Running] = []

    def factory(body: str, *, tty: bool) -> Running:
        path = tmp_path / f"script{len(started)}.py"
        path.write_text(PREAMBLE + textwrap.dedent(body))
        script = Running((), tty=tty, argv=[sys.executable, str(path), demo_url])
        started.append(script)
        return script

    try:
        yield factory
    finally:
        for script in started:
            script.stop()


# A job that waits in the queue behind another one (the endpoint runs one job at a time), then
# a job with progress bars and logs; each watched to its end.
WATCH_BODY = """
blocker = client.submit(1.5, api_name="/one_worker")
for event in blocker.events():
    if isinstance(event, ev.Started):
        break
queued = client.submit(0.2, api_name="/one_worker")
print("WATCHED", queued.watch())
print("WATCHED", client.submit(4, api_name="/progress").watch())
client.close()
"""


def test_watch_shows_the_queue_the_progress_the_logs_and_the_result_in_a_terminal(run_script) -> None:
    script = run_script(WATCH_BODY, tty=True)
    assert script.wait() == 0, script.text
    frames = script.text
    # every frame of the live panels: the queue, the bars, the logs printed above them
    assert re.search(r"queued: position 1 of 1", frames), frames
    assert "/one_worker" in frames and "/progress" in frames
    assert re.search(r"training .*\d/4 epochs", frames), frames
    assert "info: warming up the model" in frames
    assert "info: training finished" in frames
    # the final screen: both panels in their end state, the results printed after them
    screen = render_screen(script.raw)
    assert re.search(r"✔ completed in \d+\.\d s, \d+\.\d s of it in the queue", screen), screen
    assert re.search(r"✔ completed in \d+\.\d s", screen), screen
    assert 'output: "trained for 4 epochs"' in screen
    assert "WATCHED rendered in 0.2 s" in screen
    assert "WATCHED trained for 4 epochs" in screen
    assert "╭" in screen  # drawn as panels, not plain lines
    assert "submitted: /progress" not in frames


def test_watch_prints_plain_lines_when_stdout_is_not_a_terminal(run_script) -> None:
    script = run_script(WATCH_BODY, tty=False)
    assert script.wait() == 0, script.stderr
    lines = script.text.splitlines()
    assert "\x1b" not in script.raw
    assert "submitted: /one_worker" in lines
    assert any(re.fullmatch(r"queued: position 1 of 1(, ETA \d+\.\d s)?", line) for line in lines), lines
    assert "log [info]: warming up the model" in lines
    assert any(re.fullmatch(r"progress: training [0-4]/4 epochs", line) for line in lines), lines
    assert 'output 1: "trained for 4 epochs"' in lines
    assert lines[-1] == "WATCHED trained for 4 epochs"
    assert sum(1 for line in lines if re.fullmatch(r"completed in \d+\.\d s", line)) == 2, lines


def test_ctrl_c_during_watch_cancels_the_job_and_reraises(run_script) -> None:
    script = run_script(
        """
        job = client.submit(30, api_name="/one_worker")
        try:
            job.watch()
        except KeyboardInterrupt:
            print("INTERRUPTED", job.cancelled(), job.cancel_outcome)
        client.close()
        """,
        tty=True,
    )
    script.wait_for("running")
    os.killpg(script.proc.pid, signal.SIGINT)
    assert script.wait() == 0, script.text
    screen = render_screen(script.raw)
    assert "■ interrupted after" in screen, screen
    assert "cancelled by Ctrl+C:" in screen
    assert re.search(r"INTERRUPTED True \S+", screen), screen


def test_ctrl_c_during_an_awaited_watch_cancels_the_job_and_raises_keyboard_interrupt(run_script) -> None:
    """Under ``asyncio.run`` Ctrl+C cancels the main task; the watch tells that cancel from
    others (a task cancelled by the program leaves its job running), cancels the job and
    raises ``KeyboardInterrupt``; Ctrl+C's handler is asyncio's again afterwards."""
    script = run_script(
        """
        import asyncio
        import signal
        from gradio_jobs import AsyncClient

        client.close()

        async def main():
            async with AsyncClient(sys.argv[1], verbose=False) as aclient:
                other = aclient.submit(0.5, api_name="/one_worker")
                watching = asyncio.ensure_future(other.watch(transient=True))
                async for event in other.events():
                    if isinstance(event, ev.Started):
                        break
                watching.cancel()  # not Ctrl+C: the view stops, the job goes on
                await asyncio.gather(watching, return_exceptions=True)
                print("OTHER", watching.cancelled(), other.cancelled(), await other.result())
                job = aclient.submit(30, api_name="/one_worker")
                try:
                    await job.watch()
                except KeyboardInterrupt:
                    print("INTERRUPTED", job.cancelled(), job.cancel_outcome)
                    raise

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            print("RAISED KeyboardInterrupt")
        print("RESTORED", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        """,
        tty=True,
    )
    wait_until(lambda: "running" in script.text.partition("OTHER")[2], 60, lambda: script.text)  # the second job
    os.killpg(script.proc.pid, signal.SIGINT)
    assert script.wait() == 0, script.text
    screen = render_screen(script.raw)
    assert "OTHER True False rendered in 0.5 s" in screen, screen
    assert "■ interrupted after" in screen, screen
    assert "cancelled by Ctrl+C:" in screen
    assert re.search(r"INTERRUPTED True \S+", screen), screen
    assert "RAISED KeyboardInterrupt" in screen
    assert "RESTORED True" in screen


def test_watch_timeout_raises_and_leaves_the_job_running(run_script) -> None:
    script = run_script(
        """
        job = client.submit(1.0, api_name="/one_worker")
        try:
            job.watch(timeout=0.05)
        except TimeoutError as exc:
            print("TIMEOUT", type(exc).__name__, job.done())
        print("RESULT", job.result())
        client.close()
        """,
        tty=False,
    )
    assert script.wait() == 0, script.stderr
    assert "TIMEOUT TimeoutError False" in script.text
    assert "RESULT rendered in 1 s" in script.text


# One job at a time on /one_worker: the bar moves for about a second; "x" fails in the app.
MAP_BODY = """
results = list(client.map([0.25, 0.25, "x", 0.25], api_name="/one_worker", concurrency=2, progress=True))
print("MAPPED", [r if not isinstance(r, Exception) else type(r).__name__ for r in results])
client.close()
"""
MAPPED = "MAPPED ['rendered in 0.25 s', 'rendered in 0.25 s', 'AppError', 'rendered in 0.25 s']"


def test_map_progress_shows_done_failed_rate_in_a_terminal(run_script) -> None:
    script = run_script(MAP_BODY, tty=True)
    assert script.wait() == 0, script.text
    screen = render_screen(script.raw)
    assert re.search(r"map .*4/4 done, 1 failed, 0 running, \d+\.\d/(s|min), took \d+\.\d s", screen), screen
    assert "━" in screen  # the bar
    assert MAPPED in screen
    # while it ran: a frame with a rate and an ETA
    assert re.search(r"[1-3]/4 done, [01] failed, [0-2] running, \d+\.\d/(s|min), ETA \d+\.\d s", script.text), (
        script.text
    )


def test_map_progress_writes_plain_lines_on_stderr_otherwise(run_script) -> None:
    script = run_script(MAP_BODY, tty=False)
    assert script.wait() == 0, script.stderr
    assert script.text.strip() == MAPPED  # stdout holds the results only
    lines = script.stderr.splitlines()
    assert lines[0].startswith("map: 0/4 done, 0 failed, 1 running"), lines
    assert re.fullmatch(r"map: 4/4 done, 1 failed, 0 running, \d+\.\d/(s|min), took \d+\.\d s", lines[-1]), lines


def test_map_progress_off_imports_no_display(run_script) -> None:
    """Off, a map costs nothing: none of the live views (nor IPython) are imported and nothing
    is written. (rich itself, live views included, is loaded by httpx, which imports it when it
    is installed: so the test looks at the library's own views.)"""
    script = run_script(
        """
        assert list(client.map([(1, 2), (3, 4)], api_name="/add")) == [3, 7]  # 3.0 == 3 (older servers)
        job = client.submit(1, 2, api_name="/add")
        job.result()
        repr(job)
        watched = sorted(m for m in sys.modules if m.split(".")[0] == "IPython" or m.startswith("gradio_jobs._live"))
        print("LOADED", watched)
        client.close()
        """,
        tty=False,
    )
    assert script.wait() == 0, script.stderr
    assert script.text.strip() == "LOADED []"
    assert script.stderr == ""


async def test_async_watch_and_map_progress_in_a_terminal(run_script) -> None:
    script = run_script(
        """
        import asyncio
        from gradio_jobs import AsyncClient

        async def main():
            async with AsyncClient(sys.argv[1], verbose=False) as aclient:
                job = aclient.submit(3, api_name="/progress")
                print("AWATCHED", await job.watch())
                results = [int(r) async for r in aclient.map([(1, 2), (3, 4)], api_name="/add", progress=True)]
                print("AMAPPED", results)

        client.close()
        asyncio.run(main())
        """,
        tty=True,
    )
    assert script.wait() == 0, script.text
    screen = render_screen(script.raw)
    assert re.search(r"✔ completed in \d+\.\d s", screen), screen
    assert "AWATCHED trained for 3 epochs" in screen
    assert re.search(r"2/2 done, 0 failed, 0 running", screen), screen
    assert "AMAPPED [3, 7]" in screen
    assert "info: warming up the model" in script.text


def test_pools_show_the_same_bar(run_script) -> None:
    script = run_script(
        """
        import asyncio
        from gradio_jobs import AsyncClientPool, ClientPool

        client.close()
        with ClientPool([sys.argv[1]]) as pool:
            print("POOL", [int(r) for r in pool.map([(1, 2), (3, 4)], api_name="/add", progress=True)])

        async def main():
            async with AsyncClientPool([sys.argv[1]]) as apool:
                print("APOOL", [int(r) async for r in apool.map([(5, 6)], api_name="/add", progress=True)])

        asyncio.run(main())
        """,
        tty=False,
    )
    assert script.wait() == 0, script.stderr
    assert script.text.splitlines() == ["POOL [3, 7]", "APOOL [11]"]
    finals = [line for line in script.stderr.splitlines() if ", took " in line]
    assert len(finals) == 2, script.stderr
    assert finals[0].startswith("map: 2/2 done, 0 failed, 0 running, ")
    assert finals[1].startswith("map: 1/1 done, 0 failed, 0 running, ")


def test_leaving_a_map_early_ends_its_bar_with_the_cancelled_jobs(run_script) -> None:
    script = run_script(
        """
        run = client.map([0.2, 30, 30], api_name="/one_worker", concurrency=3, progress=True)
        for result in run:
            print("FIRST", result)
            break
        del run  # dropping the run cancels the jobs in flight and ends the bar
        print("AFTER")
        client.close()
        """,
        tty=False,
    )
    assert script.wait() == 0, script.stderr
    assert script.text.splitlines() == ["FIRST rendered in 0.2 s", "AFTER"]
    last = script.stderr.splitlines()[-1]
    assert re.fullmatch(r"map: 1/3 done, 0 failed, 0 running, 2 cancelled, \d+\.\d/(s|min), took \d+\.\d s", last), (
        script.stderr
    )
