"""Clean shutdown: close() and `with` cancel pending jobs on the server and leave nothing behind;
scripts exit at once; Ctrl+C cancels the job on the server."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from gradio_jobs import AsyncClient, Client
from gradio_jobs.protocol import events as ev
from waiting import await_event, wait_for_event, wait_until

ROOT = Path(__file__).resolve().parents[2]

#: Ticks of a live generator on the same server that make one observation window (0.5 s of
#: the server's own time: a loaded machine slows the window as much as what it watches).
WINDOW_TICKS = 5
#: How long after a cancel the generators may take to stop: far less than the 20-30 s the
#: tests' generators would go on ticking if they had not been stopped. A bound, not a measure.
STOP_WITHIN = 10.0


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def assert_stops_growing(server, path: Path, within: float = STOP_WITHIN) -> int:
    """The app's generators writing ``path`` (one line per tick) have stopped on the server:
    ``path`` does not grow while a live generator on the same server ticks WINDOW_TICKS times.
    Windows follow each other until one is quiet (a step in flight when the cancel landed may
    still write its line), for at most ``within`` seconds. Returns the number of lines."""
    witness_path = path.with_name(path.name + "-witness")
    deadline = time.monotonic() + within
    with Client(server.url, verbose=False) as witness_client:
        while True:
            before = len(lines(path))
            witness = witness_client.submit(str(witness_path), WINDOW_TICKS, api_name="/ticks")
            assert witness.result(timeout=60) == WINDOW_TICKS - 1
            after = len(lines(path))
            if after == before:
                return after
            assert time.monotonic() < deadline, (
                f"{path.name} still grew ({before} -> {after} lines) during a window of {WINDOW_TICKS} ticks "
                f"{within:.0f} s after the cancel: the generators were not stopped on the server"
            )


def connections_to(server) -> list:
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    return [c for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == port]


def gradio_jobs_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("gradio-jobs")]


def _second_output(event) -> bool:
    return isinstance(event, ev.OutputProduced) and event.index >= 1


def test_with_block_cancels_pending_jobs_and_leaves_nothing_behind(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    with Client(server.url, verbose=False) as client:
        job = client.submit(str(ticks), 200, api_name="/ticks")
        queued = [client.submit(0.5, api_name="/sleeper") for _ in range(3)]
        wait_for_event(job, _second_output, what="the generator's second output")
    assert job.cancelled() and all(q.cancelled() or q.done() for q in queued)
    assert gradio_jobs_threads() == []
    # the OS closes sockets on its own time: no event to wait on
    wait_until(lambda: connections_to(server) == [], describe=lambda: f"connections left open: {connections_to(server)}")
    assert_stops_growing(server, ticks)  # (its witness client opens connections and a thread of its own)


async def test_async_close_cancels_pending_jobs(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    client = AsyncClient(server.url, verbose=False)
    await client.connect()
    job = client.submit(str(ticks), 200, api_name="/ticks")
    await await_event(job, _second_output, what="the generator's second output")
    await client.close()
    assert job.cancelled() and job.cancel_outcome == "stopped"
    assert gradio_jobs_threads() == []  # AsyncClient never starts a thread
    assert_stops_growing(server, ticks)  # (a sync witness client: this loop has nothing left to run)


def run_script(code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """The next line the script prints, within ``timeout`` seconds."""
    got: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: got.put(proc.stdout.readline()), daemon=True).start()
    try:
        line = got.get(timeout=timeout)
    except queue.Empty:
        line = None
    if not line:  # nothing yet, or it ended without a line
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the script printed no line within {timeout:.0f} s; its stderr:\n{err}", pytrace=False)
    return line


#: The script's ten generators would need 20 s more (200 ticks of 0.1 s): a script that exits
#: within this bound did not wait for them. A bound on a hang, not a measure of "at once".
SCRIPT_EXIT_WITHIN = 10.0


def test_script_that_submits_50_jobs_and_returns_exits_at_once(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    proc = run_script(f"""
        import time
        from gradio_jobs import Client
        client = Client({server.url!r}, verbose=False)
        jobs = [client.submit(1, 2, api_name="/add") for _ in range(40)]
        jobs += [client.submit({str(ticks)!r}, 200, api_name="/ticks") for _ in range(10)]
        next(iter(jobs[-1]))  # its first output: the generators are running
        print(time.time(), flush=True)
    """)
    last_line = read_line(proc, timeout=60)
    try:
        _, err = proc.communicate(timeout=SCRIPT_EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the script did not exit within {SCRIPT_EXIT_WITHIN:.0f} s of its last line: it waited "
                    f"for its pending jobs; its stderr:\n{err}", pytrace=False)
    exit_time = time.time() - float(last_line)
    assert proc.returncode == 0, err
    print(f"\nscript with 50 pending jobs exited {exit_time * 1000:.0f} ms after its last line")
    assert_stops_growing(server, ticks)  # its pending generators were cancelled on the server


@pytest.mark.parametrize("how", ["predict", "iterate"])
def test_ctrl_c_cancels_the_job_on_the_server(server, tmp_path: Path, how: str) -> None:
    ticks = tmp_path / "ticks"
    wait = "client.predict(path, 300, api_name='/ticks')" if how == "predict" else \
        "for out in client.submit(path, 300, api_name='/ticks'): pass"
    proc = run_script(f"""
        from gradio_jobs import Client
        client = Client({server.url!r}, verbose=False)
        path = {str(ticks)!r}
        try:
            {wait}
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            raise
    """)
    # the app's generator writes its ticks to a file: no event of ours to wait on
    wait_until(lambda: len(lines(ticks)) >= 3, describe=lambda: f"{len(lines(ticks))} ticks written")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "interrupted" in out and "KeyboardInterrupt" in err
    assert assert_stops_growing(server, ticks) < 100


def test_a_client_that_cannot_connect_leaves_no_thread_behind(server) -> None:
    from servers import free_port

    nobody = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    with pytest.raises(ConnectionError):
        Client(nobody, verbose=False)
    assert gradio_jobs_threads() == []
    with Client(server.url, verbose=False) as client:  # the next client starts the loop again
        assert client.predict(1, 2, api_name="/add") == 3
        with pytest.raises(ConnectionError):  # a failure while another client is open keeps the loop
            Client(nobody, verbose=False)
        assert client.predict(2, 2, api_name="/add") == 4
    assert gradio_jobs_threads() == []
