"""The routes where each job has a connection of its own (the README's "Servers it speaks to").

- the 3.x websocket queue (``ws``): ``send_hash`` and ``send_data`` are answered on the socket;
- the 4.0 to 4.8 job stream (``sse``): ``GET queue/join`` streams the job's messages and its
  ``send_data`` is answered with ``POST queue/data``;
- the direct route: ``POST run/predict``, for events that bypass the queue.

Each runner feeds the job's messages to its sink in order and returns when the job is
over; cancelling the runner's task drops the connection. What to send is decided in
``protocol.requests``; this module only moves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from .._exceptions import GradioJobsError, MessageTooLargeError, ProtocolError, StreamStalledError
from .._limits import WEBSOCKET_CLOSE_TIMEOUT
from ..protocol import messages as m
from ..protocol import requests as rq
from ..protocol.api import Endpoint
from ..protocol.responses import raise_for_status
from ..protocol.sse import SSEDecoder
from .http import HttpTransport, call_extensions, read_some
from .stream import Pacer, StreamQuiet

__all__ = ["RouteSink", "run_direct", "run_job_stream", "run_websocket"]

logger = logging.getLogger("gradio_jobs")

# Messages after which the server has nothing more to say about a job.
_FINAL = (m.Completed, m.QueueFull)


class RouteSink(Protocol):
    """What a runner needs of a job."""

    @property
    def finished(self) -> bool:
        """Whether the job has ended (the runner then stops reading)."""
        ...

    def accepted(self, job_id: str | None) -> None:
        """The server took the job (``job_id``: its id, when this route gives one)."""
        ...

    def deliver(self, message: m.Message) -> None:
        """One message of the job, in the order the server sent them."""
        ...

    def lose(self, reason: str) -> None:
        """The connection ended before the job did; ``reason`` says how."""
        ...

    def reject(self, error: BaseException) -> None:
        """The job failed with ``error`` (a refusal, a bad message)."""
        ...


async def run_websocket(
    transport: HttpTransport,
    url: str,
    endpoint: Endpoint,
    data: list[Any],
    session_hash: str,
    sink: RouteSink,
    call_headers: Mapping[str, str] | None = None,
) -> None:
    """One job on the 3.x websocket queue at ``url`` (``.../queue/join``), fed to ``sink``.

    ``transport`` gives the address, headers and TLS settings for ``url``; ``endpoint`` and
    ``data`` are what is sent when the server asks (``send_hash``, then ``send_data`` with
    ``session_hash``). Returns when the job is over; failures go to ``sink.reject`` or
    ``sink.lose``, never out. ``websockets`` is imported here, the first time a 3.x server
    is met, so that ``import gradio_jobs`` does not pay for it. ``call_headers`` are the
    call's own headers (default none). A frame over ``max_message_size`` (the transport's
    :attr:`~HttpTransport.limits`) fails the job with :class:`MessageTooLargeError`.
    """
    import websockets
    from websockets.asyncio.client import connect as ws_connect

    ws_url, options = await transport.websocket_options(url, call_headers)
    max_size = transport.limits.max_message_size
    try:
        async with ws_connect(
            ws_url, open_timeout=30, max_size=max_size, close_timeout=WEBSOCKET_CLOSE_TIMEOUT,
            create_connection=_bounded_connection(), **options
        ) as socket:
            async for frame in socket:
                try:
                    message = m.decode_message(frame if isinstance(frame, str) else frame.decode())
                except ProtocolError as exc:
                    sink.reject(exc)
                    return
                if isinstance(message, m.SendHash):
                    await socket.send(json.dumps(rq.hash_reply(endpoint, session_hash)))
                    sink.accepted(None)
                    continue
                if isinstance(message, m.SendData):
                    await socket.send(json.dumps(rq.data_reply(endpoint, data, session_hash, message.event_id)))
                sink.deliver(message)
                if isinstance(message, _FINAL) or sink.finished:
                    return
    except websockets.InvalidStatus as exc:
        status = exc.response.status_code
        body = bytes(exc.response.body or b"")
        try:
            raise_for_status(status, body, "Opening the queue websocket")
        except GradioJobsError as error:
            sink.reject(error)
            return
        sink.lose(f"the queue websocket was refused with HTTP {status}")
        return
    except websockets.ConnectionClosed as exc:
        if exc.sent is not None and exc.sent.code == 1009 and max_size is not None:
            # The client closed it with 1009 (message too big): a frame was over max_size.
            sink.reject(MessageTooLargeError(
                f"a queue websocket message is over the limit of {max_size} bytes (max_message_size)",
                limit=max_size,
            ))
            return
        sink.lose(f"the server closed the queue websocket ({exc})")
        return
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        sink.lose(f"the queue websocket failed ({type(exc).__name__}: {exc})")
        return
    sink.lose("the server closed the queue websocket before the job ended")


@functools.cache
def _bounded_connection() -> Any:
    """websockets' client connection, holding to ``close_timeout`` when the client itself
    fails the connection as it receives (a frame over ``max_size``, refused with 1009):
    websockets would wait for the server's close frame until its next keepalive ping (20 s)
    while a hostile server keeps sending. Made on first use (websockets loads lazily)."""
    from websockets.asyncio.client import ClientConnection

    class BoundedConnection(ClientConnection):
        _abort: asyncio.TimerHandle | None = None

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._abort is None and self.close_deadline is not None:
                self._abort = self.loop.call_at(self.close_deadline, self.transport.abort)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._abort is not None:
                self._abort.cancel()
            super().connection_lost(exc)

    return BoundedConnection


async def run_job_stream(
    transport: HttpTransport,
    api_url: str,
    endpoint: Endpoint,
    data: list[Any],
    session_hash: str,
    sink: RouteSink,
    read_timeout: float | None,
    call_headers: Mapping[str, str] | None = None,
) -> None:
    """One job on the 4.0 to 4.8 queue: its own ``GET queue/join`` stream, fed to ``sink``.

    ``api_url`` is the app's API base (ending in ``/``); ``endpoint``, ``data`` and
    ``session_hash`` make the ``POST queue/data`` answer to the server's ``send_data``.
    ``read_timeout`` (seconds, None for none) is the longest wait for a complete message,
    heartbeats included, before the job counts as lost (a server that trickles the bytes of
    a message it never finishes fails it with :class:`StreamStalledError`).
    ``call_headers`` are the call's own headers (default none). A message over
    ``max_message_size`` (the transport's :attr:`~HttpTransport.limits`) fails the job with
    :class:`MessageTooLargeError`. Returns when the job is over; failures go to the sink.
    """
    decoder = SSEDecoder(transport.limits.max_message_size)
    params: dict[str, str | int] = {"fn_index": endpoint.fn_index, "session_hash": session_hash}
    try:
        async with transport.stream_client.stream(
            "GET",
            api_url + "queue/join",
            params=params,
            timeout=httpx.Timeout(30.0, read=read_timeout),
            extensions=call_extensions(call_headers),
        ) as response:
            if response.status_code != 200:
                refusal = await read_some(response, 64 << 10)
                try:
                    raise_for_status(response.status_code, refusal, "Joining the queue")
                except GradioJobsError as error:
                    sink.reject(error)
                    return
            sink.accepted(None)
            pacer = Pacer(read_timeout)
            async with contextlib.aclosing(response.aiter_bytes()) as chunks:  # type: ignore[type-var]
                while True:
                    try:
                        chunk = await pacer.next(chunks)
                    except StopAsyncIteration:
                        break
                    payloads = decoder.feed(chunk)
                    if payloads:
                        pacer.mark()
                    for payload in payloads:
                        try:
                            message = m.decode_message(payload)
                        except ProtocolError as exc:
                            sink.reject(exc)
                            return
                        if isinstance(message, m.Heartbeat):
                            continue
                        if isinstance(message, m.SendData):
                            reply = rq.data_reply(endpoint, data, session_hash, message.event_id)
                            try:
                                await transport.post_ok(
                                    api_url + "queue/data", reply, "Sending the job's data", call_headers
                                )
                            except GradioJobsError as error:
                                sink.reject(error)
                                return
                        sink.deliver(message)
                        if isinstance(message, _FINAL) or sink.finished:
                            return
    except MessageTooLargeError as exc:
        sink.reject(exc)
        return
    except StreamQuiet:
        if decoder.pending:
            limit = read_timeout or 0.0
            sink.reject(StreamStalledError(
                f"no complete message on the job's stream for {limit:g} s (stream_timeout): "
                f"the server sent {decoder.pending} bytes of a message it did not finish",
                limit=limit, size=decoder.pending,
            ))
        else:
            sink.lose(f"no message or heartbeat from the server for {read_timeout:g} s (stream_timeout)")
        return
    except httpx.ReadTimeout:
        sink.lose(f"no message or heartbeat from the server for {read_timeout:g} s (stream_timeout)")
        return
    except httpx.TransportError as exc:
        sink.lose(f"the connection to the server was lost ({type(exc).__name__}: {exc})")
        return
    sink.lose("the server ended the job's stream before the job ended")


async def run_direct(
    transport: HttpTransport,
    api_url: str,
    endpoint: Endpoint,
    data: list[Any],
    session_hash: str,
    sink: RouteSink,
    call_headers: Mapping[str, str] | None = None,
) -> None:
    """One call through ``POST run/predict``, which bypasses the queue (with the call's own
    headers, ``call_headers``, default none)."""
    body = rq.predict_body(endpoint, data, session_hash)
    sink.accepted(None)
    sink.deliver(m.ProcessStarts(None, None))
    try:
        response = await transport.send(
            "POST", api_url + "run/predict", "Calling the app", json=body, extensions=call_extensions(call_headers)
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not (isinstance(answer, dict) and (response.status_code == 200 or "error" in answer)):
            raise_for_status(response.status_code, response.content, "Calling the app")
        messages = rq.predict_messages(response.status_code, answer)
    except GradioJobsError as error:
        sink.reject(error)
        return
    for message in messages:
        sink.deliver(message)
