"""The fault-injection proxy (tests/proxy.py) itself, against a real Gradio server.

Plain httpx only (not the project's client): each test shows one proxy command doing
what it says. One server version is enough to test the proxy: gradio 6.31.0.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid

import httpx
import psutil
import pytest
from waiting import wait_until
from proxy import FaultProxy

VERSION = "6.31.0"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def srv(servers):
    if VERSION not in servers.versions:
        pytest.skip(f"the proxy is tested against gradio {VERSION} only, which is not requested")
    return servers.get(VERSION)


@pytest.fixture
def proxy(srv):
    with FaultProxy(srv.port) as p:
        yield p
    assert p._thread is not None and not p._thread.is_alive()


def client(timeout: float = 10.0, **kwargs) -> httpx.Client:
    return httpx.Client(timeout=timeout, trust_env=False, **kwargs)


def sleeper_fn_index(srv) -> int:
    config = httpx.get(srv.url + "config", timeout=10, trust_env=False).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "sleeper")


def join_sleeper(http: httpx.Client, api_url: str, fn_index: int, secs: float = 3) -> str:
    """POST queue/join for /sleeper; returns the session hash to stream."""
    session_hash = uuid.uuid4().hex[:11]
    body = {"data": [secs], "fn_index": fn_index, "session_hash": session_hash,
            "event_data": None, "trigger_id": None}
    r = http.post(api_url + "queue/join", json=body)
    r.raise_for_status()
    assert "event_id" in r.json(), r.text
    return session_hash


def first_message(lines) -> str:
    for line in lines:
        if line.startswith("data:"):
            return line
    raise AssertionError("the queue/data stream ended before its first message")


def drain(lines, seen: list) -> None:
    for line in lines:
        seen.append(line)


def conn_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# ---------------------------------------------------------------------------------------


def test_only_forwards_to_loopback():
    with pytest.raises(AssertionError):
        FaultProxy(80, target_host="10.0.0.1")


def test_config_through_proxy_equals_direct(srv, proxy):
    assert proxy.url == f"http://127.0.0.1:{proxy.port}/"
    with client() as http:
        direct = http.get(srv.url + "config")
        proxied = http.get(proxy.url + "config")
    assert direct.status_code == proxied.status_code == 200
    a, b = direct.json(), proxied.json()
    # the Host header went through untouched, so gradio names the proxy as its root
    assert b.pop("root").rstrip("/") == proxy.url.rstrip("/")
    assert a.pop("root").rstrip("/") == srv.url.rstrip("/")
    assert a == b
    assert proxy.requests == ["GET /config HTTP/1.1"]
    # the proxy thread counts a chunk after forwarding it: the client can be faster
    wait_until(lambda: proxy.bytes_down >= len(proxied.content), timeout=5)
    assert proxy.bytes_up > 0
    proxy.wait_for_connections(0)  # the client closed its pool: the proxy follows


def test_cut_ends_a_queue_stream(srv, proxy):
    fn_index = sleeper_fn_index(srv)
    api = proxy.url + srv.api_prefix
    with client() as http, client() as streamer:
        session_hash = join_sleeper(http, api, fn_index, secs=3)
        seen: list[str] = []
        with streamer.stream("GET", api + f"queue/data?session_hash={session_hash}") as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            seen.append(first_message(lines))
            assert proxy.connections == 2  # the join's keep-alive one and the stream
            t0 = time.monotonic()
            assert proxy.cut() == 2
            assert proxy.connections == 0
            with pytest.raises(httpx.TransportError):
                drain(lines, seen)
            elapsed = time.monotonic() - t0
        assert not any("process_completed" in line for line in seen), seen
        assert elapsed < 2.5, f"the stream took {elapsed:.2f} s to fail (the job takes 3 s)"
        # new connections work after a cut
        assert http.get(proxy.url + "config").status_code == 200
    assert any("queue/data" in line for line in proxy.requests)


def test_cut_matching_spares_other_connections(srv, proxy):
    fn_index = sleeper_fn_index(srv)
    with client(base_url=proxy.url) as keepalive, client() as streamer:
        assert keepalive.get("config").status_code == 200
        # joined directly, so that the proxied stream opens its own connection
        session_hash = join_sleeper(streamer, srv.api_url, fn_index, secs=3)
        seen: list[str] = []
        url = proxy.url + srv.api_prefix + f"queue/data?session_hash={session_hash}"
        with streamer.stream("GET", url) as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            seen.append(first_message(lines))
            assert proxy.connections == 2
            assert sorted(proxy.open_requests)[0] == "GET /config HTTP/1.1"
            assert proxy.cut_matching(lambda line: "/queue/data?" in line) == 1
            with pytest.raises(httpx.TransportError):
                drain(lines, seen)
        assert not any("process_completed" in line for line in seen), seen
        assert proxy.connections == 1
        before = proxy.requests
        assert keepalive.get("config").status_code == 200
        # served on the surviving keep-alive connection: no new connection was opened
        assert proxy.requests == before
        assert proxy.connections == 1
        assert proxy.cut_matching("no such request") == 0


def test_stall_times_out_and_resume_flushes(srv, proxy):
    with client(timeout=1.0, base_url=proxy.url) as http:
        assert http.get("config").status_code == 200
        proxy.stall()
        assert proxy.stalled
        with pytest.raises(httpx.TimeoutException):  # an open keep-alive connection
            http.get("config")
    with client(timeout=1.0) as http:
        with pytest.raises(httpx.TimeoutException):  # a new connection
            http.get(proxy.url + "config")

    # a request made while stalled is held, then goes through on resume()
    result: dict = {}

    def held_request():
        try:
            with client(timeout=20.0) as http:
                result["status"] = http.get(proxy.url + "config").status_code
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    n = len(proxy.requests)
    t = threading.Thread(target=held_request, daemon=True)
    t.start()
    wait_until(lambda: len(proxy.requests) > n, timeout=10, describe="the held request never reached the proxy")
    # held: while a request sent to the server directly makes its round trips, it gets no answer
    # (direct round trips, not a sleep: a loaded server slows both alike)
    with client() as direct:
        for _ in range(5):
            assert direct.get(srv.url + "config").status_code == 200
    assert t.is_alive() and not result, result
    proxy.resume()
    assert not proxy.stalled
    t.join(15)
    assert result == {"status": 200}

    with client(timeout=1.0) as http:
        assert http.get(proxy.url + "config").status_code == 200


def test_refuse_and_accept(proxy):
    proxy.refuse()
    assert proxy.refusing
    with client(timeout=5.0) as http:
        with pytest.raises(httpx.TransportError):
            http.get(proxy.url + "config")
    assert proxy.refused >= 1
    assert proxy.connections == 0
    assert proxy.requests == []
    proxy.accept()
    with client(timeout=5.0) as http:
        assert http.get(proxy.url + "config").status_code == 200


def test_slow_adds_latency_and_limits_bandwidth(proxy):
    with client() as http:
        proxy.slow(0.2)
        t0 = time.monotonic()
        assert http.get(proxy.url + "config").status_code == 200
        # the request chunk and the first response chunk are each held 0.2 s
        assert time.monotonic() - t0 >= 0.38

        proxy.slow(delay_s=0, bytes_per_s=200_000)
        t0 = time.monotonic()
        r = http.get(proxy.url + "config")
        elapsed = time.monotonic() - t0
        assert r.status_code == 200
        assert elapsed >= 0.8 * len(r.content) / 200_000, (elapsed, len(r.content))

        proxy.normal()
        assert http.get(proxy.url + "config").status_code == 200


def test_stop_leaves_no_thread_and_no_listener(srv):
    proxy = FaultProxy(srv.port).start()
    port, thread = proxy.port, proxy._thread
    assert thread in threading.enumerate()
    assert not conn_refused(port)
    with client(timeout=1.0, base_url=proxy.url) as idle, client(timeout=20.0) as busy:
        assert idle.get("config").status_code == 200  # an idle keep-alive connection
        # and a request held by a stall, in flight when stop() comes
        proxy.stall()
        result: dict = {}

        def stalled_request():
            try:
                result["status"] = busy.get(proxy.url + "config").status_code
            except Exception as e:  # noqa: BLE001
                result["error"] = e

        t = threading.Thread(target=stalled_request, daemon=True)
        t.start()
        proxy.wait_for_request(lambda line: line.startswith("GET /config"), timeout=10)
        proxy.wait_for_connections(2, timeout=10)

        t0 = time.monotonic()
        proxy.stop()
        assert time.monotonic() - t0 < 2.5
        proxy.stop()  # idempotent

        t.join(10)
        assert isinstance(result.get("error"), httpx.TransportError), result
        with pytest.raises(httpx.TransportError):
            idle.get("config")

    assert not thread.is_alive()
    assert thread not in threading.enumerate()
    assert not any(t.name.startswith("FaultProxy") for t in threading.enumerate())
    assert proxy.connections == 0
    assert conn_refused(port)
    me = psutil.Process()
    list_conns = getattr(me, "net_connections", None) or me.connections
    assert not [c for c in list_conns("tcp") if c.laddr and c.laddr.port == port and c.status == "LISTEN"]
    with pytest.raises(RuntimeError):
        proxy.cut()
