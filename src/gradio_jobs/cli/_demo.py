"""``gradio-jobs demo``: start the bundled demo app, tour gradio-jobs against it, stop it.

The app (``demo_apps.py``) runs in a subprocess of this same Python on 127.0.0.1, on a
port the OS hands out; it is stopped by its pid (terminate, then kill) whatever happens.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import httpx
from rich.console import Console

from .._client import Client
from .._exceptions import GradioJobsError
from .._job import Job
from ..protocol import events as ev
from ._call import JobOutcome, JobSpec, choose_display, print_error, run_jobs
from ._display import Display, short
from ._exit import ExitCode
from ._info import endpoints_table

__all__ = ["DemoApp", "DemoError", "run"]

APP_FILE = Path(__file__).resolve().parent / "demo_apps.py"
PORT_ATTEMPTS = 3
STOP_GRACE = 5.0
_PORT_TAKEN = ("address already in use", "errno 98", "cannot find empty port", "only one usage of each socket")


class DemoError(Exception):
    """The demo could not run (the app did not start, or a tour job went wrong)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DemoApp:
    """The demo app in a subprocess: ``start()`` returns once ``GET /`` answers 200."""

    def __init__(self, startup_timeout: float = 180.0) -> None:
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def log_tail(self, lines: int = 25) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(deque(self.log_path.read_text(errors="replace").splitlines(), maxlen=lines))

    def start(self) -> DemoApp:
        deadline = time.monotonic() + self.startup_timeout
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._spawn(free_port())
            try:
                self._wait_ready(deadline)
                return self
            except DemoError:
                tail = self.log_tail().lower()
                self.stop()
                if attempt < PORT_ATTEMPTS and any(marker in tail for marker in _PORT_TAKEN):
                    continue  # someone took the port between our check and the app's bind
                raise
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _spawn(self, port: int) -> None:
        fd, log = tempfile.mkstemp(prefix="gradio-jobs-demo-", suffix=".log")
        self.log_path = Path(log)
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
        for key in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "GRADIO_ROOT_PATH"):
            env.pop(key, None)
        for key in ("NO_PROXY", "no_proxy"):
            env[key] = ",".join([h for h in env.get(key, "").split(",") if h] + ["127.0.0.1", "localhost"])
        self.port = port
        with os.fdopen(fd, "wb") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, str(APP_FILE), "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a Ctrl+C in the terminal reaches us, and we stop the app
            )

    def _wait_ready(self, deadline: float) -> None:
        assert self.proc is not None
        with httpx.Client(timeout=2.0, trust_env=False) as http:
            while True:
                code = self.proc.poll()
                if code is not None:
                    raise DemoError(
                        f"the demo app exited with code {code} before it was ready; its last lines:\n{self.log_tail()}"
                    )
                try:
                    if http.get(self.url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"the demo app did not answer on {self.url} within {self.startup_timeout:g} s; "
                        f"its last lines:\n{self.log_tail()}"
                    )
                time.sleep(0.2)

    def stop(self) -> None:
        """Terminate the app (kill it after a grace period); safe to repeat."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        elif proc is not None:
            proc.wait()
        if self.log_path is not None and proc is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None


# -- the tour -----------------------------------------------------------------------------------


class Tour:
    def __init__(self, client: Client, display: Display, stops: int) -> None:
        self.client = client
        self.display = display
        self.stops = stops
        self.number = 0

    def stop(self, title: str, command: str | None = None) -> None:
        self.number += 1
        self.display.note("")
        self.display.note(f"== {self.number}/{self.stops} {title}", style="bold")
        if command:
            self.display.note(f"   $ {command}", style="dim")

    def jobs(self, specs: Sequence[JobSpec]) -> list[JobOutcome]:
        outcomes = run_jobs(self.client, specs, self.display)
        if any(o.code is ExitCode.INTERRUPTED for o in outcomes):
            raise KeyboardInterrupt
        return outcomes

    def job(self, spec: JobSpec, expect: ExitCode = ExitCode.OK) -> JobOutcome:
        (outcome,) = self.jobs([spec])
        if outcome.code is not expect:
            raise DemoError(f"{spec.api_name} ended with {outcome.code.name}: {outcome.error}")
        if outcome.code is ExitCode.OK:
            self.display.note(f"result: {short(outcome.value)}", style="green")
        return outcome


def tour(client: Client, display: Display, out: Console) -> None:
    t = Tour(client, display, stops=6)
    src = client.src

    t.stop("the app's endpoints", f"gradio-jobs info {src}")
    out.print(endpoints_table(src, client.app.describe()))

    t.stop("a call: the calculator", f"gradio-jobs call {src} /add 3 4")
    t.job(JobSpec("/add", [3, 4]))

    t.stop("a generator streams its outputs", f"gradio-jobs call {src} /count 5")
    t.job(JobSpec("/count", [5]))

    t.stop("progress bars and logs (gr.Progress, gr.Info)", f"gradio-jobs call {src} /progress 5")
    t.job(JobSpec("/progress", [5]))

    t.stop("a one-worker queue: position, queue size and ETA")
    display.note("one job first, so that the server learns how long a job takes ...", style="dim")
    t.job(JobSpec("/one_worker", [1]))
    display.note("... then three at once: two of them wait in the queue", style="dim")
    outcomes = t.jobs([JobSpec("/one_worker", [1], title=f"/one_worker #{i}", tag=f"job {i}") for i in (1, 2, 3)])
    for i, outcome in enumerate(outcomes, 1):
        if outcome.code is not ExitCode.OK:
            raise DemoError(f"/one_worker #{i} ended with {outcome.code.name}: {outcome.error}")
    display.note("results: " + ", ".join(short(o.value) for o in outcomes), style="green")

    t.stop("cancelling a running job", f"gradio-jobs call {src} /count 50   # then Ctrl+C")

    def cancel_after_third_output(job: Job, event: ev.JobEvent) -> None:
        if isinstance(event, ev.OutputProduced) and event.index == 2:
            job.cancel()

    t.job(JobSpec("/count", [50], on_event=cancel_after_third_output), expect=ExitCode.CLIENT_ERROR)

    display.note("")
    display.note("that's the tour. Against any Gradio app: gradio-jobs info URL, gradio-jobs call URL API_NAME ARGS...")


def run(args: argparse.Namespace) -> int:
    out = Console()
    err = Console(stderr=True)
    if importlib.util.find_spec("gradio") is None:
        print_error(
            err,
            f"the demo app needs gradio, which is not installed for {sys.executable}: "
            f"pip install gradio  (or run ./dev demo)",
        )
        return ExitCode.APP_ERROR
    display = choose_display(json_output=False, quiet=False, out=out, err=err)
    display.note("starting the demo app (a calculator, a counting generator, a progress app, a one-worker queue) ...")
    app = DemoApp(args.startup_timeout)
    t0 = time.monotonic()
    try:
        try:
            app.start()
        except DemoError as exc:
            print_error(err, str(exc))
            return ExitCode.APP_ERROR
        display.note(f"demo app: pid {app.pid}, {app.url} (started in {time.monotonic() - t0:.1f} s)")
        t1 = time.monotonic()
        try:
            with Client(app.url, verbose=False) as client:
                tour(client, display, out)
        except (DemoError, GradioJobsError) as exc:
            print_error(err, exc if isinstance(exc, GradioJobsError) else str(exc))
            return ExitCode.APP_ERROR
        display.note(f"tour done in {time.monotonic() - t1:.1f} s")
    except KeyboardInterrupt:
        err.print("interrupted: stopping the demo app", style="yellow")
        return ExitCode.INTERRUPTED
    finally:
        pid = app.pid
        app.stop()
        if pid is not None:
            display.note(f"demo app stopped (pid {pid})")
    return ExitCode.OK
