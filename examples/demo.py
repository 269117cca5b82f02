"""A short tour of gradio-jobs against the bundled demo app, started on 127.0.0.1 and stopped after.

    ./dev demo
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gradio_jobs import AppError, AsyncClient, Client, Status

HERE = Path(__file__).resolve().parent


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, str(HERE / "demo_app.py"), str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the demo app failed to start")
        try:
            if httpx.get(url + "config", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the demo app did not start in time")


def show(title: str) -> None:
    print(f"\n== {title}")


def tour(url: str) -> None:
    client = Client(url, verbose=False)

    show("predict: a calculator")
    print("client.predict(3, 4, api_name='/add') ->", client.predict(3, 4, api_name="/add"))
    print("client.predict(b=10, api_name='/add') ->", client.predict(b=10, api_name="/add"), "(a defaults to 1)")

    show("streaming a generator: for out in job")
    for out in client.submit(5, api_name="/count"):
        print("  output:", out)

    show("progress and logs: job.status()")
    job = client.submit(8, api_name="/train")
    last = None
    while not job.done():
        status = job.status()
        if status.progress_data and status.progress_data != last:
            unit = status.progress_data[0]
            bar = "#" * int(unit.index or 0) + "." * int((unit.length or 0) - (unit.index or 0))
            print(f"  {unit.desc} [{bar}] {unit.index}/{unit.length} {unit.unit}")
            last = status.progress_data
        time.sleep(0.05)
    logs = [e.log.message for e in job.event_log() if hasattr(e, "log")]
    print("  result:", job.result(), "| logs:", logs)

    show("a one-worker queue: rank, queue size, ETA")
    client.predict(0.5, api_name="/render")  # the server learns the average run time
    jobs = [client.submit(0.5, api_name="/render") for _ in range(3)]
    time.sleep(0.2)
    for i, j in enumerate(jobs):
        s = j.status()
        eta = f"{s.eta:.1f} s" if s.eta is not None else "-"
        where = f"rank {s.rank} of {s.queue_size}, ETA {eta}" if s.code is Status.IN_QUEUE else s.code.value
        print(f"  job {i}: {where}")
    print("  results:", [j.result() for j in jobs])

    show("errors keep the app's message")
    try:
        client.predict(1, 0, api_name="/divide")
    except AppError as exc:
        print(f"  AppError: title={exc.title!r} message={exc.message!r}")

    show("cancelling a running job")
    job = client.submit(20, api_name="/count")
    first = next(iter(job))
    print("  first output:", first, "| cancel() ->", job.cancel(), "| status:", job.status().code.value)
    client.close()

    show("the same with AsyncClient")

    async def main() -> None:
        async with AsyncClient(url, verbose=False) as ac:
            sums = await asyncio.gather(*(ac.predict(i, i, api_name="/add") for i in range(5)))
            print("  five concurrent predicts:", sums)
            async for out in ac.submit(3, api_name="/count"):
                print("  async output:", out)

    asyncio.run(main())


def main() -> None:
    print("starting the bundled demo app ...")
    proc, url = start_app()
    try:
        print("demo app at", url)
        tour(url)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("\ndone: the demo app is stopped.")


if __name__ == "__main__":
    main()
