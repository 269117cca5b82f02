"""What governs a file transfer: the user's httpx timeout, and Private Network Access.

Real servers: ``tests/apps/files_app.py`` (its ``size`` endpoint takes a file: uploads) and
``tests/apps/session_app.py`` (its ``foreign`` endpoint returns a FileData naming any URL,
as a ``gr.Gallery`` of remote images does: downloads from another host). That other host is
a plain HTTP server on this machine (``FileHost``), and a ``FaultProxy`` in front of it (or
of the app) slows the bytes down.

Timeouts: ``httpx_kwargs={"timeout": ...}`` governs uploads and downloads (they used to wait
60 s whatever the user said): a short one fails a slow transfer with the official client's
timeout error (an ``httpx.TimeoutException``), a long one lets a slower transfer finish.

Private Network Access: an app on a public address cannot make the client fetch from a
loopback, private or link-local address. Every app here runs on 127.0.0.1, so a test plays a
public app by replacing ``addresses.classify_app_address``, the one function that judges the
app's own address (``public_app``); every file URL is judged by the real rule, on the real
connection.
"""

from __future__ import annotations

import asyncio
import http.client
import http.server
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from proxy import FaultProxy
from servers import requested_versions, serving
from waiting import await_until, wait_for_event, wait_until

from gradio_jobs import AsyncClient, Client, PrivateNetworkError, ServerUnreachableError, handle_file
from gradio_jobs._limits import TRANSFER_TIMEOUT
from gradio_jobs.protocol import events as ev
from gradio_jobs.transport import addresses
from gradio_jobs.transport.addresses import AddressSpace, classify_ip
from gradio_jobs.transport.http import HttpTransport, timeout_of

pytestmark = pytest.mark.server

DOC = b"a file on another host\n" * 64
#: Short enough to run out behind the slowed proxy, long enough for a loaded machine's app.
SHORT = 1.0
#: Each chunk through the slowed proxy waits this long: beyond SHORT.
SLOWER_THAN_SHORT = 2.5
#: A chunk's wait for the tests where a long timeout lets the transfer finish.
SLOW = 1.5


# ---------------------------------------------------------------- the servers


@pytest.fixture(scope="module", params=requested_versions(), ids=lambda v: f"gradio-{v}")
def version(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def session_server(version):
    with serving(version, "session_app") as server:
        yield server


@pytest.fixture(scope="module")
def files_server(version):
    with serving(version, "files_app") as server:
        yield server


class FileHost:
    """A plain HTTP server on ``address`` (127.0.0.1 unless told), another host for the app's
    file URLs. ``/doc.bin`` answers ``DOC``; ``/redirect?to=URL`` answers 302 to ``URL``.

    ``requests`` lists the paths asked for; ``connections`` counts the connections accepted
    and ``finished`` those that ended (with or without a request).
    """

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.requests: list[str] = []
        self.connections = 0
        self.finished = 0
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(self.path)
                if self.path.startswith("/redirect"):
                    target = parse_qs(urlsplit(self.path).query)["to"][0]
                    self._answer(302, b"", {"Location": target})
                elif self.path.startswith("/doc.bin"):
                    self._answer(200, DOC, {"Content-Type": "application/octet-stream"})
                else:
                    self._answer(404, b"not here", {})

            def _answer(self, code: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    host.finished += 1

            def log_message(self, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                host.connections += 1
                return True

        self._httpd = Server((address, 0), Handler)
        self.address = address
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="file-host", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}/"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def host():
    files = FileHost()
    try:
        yield files
    finally:
        files.stop()


@pytest.fixture
def slow_host(host):
    """A FaultProxy in front of ``host``: the download's way, slowed at will."""
    with FaultProxy(host.port) as proxy:
        yield proxy


@pytest.fixture
def public_app(monkeypatch):
    """Every app counts as being on a public address (its own origin only: see the module)."""
    monkeypatch.setattr(addresses, "classify_app_address", lambda ip: (AddressSpace.PUBLIC, "public (the test says)"))


def _async_hook_kwargs() -> dict[str, Any]:
    """httpx_kwargs with an async hook: settings with no sync form, so downloads run on the loop."""

    async def nothing(response: httpx.Response) -> None:
        return None

    return {"event_hooks": {"response": [nothing]}}


PATHS = {"thread": {}, "loop": _async_hook_kwargs()}


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, ServerUnreachableError) and isinstance(exc, httpx.TimeoutException)


def _no_partial_files(folder: Path) -> bool:
    return not folder.exists() or not any(p.name.startswith(".partial-") for p in folder.rglob("*"))


# ---------------------------------------------------------------- timeouts: downloads


@pytest.mark.parametrize("path", list(PATHS))
def test_a_short_httpx_timeout_fails_a_slow_download(session_server, slow_host, tmp_path, path) -> None:
    kwargs = {"timeout": SHORT, **PATHS[path]}
    with Client(session_server.url, verbose=False, httpx_kwargs=kwargs, download_files=str(tmp_path)) as client:
        slow_host.slow(SLOWER_THAN_SHORT)
        started = time.monotonic()
        with pytest.raises(ServerUnreachableError) as info:
            client.predict(slow_host.url + "doc.bin", api_name="/foreign")
        elapsed = time.monotonic() - started
        slow_host.normal()
    assert _is_timeout(info.value), repr(info.value)  # what the official client raises: httpx's
    assert "Downloading" in str(info.value)
    assert elapsed < TRANSFER_TIMEOUT[1]  # the user's timeout, not the default one
    assert _no_partial_files(tmp_path)


async def test_a_short_httpx_timeout_fails_a_slow_download_async(session_server, slow_host, tmp_path) -> None:
    async with AsyncClient(
        session_server.url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(SHORT)}, download_files=tmp_path
    ) as client:
        slow_host.slow(SLOWER_THAN_SHORT)
        with pytest.raises(ServerUnreachableError) as info:
            await client.predict(slow_host.url + "doc.bin", api_name="/foreign")
        slow_host.normal()
    assert _is_timeout(info.value), repr(info.value)
    assert "Downloading" in str(info.value)


def test_a_long_httpx_timeout_lets_a_slow_download_finish(session_server, slow_host, tmp_path) -> None:
    timeout = httpx.Timeout(4 * SLOW, connect=2.0)
    with Client(
        session_server.url, verbose=False, httpx_kwargs={"timeout": timeout}, download_files=str(tmp_path)
    ) as client:
        slow_host.slow(SLOW)
        started = time.monotonic()
        path = client.predict(slow_host.url + "doc.bin", api_name="/foreign")
        elapsed = time.monotonic() - started
    assert Path(path).read_bytes() == DOC
    assert elapsed > SHORT  # it was slow indeed: the request and the answer each waited SLOW


async def test_a_long_httpx_timeout_lets_a_slow_download_finish_async(session_server, slow_host, tmp_path) -> None:
    kwargs = {"timeout": 4 * SLOW, **_async_hook_kwargs()}  # on the loop
    async with AsyncClient(session_server.url, verbose=False, httpx_kwargs=kwargs, download_files=tmp_path) as client:
        slow_host.slow(SLOW)
        path = await client.predict(slow_host.url + "doc.bin", api_name="/foreign")
    assert await asyncio.to_thread(Path(path).read_bytes) == DOC


# ---------------------------------------------------------------- timeouts: uploads


@pytest.fixture
def app_proxy(files_server):
    """A FaultProxy in front of the files app: every request of the client goes through it."""
    with FaultProxy(files_server.port) as proxy:
        yield proxy


@pytest.fixture
def upload(tmp_path) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"x" * 10_000)
    return path


def test_a_short_httpx_timeout_fails_a_slow_upload(app_proxy, upload) -> None:
    with Client(app_proxy.url, verbose=False, httpx_kwargs={"timeout": SHORT}) as client:
        app_proxy.slow(SLOWER_THAN_SHORT)  # connected: from now on, each chunk waits
        started = time.monotonic()
        try:
            with pytest.raises(ServerUnreachableError) as info:
                client.predict(handle_file(upload), api_name="/size")
        finally:
            app_proxy.normal()
        elapsed = time.monotonic() - started
    assert _is_timeout(info.value), repr(info.value)
    assert "Uploading" in str(info.value)  # the upload, the job's first request
    assert elapsed < TRANSFER_TIMEOUT[1]


async def test_a_short_httpx_timeout_fails_a_slow_upload_async(app_proxy, upload) -> None:
    async with AsyncClient(app_proxy.url, verbose=False, httpx_kwargs={"timeout": SHORT}) as client:
        app_proxy.slow(SLOWER_THAN_SHORT)
        try:
            with pytest.raises(ServerUnreachableError) as info:
                await client.predict(handle_file(upload), api_name="/size")
        finally:
            app_proxy.normal()
    assert _is_timeout(info.value) and "Uploading" in str(info.value), repr(info.value)


def _sent_whole(event: Any) -> bool:
    return isinstance(event, ev.Uploading) and event.sent == event.total


def test_a_long_httpx_timeout_lets_a_slow_upload_finish(app_proxy, upload) -> None:
    with Client(app_proxy.url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(4 * SLOW)}) as client:
        app_proxy.slow(SLOW)
        try:
            job = client.submit(handle_file(upload), api_name="/size")
            sent = wait_for_event(job, _sent_whole, what="the whole file handed to the connection")
        finally:
            app_proxy.normal()  # the upload's bytes already in the proxy still wait; the rest flows
        assert job.result(timeout=30) == upload.stat().st_size
    joined = wait_for_event(job, ev.Joined)
    # the upload waited for its answer longer than the short timeout allows
    assert joined.at - sent.at > SHORT


async def test_a_long_httpx_timeout_lets_a_slow_upload_finish_async(app_proxy, upload) -> None:
    async with AsyncClient(app_proxy.url, verbose=False, httpx_kwargs={"timeout": 4 * SLOW}) as client:
        app_proxy.slow(SLOW)
        try:
            job = client.submit(handle_file(upload), api_name="/size")
            await await_until(lambda: any(_sent_whole(e) for e in job.event_log()), describe="the upload sent")
        finally:
            app_proxy.normal()
        assert await job.result(timeout=30) == upload.stat().st_size


def test_without_a_timeout_transfers_keep_their_default() -> None:
    """No server needed: what the transport was built with."""

    async def build(**kwargs: Any) -> tuple[httpx.Timeout, httpx.Timeout]:
        transport = HttpTransport("http://127.0.0.1:9/", **kwargs)
        try:
            return transport.transfer_timeout, transport.client.timeout
        finally:
            await transport.aclose()

    default, _ = asyncio.run(build())
    assert default == timeout_of(TRANSFER_TIMEOUT)
    given, requests = asyncio.run(build(httpx_kwargs={"timeout": 7}))
    assert given == httpx.Timeout(7) == requests
    assert asyncio.run(build(httpx_kwargs={"timeout": None}))[0] == httpx.Timeout(None)  # None: no limit at all
    exact = httpx.Timeout(3.0, read=120.0)
    assert asyncio.run(build(httpx_kwargs={"timeout": exact}))[0] == exact


# ---------------------------------------------------------------- Private Network Access


LOOPBACK_FORMS = ["127.0.0.1", "localhost", "[::1]", "127.1", "0.0.0.0"]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_a_public_app_cannot_make_the_client_fetch_a_loopback_url(
    session_server, host, public_app, tmp_path, form, path
) -> None:
    url = f"http://{form}:{host.port}/doc.bin"
    with Client(session_server.url, verbose=False, download_files=str(tmp_path), httpx_kwargs=PATHS[path]) as client:
        with pytest.raises(PrivateNetworkError) as info:
            client.predict(url, api_name="/foreign")
        assert client.predict("still fine", api_name="/whoami")["text"] == "still fine"  # only that job failed
    assert info.value.url == url and url in str(info.value)
    assert info.value.space == "local"
    assert host.connections == 0 and host.requests == []  # an address in the URL: refused before connecting
    assert _no_partial_files(tmp_path)


async def test_a_public_app_cannot_make_the_client_fetch_a_loopback_url_async(
    session_server, host, public_app, tmp_path
) -> None:
    url = f"http://127.0.0.1:{host.port}/doc.bin"
    async with AsyncClient(session_server.url, verbose=False, download_files=tmp_path) as client:
        with pytest.raises(PrivateNetworkError) as info:
            await client.predict(url, api_name="/foreign")
    assert info.value.url == url
    assert host.requests == []


def _name_of_this_machine() -> tuple[str, str]:
    """A host name (not ``localhost``) that resolves to a loopback or private IPv4 address of
    this machine, and that address; the test is skipped where there is none."""
    name = socket.gethostname()
    if name.lower().rstrip(".") == "localhost" or name.lower().endswith(".localhost"):
        pytest.skip(f"this machine's host name is {name!r}, judged by its name alone")
    try:
        infos = socket.getaddrinfo(name, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
    except OSError as exc:
        pytest.skip(f"this machine's host name {name!r} does not resolve: {exc}")
    found = {info[4][0] for info in infos}
    if not found or any(classify_ip(ip)[0] is AddressSpace.PUBLIC for ip in found):
        pytest.skip(f"{name!r} resolves to {sorted(found)}, not only to loopback or private addresses")
    return name, sorted(found)[0]


@pytest.fixture
def named_host():
    """A FileHost reached by this machine's host name (a name: only the connection tells its address)."""
    name, address = _name_of_this_machine()
    files = FileHost(address)
    try:
        yield name, files
    finally:
        files.stop()


@pytest.mark.parametrize("path", list(PATHS))
def test_a_host_name_is_judged_on_the_connection_it_opens(
    session_server, named_host, public_app, tmp_path, path
) -> None:
    name, files = named_host
    url = f"http://{name}:{files.port}/doc.bin"
    options = {"verbose": False, "download_files": str(tmp_path), "httpx_kwargs": PATHS[path]}
    with Client(session_server.url, **options) as client, pytest.raises(PrivateNetworkError) as info:
        client.predict(url, api_name="/foreign")
    assert info.value.url == url and info.value.address == files.address
    # the connection was opened (that is how its address is known) and closed unused
    wait_until(lambda: files.finished == 1, describe=lambda: f"{files.connections} connections, {files.finished} ended")
    assert files.connections == 1 and files.requests == []


def test_the_option_allows_a_public_app_to_make_the_client_fetch_private_urls(
    session_server, host, public_app, tmp_path
) -> None:
    with Client(
        session_server.url, verbose=False, download_files=str(tmp_path), allow_private_network_files=True
    ) as client:
        path = client.predict(host.url + "doc.bin", api_name="/foreign")
    assert Path(path).read_bytes() == DOC and host.requests == ["/doc.bin"]


def test_a_local_app_may_make_the_client_fetch_local_urls(session_server, host, tmp_path) -> None:
    with Client(session_server.url, verbose=False, download_files=str(tmp_path)) as client:
        path = client.predict(f"http://localhost:{host.port}/doc.bin", api_name="/foreign")
    assert Path(path).read_bytes() == DOC


@pytest.mark.parametrize("path", list(PATHS))
def test_a_public_apps_own_files_still_download(files_server, public_app, tmp_path, path) -> None:
    with Client(files_server.url, verbose=False, download_files=str(tmp_path), httpx_kwargs=PATHS[path]) as client:
        first, second = client.predict(api_name="/same_names")
    assert (Path(first).read_text(), Path(second).read_text()) == ("first", "second")


def test_a_redirect_from_the_app_to_a_loopback_url_is_refused(session_server, host, public_app, tmp_path) -> None:
    if session_server.major >= 6:
        pytest.skip("gradio 6 fetches a file= URL itself (safehttpx) rather than redirect to it")
    target = f"http://127.0.0.1:{host.port}/doc.bin"
    via_app = session_server.api_url + "file=" + target  # 4.x and 5.x answer 302 to the URL
    with Client(session_server.url, verbose=False, download_files=str(tmp_path)) as client, pytest.raises(
        PrivateNetworkError
    ) as info:
        client.predict(via_app, api_name="/foreign")
    assert info.value.url == target  # the hop it was refused at
    assert host.connections == 0 and host.requests == []


# -- at the transport: every redirect hop, and through a proxy (no Gradio needed) -----------------


async def test_every_redirect_hop_is_judged(public_app) -> None:
    app, other = FileHost(), FileHost()
    transport = HttpTransport(app.url)
    hops = [
        f"http://localhost:{other.port}/doc.bin",  # by its name, before connecting
        f"http://127.0.0.1:{other.port}/doc.bin",  # by its address, before connecting
    ]
    try:
        for hop in hops:
            url = app.url + "redirect?to=" + hop
            with pytest.raises(PrivateNetworkError) as info:
                async with transport.stream("GET", url, "Downloading") as response:
                    await response.aread()
            assert info.value.url == hop

            def on_a_thread(url: str = url) -> PrivateNetworkError:
                with pytest.raises(PrivateNetworkError) as caught, transport.sync_stream("GET", url, "Downloading"):
                    pass
                return caught.value

            assert (await asyncio.to_thread(on_a_thread)).url == hop
        assert app.requests.count("/redirect?to=" + hops[0]) == 2  # the app's hop went out, twice
        assert other.connections == 0 and other.requests == []
        # the app's own files come through (and a redirect to a public host would too)
        async with transport.stream("GET", app.url + "doc.bin", "Downloading") as response:
            assert await response.aread() == DOC
    finally:
        await transport.aclose()
        app.stop()
        other.stop()


class ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 (``GET http://host/path``): what a company
    proxy does for http URLs. ``requests`` lists the URLs it was asked for."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.requests.append(self.path)
                parts = urlsplit(self.path)
                upstream = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
                try:
                    upstream.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
                    answer = upstream.getresponse()
                    body = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    upstream.close()

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


async def test_through_a_proxy_the_file_urls_host_is_judged(public_app, named_host) -> None:
    """The proxy connects, not the client: the URL's host is judged by the client's own lookup."""
    name, files = named_host
    app, proxy = FileHost(), ForwardProxy()
    transport = HttpTransport(app.url, httpx_kwargs={"proxy": proxy.url})
    try:
        # the app's own file, through the proxy
        async with transport.stream("GET", app.url + "doc.bin", "Downloading") as response:
            assert await response.aread() == DOC
        assert proxy.requests == [app.url + "doc.bin"]
        # a name that resolves to this machine: refused before the proxy is asked
        url = f"http://{name}:{files.port}/doc.bin"
        with pytest.raises(PrivateNetworkError) as info:
            async with transport.stream("GET", url, "Downloading") as response:
                await response.aread()
        assert info.value.url == url and info.value.address == files.address
        assert proxy.requests == [app.url + "doc.bin"] and files.requests == []
    finally:
        await transport.aclose()
        app.stop()
        proxy.stop()
