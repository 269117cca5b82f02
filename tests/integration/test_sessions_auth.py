"""Sessions, login and credentials against real servers (the README's "Files, sessions, logins and Spaces").

Each version runs ``tests/apps/session_app.py`` once for the whole module, in one process
serving two copies: one behind a login (``--auth``) and one open (``--open-copy``). Its
unload handler leaves ``unload-<session_hash>`` (holding the session's username) in a
marker folder, so a test sees exactly when the server ended a session.

Credentials must reach the app and nobody else. "Nobody else" is a recording HTTP server
(stdlib, in a thread, on 127.0.0.1 but another port: another origin, yet the same cookie
domain, so a cookie jar alone would send the login cookies there). Each sync test has an
async twin where the code paths differ.
"""

from __future__ import annotations

import asyncio
import http.server
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import gradio_jobs
from gradio_jobs import AsyncClient, AuthenticationError, Client, ServerUnreachableError
from gradio_jobs.transport.http import HttpTransport, call_extensions
from proxy import FaultProxy
from servers import GradioServer, missing_venv_reason, requested_versions, start_many, venv_exists
from waiting import await_until, wait_until

pytestmark = pytest.mark.server

USER, PASSWORD = "alice", "wonder-land"
TOKEN = "hf_secret"
DOC = b"the foreign document\n"
# What must never reach another origin.
CREDENTIAL_HEADERS = ("x-hf-authorization", "authorization", "proxy-authorization", "cookie", "x-custom")


# ---------------------------------------------------------------- the servers


@dataclass
class SessionApps:
    """One session_app process: ``auth_url`` needs a login, ``open_url`` does not."""

    server: GradioServer
    open_url: str
    markers: Path

    @property
    def version(self) -> str:
        return self.server.version

    @property
    def auth_url(self) -> str:
        return self.server.url

    def marker(self, session_hash: str) -> Path:
        return self.markers / f"unload-{session_hash}"

    def unloaded(self, session_hash: str) -> bool:
        """Whether the server ran the unload handler for this session."""
        return self.marker(session_hash).exists()

    def unload_user(self, session_hash: str) -> str:
        return self.marker(session_hash).read_text()

    def wait_unloaded(self, session_hash: str, timeout: float = 10.0) -> None:
        wait_until(
            lambda: self.unloaded(session_hash),
            timeout=timeout,
            describe=lambda: f"no unload for {session_hash}; markers: {sorted(p.name for p in self.markers.iterdir())}",
        )


class _SessionPool:
    """session_app on every requested version, all started together on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._apps: dict[str, SessionApps] = {}
        self._errors: dict[str, BaseException] = {}
        self._started = False
        self._lock = threading.Lock()

    def get(self, version: str) -> SessionApps:
        if not venv_exists(version):
            pytest.skip(missing_venv_reason(version))
        with self._lock:
            if not self._started:
                self._start_all()
            if version in self._errors:
                pytest.fail(f"gradio {version} session_app failed to start:\n{self._errors[version]}", pytrace=False)
            return self._apps[version]

    def _start_all(self) -> None:
        self._started = True
        todo = [v for v in requested_versions() if venv_exists(v)]
        servers = []
        for v in todo:
            markers = self.root / f"gradio-{v}"
            markers.mkdir()
            args = ["--auth", f"{USER}:{PASSWORD}", "--open-copy", "--marker-dir", str(markers)]
            servers.append(GradioServer(v, app="session_app", args=args))
        for v, result in zip(todo, start_many(servers, return_exceptions=True)):
            if isinstance(result, BaseException):
                self._errors[v] = result
                continue
            markers = Path(result.args[-1])
            port = int((markers / "open-port").read_text())
            self._apps[v] = SessionApps(result, f"http://127.0.0.1:{port}/", markers)

    def stop_all(self) -> None:
        for apps in self._apps.values():
            apps.server.stop()


@pytest.fixture(scope="module")
def session_pool(tmp_path_factory):
    pool = _SessionPool(tmp_path_factory.mktemp("session-markers"))
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def apps(session_pool, server_version) -> SessionApps:
    return session_pool.get(server_version)


# ---------------------------------------------------------------- a recording foreign host


class Recorder:
    """A plain HTTP server on 127.0.0.1 that records every request's path and headers.

    ``/doc.txt`` answers ``DOC``; ``/redirect`` answers 302 to ``redirect_to``; ``/login``
    sets a cookie (for the transport-level test, where a recorder plays the app).
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.redirect_to: str | None = None
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                recorder.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.path.startswith("/redirect") and recorder.redirect_to:
                    self._answer(302, b"", {"Location": recorder.redirect_to})
                elif self.path.startswith("/doc.txt"):
                    self._answer(200, DOC, {"Content-Type": "text/plain"})
                else:
                    self._answer(404, b"not here", {})

            def do_POST(self) -> None:  # noqa: N802
                recorder.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self._answer(200, b"{}", {"Set-Cookie": "sid=s3cret; Path=/"})

            def _answer(self, code: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="recorder", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def leaked(headers: dict[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in CREDENTIAL_HEADERS if name in headers}


@pytest.fixture
def foreign():
    """Two recorders: ``doc`` serves the file, ``hop`` redirects to it."""
    doc, hop = Recorder(), Recorder()
    hop.redirect_to = doc.url + "doc.txt"
    try:
        yield doc, hop
    finally:
        doc.stop()
        hop.stop()


# ---------------------------------------------------------------- state


def test_state_counts_per_session_and_reset_session_starts_afresh(apps: SessionApps) -> None:
    with Client(apps.open_url, verbose=False) as client:
        assert [client.predict(api_name="/incr") for _ in range(3)] == [1, 2, 3]
        old = client.session_hash
        client.reset_session()
        assert client.session_hash != old
        assert client.predict(api_name="/incr") == 1
        assert client.predict(api_name="/incr") == 2


async def test_state_counts_per_session_and_reset_session_starts_afresh_async(apps: SessionApps) -> None:
    async with AsyncClient(apps.open_url, verbose=False) as client:
        assert [await client.predict(api_name="/incr") for _ in range(3)] == [1, 2, 3]
        old = client.session_hash
        client.reset_session()
        assert client.session_hash != old
        assert await client.predict(api_name="/incr") == 1


def test_two_clients_never_share_state(apps: SessionApps) -> None:
    with Client(apps.open_url, verbose=False) as one, Client(apps.open_url, verbose=False) as two:
        assert one.session_hash != two.session_hash
        assert one.predict(api_name="/incr") == 1
        assert two.predict(api_name="/incr") == 1
        assert one.predict(api_name="/incr") == 2
        assert one.predict(api_name="/incr") == 3
        assert two.predict(api_name="/incr") == 2


async def test_two_clients_never_share_state_async(apps: SessionApps) -> None:
    async with AsyncClient(apps.open_url, verbose=False) as one, AsyncClient(apps.open_url, verbose=False) as two:
        # interleaved on the server: submitted together, one pair at a time
        for expected in (1, 2, 3):
            assert await asyncio.gather(one.submit(api_name="/incr"), two.submit(api_name="/incr")) == [
                expected,
                expected,
            ]
        assert await one.predict(api_name="/incr") == 4
        assert await two.predict(api_name="/incr") == 4


# ---------------------------------------------------------------- heartbeat and unload


def test_close_ends_the_session_on_the_server(apps: SessionApps) -> None:
    client = Client(apps.open_url, verbose=False)
    try:
        session = client.session_hash
        assert client.predict(api_name="/incr") == 1
        assert client.predict(api_name="/incr") == 2
        # the heartbeat is held: the server has not ended the session
        assert not apps.unloaded(session)
    finally:
        client.close()
    apps.wait_unloaded(session)
    assert apps.unload_user(session) == ""  # no login on the open copy


async def test_close_ends_the_session_on_the_server_async(apps: SessionApps) -> None:
    async with AsyncClient(apps.open_url, verbose=False) as client:
        session = client.session_hash
        assert await client.predict(api_name="/incr") == 1
        assert not apps.unloaded(session)
    await await_until(lambda: apps.unloaded(session), timeout=10)


def test_heartbeat_connection_is_open_while_the_client_lives(apps: SessionApps) -> None:
    """Seen on the wire: one connection holds ``heartbeat/<session>`` from connect to close."""
    port = int(apps.open_url.rstrip("/").rsplit(":", 1)[1])

    def heartbeats_open(session: str) -> list[str]:
        return [r for r in proxy.open_requests if r and f"heartbeat/{session} " in r]

    with FaultProxy(port) as proxy:
        client = Client(proxy.url, verbose=False)
        try:
            session = client.session_hash
            line = proxy.wait_for_request(f"heartbeat/{session}", timeout=10)
            assert line.startswith(f"GET /{apps.server.api_prefix}heartbeat/{session} ")
            assert [client.predict(api_name="/incr") for _ in range(3)] == [1, 2, 3]
            assert len(heartbeats_open(session)) == 1
            assert not apps.unloaded(session)
        finally:
            client.close()
        wait_until(lambda: not heartbeats_open(session), timeout=5, describe=lambda: proxy.open_requests)
        apps.wait_unloaded(session)


def test_reset_session_ends_the_old_session_and_holds_the_new_one(apps: SessionApps) -> None:
    with Client(apps.open_url, verbose=False) as client:
        old = client.session_hash
        assert client.predict(api_name="/incr") == 1
        client.reset_session()
        new = client.session_hash
        # the old session's heartbeat closes, so the server runs its unload handler ...
        apps.wait_unloaded(old)
        assert client.predict(api_name="/incr") == 1
        assert client.predict(api_name="/incr") == 2
        # ... while the new one is held open
        assert not apps.unloaded(new)
    apps.wait_unloaded(new)


async def test_reset_session_ends_the_old_session_and_holds_the_new_one_async(apps: SessionApps) -> None:
    async with AsyncClient(apps.open_url, verbose=False) as client:
        old = client.session_hash
        assert await client.predict(api_name="/incr") == 1
        client.reset_session()
        new = client.session_hash
        await await_until(lambda: apps.unloaded(old), timeout=10)
        assert await client.predict(api_name="/incr") == 1
        assert not apps.unloaded(new)
    await await_until(lambda: apps.unloaded(new), timeout=10)


# ---------------------------------------------------------------- login


def test_login_with_the_right_credentials(apps: SessionApps) -> None:
    with Client(apps.auth_url, verbose=False, auth=(USER, PASSWORD)) as client:
        session = client.session_hash
        # queued jobs complete: the login cookies went with the join and the event stream
        assert [client.predict(api_name="/incr") for _ in range(2)] == [1, 2]
        who = client.predict("hi", api_name="/whoami")
        assert who["username"] == USER
        assert who["session_hash"] == session
    # the heartbeat carried the cookies too: the server knew whose session ended
    apps.wait_unloaded(session)
    assert apps.unload_user(session) == USER


async def test_login_with_the_right_credentials_async(apps: SessionApps) -> None:
    async with AsyncClient(apps.auth_url, verbose=False, auth=(USER, PASSWORD)) as client:
        session = client.session_hash
        assert await client.predict(api_name="/incr") == 1
        who = await client.predict("hi", api_name="/whoami")
        assert who["username"] == USER
    await await_until(lambda: apps.unloaded(session), timeout=10)
    assert apps.unload_user(session) == USER


@pytest.mark.timeout(30)
def test_wrong_password_fails_at_construction(apps: SessionApps) -> None:
    wrong = "not-" + PASSWORD
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="wrong username or password") as caught:
        Client(apps.auth_url, verbose=False, auth=(USER, wrong))
    assert time.monotonic() - started < 10  # an answer, not a hang
    assert apps.auth_url in str(caught.value)  # says which app
    assert wrong not in str(caught.value)  # never echoes the password
    assert caught.value.status_code in (400, 401, 403)


@pytest.mark.timeout(30)
async def test_wrong_password_fails_at_connect_async(apps: SessionApps) -> None:
    client = AsyncClient(apps.auth_url, verbose=False, auth=("mallory", PASSWORD))
    with pytest.raises(AuthenticationError, match="wrong username or password"):
        await asyncio.wait_for(client.connect(), 10)
    await client.close()


@pytest.mark.timeout(30)
def test_no_auth_on_a_login_app_suggests_auth(apps: SessionApps) -> None:
    with pytest.raises(AuthenticationError, match=r"auth=") as caught:
        Client(apps.auth_url, verbose=False)
    assert caught.value.status_code == 401


@pytest.mark.timeout(30)
async def test_no_auth_on_a_login_app_suggests_auth_async(apps: SessionApps) -> None:
    with pytest.raises(AuthenticationError, match=r"auth="):
        async with AsyncClient(apps.auth_url, verbose=False):
            pass


def test_auth_must_be_a_pair_of_strings(apps: SessionApps) -> None:
    with pytest.raises(TypeError, match="auth"):
        Client(apps.auth_url, verbose=False, auth=USER)  # type: ignore[arg-type]


# ---------------------------------------------------------------- tokens and headers


def test_token_and_headers_reach_the_app(apps: SessionApps) -> None:
    with Client(apps.open_url, hf_token=TOKEN, verbose=False, headers={"x-custom": "v"}) as client:
        who = client.predict("hi", api_name="/whoami")
    assert who["hf"] == f"Bearer {TOKEN}"
    assert who["custom"] == "v"
    assert who["username"] is None and who["text"] == "hi"


async def test_token_and_headers_reach_the_app_async(apps: SessionApps) -> None:
    async with AsyncClient(apps.open_url, token=TOKEN, verbose=False, headers={"x-custom": "v"}) as client:
        who = await client.predict("hi", api_name="/whoami")
    assert who["hf"] == f"Bearer {TOKEN}"
    assert who["custom"] == "v"


def test_a_url_app_gets_no_token_unless_given_one(apps: SessionApps, monkeypatch) -> None:
    # A token saved locally (here: in the environment) is for Spaces; an app named by URL
    # never sees it.
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")
    with Client(apps.open_url, verbose=False) as client:
        who = client.predict("hi", api_name="/whoami")
    assert who["hf"] is None and who["authorization"] is None and who["custom"] is None


@pytest.mark.parametrize("login", [False, True], ids=["open", "login"])
def test_a_foreign_file_is_downloaded_without_credentials(apps: SessionApps, foreign, tmp_path, login) -> None:
    doc, _ = foreign
    url = apps.auth_url if login else apps.open_url
    headers = {"x-custom": "v", "authorization": "Basic dXNlcjpwYXNz"}
    auth = (USER, PASSWORD) if login else None
    with Client(url, hf_token=TOKEN, auth=auth, headers=headers, verbose=False, download_files=str(tmp_path)) as client:
        who = client.predict("hi", api_name="/whoami")
        assert (who["hf"], who["custom"], who["authorization"]) == (f"Bearer {TOKEN}", "v", headers["authorization"])
        assert who["username"] == (USER if login else None)
        path = client.predict(doc.url + "doc.txt", api_name="/foreign")
    assert isinstance(path, str) and Path(path).read_bytes() == DOC
    assert Path(path).resolve().is_relative_to(tmp_path.resolve()) and Path(path).name == "doc.txt"
    seen = doc.headers_for("/doc.txt")
    assert len(seen) == 1, doc.requests
    assert leaked(seen[0]) == {}


def test_a_file_download_with_an_error_status_is_httpxs_status_error(apps: SessionApps, foreign, tmp_path) -> None:
    """As in gradio_client, a failed download is an ``httpx.HTTPStatusError`` (and ours typed)."""
    doc, _ = foreign
    with Client(apps.open_url, verbose=False, download_files=str(tmp_path)) as client:
        with pytest.raises(httpx.HTTPStatusError) as caught:
            client.predict(doc.url + "missing.txt", api_name="/foreign")
    error = caught.value
    assert isinstance(error, gradio_jobs.FileDownloadError) and isinstance(error, gradio_jobs.ServerError)
    assert not isinstance(error, gradio_jobs.FileAccessError)
    assert error.response.status_code == error.status_code == 404
    assert str(error).startswith(f"Client error '404 Not Found' for url '{doc.url}missing.txt'")


async def test_a_foreign_file_is_downloaded_without_credentials_async(apps: SessionApps, foreign, tmp_path) -> None:
    doc, _ = foreign
    async with AsyncClient(
        apps.auth_url,
        token=TOKEN,
        auth=(USER, PASSWORD),
        headers={"x-custom": "v"},
        verbose=False,
        download_files=str(tmp_path),
    ) as client:
        path = await client.predict(doc.url + "doc.txt", api_name="/foreign")
    assert Path(path).read_bytes() == DOC
    seen = doc.headers_for("/doc.txt")
    assert len(seen) == 1 and leaked(seen[0]) == {}


def test_a_redirect_between_foreign_hosts_carries_no_credentials(apps: SessionApps, foreign, tmp_path) -> None:
    doc, hop = foreign
    with Client(
        apps.auth_url,
        hf_token=TOKEN,
        auth=(USER, PASSWORD),
        headers={"x-custom": "v"},
        verbose=False,
        download_files=str(tmp_path),
    ) as client:
        path = client.predict(hop.url + "redirect", api_name="/foreign")
    assert Path(path).read_bytes() == DOC
    assert [p for p, _ in hop.requests] == ["/redirect"]
    assert [p for p, _ in doc.requests] == ["/doc.txt"]
    assert leaked(hop.requests[0][1]) == {}
    assert leaked(doc.requests[0][1]) == {}


def test_httpx_event_hooks_are_honoured_and_cannot_leak(apps: SessionApps, foreign, tmp_path) -> None:
    doc, _ = foreign
    responses: list[str] = []

    async def add_authorization(request: httpx.Request) -> None:
        request.headers["authorization"] = "Bearer from-a-hook"

    async def record(response: httpx.Response) -> None:
        responses.append(f"{response.status_code} {response.request.url.path}")

    hooks = {"request": [add_authorization], "response": [record]}
    with Client(apps.open_url, verbose=False, httpx_kwargs={"event_hooks": hooks}, download_files=str(tmp_path)) as client:
        assert f"200 /{apps.server.api_prefix}info" in responses
        who = client.predict("hi", api_name="/whoami")
        assert who["authorization"] == "Bearer from-a-hook"  # the user's hook ran for the app ...
        path = client.predict(doc.url + "doc.txt", api_name="/foreign")
    assert Path(path).read_bytes() == DOC
    assert "200 /doc.txt" in responses
    # ... and what it added was stripped for the other host (the scoping hook runs last)
    assert leaked(doc.headers_for("/doc.txt")[0]) == {}


@pytest.fixture
def some_apps(session_pool) -> SessionApps:
    """The first available version's apps, for what does not depend on the server."""
    for version in requested_versions():
        if venv_exists(version):
            return session_pool.get(version)
    pytest.skip("no server venv for any requested version: " + ", ".join(missing_venv_reason(v) for v in requested_versions()))


def test_sync_event_hooks_work_with_the_sync_client(some_apps: SessionApps) -> None:
    """A sync ``Client`` is given hooks as for ``httpx.Client``: plain functions.

    Fails today with ``TypeError: object NoneType can't be used in 'await' expression``
    from inside httpx: the hooks go unchanged to an ``httpx.AsyncClient``, which awaits them.
    """
    responses: list[str] = []

    def add_authorization(request: httpx.Request) -> None:
        request.headers["authorization"] = "Bearer from-a-sync-hook"

    def record(response: httpx.Response) -> None:
        responses.append(f"{response.status_code} {response.request.url.path}")

    hooks = {"request": [add_authorization], "response": [record]}
    with Client(some_apps.open_url, verbose=False, httpx_kwargs={"event_hooks": hooks}) as client:
        who = client.predict("hi", api_name="/whoami")
    assert who["authorization"] == "Bearer from-a-sync-hook"
    assert f"200 /{some_apps.server.api_prefix}info" in responses


async def test_transport_scopes_credentials_on_every_redirect_hop() -> None:
    """httpx level: ``app`` plays the app, ``other`` a foreign host; redirects both ways."""
    app, other = Recorder(), Recorder()
    app.redirect_to = other.url + "doc.txt"
    other.redirect_to = app.url + "doc.txt"
    hops: list[str] = []

    async def add_authorization(request: httpx.Request) -> None:
        hops.append(str(request.url))
        request.headers["authorization"] = "Bearer from-a-hook"

    transport = HttpTransport(
        app.url,
        headers={"x-custom": "v", "x-hf-authorization": f"Bearer {TOKEN}"},
        httpx_kwargs={"event_hooks": {"request": [add_authorization]}},
    )
    try:
        await transport.send("POST", app.url + "login", "Logging in", data={"u": "p"})  # sets cookie sid
        assert transport.client.cookies.get("sid") == "s3cret"

        # app -> other: the app's hop carries everything, the foreign hop nothing
        response = await transport.send("GET", app.url + "redirect", "Fetching")
        assert response.status_code == 200 and response.content == DOC
        assert hops[-2:] == [app.url + "redirect", other.url + "doc.txt"]
        sent_to_app = app.headers_for("/redirect")[0]
        assert sent_to_app["x-custom"] == "v"
        assert sent_to_app["x-hf-authorization"] == f"Bearer {TOKEN}"
        assert sent_to_app["authorization"] == "Bearer from-a-hook"
        assert sent_to_app["cookie"] == "sid=s3cret"
        assert leaked(other.headers_for("/doc.txt")[0]) == {}

        # other -> app: nothing to the foreign host, everything again once back at the app
        response = await transport.send("GET", other.url + "redirect", "Fetching")
        assert response.status_code == 200 and response.content == DOC
        assert leaked(other.headers_for("/redirect")[0]) == {}
        back = app.headers_for("/doc.txt")[0]
        assert (back["x-custom"], back["cookie"]) == ("v", "sid=s3cret")

        # the streaming client (event streams, downloads) scopes the same way
        async with transport.stream("GET", app.url + "redirect", "Downloading") as streamed:
            assert await streamed.aread() == DOC
        assert len(other.headers_for("/doc.txt")) == 2
        assert leaked(other.headers_for("/doc.txt")[1]) == {}
    finally:
        await transport.aclose()
        app.stop()
        other.stop()


async def test_a_calls_own_headers_are_scoped_like_the_clients() -> None:
    """``submit(..., headers=...)``: to the app over the client's own, never to another host."""
    app, other = Recorder(), Recorder()
    app.redirect_to = other.url + "doc.txt"
    transport = HttpTransport(app.url, headers={"x-custom": "client"})
    try:
        extensions = call_extensions({"x-custom": "call", "x-call-secret": "k"})
        response = await transport.send("GET", app.url + "redirect", "Fetching", extensions=extensions)
        assert response.status_code == 200 and response.content == DOC
        sent_to_app = app.headers_for("/redirect")[0]
        assert (sent_to_app["x-custom"], sent_to_app["x-call-secret"]) == ("call", "k")
        foreign = other.headers_for("/doc.txt")[0]
        assert "x-call-secret" not in foreign and "x-custom" not in foreign
        # the next request without them is back to the client's
        await transport.send("GET", app.url + "doc.txt", "Fetching")
        assert app.headers_for("/doc.txt")[0]["x-custom"] == "client"
    finally:
        await transport.aclose()
        app.stop()
        other.stop()


# ---------------------------------------------------------------- TLS


def test_https_to_a_plain_http_port_is_server_unreachable(apps: SessionApps) -> None:
    https_url = apps.open_url.replace("http://", "https://", 1)
    for verify in (True, False):
        with pytest.raises(ServerUnreachableError) as caught:
            Client(https_url, verbose=False, ssl_verify=verify)
        assert isinstance(caught.value.__cause__, httpx.HTTPError)
        assert https_url in str(caught.value)


async def test_https_to_a_plain_http_port_is_server_unreachable_async(apps: SessionApps) -> None:
    https_url = apps.open_url.replace("http://", "https://", 1)
    with pytest.raises(ServerUnreachableError):
        async with AsyncClient(https_url, verbose=False, ssl_verify=False):
            pass


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A certificate for 127.0.0.1 that no CA signed: ``(certfile, keyfile)``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


class TlsFront:
    """Terminates TLS on 127.0.0.1 and forwards the bytes to a plain-HTTP port (a thread)."""

    def __init__(self, target_port: int, certfile: Path, keyfile: Path) -> None:
        self.target_port = target_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certfile, keyfile)
        self.loop = asyncio.new_event_loop()
        # a client refusing the certificate makes handshakes fail: that is expected here
        self.loop.set_exception_handler(lambda loop, context: None)
        self.port: int | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="tls-front", daemon=True)

    def start(self) -> "TlsFront":
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context), self.loop
        ).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, ssl.SSLError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        self.loop.close()


@pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")
def test_ssl_verify_against_a_self_signed_certificate(apps: SessionApps, self_signed) -> None:
    cert, key = self_signed
    front = TlsFront(int(apps.open_url.rstrip("/").rsplit(":", 1)[1]), cert, key).start()
    try:
        # verified (the default): an unknown CA is refused, as a clean error
        with pytest.raises(ServerUnreachableError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            Client(front.url, verbose=False)
        # not verified: it works, event stream and heartbeat included
        with Client(front.url, verbose=False, ssl_verify=False) as client:
            session = client.session_hash
            assert [client.predict(api_name="/incr") for _ in range(2)] == [1, 2]
        apps.wait_unloaded(session)
        # verified against the certificate itself as the CA bundle
        with Client(front.url, verbose=False, ssl_verify=str(cert)) as client:
            assert client.predict(api_name="/incr") == 1
    finally:
        front.stop()
