"""A small TCP proxy for fault-injection tests, in a background thread.

    proxy = FaultProxy(server.port).start()      # or: with FaultProxy(server.port) as proxy:
    client = httpx.Client(base_url=proxy.url)    # "http://127.0.0.1:<proxy port>/"
    proxy.cut()            # RST every open connection (new ones still work)
    proxy.cut_matching(lambda line: "queue/data" in line)   # RST only those
    proxy.stall()          # hold all bytes, both ways, on open and new connections
    proxy.resume()         # ... and let them (and what was held) through again
    proxy.refuse()         # accept new connections and reset them at once
    proxy.accept()         # ... undone
    proxy.slow(0.2)        # 0.2 s latency per forwarded chunk (and/or bytes_per_s=...)
    proxy.normal()         # ... undone
    proxy.reset()          # resume() + accept() + normal()
    proxy.stop()           # idempotent; closes every socket, joins the thread

The proxy listens on 127.0.0.1 on a port the OS hands out and forwards each accepted
connection to ``(target_host, target_port)``, which must be on 127.0.0.1. It runs its
own asyncio event loop in a daemon thread, so sync tests can use it; every command is
carried out on that loop and has taken effect when the call returns (after ``cut()``
the cut sockets are closed).

Observation (readable from any thread):

``connections``     number of client connections currently open
``requests``        the first request line of each connection, in order of arrival
                    (only the first one: later requests on a keep-alive connection are
                    not parsed), e.g. ``"GET /gradio_api/queue/data?session_hash=x HTTP/1.1"``
``open_requests``   first request lines of the connections open now (None: not seen yet)
``accepted``        connections accepted so far (refused ones included)
``refused``         connections reset by ``refuse()``
``bytes_up``        bytes forwarded client -> server
``bytes_down``      bytes forwarded server -> client

``wait_for_request(match, timeout)`` waits until a first request line containing
``match`` (a substring, or a predicate) has been seen and returns it;
``wait_for_connections(n, timeout)`` until exactly ``n`` connections are open.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import threading
import time
from typing import Callable, Optional, Union

__all__ = ["FaultProxy"]

CHUNK = 64 * 1024
SNIFF_LIMIT = 8 * 1024  # a first line longer than this is recorded truncated
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 2.0
STOP_TIMEOUT = 2.0
_LINGER_RST = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST

Match = Union[str, Callable[[str], bool]]


def _matcher(match: Match) -> Callable[[str], bool]:
    if callable(match):
        return match
    return lambda line: match in line


class _Conn:
    """One client connection and its upstream twin."""

    __slots__ = ("id", "client", "upstream", "first_line", "sniff", "tasks", "closed")

    def __init__(self, conn_id: int, client: asyncio.StreamWriter):
        self.id = conn_id
        self.client: asyncio.StreamWriter = client
        self.upstream: Optional[asyncio.StreamWriter] = None
        self.first_line: Optional[str] = None
        self.sniff = bytearray()
        self.tasks: set[asyncio.Task] = set()
        self.closed = False

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        assert target_host == "127.0.0.1", f"FaultProxy only forwards to 127.0.0.1, not {target_host!r}"
        self.target_host = target_host
        self.target_port = int(target_port)
        self.port: Optional[int] = None

        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ready = threading.Event()
        self._start_error: Optional[BaseException] = None
        self._stop_lock = threading.Lock()
        self._stopped = False

        # loop-thread state (commands change it through the loop)
        self._server: Optional[asyncio.base_events.Server] = None
        self._stop_requested: Optional[asyncio.Future] = None
        self._flowing: Optional[asyncio.Event] = None  # set: bytes flow; clear: stalled
        self._conns: dict[int, _Conn] = {}
        self._handlers: set[asyncio.Task] = set()
        self._ids = itertools.count(1)
        self._refusing = False
        self._delay = 0.0
        self._bytes_per_s: Optional[float] = None

        # observations
        self._requests: list[str] = []
        self.accepted = 0
        self.refused = 0
        self.bytes_up = 0
        self.bytes_down = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "FaultProxy":
        if self._thread is not None:
            if self._stopped:
                raise RuntimeError("a stopped FaultProxy cannot be started again")
            return self
        self._thread = threading.Thread(target=self._run, name=f"FaultProxy->{self.target_port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(5.0):
            self.stop()
            raise RuntimeError("FaultProxy did not start within 5 s")
        if self._start_error is not None:
            self.stop()
            raise RuntimeError(f"FaultProxy failed to start: {self._start_error!r}") from self._start_error
        return self

    def stop(self) -> None:
        """Close the listener and every connection (RST) and join the thread. Idempotent."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if loop is not None and self._stop_requested is not None:
            def request_stop() -> None:
                if not self._stop_requested.done():
                    self._stop_requested.set_result(None)

            try:
                loop.call_soon_threadsafe(request_stop)
            except RuntimeError:  # loop already closed
                pass
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"FaultProxy thread did not stop within {STOP_TIMEOUT} s")

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<FaultProxy {self.url if self.port else '(not started)'} -> "
            f"{self.target_host}:{self.target_port} conns={self.connections}>"
        )

    # ------------------------------------------------------------------ info

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("FaultProxy was not started")
        return f"http://127.0.0.1:{self.port}/"

    @property
    def connections(self) -> int:
        return len(self._conns)

    @property
    def requests(self) -> list[str]:
        return list(self._requests)

    @property
    def open_requests(self) -> list[Optional[str]]:
        return [c.first_line for c in list(self._conns.values())]

    @property
    def stalled(self) -> bool:
        return self._flowing is not None and not self._flowing.is_set()

    @property
    def refusing(self) -> bool:
        return self._refusing

    def wait_for_request(self, match: Match, timeout: float = 5.0) -> str:
        """Wait until a connection's first request line matches; return that line."""
        pred = _matcher(match)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.requests:
                if pred(line):
                    return line
            if time.monotonic() > deadline:
                raise TimeoutError(f"no request matching {match!r} within {timeout} s; seen {self.requests}")
            time.sleep(0.01)

    def wait_for_connections(self, n: int, timeout: float = 5.0) -> None:
        """Wait until exactly ``n`` client connections are open (closing is asynchronous:
        a client's close reaches the proxy a moment after the client returns)."""
        deadline = time.monotonic() + timeout
        while self.connections != n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.connections} connections open, not {n}, after {timeout} s")
            time.sleep(0.01)

    # ------------------------------------------------------------------ commands

    def cut(self) -> int:
        """Reset every open connection, both sides. Returns how many were cut."""
        return self._command(self._cut(lambda conn: True))

    def cut_matching(self, predicate: Match) -> int:
        """Reset the open connections whose first request line matches ``predicate``
        (a callable on the line, or a substring). Connections whose first line has not
        been seen yet are left alone. Returns how many were cut."""
        pred = _matcher(predicate)
        return self._command(self._cut(lambda conn: conn.first_line is not None and pred(conn.first_line)))

    def stall(self) -> None:
        """Stop forwarding, both ways, on open and new connections (sockets stay open)."""
        self._command(self._set(lambda: self._flowing.clear()))

    def resume(self) -> None:
        """Forward again, starting with what was held."""
        self._command(self._set(lambda: self._flowing.set()))

    def refuse(self) -> None:
        """Reset new connections as soon as they are accepted."""
        self._command(self._set(lambda: setattr(self, "_refusing", True)))

    def accept(self) -> None:
        self._command(self._set(lambda: setattr(self, "_refusing", False)))

    def slow(self, delay_s: float = 0.2, bytes_per_s: Optional[float] = None) -> None:
        """Delay each forwarded chunk by ``delay_s`` and/or cap each direction of each
        connection at ``bytes_per_s``."""
        if delay_s < 0 or (bytes_per_s is not None and bytes_per_s <= 0):
            raise ValueError("delay_s must be >= 0 and bytes_per_s > 0")

        def apply() -> None:
            self._delay = float(delay_s)
            self._bytes_per_s = float(bytes_per_s) if bytes_per_s else None

        self._command(self._set(apply))

    def normal(self) -> None:
        self.slow(0.0, None)

    def reset(self) -> None:
        """Undo stall(), refuse() and slow()."""
        self.resume()
        self.accept()
        self.normal()

    # ------------------------------------------------------------------ plumbing

    def _command(self, coro):
        loop = self._loop
        if loop is None or self._stopped or self._thread is None or not self._thread.is_alive():
            coro.close()
            raise RuntimeError("FaultProxy is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(COMMAND_TIMEOUT)

    @staticmethod
    async def _set(fn: Callable[[], object]) -> None:
        fn()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._exception_handler)
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as e:  # noqa: BLE001 - reported by start()
            if not self._ready.is_set():
                self._start_error = e
        finally:
            self._ready.set()
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=0.5))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    @staticmethod
    def _exception_handler(loop, context) -> None:
        exc = context.get("exception")
        if isinstance(exc, (OSError, asyncio.CancelledError)):
            return  # connection noise (resets, broken pipes) is the point of this proxy
        loop.default_exception_handler(context)

    async def _main(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._stop_requested = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=CHUNK)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop_requested
        finally:
            self._server.close()
            for conn in list(self._conns.values()):
                self._close_conn(conn, reset=True)
            handlers = [t for t in self._handlers if not t.done()]
            for t in handlers:
                t.cancel()
            if handlers:
                await asyncio.wait(handlers, timeout=1.0)
            await asyncio.sleep(0)  # let the aborted transports close their sockets
            try:
                await asyncio.wait_for(self._server.wait_closed(), 0.5)
            except (asyncio.TimeoutError, OSError):
                pass

    async def _cut(self, select: Callable[[_Conn], bool]) -> int:
        victims = [c for c in list(self._conns.values()) if not c.closed and select(c)]
        socks = []
        for conn in victims:
            socks += [w.get_extra_info("socket") for w in conn.writers()]
            self._close_conn(conn, reset=True)
        # abort() closes the socket on the next loop iteration: wait until it has
        deadline = time.monotonic() + 1.0
        while any(s is not None and s.fileno() != -1 for s in socks) and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        return len(victims)

    def _close_conn(self, conn: _Conn, reset: bool) -> None:
        if conn.closed:
            return
        conn.closed = True
        self._conns.pop(conn.id, None)
        for w in conn.writers():
            if reset:
                _abort_with_rst(w)
            else:
                try:
                    w.close()
                except Exception:  # noqa: BLE001
                    pass
        current = asyncio.current_task()
        for t in conn.tasks:
            if t is not current and not t.done():
                t.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._refusing:
            self.refused += 1
            _abort_with_rst(writer)
            return
        task = asyncio.current_task()
        self._handlers.add(task)
        conn = _Conn(next(self._ids), writer)
        conn.tasks.add(task)
        self._conns[conn.id] = conn
        graceful = False
        try:
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.target_host, self.target_port, limit=CHUNK),
                    CONNECT_TIMEOUT,
                )
            except (OSError, asyncio.TimeoutError):
                return  # target down: reset the client (finally)
            conn.upstream = up_writer
            if conn.closed:  # cut while we were connecting
                _abort_with_rst(up_writer)
                return
            pumps = [
                asyncio.create_task(self._pump(conn, reader, up_writer, up=True)),
                asyncio.create_task(self._pump(conn, up_reader, writer, up=False)),
            ]
            conn.tasks.update(pumps)
            results = await asyncio.gather(*pumps)
            graceful = all(results)
        finally:
            self._close_conn(conn, reset=not graceful)
            self._handlers.discard(task)

    async def _pump(self, conn: _Conn, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: bool) -> bool:
        """Copy one direction. True: ended by EOF (passed on); False: ended by an error
        (the whole connection is then reset, so that a reset travels through)."""
        try:
            while True:
                data = await reader.read(CHUNK)
                if up and conn.first_line is None:
                    self._sniff(conn, data)
                if not data:
                    await self._flowing.wait()
                    if writer.can_write_eof():
                        writer.write_eof()
                    return True
                await self._forward(data, writer, up)
        except (OSError, EOFError):
            self._close_conn(conn, reset=True)
            return False

    async def _forward(self, data: bytes, writer: asyncio.StreamWriter, up: bool) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        view = memoryview(data)
        while view:
            await self._flowing.wait()  # stalled: hold the bytes here
            bps = self._bytes_per_s
            piece = view[: max(1, int(bps / 20))] if bps else view
            writer.write(bytes(piece))
            if up:
                self.bytes_up += len(piece)
            else:
                self.bytes_down += len(piece)
            await writer.drain()
            view = view[len(piece):]
            if bps:
                await asyncio.sleep(len(piece) / bps)

    def _sniff(self, conn: _Conn, data: bytes) -> None:
        conn.sniff += data
        end = conn.sniff.find(b"\n")
        if end >= 0:
            line = bytes(conn.sniff[:end])
        elif not data or len(conn.sniff) >= SNIFF_LIMIT:  # EOF or no end in sight
            line = bytes(conn.sniff[:SNIFF_LIMIT])
            if not line:
                return
        else:
            return
        conn.first_line = line.decode("latin-1").strip()
        conn.sniff = bytearray()
        self._requests.append(conn.first_line)


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        except OSError:
            pass
    writer.transport.abort()
