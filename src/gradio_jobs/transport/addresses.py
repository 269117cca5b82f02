"""Private Network Access for file URLs: what an app may make the client fetch.

A file output may be a URL on any host (a ``gr.Gallery`` of remote images), and the client
fetches it from the user's machine. Browsers let a page on a public address fetch only
public addresses (Private Network Access); the client does the same for the apps it talks
to: an app on a public address cannot make it fetch from a loopback, private or link-local
address (``http://127.0.0.1:...``, the LAN, the cloud metadata service at
``169.254.169.254``). An app that is itself on such an address may: it is already inside.

Three parts:

- :func:`classify_ip` / :func:`classify_host`: which address space an address is in
  (pure functions, the tables below).
- the app's own space: the peer address of the first connection the client opens to the
  app (:meth:`PrivateNetworkGuard.watch_app_request`), so that what the app's host name
  resolves to later (DNS rebinding) cannot change the verdict.
- each file fetch, every redirect hop included (:meth:`PrivateNetworkGuard.check_fetch`):
  an address literal in the URL is judged before anything is sent; otherwise the address
  is judged on the connection itself, as soon as it is open and before a byte of the
  request goes out. The check reads the peer address of the socket httpx connected (the
  ``connect_tcp`` event of httpcore's ``trace`` extension), not a second DNS lookup: a
  host name that resolved to a public address for a check and to a private one for the
  connection (time-of-check to time-of-use) is judged on the latter, the one used.
  Downloads run on connections of their own (see ``HttpTransport``), each judged when it
  was opened, so one reused later was judged for the same origin.

Behind an HTTP or SOCKS proxy the client never sees the address (the proxy resolves and
connects): the URL's host is then judged by its literal address, else by the client's own
lookup of the name (a name the client cannot resolve is left to the proxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .._exceptions import PrivateNetworkError

__all__ = [
    "AddressSpace",
    "PrivateNetworkGuard",
    "classify_address",
    "classify_app_address",
    "classify_host",
    "classify_ip",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressSpace(enum.Enum):
    """The address spaces of Private Network Access, from the most to the least private."""

    LOCAL = "local"  # this machine: loopback, and the unspecified address (which reaches it)
    PRIVATE = "private"  # a network the user is on: RFC 1918, link-local, unique local, ...
    PUBLIC = "public"  # everything else


#: ``(space, what it is)`` of an address: the second part goes into error messages.
Classification = tuple[AddressSpace, str]

_LOCAL, _PRIVATE, _PUBLIC = AddressSpace.LOCAL, AddressSpace.PRIVATE, AddressSpace.PUBLIC

_V4_TABLE: tuple[tuple[ipaddress.IPv4Network, AddressSpace, str], ...] = tuple(
    (ipaddress.IPv4Network(net), space, what)
    for net, space, what in (
        ("0.0.0.0/8", _LOCAL, "the 'this host' network (0.0.0.0 reaches this machine)"),
        ("127.0.0.0/8", _LOCAL, "loopback"),
        ("10.0.0.0/8", _PRIVATE, "private (RFC 1918)"),
        ("172.16.0.0/12", _PRIVATE, "private (RFC 1918)"),
        ("192.168.0.0/16", _PRIVATE, "private (RFC 1918)"),
        ("100.64.0.0/10", _PRIVATE, "shared address space (carrier-grade NAT, RFC 6598)"),
        ("169.254.0.0/16", _PRIVATE, "link-local (where cloud metadata services answer)"),
        ("198.18.0.0/15", _PRIVATE, "benchmarking (RFC 2544)"),
    )
)

_V6_TABLE: tuple[tuple[ipaddress.IPv6Network, AddressSpace, str], ...] = tuple(
    (ipaddress.IPv6Network(net), space, what)
    for net, space, what in (
        ("::/128", _LOCAL, "the unspecified address (reaches this machine)"),
        ("::1/128", _LOCAL, "loopback"),
        ("fc00::/7", _PRIVATE, "unique local (private)"),
        ("fe80::/10", _PRIVATE, "link-local"),
        ("fec0::/10", _PRIVATE, "site-local (private)"),
        ("64:ff9b:1::/48", _PRIVATE, "local-use NAT64"),
    )
)

#: IPv6 ranges that carry an IPv4 address in their last 32 bits: judged by that address.
_V6_EMBEDDING_V4 = (
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated), e.g. ::127.0.0.1
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64, well-known prefix
)


def classify_ip(address: IPAddress | str) -> Classification:
    """The address space of the IP ``address`` (an ``ipaddress`` object or its text, an
    IPv6 zone such as ``%eth0`` allowed), and what kind of address it is.

    An IPv6 address carrying an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible,
    NAT64, 6to4, Teredo) is judged by the IPv4 address it reaches. ``ValueError`` if
    ``address`` is not an IP address.
    """
    ip = _parse_ip(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv4Address):
        for net4, space, what in _V4_TABLE:
            if ip in net4:
                return space, what
        return _PUBLIC, "public"
    for net6, space, what in _V6_TABLE:
        if ip in net6:
            return space, what
    embedded = _embedded_v4(ip)
    if embedded is not None:
        space, what = classify_ip(embedded)
        return space, f"{what}, as {embedded} inside the IPv6 address {ip}"
    return _PUBLIC, "public"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address, which the tunnel reaches
    for net in _V6_EMBEDDING_V4:
        if ip in net:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _parse_ip(text: str) -> IPAddress:
    text = text.strip("[]")
    zone = text.find("%")
    if zone >= 0:  # a zone (scope id): "fe80::1%eth0", or "%25eth0" as it appears in a URL
        text = text[:zone]
    return ipaddress.ip_address(text)


#: What a resolver reads as an IPv4 address: "127.1", "0x7f.0.0.1", "2130706433" too.
_LEGACY_V4 = re.compile(r"^[0-9a-fA-FxX.]+$")


def host_ip(host: str) -> IPAddress | None:
    """The IP address ``host`` (a URL's host) is written as, or None for a name.

    IPv4 in the forms resolvers also accept (``127.1``, ``0x7f000001``, ``2130706433``)
    counts as an address, as ``getaddrinfo`` would read it.
    """
    host = host.strip("[]").rstrip(".")
    try:
        return _parse_ip(host)
    except ValueError:
        pass
    if _LEGACY_V4.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # parses, never resolves
        except OSError:
            return None
    return None


def classify_host(host: str, classify: Callable[[IPAddress], Classification] | None = None) -> Classification | None:
    """The address space ``host`` (a URL's host) is in by its writing alone, or None when
    only resolving the name can say.

    An IP literal is judged by ``classify`` (default :func:`classify_address`); the
    names ``localhost`` and ``*.localhost`` are loopback (RFC 6761), as browsers treat them.
    """
    judge = classify or classify_address
    ip = host_ip(host)
    if ip is not None:
        return judge(ip)
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        space, _ = judge(ipaddress.IPv4Address("127.0.0.1"))
        return space, "loopback (the name localhost)"
    return None


def classify_address(ip: IPAddress) -> Classification:
    """How the client judges the address of a file URL's host: :func:`classify_ip`."""
    return classify_ip(ip)


def classify_app_address(ip: IPAddress) -> Classification:
    """How the client judges the address of the app's own host: :func:`classify_ip`.

    The same rule as :func:`classify_address`, kept apart for one reason: the tests play
    a public app with a local one by replacing this function (the app's side only), while
    every file URL is judged by the real rule.
    """
    return classify_ip(ip)


# -- the guard -----------------------------------------------------------------------------------

#: An httpcore ``trace`` callback: ``(event name, info)``, a coroutine for async clients.
AsyncTrace = Callable[[str, dict[str, Any]], Awaitable[None]]
SyncTrace = Callable[[str, dict[str, Any]], None]


class PrivateNetworkGuard:
    """Private Network Access for one client: learns the app's address space, then judges
    each file fetch (see the module's text).

    ``app_url`` is the app's address; ``allow`` (the ``allow_private_network_files``
    option) turns every check off. ``origin_of`` maps a URL to its ``(scheme, host, port)``
    origin (the transport's own function, so both agree on what the app's origin is).
    """

    def __init__(
        self, app_url: str, *, allow: bool, origin_of: Callable[[httpx.URL | str], tuple[str, str, int | None]]
    ) -> None:
        self.allow = allow
        self.app_url = app_url
        self._origin_of = origin_of
        self.app_origin = origin_of(app_url)
        #: The app's address space, once known (see :meth:`watch_app_request`).
        self.app_space: AddressSpace | None = None
        self.app_address: str | None = None
        host = httpx.URL(app_url).host
        literal = None if allow else classify_host(host, classify_app_address)
        if literal is not None:  # an address written in the URL needs no connection to tell
            ip = host_ip(host)
            self.app_space, self.app_address = literal[0], str(ip) if ip is not None else host

    # -- the app's own space --------------------------------------------------------------

    def watch_app_request(self, request: httpx.Request) -> None:
        """A request hook for the app's own requests: until the app's space is known, a
        request to the app's origin learns it from the connection it opens.

        Free once known: the hook returns at once.
        """
        if self.allow or self.app_space is not None or not self._is_app(request.url):
            return
        state = _Hop(request.url)
        user_trace = _user_trace(request)

        async def learn(event: str, info: dict[str, Any]) -> None:
            if user_trace is not None:
                await _call(user_trace, event, info)
            if state.see(event, info) and self.app_space is None:
                self._learn(state, await _resolve_async(state) if state.proxied else ())

        request.extensions = {**request.extensions, "trace": _Traced(learn, user_trace)}

    def _learn(self, state: _Hop, resolved: tuple[IPAddress, ...]) -> None:
        verdict = state.judge(classify_app_address, resolved)
        if verdict is not None and self.app_space is None:
            self.app_space, self.app_address = verdict[0][0], verdict[1]

    async def app_space_async(self) -> AddressSpace:
        """The app's space; if no connection told it yet (the first request went through a
        transport without sockets), judged by the app's host: its literal, else a lookup."""
        if self.app_space is None:
            host = httpx.URL(self.app_url).host
            self.app_space = _space_of_names(await _lookup_async(host, None), classify_app_address)
        return self.app_space

    def app_space_sync(self) -> AddressSpace:
        """:meth:`app_space_async` for a thread that may block (a download thread)."""
        if self.app_space is None:
            host = httpx.URL(self.app_url).host
            self.app_space = _space_of_names(_lookup_sync(host, None), classify_app_address)
        return self.app_space

    # -- file fetches ----------------------------------------------------------------------

    async def check_fetch(self, request: httpx.Request) -> None:
        """A request hook of the async download client: judges each hop of a file fetch."""
        if self.allow or await self.app_space_async() is not AddressSpace.PUBLIC:
            return
        judge = self._judge_for(request.url)
        self._check_literal(request.url, judge)
        state = _Hop(request.url)
        user_trace = _user_trace(request)

        async def check(event: str, info: dict[str, Any]) -> None:
            if user_trace is not None:
                await _call(user_trace, event, info)
            if state.see(event, info):
                resolved = await _resolve_async(state) if state.proxied else ()
                failure = self._verdict(state, judge, resolved)
                if failure is not None:
                    await _aclose(info.get("return_value"))
                    raise failure

        request.extensions = {**request.extensions, "trace": _Traced(check, user_trace)}

    def check_fetch_sync(self, request: httpx.Request) -> None:
        """:meth:`check_fetch` for the sync download client (on a download thread)."""
        if self.allow or self.app_space_sync() is not AddressSpace.PUBLIC:
            return
        judge = self._judge_for(request.url)
        self._check_literal(request.url, judge)
        state = _Hop(request.url)
        user_trace = _user_trace(request)

        def check(event: str, info: dict[str, Any]) -> None:
            if user_trace is not None:
                user_trace(event, info)
            if state.see(event, info):
                resolved = _resolve_sync(state) if state.proxied else ()
                failure = self._verdict(state, judge, resolved)
                if failure is not None:
                    _close(info.get("return_value"))
                    raise failure

        request.extensions = {**request.extensions, "trace": _Traced(check, user_trace)}

    def _is_app(self, url: httpx.URL) -> bool:
        return self._origin_of(url) == self.app_origin

    def _judge_for(self, url: httpx.URL) -> Callable[[IPAddress], Classification]:
        # The app's own origin is judged as the app is (the same rule, but see
        # classify_app_address for why the two are apart).
        return classify_app_address if self._is_app(url) else classify_address

    def _check_literal(self, url: httpx.URL, judge: Callable[[IPAddress], Classification]) -> None:
        """An address written in the URL is refused before any connection is tried."""
        verdict = classify_host(url.host, judge)
        if verdict is not None and verdict[0] is not AddressSpace.PUBLIC:
            ip = host_ip(url.host)
            raise self._error(url, str(ip) if ip is not None else url.host, verdict)

    def _verdict(
        self, state: _Hop, judge: Callable[[IPAddress], Classification], resolved: tuple[IPAddress, ...]
    ) -> PrivateNetworkError | None:
        found = state.judge(judge, resolved)
        if found is None:
            return None
        verdict, address = found
        return None if verdict[0] is AddressSpace.PUBLIC else self._error(state.url, address, verdict)

    def _error(self, url: httpx.URL, address: str, verdict: Classification) -> PrivateNetworkError:
        space, what = verdict
        where = f" ({self.app_address})" if self.app_address else ""
        return PrivateNetworkError(
            f"Refused to fetch the file {url}: its address {address} is {what}, a {space.value} network "
            f"address, and the app at {self.app_url}{where} is on a public address. An app on the internet "
            "cannot make the client fetch from your machine or your networks (browsers refuse the same: "
            "Private Network Access); pass allow_private_network_files=True to the client to allow it.",
            url=str(url),
            address=address,
            space=space.value,
        )


class _Hop:
    """What the trace of one request (one redirect hop) has seen of its connection."""

    __slots__ = ("connect_host", "host", "peer", "proxied", "url")

    def __init__(self, url: httpx.URL) -> None:
        self.url = url
        self.host = _bare(url.raw_host.decode("ascii"))
        self.connect_host: str | None = None
        self.proxied = False
        self.peer: str | None = None

    def see(self, event: str, info: dict[str, Any]) -> bool:
        """Note the event; True once a new connection is open (the moment to judge it)."""
        if event.endswith(".connect_tcp.started"):
            self.connect_host = _bare(str(info.get("host", "")))
            # A connection to another host than the URL's: an HTTP or SOCKS proxy.
            self.proxied = self.connect_host != self.host
            return False
        if event.endswith(".connect_tcp.complete"):
            self.peer = _peer_ip(info.get("return_value"))
            return True
        return False

    def judge(
        self, judge: Callable[[IPAddress], Classification], resolved: tuple[IPAddress, ...]
    ) -> tuple[Classification, str] | None:
        """The least public verdict on this connection, and the address it is about; None
        when nothing can be known (a proxy and a name the client cannot resolve)."""
        if not self.proxied:
            if self.peer is None:  # a stream that cannot say: the URL's literal was judged before
                return None
            return judge(_parse_ip(self.peer)), self.peer
        verdicts = [(judge(ip), str(ip)) for ip in resolved]
        literal = host_ip(self.host)
        if literal is not None:
            verdicts.append((judge(literal), str(literal)))
        if not verdicts:
            return None
        order = list(AddressSpace)
        return min(verdicts, key=lambda v: order.index(v[0][0]))


class _Traced:
    """Our ``trace`` extension, keeping the user's (if a hook of theirs set one) to chain it."""

    __slots__ = ("fn", "user")

    def __init__(self, fn: Callable[[str, dict[str, Any]], Any], user: Callable[..., Any] | None) -> None:
        self.fn = fn
        self.user = user

    def __call__(self, event: str, info: dict[str, Any]) -> Any:
        return self.fn(event, info)


def _user_trace(request: httpx.Request) -> Callable[..., Any] | None:
    """The trace a user's hook put on the request; ours (a redirect hop's) is replaced."""
    trace = request.extensions.get("trace")
    if isinstance(trace, _Traced):
        return trace.user
    return trace if callable(trace) else None


async def _call(trace: Callable[..., Any], event: str, info: dict[str, Any]) -> None:
    outcome = trace(event, info)
    if asyncio.iscoroutine(outcome):
        await outcome


def _bare(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _peer_ip(stream: Any) -> str | None:
    """The address the connection ``stream`` (an httpcore network stream) is connected to."""
    get = getattr(stream, "get_extra_info", None)
    if get is None:
        return None
    try:
        peer = get("server_addr")
    except Exception:  # a network backend that cannot say
        return None
    if isinstance(peer, (tuple, list)) and peer and isinstance(peer[0], str):
        return peer[0]
    return None


async def _aclose(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):  # closing a connection we refuse: nothing to report
            await close()


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            close()


async def _resolve_async(state: _Hop) -> tuple[IPAddress, ...]:
    return await _lookup_async(state.host, state.url.port)


def _resolve_sync(state: _Hop) -> tuple[IPAddress, ...]:
    return _lookup_sync(state.host, state.url.port)


async def _lookup_async(host: str, port: int | None) -> tuple[IPAddress, ...]:
    """``host``'s addresses: its literal, else a lookup on the loop's resolver (none if it fails)."""
    ip = host_ip(host)
    if ip is not None:
        return (ip,)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(_bare(host), port, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    return _addresses(infos)


def _lookup_sync(host: str, port: int | None) -> tuple[IPAddress, ...]:
    ip = host_ip(host)
    if ip is not None:
        return (ip,)
    try:
        infos = socket.getaddrinfo(_bare(host), port, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    return _addresses(infos)


def _addresses(infos: list[tuple[Any, ...]]) -> tuple[IPAddress, ...]:
    found: list[IPAddress] = []
    for info in infos:
        try:
            found.append(_parse_ip(str(info[4][0])))
        except (ValueError, IndexError, TypeError):
            continue
    return tuple(found)


def _space_of_names(addresses: tuple[IPAddress, ...], judge: Callable[[IPAddress], Classification]) -> AddressSpace:
    """The app's space from its host's addresses: public if any is (the strict side), and
    public too when none could be found (a name only a proxy resolves)."""
    if not addresses:
        return AddressSpace.PUBLIC
    spaces = {judge(ip)[0] for ip in addresses}
    if AddressSpace.PUBLIC in spaces:
        return AddressSpace.PUBLIC
    return AddressSpace.PRIVATE if AddressSpace.PRIVATE in spaces else AddressSpace.LOCAL
