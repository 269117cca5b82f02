"""Private Network Access for file URLs, the pure parts (``transport/addresses.py``).

The address tables (IPv4, IPv6, IPv6 carrying IPv4), the host forms a URL may use, the
app's space from its URL, and the guard's judgement of the httpcore ``trace`` events a
connection produces. The same guard on real sockets and real apps is tested in
``tests/integration/test_transfer_policy.py``.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradio_jobs import ClientOptions, GradioJobsError, PrivateNetworkError
from gradio_jobs.transport import addresses
from gradio_jobs.transport.addresses import AddressSpace, PrivateNetworkGuard, classify_host, classify_ip, host_ip
from gradio_jobs.transport.http import origin_of

LOCAL, PRIVATE, PUBLIC = AddressSpace.LOCAL, AddressSpace.PRIVATE, AddressSpace.PUBLIC


# -- the tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address,space",
    [
        # IPv4
        ("0.0.0.0", LOCAL),
        ("0.1.2.3", LOCAL),
        ("127.0.0.1", LOCAL),
        ("127.255.255.254", LOCAL),
        ("10.0.0.1", PRIVATE),
        ("10.255.255.255", PRIVATE),
        ("172.16.0.1", PRIVATE),
        ("172.31.255.255", PRIVATE),
        ("172.15.255.255", PUBLIC),
        ("172.32.0.1", PUBLIC),
        ("192.168.1.1", PRIVATE),
        ("192.169.0.1", PUBLIC),
        ("100.64.0.1", PRIVATE),  # carrier-grade NAT
        ("100.127.255.255", PRIVATE),
        ("100.63.255.255", PUBLIC),
        ("100.128.0.1", PUBLIC),
        ("169.254.169.254", PRIVATE),  # cloud metadata
        ("169.254.0.1", PRIVATE),
        ("198.18.0.1", PRIVATE),
        ("198.19.255.255", PRIVATE),
        ("8.8.8.8", PUBLIC),
        ("1.1.1.1", PUBLIC),
        ("128.0.0.1", PUBLIC),
        # IPv6
        ("::", LOCAL),
        ("::1", LOCAL),
        ("fc00::1", PRIVATE),
        ("fdff:ffff::1", PRIVATE),
        ("fe80::1", PRIVATE),
        ("fe80::1%eth0", PRIVATE),
        ("fe80::1%25eth0", PRIVATE),  # the zone as a URL writes it
        ("febf:ffff::1", PRIVATE),
        ("fec0::1", PRIVATE),
        ("fbff::1", PUBLIC),
        ("ff02::1", PUBLIC),  # multicast: no TCP peer, nothing to guard
        ("2606:4700:4700::1111", PUBLIC),
        ("2001:4860:4860::8888", PUBLIC),
        ("64:ff9b:1::a", PRIVATE),  # local-use NAT64
        # IPv6 carrying IPv4: judged by the IPv4 address it reaches
        ("::ffff:127.0.0.1", LOCAL),
        ("::ffff:7f00:1", LOCAL),
        ("::ffff:10.1.2.3", PRIVATE),
        ("::ffff:169.254.169.254", PRIVATE),
        ("::ffff:0.0.0.0", LOCAL),
        ("::ffff:8.8.8.8", PUBLIC),
        ("::127.0.0.1", LOCAL),  # IPv4-compatible (deprecated)
        ("::10.0.0.1", PRIVATE),
        ("64:ff9b::127.0.0.1", LOCAL),  # NAT64
        ("64:ff9b::8.8.8.8", PUBLIC),
        ("2002:7f00:1::", LOCAL),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", PRIVATE),  # 6to4 of 169.254.169.254
        ("2002:808:808::1", PUBLIC),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", LOCAL),  # Teredo whose client is 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", PRIVATE),  # ... is 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", PUBLIC),  # ... is 8.8.8.8
    ],
)
def test_classify_ip(address: str, space: AddressSpace) -> None:
    assert classify_ip(address)[0] is space
    assert classify_ip(address.split("%")[0] if "%" in address else address)[0] is space


def test_classify_ip_takes_address_objects_and_says_what_it_is() -> None:
    assert classify_ip(ipaddress.ip_address("169.254.169.254")) == (PRIVATE, classify_ip("169.254.169.254")[1])
    assert "link-local" in classify_ip("169.254.169.254")[1]
    assert "loopback" in classify_ip("::1")[1]
    assert "carrier-grade NAT" in classify_ip("100.64.0.1")[1]
    assert "127.0.0.1" in classify_ip("::ffff:127.0.0.1")[1]  # names the address it reaches
    with pytest.raises(ValueError):
        classify_ip("example.com")


def test_teredo_is_judged_by_its_client() -> None:
    # the Teredo client address is stored inverted: the examples above decode as claimed
    for text, client in (("80ff:fffe", "127.0.0.1"), ("f5ff:fffe", "10.0.0.1"), ("f7f7:f7f7", "8.8.8.8")):
        teredo = ipaddress.IPv6Address(f"2001:0:4136:e378:8000:63bf:{text}").teredo
        assert teredo is not None and teredo[1] == ipaddress.IPv4Address(client)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_an_ipv4_mapped_address_is_judged_as_its_ipv4(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    assert classify_ip(f"::ffff:{v4}")[0] is classify_ip(v4)[0]
    assert classify_ip(f"64:ff9b::{v4}")[0] is classify_ip(v4)[0]


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv4_spaces_follow_the_networks(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    local = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8")]
    private = [
        ipaddress.ip_network(n)
        for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "198.18.0.0/15")
    ]
    expected = LOCAL if any(v4 in n for n in local) else PRIVATE if any(v4 in n for n in private) else PUBLIC
    assert classify_ip(v4)[0] is expected


@given(st.integers(min_value=0, max_value=2**121 - 1))
def test_every_unique_local_and_link_local_ipv6_is_private(low: int) -> None:
    ula = ipaddress.IPv6Address((0xFC << 120) | low)  # fc00::/7
    assert classify_ip(ula)[0] is PRIVATE
    link = ipaddress.IPv6Address((0xFE80 << 112) | (low >> 10))  # fe80::/10
    assert classify_ip(link)[0] is PRIVATE


# -- the host of a URL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host,address",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # forms resolvers read as IPv4
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),  # octal
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("fe80::1%25eth0", "fe80::1"),
        ("example.com", None),
        ("cafe.be", None),  # hex letters alone are no address
        ("1.2.3.4.5", None),
        ("localhost", None),
        ("", None),
    ],
)
def test_host_ip(host: str, address: str | None) -> None:
    found = host_ip(host)
    assert (str(found) if found is not None else None) == address


@pytest.mark.parametrize(
    "host,space",
    [
        ("localhost", LOCAL),
        ("LOCALHOST.", LOCAL),
        ("files.localhost", LOCAL),
        ("169.254.169.254", PRIVATE),
        ("[::ffff:10.0.0.1]", PRIVATE),
        ("8.8.8.8", PUBLIC),
        ("example.com", None),  # a name: only the connection can tell
        ("localhost.example.com", None),
        ("metadata.google.internal", None),
    ],
)
def test_classify_host(host: str, space: AddressSpace | None) -> None:
    found = classify_host(host)
    assert (found[0] if found is not None else None) is space


# -- the app's space --------------------------------------------------------------------------------


def _guard(app_url: str, *, allow: bool = False) -> PrivateNetworkGuard:
    return PrivateNetworkGuard(app_url, allow=allow, origin_of=origin_of)


@pytest.mark.parametrize(
    "app_url,space",
    [
        ("http://8.8.8.8:7860/", PUBLIC),
        ("https://[2606:4700::1111]/", PUBLIC),
        ("http://10.1.2.3:7860/", PRIVATE),
        ("http://127.0.0.1:7860/", LOCAL),
        ("http://localhost:7860/", LOCAL),
        ("https://owner-space.hf.space/", None),  # a name: its first connection will say
    ],
)
def test_the_app_space_of_an_address_written_in_its_url(app_url: str, space: AddressSpace | None) -> None:
    assert _guard(app_url).app_space is space
    assert _guard(app_url, allow=True).app_space is None  # nothing is checked at all


class _Stream:
    """A stand-in for httpcore's network stream: what the trace reads of a connection."""

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.closed = False

    def get_extra_info(self, name: str) -> object:
        return (self.peer, 443) if name == "server_addr" else None

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def _connect_events(request: httpx.Request, connect_host: str, stream: _Stream) -> None:
    """Play the events httpcore's trace reports when it opens a connection for ``request``."""
    trace = request.extensions["trace"]
    trace("connection.connect_tcp.started", {"host": connect_host, "port": 443})
    trace("connection.connect_tcp.complete", {"return_value": stream})


def test_the_app_space_is_learnt_from_its_first_connection() -> None:
    guard = _guard("https://app.example/")
    assert guard.app_space is None
    request = httpx.Request("GET", "https://app.example/config")
    guard.watch_app_request(request)
    trace = request.extensions["trace"]

    async def connect() -> None:
        await trace("connection.connect_tcp.started", {"host": "app.example"})
        await trace("connection.connect_tcp.complete", {"return_value": _Stream("93.184.216.34")})

    asyncio.run(connect())
    assert (guard.app_space, guard.app_address) == (PUBLIC, "93.184.216.34")
    # once known, the app's requests carry no trace of ours
    later = httpx.Request("GET", "https://app.example/info")
    guard.watch_app_request(later)
    assert "trace" not in later.extensions
    # another origin never teaches the app's space
    other = _guard("https://app.example/")
    foreign = httpx.Request("GET", "https://cdn.example/x.png")
    other.watch_app_request(foreign)
    assert "trace" not in foreign.extensions


# -- judging a fetch ----------------------------------------------------------------------------------


def test_a_public_app_cannot_fetch_an_address_written_in_the_url() -> None:
    guard = _guard("http://8.8.8.8/")
    for url in ("http://127.0.0.1:8000/a.png", "http://[::1]/a", "http://169.254.169.254/latest/", "http://localhost/a"):
        with pytest.raises(PrivateNetworkError) as info:
            guard.check_fetch_sync(httpx.Request("GET", url))
        assert info.value.url == url and url in str(info.value)
        assert "allow_private_network_files=True" in str(info.value)
        assert isinstance(info.value, GradioJobsError)
    assert (info.value.address, info.value.space) == ("localhost", "local")
    with pytest.raises(PrivateNetworkError) as metadata:
        guard.check_fetch_sync(httpx.Request("GET", "http://169.254.169.254/latest/"))
    assert (metadata.value.address, metadata.value.space) == ("169.254.169.254", "private")


def test_a_public_app_cannot_fetch_a_name_whose_connection_reaches_a_private_address() -> None:
    guard = _guard("http://8.8.8.8/")
    request = httpx.Request("GET", "https://files.example/a.png")
    guard.check_fetch_sync(request)  # a name: judged on its connection
    stream = _Stream("10.0.0.7")
    with pytest.raises(PrivateNetworkError) as info:
        _connect_events(request, "files.example", stream)
    assert stream.closed  # the refused connection is closed before anything is sent on it
    assert (info.value.address, info.value.space, info.value.url) == ("10.0.0.7", "private", "https://files.example/a.png")

    public = httpx.Request("GET", "https://files.example/b.png")
    guard.check_fetch_sync(public)
    fine = _Stream("93.184.216.34")
    _connect_events(public, "files.example", fine)
    assert not fine.closed


def test_through_a_proxy_the_url_host_is_judged_not_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _guard("http://8.8.8.8/")
    public = (ipaddress.ip_address("93.184.216.34"),)
    monkeypatch.setattr(addresses, "_lookup_sync", lambda host, port: public if host == "files.example" else ())
    # the connection goes to the proxy, on a private address: no reason to refuse
    request = httpx.Request("GET", "https://files.example/a.png")
    guard.check_fetch_sync(request)
    proxy = _Stream("10.0.0.1")
    _connect_events(request, "proxy.corp", proxy)
    assert not proxy.closed
    # a name the client cannot resolve is left to the proxy
    unknown = httpx.Request("GET", "https://only-the-proxy-knows.example/a.png")
    guard.check_fetch_sync(unknown)
    _connect_events(unknown, "proxy.corp", _Stream("10.0.0.1"))
    # an address written in the URL is judged before the proxy is even asked
    with pytest.raises(PrivateNetworkError):
        guard.check_fetch_sync(httpx.Request("GET", "http://files.localhost:8000/a.png"))


def test_through_a_proxy_a_name_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _guard("http://8.8.8.8/")
    monkeypatch.setattr(addresses, "_lookup_sync", lambda host, port: (ipaddress.ip_address("127.0.0.1"),))
    request = httpx.Request("GET", "http://files.example/a.png")
    guard.check_fetch_sync(request)
    stream = _Stream("10.9.9.9")  # the proxy
    with pytest.raises(PrivateNetworkError) as info:
        _connect_events(request, "proxy.corp", stream)
    assert info.value.address == "127.0.0.1" and stream.closed


def test_a_local_or_private_app_may_fetch_anything_and_the_option_allows_it() -> None:
    for app_url in ("http://127.0.0.1:7860/", "http://192.168.1.20:7860/"):
        request = httpx.Request("GET", "http://169.254.169.254/latest/")
        _guard(app_url).check_fetch_sync(request)
        assert "trace" not in request.extensions  # no check at all
    request = httpx.Request("GET", "http://127.0.0.1/a")
    _guard("http://8.8.8.8/", allow=True).check_fetch_sync(request)
    assert "trace" not in request.extensions


def test_the_users_trace_still_runs_and_a_redirect_hop_replaces_ours() -> None:
    guard = _guard("http://8.8.8.8/")
    seen: list[str] = []
    request = httpx.Request(
        "GET", "https://files.example/a", extensions={"trace": lambda event, info: seen.append(event)}
    )
    guard.check_fetch_sync(request)
    _connect_events(request, "files.example", _Stream("93.184.216.34"))
    assert seen == ["connection.connect_tcp.started", "connection.connect_tcp.complete"]
    # httpx builds a redirect's request with the same extensions: ours is replaced, the user's kept
    hop = httpx.Request("GET", "https://other.example/b", extensions=request.extensions)
    guard.check_fetch_sync(hop)
    with pytest.raises(PrivateNetworkError) as info:
        _connect_events(hop, "other.example", _Stream("fd00::5"))
    assert info.value.url == "https://other.example/b"
    assert len(seen) == 4


def test_the_option_exists_and_defaults_to_refusing() -> None:
    assert ClientOptions().allow_private_network_files is False
    assert ClientOptions(allow_private_network_files=True).allow_private_network_files is True
