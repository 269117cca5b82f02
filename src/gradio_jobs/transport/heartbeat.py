"""The session's heartbeat connection (gradio 4.26 and later ask for it: ``connect_heartbeat``).

While ``GET heartbeat/<session_hash>`` is open the server counts the session as alive; when
it closes, the server runs the app's ``unload`` handlers and lets the session's state go.
So it is held open for the client's whole life, reopened after a drop, and closed with
the client.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from .._limits import HEARTBEAT_FIRST_DELAY, HEARTBEAT_HEALTHY_AFTER, HEARTBEAT_MAX_DELAY, HEARTBEAT_TIMEOUT
from .http import timeout_of

__all__ = ["Heartbeat"]

logger = logging.getLogger("gradio_jobs")



class Heartbeat:
    """Holds ``<base_url><session_hash>`` open, reconnecting with backoff, until closed.

    ``http`` is the client that holds it (the streams' one); ``base_url`` the app's
    ``heartbeat/`` route. Must be created on the running loop: it starts at once. After a
    drop it reconnects after 1 s, doubling up to 60 s (reset once a connection stayed up
    30 s); a 4xx other than 429 means the server has no heartbeat route, and it stops.
    """

    def __init__(self, http: httpx.AsyncClient, base_url: str, session_hash: str) -> None:
        self._http = http
        self._base_url = base_url
        self._tasks: set[asyncio.Task[None]] = set()
        self._task = self._start(session_hash)

    def _start(self, session_hash: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._hold(session_hash))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def switch(self, session_hash: str) -> None:
        """The client moved to a new session: the old one ends, the new one is held."""
        self._task.cancel()
        self._task = self._start(session_hash)

    async def aclose(self) -> None:
        """Stop holding (the server then ends the session) and wait for the connections to close."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _hold(self, session_hash: str) -> None:
        loop = asyncio.get_running_loop()
        url = self._base_url + session_hash
        delay = HEARTBEAT_FIRST_DELAY
        while True:
            opened = loop.time()
            try:
                async with self._http.stream("GET", url, timeout=timeout_of(HEARTBEAT_TIMEOUT)) as response:
                    if 400 <= response.status_code < 500 and response.status_code != 429:
                        logger.info("heartbeat: the server refused %s (%d); not holding it", url, response.status_code)
                        return
                    if response.status_code < 300:
                        async for _ in response.aiter_raw():
                            pass
            except httpx.HTTPError as exc:
                logger.debug("heartbeat for session %s dropped: %r", session_hash, exc)
            if loop.time() - opened > HEARTBEAT_HEALTHY_AFTER:
                delay = HEARTBEAT_FIRST_DELAY
            await asyncio.sleep(delay)
            delay = min(delay * 2, HEARTBEAT_MAX_DELAY)
