"""The test servers themselves: right version, right endpoints, and stop() really stops."""

import os
import time

import httpx
import psutil
import pytest
from servers import GradioServer, available_versions, start_many

EXPECTED_API_NAMES = {"add", "count", "grow", "incr", "sleeper", "multi", "shrink_list"}


def get_config(server):
    r = httpx.get(server.url + "config", timeout=10, trust_env=False)
    r.raise_for_status()
    return r.json()


def test_config_version_and_endpoints(server):
    config = get_config(server)
    assert config["version"] == server.version
    api_names = {d.get("api_name") for d in config["dependencies"]}
    missing = EXPECTED_API_NAMES - api_names
    assert not missing, f"missing endpoints {missing} in {sorted(map(str, api_names))}"


def test_server_binds_loopback_only(server):
    assert server.url.startswith("http://127.0.0.1:")
    proc = psutil.Process(server.pid)
    list_conns = getattr(proc, "net_connections", None) or proc.connections  # psutil < 6
    conns = [c for c in list_conns("tcp") if c.status == "LISTEN"]
    assert conns, "the server listens on no TCP port"
    assert {c.laddr.ip for c in conns} == {"127.0.0.1"}
    assert server.port in {c.laddr.port for c in conns}


def test_stop_kills_the_process():
    """noop_app on every available version, started together, then stopped."""
    versions = available_versions()
    if not versions:
        pytest.skip("no server venvs (run ./dev setup)")
    started = start_many([GradioServer(v, app="noop_app") for v in versions])
    try:
        for srv in started:
            assert psutil.pid_exists(srv.pid)
            assert get_config(srv)["version"] == srv.version
    finally:
        for srv in started:
            srv.stop()
    for srv in started:
        srv.stop()  # idempotent
        pid = srv.pid
        deadline = time.monotonic() + 5
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not psutil.pid_exists(pid), f"pid {pid} ({srv.version}) still exists after stop()"
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # nothing left in the server's process group either
        with pytest.raises(httpx.TransportError):
            httpx.get(srv.url + "config", timeout=2, trust_env=False)
