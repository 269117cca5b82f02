"""What the jobs of one connected client share: the app, the transport, the session streams.

:class:`ClientRuntime` is made by ``AsyncClient.connect`` and dropped by its ``close``. Jobs
reach it through :class:`JobHost` (what a job may ask of its client), the cancel coordinator
through :class:`~gradio_jobs._cancelling.CancelRuntime`; neither touches its attributes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ._callbacks import guarded
from ._cancelling import CancelCoordinator
from ._exceptions import GradioJobsError
from ._limits import MAX_DOWNLOADS, MAX_UPLOADS
from ._options import ClientOptions
from .protocol import files
from .protocol.api import App, Endpoint
from .protocol.capabilities import Route
from .protocol.media import holds_stream
from .protocol.requests import input_close_route, join_body
from .transport import Heartbeat, HttpTransport, SessionStream
from .transport.files import download_file, gather_limited, relay_file, upload_file
from .transport.job_routes import RouteSink, run_direct, run_job_stream, run_websocket
from .transport.media import MediaStreams

if TYPE_CHECKING:
    from ._async_job import JobPort
    from ._retry import RetryPolicy, SubmitRetry

__all__ = ["ClientRuntime", "JobHost"]

logger = logging.getLogger("gradio_jobs")


class JobHost(Protocol):
    """What an :class:`~gradio_jobs.AsyncJob` may ask of its client."""

    @property
    def app(self) -> App:
        """The connected app."""
        ...

    @property
    def cancels(self) -> CancelCoordinator:
        """The client's cancel coordinator."""
        ...

    @property
    def retry_policy(self) -> RetryPolicy | None:
        """Which lost jobs may be submitted again."""
        ...

    @property
    def submit_retry(self) -> SubmitRetry:
        """How joining is retried, and whether a ZeroGPU quota is waited out."""
        ...

    def job_live(self, job: JobPort) -> None:
        """``job`` was submitted: it counts until :meth:`job_settled`."""

    def track_join(self, task: asyncio.Task[Any]) -> None:
        """``task`` submits a job: ``close`` gives it time to land."""

    def job_settled(self, job: JobPort) -> None:
        """``job``'s server side is over."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the client owns."""
        ...

    def run_awaitable(self, awaitable: Awaitable[Any]) -> None:
        """Run what a callback returned, guarded, on the client's loop."""

    def route(self, endpoint: Endpoint) -> Route:
        """How jobs of ``endpoint`` travel."""
        ...

    async def upload_inputs(self, data: list[Any], progress: Callable[[str, int, int], None]) -> list[Any]:
        """``data`` with its file inputs uploaded."""
        ...

    async def join(
        self, endpoint: Endpoint, data: list[Any], session_hash: str, call_headers: Mapping[str, str] | None = None
    ) -> str:
        """Join the queue (with the call's own headers); the job's id."""
        ...

    def register(self, job_id: str, job: JobPort, session_hash: str) -> None:
        """Route ``job_id``'s messages on the session's stream to ``job``."""

    def forget(self, job_id: str) -> None:
        """Drop the later messages of ``job_id``."""

    def end_input_stream(self, endpoint: Endpoint, job_id: str) -> None:
        """``job_id`` of the streaming-input ``endpoint`` has sent its one input: end its stream."""

    def open_route(
        self,
        job: RouteSink,
        endpoint: Endpoint,
        data: list[Any],
        session_hash: str,
        call_headers: Mapping[str, str] | None = None,
    ) -> asyncio.Task[None]:
        """Start a job on its own connection (older servers, direct calls), with the call's own headers."""
        ...

    def has_output_files(self, value: Any) -> bool:
        """``value`` holds files to download."""
        ...

    async def download_outputs(self, value: Any) -> Any:
        """``value`` with its files downloaded and replaced by local paths."""
        ...

    def media_streams(self, value: Any) -> MediaStreams | None:
        """The fetcher of a job's streamed audio/video outputs, if ``value`` (its first output) has any."""
        ...


class ClientRuntime:
    """The shared machinery of one connected client (see the module docstring)."""

    def __init__(
        self, app: App, transport: HttpTransport, options: ClientOptions, heartbeat: Heartbeat | None
    ) -> None:
        self._app = app
        self._transport = transport
        self._options = options
        self._heartbeat = heartbeat
        #: Jobs whose server side is not over yet (pending, or cancelled and awaiting the verdict).
        self._jobs: set[JobPort] = set()
        self._streams: dict[str, SessionStream] = {}
        #: The connections of jobs that have one of their own (older servers, direct calls).
        self._connections: set[asyncio.Task[None]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._joins: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._closed = False
        self.cancels = CancelCoordinator(self)

    # -- what jobs and the cancel coordinator use ----------------------------------------------

    @property
    def app(self) -> App:
        """The connected app."""
        return self._app

    @property
    def transport(self) -> HttpTransport:
        """The client's HTTP transport (its headers and cookies are the client's)."""
        return self._transport

    @property
    def closing(self) -> bool:
        """``close()`` has begun: no new job, and dropping the sessions cancels the rest."""
        return self._closing

    @property
    def retry_policy(self) -> RetryPolicy | None:
        """Which lost jobs may be submitted again (``ClientOptions.retry``)."""
        return self._options.retry

    @property
    def submit_retry(self) -> SubmitRetry:
        """How joining is retried, and whether a ZeroGPU quota is waited out (``ClientOptions.submit_retry``)."""
        return self._options.submit_retry

    def live_jobs(self) -> Iterable[JobPort]:
        """The jobs whose server side is not over yet."""
        return list(self._jobs)

    def job_live(self, job: JobPort) -> None:
        """``job`` was submitted."""
        if self._closing:
            raise GradioJobsError("the client is closed")
        self._jobs.add(job)

    def job_settled(self, job: JobPort) -> None:
        """``job``'s server side is over."""
        self._jobs.discard(job)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of the client (cancelled by ``close``)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def track_join(self, task: asyncio.Task[Any]) -> None:
        """A job's submission in flight: ``close`` gives it ``close_timeout`` to land."""
        self._joins.add(task)
        task.add_done_callback(self._joins.discard)

    def run_awaitable(self, awaitable: Awaitable[Any]) -> None:
        """Run what a callback returned on this loop; its failure is logged."""
        self.spawn(guarded(awaitable))

    def route(self, endpoint: Endpoint) -> Route:
        """How jobs of ``endpoint`` travel (chosen from the server's capabilities)."""
        return self._app.capabilities.route_for(endpoint)

    async def post_ok(self, route: str, body: Any, what: str) -> None:
        """``POST`` ``body`` to ``route`` of the app's API; a typed error unless it succeeds."""
        await self._transport.post_ok(self._app.api_url + route, body, what)

    async def join(
        self, endpoint: Endpoint, data: list[Any], session_hash: str, call_headers: Mapping[str, str] | None = None
    ) -> str:
        """Join the queue with the call's own headers (``call_headers``); retried
        (``SubmitRetry``) only while the server has surely not taken the job."""
        body = join_body(endpoint, data, session_hash, self._options.oauth_token)
        url = self._app.api_url + "queue/join"
        attempt = 0
        while True:
            try:
                return await self._transport.join(url, body, call_headers)
            except GradioJobsError as exc:
                delay = self._options.submit_retry.should_retry(exc, attempt)
                if delay is None or self._closed:
                    raise
                attempt += 1
                logger.info("joining the queue failed (%s); try %d in %.2f s", exc, attempt + 1, delay)
                await asyncio.sleep(delay)

    def register(self, job_id: str, job: JobPort, session_hash: str) -> None:
        """Route ``job_id``'s messages on ``session_hash``'s stream to ``job`` (opening the stream)."""
        stream = self._streams.get(session_hash)
        if stream is None:
            stream = SessionStream(
                self._transport.stream_client,
                self._app.api_url + "queue/data",
                session_hash,
                close_stream=self._app.capabilities.close_stream,
                read_timeout=self._options.stream_timeout,
                max_message_size=self._options.max_message_size,
            )
            self._streams[session_hash] = stream
        stream.register(job_id, job)

    def forget(self, job_id: str) -> None:
        """Drop the later messages of ``job_id`` on whichever stream carries it."""
        for stream in self._streams.values():
            stream.forget(job_id)

    def end_input_stream(self, endpoint: Endpoint, job_id: str) -> None:
        """End the input stream of job ``job_id`` of ``endpoint``, a streaming-input endpoint
        (``Endpoint.streams_inputs``): the call has sent its one input, so the server answers it
        and completes the job instead of waiting, up to the event's time limit, for more.

        The request runs in the background (``close`` gives it ``close_timeout`` to land, as
        a join). If it fails, that is logged at debug level: the job's first output completes
        it for the caller all the same, and the server ends the event at its time limit.
        """
        route = input_close_route(endpoint, job_id)
        if route is None:
            return
        self.track_join(self.spawn(self._end_input_stream(route, job_id)))

    async def _end_input_stream(self, route: str, job_id: str) -> None:
        try:
            await self.post_ok(route, None, "Ending a job's input stream")
        except GradioJobsError as exc:
            logger.debug(
                "job %s: could not end its input stream (%s); the server ends it at the event's time limit",
                job_id, exc,
            )

    def open_route(
        self,
        job: RouteSink,
        endpoint: Endpoint,
        data: list[Any],
        session_hash: str,
        call_headers: Mapping[str, str] | None = None,
    ) -> asyncio.Task[None]:
        """Start the job's own connection (websocket, job stream or direct call), with the
        call's own headers (``call_headers``)."""
        route, api_url = self.route(endpoint), self._app.api_url
        runner: Coroutine[Any, Any, None]
        if route is Route.WEBSOCKET:
            runner = run_websocket(
                self._transport, api_url + "queue/join", endpoint, data, session_hash, job, call_headers
            )
        elif route is Route.JOB_STREAM:
            runner = run_job_stream(
                self._transport, api_url, endpoint, data, session_hash, job,
                read_timeout=self._options.stream_timeout, call_headers=call_headers,
            )
        else:
            runner = run_direct(self._transport, api_url, endpoint, data, session_hash, job, call_headers)
        task = asyncio.get_running_loop().create_task(_guard_route(runner, job))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        return task

    # -- files ----------------------------------------------------------------------------------

    async def upload_inputs(self, data: list[Any], progress: Callable[[str, int, int], None]) -> list[Any]:
        """``data`` with its file inputs uploaded and replaced by what the server expects."""
        if not files.find_files(data, files.is_file_input):
            return data
        transport, caps = self._transport, self._app.capabilities
        local = files.local_files(data)
        own = files.app_file_inputs(data, self._app.api_url)
        url = self._app.api_url + "upload"

        def upload(file: files.LocalFile) -> Coroutine[Any, Any, str]:
            return upload_file(
                transport, url, file.path, file.name, max_size=caps.max_file_size,
                progress=lambda sent, total: progress(file.name, sent, total),
            )

        def relay(file: files.LocalFile) -> Coroutine[Any, Any, str]:
            return relay_file(
                transport, file.path, url, file.name, max_size=caps.max_file_size,
                progress=lambda sent, total: progress(file.name, sent, total),
            )

        moved = [*local, *own]
        server_paths = await gather_limited(MAX_UPLOADS, [*map(upload, local), *map(relay, own)])
        paths = {f.path: p for f, p in zip(moved, server_paths, strict=True)}
        prepared: list[Any] = files.prepare_inputs(data, paths, caps)
        return prepared

    def _is_output_file(self, value: Any) -> bool:
        return files.is_file_output(value, self._app.capabilities)

    def has_output_files(self, value: Any) -> bool:
        """``value`` holds files to download (and downloading is on)."""
        return self._options.download_folder is not None and bool(files.find_files(value, self._is_output_file))

    async def download_outputs(self, value: Any) -> Any:
        """``value`` with each file in it downloaded and replaced by its local path."""
        transport, api_url = self._transport, self._app.api_url
        folder = self._options.download_folder
        assert folder is not None
        wanted: dict[str, str] = {}
        for file in files.find_files(value, self._is_output_file):
            url = files.download_url(file, api_url)
            if url is not None:
                wanted.setdefault(url, files.download_name(file))
        urls = list(wanted)
        local = await gather_limited(
            MAX_DOWNLOADS,
            [download_file(transport, u, folder, wanted[u], max_size=self._options.max_download_size) for u in urls],
        )
        saved = dict(zip(urls, local, strict=True))

        def replace(file: Any) -> Any:
            url = files.download_url(file, api_url)
            return saved.get(url, file) if url is not None else file

        return files.map_files(value, self._is_output_file, replace)

    def media_streams(self, value: Any) -> MediaStreams | None:
        """A fetcher for the streamed audio/video outputs of one job (see ``transport/media.py``),
        if ``value``, an output of the job, holds a stream; else None."""
        if not holds_stream(value, self._app.api_url):
            return None
        return MediaStreams(
            self._transport, self._app.api_url, self._options.download_folder,
            self._options.max_download_size, file_meta=self._app.capabilities.file_meta,
        )

    # -- the end ---------------------------------------------------------------------------------

    def switch_heartbeat(self, session_hash: str) -> None:
        """The client started a new session: hold that one open instead."""
        if self._heartbeat is not None:
            self._heartbeat.switch(session_hash)

    async def aclose(self) -> None:
        """Settle the pending jobs, drop the sessions (the server cancels what they hold), close
        every connection: ``AsyncClient.close``, which says what the server does then.

        Joins and cancel requests still in flight get ``close_timeout`` seconds to land first.
        """
        if self._closed:
            return
        self._closing = True
        timeout = self._options.close_timeout
        if self._joins:
            await asyncio.wait(list(self._joins), timeout=timeout)
        cancelling = self.cancels.pending
        if cancelling:
            await asyncio.wait(list(cancelling), timeout=timeout)
        for job in list(self._jobs):
            job.close_for_shutdown()
        self._closed = True
        for task in list(self._joins):
            task.cancel()
        streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            await stream.aclose()
        await _cancel_all(self._connections)
        if self._heartbeat is not None:
            # The server runs the app's unload handlers when this connection closes.
            await self._heartbeat.aclose()
        await _cancel_all(self._tasks | self._joins)
        await self._transport.aclose()


async def _cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    pending = list(tasks)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


async def _guard_route(runner: Coroutine[Any, Any, None], job: RouteSink) -> None:
    try:
        await runner
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # never leave the job waiting on a dead connection
        logger.exception("gradio-jobs: a job's own connection failed")
        job.lose(f"its connection failed: {exc!r}")
