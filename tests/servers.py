"""Real Gradio servers for the integration tests.

Each server generation lives in its own virtual environment,
``<venvs>/gradio-<version>`` (built by ``./dev setup``), where ``<venvs>`` is
``$GRADIO_JOBS_SERVER_VENVS`` or ``<repo>/.venvs``. A server is that venv's Python
running one of the apps in ``tests/apps`` on 127.0.0.1, on a port the OS handed out.

    srv = GradioServer("6.31.0", app="core_app", args=["--max-size", "1"]).start()
    srv.url      # "http://127.0.0.1:PORT/"
    srv.stop()   # idempotent

``start_many`` starts several servers at once (their start-up is mostly waiting on
imports, so it overlaps well).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import httpx

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
APPS_DIR = TESTS_DIR / "apps"

SERVER_VERSIONS = ["6.31.0", "5.50.0", "4.44.1"]
#: Every server generation: the whole suite runs on SERVER_VERSIONS, the behavioural suite
#: (tests/integration/test_generations.py) on all of these.
ALL_VERSIONS = SERVER_VERSIONS + ["4.21.0", "4.20.1", "4.16.0", "4.8.0", "3.50.2"]

STARTUP_TIMEOUT = 120.0
POLL_INTERVAL = 0.1
STOP_GRACE = 5.0
PORT_ATTEMPTS = 5

# Log lines meaning "someone else took our port": start again on a new one.
_PORT_TAKEN_MARKERS = ("Cannot find empty port", "address already in use", "Errno 98")


class ServerStartError(RuntimeError):
    """A server exited early or did not become ready in time."""


# ---------------------------------------------------------------- venvs and versions


def venvs_dir() -> Path:
    env = os.environ.get("GRADIO_JOBS_SERVER_VENVS")
    return Path(env) if env else REPO_ROOT / ".venvs"


def venv_dir(version: str) -> Path:
    return venvs_dir() / f"gradio-{version}"


def venv_python(version: str) -> Path:
    return venv_dir(version) / "bin" / "python"


def venv_exists(version: str) -> bool:
    return venv_python(version).exists()


def missing_venv_reason(version: str) -> str:
    return (
        f"no server venv for gradio {version}: {venv_python(version)} does not exist "
        f"(run ./dev setup, or set GRADIO_JOBS_SERVER_VENVS)"
    )


def requested_versions(default: Sequence[str] = SERVER_VERSIONS) -> list[str]:
    """The versions to test: ``$GRADIO_JOBS_VERSIONS`` (comma list) or ``default``."""
    env = os.environ.get("GRADIO_JOBS_VERSIONS", "").strip()
    if not env:
        return list(default)
    return [v.strip() for v in env.split(",") if v.strip()]


def available_versions(default: Sequence[str] = SERVER_VERSIONS) -> list[str]:
    """The requested versions (see ``requested_versions``) whose venv exists."""
    return [v for v in requested_versions(default) if venv_exists(v)]


def free_port() -> int:
    """A port on 127.0.0.1 the OS says is free right now (it may be taken again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_path(app: str) -> Path:
    """``"core_app"``, ``"core_app.py"`` or a path to an app file."""
    p = Path(app)
    if p.suffix != ".py":
        p = p.with_suffix(".py")
    if not p.is_absolute() and not p.exists():
        p = APPS_DIR / p
    return p


# ---------------------------------------------------------------- the server

_live: "set[GradioServer]" = set()
_live_lock = threading.Lock()


class GradioServer:
    """One Gradio app in a subprocess (its own process group), on 127.0.0.1.

    ``start()`` returns once ``GET /`` and ``GET /config`` both answer 200; it raises
    ``ServerStartError`` (with the end of the server's log) if the process exits first
    or the timeout passes. ``stop()`` can be called any number of times.
    """

    def __init__(
        self,
        version: str,
        app: str = "core_app",
        args: Sequence[str] = (),
        *,
        env: dict | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ):
        self.version = version
        self.app = app
        self.app_file = app_path(app)
        self.args = [str(a) for a in args]
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._log_file = None
        self._killed = False

    # -- info

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{self!r} was not started")
        return f"http://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def api_prefix(self) -> str:
        """``""`` on 4.x, ``"gradio_api/"`` on 5.x and later (relative to ``url``)."""
        return "gradio_api/" if self.major >= 5 else ""

    @property
    def api_url(self) -> str:
        return self.url + self.api_prefix

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 50) -> str:
        return "\n".join(deque(self.log_text().splitlines(), maxlen=lines))

    def __repr__(self) -> str:
        state = f"pid={self.pid} url={self.url}" if self.port else "not started"
        return f"<GradioServer {self.version} {self.app_file.name} {' '.join(self.args)} {state}>"

    # -- lifecycle

    def start(self) -> "GradioServer":
        if self.running:
            return self
        python = venv_python(self.version)
        if not python.exists():
            raise ServerStartError(missing_venv_reason(self.version))
        if not self.app_file.exists():
            raise ServerStartError(f"no such app: {self.app_file}")
        t0 = time.monotonic()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._cleanup()
            try:
                self._spawn(python, free_port())
                self._wait_ready(t0 + self.startup_timeout)
            except ServerStartError:
                log = self.log_text()
                self._kill()
                if attempt < PORT_ATTEMPTS and any(m in log for m in _PORT_TAKEN_MARKERS):
                    continue  # lost a race for the port: try another one
                self._cleanup()
                raise
            except BaseException:
                self.stop()
                raise
            self.startup_seconds = time.monotonic() - t0
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL after 5 s; safe to repeat."""
        self._kill()
        self._cleanup()

    def __enter__(self) -> "GradioServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- internals

    def _spawn(self, python: Path, port: int) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"gradio-{self.version}-"))
        self.log_path = self.workdir / "server.log"
        env = dict(os.environ)
        env.update(
            GRADIO_ANALYTICS_ENABLED="False",
            PYTHONUNBUFFERED="1",
            GRADIO_TEMP_DIR=str(self.workdir / "tmp"),
            HF_HUB_OFFLINE="1",
            HF_HUB_DISABLE_TELEMETRY="1",
        )
        for key in ("NO_PROXY", "no_proxy"):
            hosts = [h for h in env.get(key, "").split(",") if h]
            env[key] = ",".join(hosts + ["127.0.0.1", "localhost"])
        for key in ("GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME", "GRADIO_ROOT_PATH", "VIRTUAL_ENV"):
            env.pop(key, None)
        env.update(self.extra_env)
        cmd = [str(python), str(self.app_file), "--port", str(port), *self.args]
        self._log_file = open(self.log_path, "wb")
        self._log_file.write(("$ " + " ".join(cmd) + "\n").encode())
        self._log_file.flush()
        self.port = port
        self._killed = False
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=env,
            start_new_session=True,  # own process group: stop() signals it as a whole
        )
        with _live_lock:
            _live.add(self)

    def _wait_ready(self, deadline: float) -> None:
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                code = self.proc.poll()
                if code is not None:
                    raise ServerStartError(
                        f"gradio {self.version} server ({self.app_file.name}) exited with "
                        f"code {code} before it was ready; last lines of {self.log_path}:\n"
                        f"{self.log_tail(50)}"
                    )
                # An app behind a login answers its page but refuses /config with 401.
                protected = "--auth" in self.args
                config_ok = (200, 401) if protected else (200,)
                if self._answers(client, self.url) and self._answers(client, self.url + "config", config_ok):
                    return
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"gradio {self.version} server ({self.app_file.name}, pid {self.pid}) "
                        f"not ready after {self.startup_timeout:.0f} s at {self.url}; "
                        f"last lines of {self.log_path}:\n{self.log_tail(50)}"
                    )
                time.sleep(POLL_INTERVAL)

    @staticmethod
    def _answers(client: httpx.Client, url: str, ok: tuple[int, ...] = (200,)) -> bool:
        try:
            return client.get(url).status_code in ok
        except httpx.HTTPError:
            return False

    def _kill(self) -> None:
        proc = self.proc
        if proc is None or self._killed:
            return
        pid = proc.pid
        if proc.poll() is None:
            _signal_group(pid, signal.SIGTERM)
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                _signal_group(pid, signal.SIGKILL)
                proc.wait()
        # children the app may have left behind in its group
        _signal_group(pid, signal.SIGKILL)
        self._killed = True
        with _live_lock:
            _live.discard(self)

    def _cleanup(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.workdir is not None and not os.environ.get("GRADIO_JOBS_KEEP_SERVER_LOGS"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def _signal_group(pgid: int, sig: int) -> None:
    """Signal the process group we created for the server (its id is the server's pid)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def _stop_leftovers() -> None:
    with _live_lock:
        leftovers = list(_live)
    for srv in leftovers:
        srv.stop()


# ---------------------------------------------------------------- several at once


def _as_server(spec) -> GradioServer:
    if isinstance(spec, GradioServer):
        return spec
    if isinstance(spec, str):
        return GradioServer(spec)
    if isinstance(spec, dict):
        return GradioServer(**spec)
    return GradioServer(*spec)


def start_many(specs: Iterable, *, return_exceptions: bool = False) -> list:
    """Start several servers concurrently.

    Each spec is a ``GradioServer``, a version string, a dict of ``GradioServer``
    keyword arguments or a tuple of its positional arguments. Returns the started
    servers in order. If one fails, the others are stopped and its error is raised,
    unless ``return_exceptions`` is true: then the failed slots hold the exception and
    the rest keep running.
    """
    servers = [_as_server(s) for s in specs]
    results: list = [None] * len(servers)

    def run(i: int) -> None:
        try:
            results[i] = servers[i].start()
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if return_exceptions:
        return results
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        for srv in servers:
            srv.stop()
        if len(errors) == 1:
            raise errors[0]
        raise ServerStartError("\n\n".join(str(e) for e in errors))
    return results


if __name__ == "__main__":  # manual use: python tests/servers.py [VERSION ...]
    versions = sys.argv[1:] or available_versions()
    t0 = time.monotonic()
    started = start_many(versions)
    print(f"started {len(started)} servers in {time.monotonic() - t0:.1f} s")
    for s in started:
        print(f"  {s.version}: {s.url} pid {s.pid} ({s.startup_seconds:.1f} s)")
    try:
        input("press Enter to stop them ")
    except (EOFError, KeyboardInterrupt):
        pass
    for s in started:
        s.stop()


@contextlib.contextmanager
def serving(version: str, app: str) -> Iterator[GradioServer]:
    """A server of ``app`` on ``version`` for a fixture's lifetime (the test is skipped,
    naming the venv, where that version is not built)."""
    import pytest

    if not venv_exists(version):
        pytest.skip(missing_venv_reason(version))
    server = GradioServer(version, app=app).start()
    try:
        yield server
    finally:
        server.stop()
