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

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from .._exceptions import GradioJobsError, ProtocolError
from ..protocol import messages as m
from ..protocol import requests as rq
from ..protocol.api import Endpoint
from ..protocol.responses import raise_for_status
from ..protocol.sse import SSEDecoder
from .http import HttpTransport, call_extensions

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
    call's own headers (default none).
    """
    import websockets
    from websockets.asyncio.client import connect as ws_connect

    ws_url, options = await transport.websocket_options(url, call_headers)
    try:
        async with ws_connect(ws_url, open_timeout=30, max_size=None, **options) as socket:
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
        sink.lose(f"the server closed the queue websocket ({exc})")
        return
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        sink.lose(f"the queue websocket failed ({type(exc).__name__}: {exc})")
        return
    sink.lose("the server closed the queue websocket before the job ended")


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
    ``read_timeout`` (seconds, None for none) is the longest silence, heartbeats included,
    before the job counts as lost. ``call_headers`` are the call's own headers (default
    none). Returns when the job is over; failures go to the sink.
    """
    decoder = SSEDecoder()
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
                refusal = await response.aread()
                try:
                    raise_for_status(response.status_code, refusal, "Joining the queue")
                except GradioJobsError as error:
                    sink.reject(error)
                    return
            sink.accepted(None)
            async with contextlib.aclosing(response.aiter_bytes()) as chunks:  # type: ignore[type-var]
                async for chunk in chunks:
                    for payload in decoder.feed(chunk):
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
    except httpx.ReadTimeout:
        sink.lose(f"no message or heartbeat from the server for {read_timeout:g} s")
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
