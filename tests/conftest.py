"""Shared fixtures: real Gradio servers, one per server generation.

Fixtures
--------
``server``          a running ``GradioServer`` (tests/servers.py) of ``tests/apps/core_app.py``;
                    the test is parametrized over the versions (ids ``gradio-6.31.0`` ...).
                    The servers come from a shared pool, started once per session.
``server_version``  the version string of the current parametrization (``server`` uses it).
``generation``      like ``server_version``, over every generation (3.50.2 to 6.31.0);
``gen_server``      its server. The behavioural suite uses these two.
``servers``         the session pool: ``servers["5.50.0"]`` / ``servers.get(v)``. On first
                    use it starts core_app on every version the collected tests need, concurrently.
``start_server``    factory for dedicated servers, stopped at the test's end:
                    ``start_server(app="core_app", version=None, args=["--max-size", "1"])``;
                    ``version=None`` means the test's ``server_version`` if it has one,
                    else the first available version.

A version whose venv is missing is skipped, naming the venv and ``./dev setup``.
``GRADIO_JOBS_VERSIONS=6.31.0,4.44.1`` restricts the versions; ``GRADIO_JOBS_SERVER_VENVS``
points at the venvs (default ``<repo>/.venvs``).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import (  # noqa: E402
    ALL_VERSIONS,
    SERVER_VERSIONS as _DEFAULT_VERSIONS,
    GradioServer,
    missing_venv_reason,
    requested_versions,
    start_many,
    venv_exists,
)

SERVER_VERSIONS = ["6.31.0", "5.50.0", "4.44.1"]
assert SERVER_VERSIONS == _DEFAULT_VERSIONS

SERVER_FIXTURES = {"server", "servers", "start_server", "gen_server"}
VERSION_PARAMS = ("server_version", "generation")
#: The versions the collected tests run against (the pool starts these together).
_needed_versions: list[str] = []


def version_id(version: str) -> str:
    return f"gradio-{version}"


class ServerPool:
    """One core_app server per version. The versions come in two groups, the current ones
    (the whole suite) and the older ones (the behavioural suite); the first use of a version
    starts its whole group at once, so a test worker that never needs old servers never
    starts them."""

    def __init__(self, versions: list[str]):
        self.versions = list(versions)
        self._servers: dict[str, GradioServer] = {}
        self._errors: dict[str, BaseException] = {}
        self._started_groups: set[bool] = set()
        self._lock = threading.Lock()
        self.startup_seconds: float | None = None

    def _start_group(self, current: bool) -> None:
        self._started_groups.add(current)
        todo = [v for v in self.versions if venv_exists(v) and (v in SERVER_VERSIONS) == current]
        t0 = time.monotonic()
        results = start_many([GradioServer(v) for v in todo], return_exceptions=True)
        self.startup_seconds = (self.startup_seconds or 0.0) + time.monotonic() - t0
        for v, r in zip(todo, results):
            if isinstance(r, BaseException):
                self._errors[v] = r
            else:
                self._servers[v] = r

    def get(self, version: str) -> GradioServer:
        if not venv_exists(version):
            pytest.skip(missing_venv_reason(version))
        with self._lock:
            if (version in SERVER_VERSIONS) not in self._started_groups:
                self._start_group(version in SERVER_VERSIONS)
            if version in self._errors:
                pytest.fail(
                    f"gradio {version} server failed to start:\n{self._errors[version]}",
                    pytrace=False,
                )
            srv = self._servers.get(version)
            if srv is None:  # not in the pool's list: start it on demand
                srv = self._servers[version] = GradioServer(version).start()
            elif not srv.running:  # a test killed it: bring it back for the others
                srv.stop()
                srv.start()
            return srv

    __getitem__ = get

    def __iter__(self):
        return iter(self.versions)

    def running(self) -> list[GradioServer]:
        return [s for s in self._servers.values() if s.running]

    def stop_all(self) -> None:
        for srv in self._servers.values():
            srv.stop()


_pool: ServerPool | None = None


@pytest.fixture(scope="session")
def servers():
    global _pool
    pool = _pool = ServerPool(_needed_versions or requested_versions(SERVER_VERSIONS))
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture(params=requested_versions(SERVER_VERSIONS), ids=version_id)
def server_version(request) -> str:
    return request.param


@pytest.fixture
def server(servers, server_version) -> GradioServer:
    return servers.get(server_version)


@pytest.fixture(params=requested_versions(ALL_VERSIONS), ids=version_id)
def generation(request) -> str:
    return request.param


@pytest.fixture
def gen_server(servers, generation) -> GradioServer:
    return servers.get(generation)


@pytest.fixture
def start_server(request):
    started: list[GradioServer] = []

    def factory(app: str = "core_app", version: str | None = None, args=(), **kwargs):
        if version is None:
            if "server_version" in request.fixturenames:
                version = request.getfixturevalue("server_version")
            else:
                candidates = requested_versions(SERVER_VERSIONS)
                version = next((v for v in candidates if venv_exists(v)), candidates[0])
        if not venv_exists(version):
            pytest.skip(missing_venv_reason(version))
        srv = GradioServer(version, app=app, args=args, **kwargs)
        started.append(srv)
        return srv.start()

    try:
        yield factory
    finally:
        for srv in started:
            srv.stop()


def pytest_collection_modifyitems(config, items):
    needed: set[str] = set()
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
        params = getattr(getattr(item, "callspec", None), "params", {})
        needed.update(params[name] for name in VERSION_PARAMS if name in params)
    _needed_versions[:] = [v for v in ALL_VERSIONS if v in needed]


# -- the compatibility matrix: what the behavioural suite found on each server version ----------

_matrix: dict[str, dict[str, dict[str, str]]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("feature")
    params = getattr(getattr(item, "callspec", None), "params", {})
    if marker is None or "generation" not in params:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        cells = _matrix.setdefault(params["generation"], {})
        feature = marker.args[0]
        if report.passed:
            found = dict(item.user_properties).get("matrix")
            if found is None and feature in cells:
                return  # a twin test passed too: keep what the first one found
            cell = {"result": "passed", "text": str(found or "yes")}
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            cell = {"result": "skipped", "text": reason.removeprefix("Skipped: ")}
        else:
            cell = {"result": "failed", "text": "fails"}
        if cells.get(feature, {}).get("result") in (None, "passed") or cell["result"] == "failed":
            cells[feature] = cell


def pytest_sessionfinish(session):
    if not _matrix:
        return
    path = Path(os.environ.get("GRADIO_JOBS_MATRIX_JSON") or Path(__file__).resolve().parent.parent / "build" / "compat.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers (pytest-xdist) finish at about the same time
        previous = json.loads(path.read_text()) if path.exists() else {}
        for version, cells in _matrix.items():  # a partial run updates what it ran
            previous.setdefault(version, {}).update(cells)
        path.write_text(json.dumps(previous, indent=1, sort_keys=True))


def pytest_terminal_summary(terminalreporter):
    if _pool is not None and _pool.startup_seconds is not None and _pool._servers:
        terminalreporter.write_line(
            f"gradio server pool ({', '.join(_pool.versions)}) started in "
            f"{_pool.startup_seconds:.1f} s"
        )
