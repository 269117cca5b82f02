"""A small hostile Gradio server for the bounds tests, in a background thread.

A real gradio cannot be made to misbehave like this, so this one speaks just enough HTTP/1.1
(raw asyncio sockets) to look like a gradio 6.31 app (``/config`` and ``/gradio_api/info``
are real captures, ``queue/join`` and the ``queue/data`` event stream follow the recorded
traffic) and then misbehaves as the test says:

    with HostileServer() as server:            # 127.0.0.1, a port the OS hands out; or
                                               # HostileServer("4.8.0"): a job stream per job
        server.config_mode = "endless"         # /config: "normal", "endless", "bomb", "redirect"
        server.stream_mode = "endless_line"    # what the stream does for the hostile endpoint:
                                               # "endless_line", "trickle", "heartbeats", "comments"
        server.tick = 0.05                     # seconds between trickled bytes / heartbeats
        server.url                             # "http://127.0.0.1:<port>/"

Endpoints (the capture's): ``/add`` (fn 0) is always answered correctly (``a + b``);
``/slow`` (fn 2) gets ``stream_mode`` on its session's stream; ``/file_info`` (fn 7) answers
with a file output whose URL is ``file=<server.file_name>``, served per its name:
``ok.txt`` (12 bytes), ``bomb.txt`` (``Content-Encoding: gzip``, inflating to
``server.bomb_size`` bytes), ``trickle.txt`` (a byte per tick, for ever), ``loop.txt``
(a redirect to itself, for ever). Every other route answers 404; ``heartbeat/`` too (the
client then stops asking).

``HostileServer("4.8.0")`` looks like a gradio 4.8 app instead (its captured config and info,
routes without the ``/gradio_api`` prefix): each job has its own ``GET queue/join`` stream,
its data posted on ``send_data``; ``/slow`` misbehaves on its own stream, the others are
answered. File outputs are served on 6.31 only.

Observation: ``requests`` (request lines, in order), ``bytes_sent`` (bytes written to
clients), ``open_streams`` (streams being written now).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import io
import json
import threading
import urllib.parse
import uuid
from typing import Any

from tests.fixtures.captures import config as captured_config
from tests.fixtures.captures import info as captured_info

__all__ = ["HostileServer", "gzip_bomb"]

VERSION = "6.31.0"
#: The generation whose jobs each have a stream of their own (``GET queue/join``, 4.0 to 4.8).
JOB_STREAM_VERSION = "4.8.0"
#: The generation of the websocket queue (3.x).
WEBSOCKET_VERSION = "3.50.2"
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOSTILE_FN = 2
FILE_FN = 7
_CHUNK = b"x" * (64 << 10)


def gzip_bomb(size: int) -> bytes:
    """A gzip body that inflates to ``size`` zero bytes (about 1000 times smaller)."""
    out = io.BytesIO()
    block = bytes(1 << 20)
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as packer:
        left = size
        while left > 0:
            packer.write(block[: min(left, len(block))])
            left -= len(block)
    return out.getvalue()


class HostileServer:
    """See the module's docstring."""

    def __init__(self, version: str = VERSION) -> None:
        assert version in (VERSION, JOB_STREAM_VERSION, WEBSOCKET_VERSION), version
        self.version = version
        #: The API routes' prefix: ``/gradio_api`` on 6.31, none on 4.8.
        self.api = "/gradio_api" if version == VERSION else ""
        self._data: dict[str, asyncio.Future[list[Any]]] = {}
        self.port: int | None = None
        self.config_mode = "normal"
        self.stream_mode = "endless_line"
        self.tick = 0.05
        self.file_name = "ok.txt"
        self.bomb_size = 1 << 30
        self.requests: list[str] = []
        self.bytes_sent = 0
        self.open_streams = 0
        self._bomb: dict[int, bytes] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._pending: dict[str, list[tuple[str, int, list[Any]]]] = {}
        self._joined: asyncio.Condition | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> HostileServer:
        self._thread = threading.Thread(target=self._run, name="HostileServer", daemon=True)
        self._thread.start()
        if not self._ready.wait(10.0):
            raise RuntimeError("the hostile server did not start within 10 s")
        return self

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))
        if self._thread is not None:
            self._thread.join(10.0)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        self._joined = asyncio.Condition()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop
        finally:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)

    # -- HTTP -------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                self.requests.append(f"{method} {target}")
                if headers.get("upgrade", "").lower() == "websocket":
                    await self._websocket(headers["sec-websocket-key"], reader, writer)
                    break
                keep = await self._route(method, target, body, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        self.bytes_sent += len(data)
        await writer.drain()

    async def _answer(
        self, writer: asyncio.StreamWriter, status: str, body: bytes, content_type: str = "application/json",
        extra: str = "",
    ) -> bool:
        head = (
            f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
        ).encode()
        await self._write(writer, head + body)
        return True

    async def _start_chunked(self, writer: asyncio.StreamWriter, content_type: str, extra: str = "") -> None:
        head = f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n{extra}\r\n"
        await self._write(writer, head.encode())

    async def _chunk(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        await self._write(writer, b"%x\r\n%s\r\n" % (len(data), data))

    async def _route(self, method: str, target: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        parsed = urllib.parse.urlsplit(target)
        path, query = parsed.path, urllib.parse.parse_qs(parsed.query)
        if path == "/config":
            return await self._config(writer)
        if path == "/config-loop":
            return await self._answer(writer, "302 Found", b"", extra="location: /config-loop\r\n")
        if path == "/favicon.ico":
            return await self._answer(writer, "404 Not Found", b'{"detail":"Not Found"}')
        if self.api:
            if not path.startswith(self.api):
                return await self._answer(writer, "404 Not Found", b'{"detail":"Not Found"}')
            path = "/gradio_api" + path[len(self.api):]
        elif path == "/config":
            pass
        else:
            path = "/gradio_api" + path
        if path == "/gradio_api/info":
            return await self._answer(writer, "200 OK", json.dumps(captured_info(self.version)).encode())
        if self.version == JOB_STREAM_VERSION:
            if path == "/gradio_api/queue/join" and method == "GET":
                return await self._job_stream(int(query["fn_index"][0]), writer)
            if path == "/gradio_api/queue/data" and method == "POST":
                request = json.loads(body)
                future = self._data.get(request["event_id"])
                if future is not None and not future.done():
                    future.set_result(list(request.get("data") or []))
                return await self._answer(writer, "200 OK", b"null")
        if path == "/gradio_api/queue/join" and method == "POST":
            return await self._join(json.loads(body), writer)
        if path == "/gradio_api/queue/data" and method == "GET":
            return await self._stream(query["session_hash"][0], writer)
        if path.startswith("/gradio_api/file="):
            return await self._file(path.rsplit("/", 1)[-1], writer)
        if method == "POST":
            return await self._answer(writer, "200 OK", b"{}")
        return await self._answer(writer, "404 Not Found", b'{"detail":"Not Found"}')

    async def _config(self, writer: asyncio.StreamWriter) -> bool:
        mode = self.config_mode
        if mode == "redirect":
            return await self._answer(writer, "302 Found", b"", extra="location: /config-loop\r\n")
        if mode == "bomb":
            bomb = self._bomb_of(self.bomb_size)
            extra = "content-encoding: gzip\r\n"
            return await self._answer(writer, "200 OK", bomb, extra=extra)
        if mode == "endless":
            await self._start_chunked(writer, "application/json")
            await self._chunk(writer, b'{"version": "6.31.0", "padding": "')
            while True:
                await self._chunk(writer, _CHUNK)
        config = captured_config(self.version)
        config["root"] = self.url.rstrip("/")
        return await self._answer(writer, "200 OK", json.dumps(config).encode())

    def _bomb_of(self, size: int) -> bytes:
        if size not in self._bomb:
            self._bomb[size] = gzip_bomb(size)
        return self._bomb[size]

    async def _join(self, request: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        event_id = uuid.uuid4().hex
        assert self._joined is not None
        async with self._joined:
            self._pending.setdefault(request["session_hash"], []).append(
                (event_id, int(request["fn_index"]), list(request.get("data") or []))
            )
            self._joined.notify_all()
        return await self._answer(writer, "200 OK", json.dumps({"event_id": event_id}).encode())

    async def _stream(self, session: str, writer: asyncio.StreamWriter) -> bool:
        await self._start_chunked(writer, "text/event-stream; charset=utf-8")
        self.open_streams += 1
        beats: list[asyncio.Task[None]] = []
        try:
            assert self._joined is not None
            while True:
                async with self._joined:
                    if not self._pending.get(session):
                        try:
                            await asyncio.wait_for(self._joined.wait_for(lambda: bool(self._pending.get(session))), 2.0)
                        except asyncio.TimeoutError:
                            if beats:
                                continue
                            await self._event(writer, {"msg": "close_stream", "event_id": None})
                            await self._chunk(writer, b"")
                            return True
                    events, self._pending[session] = self._pending[session], []
                for event_id, fn, data in events:
                    if fn == HOSTILE_FN and self.stream_mode == "heartbeats":
                        # Alive for ever, never done; other jobs of the session are still served.
                        beats.append(asyncio.ensure_future(self._misbehave(event_id, writer)))
                    elif fn == HOSTILE_FN:
                        await self._misbehave(event_id, writer)  # for ever, until the client goes
                    else:
                        await self._complete(event_id, fn, data, writer)
        finally:
            self.open_streams -= 1
            for beat in beats:
                beat.cancel()

    async def _job_stream(self, fn: int, writer: asyncio.StreamWriter) -> bool:
        """One job of the 4.0-4.8 queue: its own stream, its data posted on ``send_data``."""
        event_id = uuid.uuid4().hex
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._data[event_id] = future
        await self._start_chunked(writer, "text/event-stream; charset=utf-8")
        await self._event(writer, {"msg": "estimation", "rank": 0, "queue_size": 1, "rank_eta": None})
        await self._event(writer, {"msg": "send_data", "event_id": event_id})
        data = await asyncio.wait_for(future, 10.0)
        if fn == HOSTILE_FN:
            await self._misbehave(event_id, writer)
        await self._complete(event_id, fn, data, writer)
        await self._chunk(writer, b"")
        return False  # the stream ended with the job: close the connection

    # -- the 3.x websocket queue (RFC 6455, just what a job needs) ------------------------------

    async def _websocket(self, key: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        await self._write(writer, (
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            f"sec-websocket-accept: {accept}\r\n\r\n"
        ).encode())
        await self._frame(writer, {"msg": "send_hash"})
        fn = int((await self._read_frame(reader))["fn_index"])
        await self._frame(writer, {"msg": "estimation", "rank": 0, "queue_size": 1, "rank_eta": None})
        await self._frame(writer, {"msg": "send_data"})
        data = list((await self._read_frame(reader)).get("data") or [])
        await self._frame(writer, {"msg": "process_starts"})
        if fn == HOSTILE_FN:
            # One frame that says it is 1 GiB long, then its bytes for ever.
            await self._write(writer, b"\x81\x7f" + (1 << 30).to_bytes(8, "big"))
            while True:
                await self._write(writer, _CHUNK)
        await self._frame(writer, {
            "msg": "process_completed", "success": True,
            "output": {"data": [sum(x for x in data if isinstance(x, (int, float)))], "is_generating": False},
        })
        await self._write(writer, b"\x88\x02\x03\xe8")  # close, 1000

    async def _frame(self, writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        size = len(payload)
        head = bytes([0x81, size]) if size < 126 else b"\x81\x7e" + size.to_bytes(2, "big")
        await self._write(writer, head + payload)

    async def _read_frame(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        first, second = await reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await reader.readexactly(8), "big")
        mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(size)))
        if first & 0x0F != 1:
            raise ConnectionError("not a text frame")
        result: dict[str, Any] = json.loads(payload)
        return result

    async def _event(self, writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        await self._chunk(writer, b"data: " + json.dumps(message).encode() + b"\n\n")

    async def _complete(self, event_id: str, fn: int, data: list[Any], writer: asyncio.StreamWriter) -> None:
        await self._event(writer, {"msg": "estimation", "event_id": event_id, "rank": 0, "queue_size": 1})
        await self._event(writer, {"msg": "process_starts", "event_id": event_id, "eta": None})
        if fn == FILE_FN:
            name = self.file_name
            output: list[Any] = ["file", {
                "path": f"/tmp/hostile/{name}", "url": f"{self.url}gradio_api/file=/tmp/hostile/{name}",
                "size": None, "orig_name": name, "mime_type": None, "is_stream": False,
                "meta": {"_type": "gradio.FileData"},
            }]
        else:
            output = [sum(x for x in data if isinstance(x, (int, float)))]
        await self._event(writer, {
            "msg": "process_completed", "event_id": event_id, "success": True,
            "output": {"data": output, "is_generating": False, "duration": 0.0, "average_duration": 0.0},
        })

    async def _misbehave(self, event_id: str, writer: asyncio.StreamWriter) -> None:
        mode = self.stream_mode
        await self._event(writer, {"msg": "process_starts", "event_id": event_id, "eta": None})
        if mode == "endless_line":
            await self._chunk(writer, b'data: {"msg": "process_generating", "padding": "')
            while True:
                await self._chunk(writer, _CHUNK)
        if mode == "trickle":
            await self._chunk(writer, b"data: ")
            while True:
                await self._chunk(writer, b"x")
                await asyncio.sleep(self.tick)
        if mode == "comments":
            while True:
                await self._chunk(writer, b": still here\n")
                await asyncio.sleep(self.tick)
        if mode == "heartbeats":
            while True:
                await self._event(writer, {"msg": "heartbeat", "event_id": None})
                await asyncio.sleep(self.tick)
        raise ValueError(f"unknown stream_mode {mode!r}")

    async def _file(self, name: str, writer: asyncio.StreamWriter) -> bool:
        if name == "ok.txt":
            return await self._answer(writer, "200 OK", b"hello world\n", "text/plain")
        if name == "bomb.txt":
            return await self._answer(
                writer, "200 OK", self._bomb_of(self.bomb_size), "text/plain", "content-encoding: gzip\r\n"
            )
        if name == "loop.txt":
            return await self._answer(
                writer, "302 Found", b"", extra="location: /gradio_api/file=/tmp/hostile/loop.txt\r\n"
            )
        if name == "trickle.txt":
            await self._start_chunked(writer, "text/plain")
            while True:
                await self._chunk(writer, b"x")
                await asyncio.sleep(self.tick)
        return await self._answer(writer, "404 Not Found", b'{"detail":"Not Found"}')
