"""Clean shutdown: close() and `with` cancel pending jobs on the server and leave nothing behind;
scripts exit at once; Ctrl+C cancels the job on the server."""

from __future__ import annotations

import os
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
from waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def stopped_growing(path: Path) -> bool:
    time.sleep(0.6)
    before = len(lines(path))
    time.sleep(0.6)
    return len(lines(path)) == before


def connections_to(server) -> list:
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    return [c for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == port]


def gradio_jobs_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("gradio-jobs")]


def test_with_block_cancels_pending_jobs_and_leaves_nothing_behind(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    with Client(server.url, verbose=False) as client:
        job = client.submit(str(ticks), 200, api_name="/ticks")
        queued = [client.submit(0.5, api_name="/sleeper") for _ in range(3)]
        wait_until(lambda: len(job.outputs()) >= 2)
    assert job.cancelled() and all(q.cancelled() or q.done() for q in queued)
    assert stopped_growing(ticks)
    assert gradio_jobs_threads() == []
    wait_until(lambda: connections_to(server) == [], timeout=5)


async def test_async_close_cancels_pending_jobs(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    client = AsyncClient(server.url, verbose=False)
    await client.connect()
    job = client.submit(str(ticks), 200, api_name="/ticks")
    while len(job.outputs()) < 2:
        import asyncio
        await asyncio.sleep(0.02)
    await client.close()
    assert job.cancelled() and job.cancel_outcome == "stopped"
    assert stopped_growing(ticks)
    assert gradio_jobs_threads() == []  # AsyncClient never starts a thread


def run_script(code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_script_that_submits_50_jobs_and_returns_exits_at_once(server, tmp_path: Path) -> None:
    ticks = tmp_path / "ticks"
    proc = run_script(f"""
        import time
        from gradio_jobs import Client
        client = Client({server.url!r}, verbose=False)
        jobs = [client.submit(1, 2, api_name="/add") for _ in range(40)]
        jobs += [client.submit({str(ticks)!r}, 200, api_name="/ticks") for _ in range(10)]
        while len(jobs[-1].outputs()) < 1:
            time.sleep(0.01)
        print(time.time(), flush=True)
    """)
    out, err = proc.communicate(timeout=60)
    exited = time.time()
    assert proc.returncode == 0, err
    exit_time = exited - float(out.strip().splitlines()[-1])
    print(f"\nscript with 50 pending jobs exited {exit_time * 1000:.0f} ms after its last line")
    assert exit_time < 1.0
    assert stopped_growing(ticks)  # its pending generators were cancelled on the server


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
    wait_until(lambda: len(lines(ticks)) >= 3, timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "interrupted" in out and "KeyboardInterrupt" in err
    assert stopped_growing(ticks)
    assert len(lines(ticks)) < 100


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
