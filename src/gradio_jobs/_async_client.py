"""``AsyncClient``: the real implementation of a client; the sync ``Client`` runs it on a loop thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from typing import Any, AsyncIterable, AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence

import httpx

from ._async_job import AsyncJob, Deadline, EventListener
from ._callbacks import JobCallbacks
from ._map import AsyncMapRun, MapProgress, amap_jobs
from ._exceptions import AuthenticationError, GradioJobsError, ServerError, UnsupportedServerError
from ._retry import RetryPolicy, SubmitRetry
from ._spaces import resolve_space, space_id_of, stored_token
from ._view_api import view_api
from .protocol import events as ev
from .protocol import files
from .protocol.api import App, Endpoint, build_app
from .protocol.cancel import NO_TASK, CancelAction, outcome_of_stopping, plan_cancel
from .protocol.capabilities import Route
from .protocol.requests import join_body, reset_body
from .protocol.job import JobState
from .protocol.status import LogMessage, StatusUpdate
from .transport import Heartbeat, HttpTransport, SessionStream
from .transport.files import DEFAULT_DOWNLOAD_DIR, download_file, gather_limited, upload_file
from .transport.job_routes import run_direct, run_job_stream, run_websocket

__all__ = ["AsyncClient"]

logger = logging.getLogger("gradio_jobs")

# Files of one job moving at once (each transfer holds a connection).
MAX_UPLOADS = 4
MAX_DOWNLOADS = 4
#: How long a kill waits for the stream to mark which jobs it hit before the next may go.
KILL_MARKER_TIMEOUT = 10.0


def normalize_src(src: str) -> str:
    if not isinstance(src, str) or not src.strip():
        raise GradioJobsError(f"src must be the app's URL or a Space id, got {src!r}")
    src = src.strip()
    if not src.startswith(("http://", "https://")):
        raise GradioJobsError(
            f"{src!r} is neither an http(s) URL nor a Hugging Face Space id like 'owner/name'"
        )
    return src if src.endswith("/") else src + "/"


class AsyncClient:
    """An async client for one Gradio app.

    Use it as ``async with AsyncClient(url) as client:``, or ``await client.connect()``
    before :meth:`submit`. Every job of a client shares one session (``gr.State`` carries
    over from call to call) and one event stream.
    """

    def __init__(
        self,
        src: str,
        hf_token: str | None = None,
        *,
        token: str | None = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        download_files: str | os.PathLike[str] | bool = DEFAULT_DOWNLOAD_DIR,
        max_download_size: int | None = None,
        verbose: bool = True,
        ssl_verify: bool | str = True,
        httpx_kwargs: Mapping[str, Any] | None = None,
        space_timeout: float | None = 300.0,
        stream_timeout: float | None = 35.0,
        retry: RetryPolicy | None = None,
        submit_retry: SubmitRetry | None = None,
        close_timeout: float = 2.0,
    ) -> None:
        #: ``"owner/name"`` when ``src`` names a Hugging Face Space; its URL is found on connect.
        self.space_id = space_id_of(src) if isinstance(src, str) else None
        #: The app's URL (with a trailing ``/``); for a Space, known once connected.
        self.src = "" if self.space_id else normalize_src(src)
        if auth is not None and (
            not isinstance(auth, (tuple, list)) or len(auth) != 2 or not all(isinstance(a, str) for a in auth)
        ):
            raise TypeError("auth must be a (username, password) tuple of strings")
        self._auth = tuple(auth) if auth is not None else None
        self._hf_token = hf_token or token
        self._space_timeout = space_timeout
        self._download_files = download_files
        self._max_download_size = max_download_size
        self._retry_policy = retry
        self._submit_retry = submit_retry if submit_retry is not None else SubmitRetry()
        self._close_timeout = close_timeout
        #: Jobs whose server side is not over yet (pending, or cancelled and awaiting the verdict).
        self._jobs: set[AsyncJob] = set()
        self._cancel_tasks: set[asyncio.Task[Any]] = set()
        #: One killing cancel at a time per (session, fn_index), with how many jobs want a turn.
        self._kill_turns: dict[tuple[str, int], tuple[asyncio.Lock, list[int]]] = {}
        self.verbose = verbose
        self._stream_timeout = stream_timeout
        self._transport_options = dict(headers=dict(headers or {}), verify=ssl_verify, httpx_kwargs=httpx_kwargs)
        self._heartbeat: Heartbeat | None = None
        self._transport: HttpTransport | None = None
        self._app: App | None = None
        self._connecting: asyncio.Future[App] | None = None
        self.session_hash = str(uuid.uuid4())
        self._streams: dict[str, SessionStream] = {}
        #: The connections of jobs that have one of their own (older servers, direct calls).
        self._connections: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._closing = False

    # -- connecting -----------------------------------------------------------------------

    @property
    def app(self) -> App:
        """The app's API model; available once connected."""
        if self._app is None:
            raise GradioJobsError(
                "the client is not connected yet: use `async with AsyncClient(...)` or `await client.connect()`"
            )
        return self._app

    async def connect(self) -> AsyncClient:
        """Read the app's config and API description. Safe to call more than once."""
        if self._app is not None:
            return self
        if self._closed:
            raise GradioJobsError("the client is closed")
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_future()
            try:
                self._app = await self._load()
            except BaseException as exc:
                self._connecting.set_exception(exc)
                self._connecting.exception()  # retrieved: the caller gets it via raise
                self._connecting = None
                raise
            self._connecting.set_result(self._app)
        else:
            await asyncio.shield(self._connecting)
        return self

    async def _load(self) -> App:
        token = self._hf_token
        if self.space_id is not None:
            # A stored token is used for Spaces only: it never goes to an app the user named by URL.
            # (Looking it up imports huggingface_hub: not on the loop.)
            token = token or await asyncio.get_running_loop().run_in_executor(None, stored_token)
            self.src = await resolve_space(
                self.space_id, token, timeout=self._space_timeout, verify=self._transport_options["verify"]
            )
        if self._transport is None:
            options = dict(self._transport_options)
            headers = dict(options.pop("headers"))
            if token:
                headers.setdefault("x-hf-authorization", f"Bearer {token}")
            self._transport = HttpTransport(self.src, headers=headers, **options)
        transport = self._transport
        if self._auth is not None:
            await transport.login(self.src + "login", *self._auth)
        try:
            config = await transport.get_json(self.src + "config", "Loading the app's config")
        except AuthenticationError as exc:
            if self._auth is None:
                exc.args = (f"{exc.args[0]}; pass auth=(username, password) to log in",)
            raise
        if not isinstance(config, dict):
            raise UnsupportedServerError(f"{self.src}config is not a Gradio config")
        app = build_app(self.src, config, None)
        if not app.capabilities.supported:
            raise UnsupportedServerError(
                f"the app runs gradio {app.capabilities.version_string or '(unknown version)'} with the "
                f"{app.capabilities.protocol!r} queue protocol, which this client does not speak"
            )
        try:
            info = await transport.get_json(
                app.api_url + "info", "Loading the app's API description", params={"all_endpoints": "True"}
            )
        except ServerError as exc:
            # Old servers have no /info, and some fail on it (4.21 answers 500 for some apps):
            # the config alone still describes every endpoint, with less precise names.
            logger.warning("the app has no usable API description (%s); reading the endpoints from its config", exc)
            info = None
        app = build_app(self.src, config, info if isinstance(info, dict) else None)
        if self.verbose:
            logger.info("Loaded as API: %s (gradio %s)", self.src, app.capabilities.version_string)
        caps = app.capabilities
        if caps.heartbeat_route and caps.connect_heartbeat:
            self._heartbeat = Heartbeat(transport.stream_client, app.api_url + "heartbeat/", self.session_hash)
        return app

    # -- calling --------------------------------------------------------------------------

    def submit(
        self,
        *args: Any,
        api_name: str | None = None,
        fn_index: int | None = None,
        result_callbacks: Callable[..., Any] | Sequence[Callable[..., Any]] | None = None,
        deadline: Deadline | float | None = None,
        on_status: Callable[[StatusUpdate], Any] | None = None,
        on_output: Callable[[Any], Any] | None = None,
        on_log: Callable[[LogMessage], Any] | None = None,
        keep_outputs: int | None = None,
        **kwargs: Any,
    ) -> AsyncJob:
        """Start a job and return it at once (must be called from the client's event loop).

        ``deadline`` (seconds, or a :class:`Deadline` with ``queue``/``run``/``total``) cancels
        the job on the server when it runs out and fails it with ``JobTimeoutError``.
        ``on_status``, ``on_output``, ``on_log`` are called on the loop, in the order of the
        job's events (a coroutine they return is run as a task); one that raises is logged.
        ``keep_outputs=N`` keeps only the last N outputs of a long generator (the final value
        is always kept).
        """
        callbacks = JobCallbacks(on_status, on_output, on_log)
        endpoint, data = self._prepare(args, kwargs, api_name, fn_index)
        state = JobState(endpoint, self.app.capabilities, keep_outputs)
        return self._start(endpoint, data, state, None, result_callbacks, Deadline.of(deadline), callbacks)

    async def predict(
        self,
        *args: Any,
        api_name: str | None = None,
        fn_index: int | None = None,
        deadline: Deadline | float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a job and return its result (the final value for generators)."""
        await self.connect()
        job = self.submit(*args, api_name=api_name, fn_index=fn_index, deadline=deadline, **kwargs)
        try:
            return await job
        except asyncio.CancelledError:
            job.cancel()
            raise

    def map(
        self,
        inputs: Iterable[Any] | AsyncIterable[Any],
        *,
        api_name: str | None = None,
        fn_index: int | None = None,
        concurrency: int = 8,
        stop_on_error: bool = False,
        on_progress: Callable[[MapProgress], Any] | None = None,
    ) -> AsyncMapRun:
        """``async for result in client.map(inputs, api_name=...)``: the async twin of
        :meth:`gradio_jobs.Client.map`."""
        return amap_jobs(
            self, inputs, api_name=api_name, fn_index=fn_index, concurrency=concurrency,
            stop_on_error=stop_on_error, on_progress=on_progress,
        )

    async def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the endpoints; see :meth:`gradio_jobs.Client.view_api`."""
        await self.connect()
        return self._view_api(all_endpoints, print_info, return_format)

    def reset_session(self) -> None:
        """Start a new session: later jobs no longer see the ``gr.State`` of earlier ones."""
        self.session_hash = str(uuid.uuid4())
        if self._heartbeat is not None:
            self._heartbeat.switch(self.session_hash)

    async def close(self) -> None:
        """Cancel the pending jobs on the server, stop the stream readers, close the connections.

        Dropping a session's event stream makes the server drop that session's queued jobs
        and stop its generators at their next step (a running plain function still runs to
        its end): one reset per session cancels everything, however many jobs are pending.
        Joins still in flight are given up to ``close_timeout`` seconds to land first.
        """
        if self._closed:
            return
        self._closing = True
        joining = [job._task for job in self._jobs if job._task is not None]
        if joining:
            await asyncio.wait(joining, timeout=self._close_timeout)
        if self._cancel_tasks:
            await asyncio.wait(list(self._cancel_tasks), timeout=self._close_timeout)
        for job in list(self._jobs):
            state = job._state
            if not state.done:
                job._apply(state.cancel())
            job._apply(state.resolve_cancel(outcome_of_stopping(self.app.capabilities, job._endpoint, state.phase)))
        self._closed = True
        for job in list(self._jobs):
            if job._task is not None:
                job._task.cancel()
        streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            await stream.aclose()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        if connections:
            await asyncio.gather(*connections, return_exceptions=True)
        if self._heartbeat is not None:
            # The server runs the app's unload handlers when this connection closes.
            await self._heartbeat.aclose()
        for task in list(self._background) + list(self._cancel_tasks):
            task.cancel()
        pending = list(self._background) + list(self._cancel_tasks)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self._transport is not None:
            await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return await self.connect()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        version = self._app.capabilities.version_string if self._app else "not connected"
        return f"<AsyncClient {self.src} ({version})>"

    # -- shared with the sync facade ------------------------------------------------------

    def _prepare(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], api_name: str | None, fn_index: int | None
    ) -> tuple[Endpoint, list[Any]]:
        """Choose the endpoint and bind the arguments: pure, may run on any thread."""
        if self._closing:
            raise GradioJobsError("the client is closed")
        endpoint = self.app.endpoint(api_name=api_name, fn_index=fn_index)
        data = endpoint.bind(args, kwargs)
        files.local_files(data)  # a missing input file fails here, before anything is sent
        return endpoint, data

    def _start(
        self,
        endpoint: Endpoint,
        data: list[Any],
        state: JobState,
        listener: EventListener | None,
        result_callbacks: Callable[..., Any] | Sequence[Callable[..., Any]] | None,
        deadline: Deadline | None = None,
        callbacks: JobCallbacks | None = None,
    ) -> AsyncJob:
        if self._closing:
            raise GradioJobsError("the client is closed")
        if callable(result_callbacks):
            result_callbacks = [result_callbacks]
        job = AsyncJob(
            self, endpoint, data, state, listener=listener, result_callbacks=result_callbacks or (),
            deadline=deadline, callbacks=callbacks,
        )
        if not state.settled:
            self._jobs.add(job)
        return job

    def _job_settled(self, job: AsyncJob) -> None:
        self._jobs.discard(job)

    def _view_api(self, all_endpoints: bool | None, print_info: bool, return_format: str | None) -> Any:
        return view_api(self.app, all_endpoints, print_info, return_format)

    async def _join(self, endpoint: Endpoint, data: list[Any], session_hash: str) -> str:
        """Join the queue; retried (SubmitRetry) only while the server has surely not taken the job."""
        assert self._transport is not None
        body = join_body(endpoint, data, session_hash)
        url = self.app.api_url + "queue/join"
        attempt = 0
        while True:
            try:
                return await self._transport.join(url, body)
            except GradioJobsError as exc:
                delay = self._submit_retry.should_retry(exc, attempt)
                if delay is None or self._closed:
                    raise
                attempt += 1
                logger.info("joining the queue failed (%s); try %d in %.2f s", exc, attempt + 1, delay)
                await asyncio.sleep(delay)

    # -- files ------------------------------------------------------------------------------

    async def _upload_inputs(self, data: list[Any], progress: Callable[[str, int, int], None]) -> list[Any]:
        """``data`` with its file inputs uploaded and replaced by what the server expects."""
        if not files.find_files(data, files.is_file_input):
            return data
        assert self._transport is not None
        transport, caps = self._transport, self.app.capabilities
        local = files.local_files(data)
        url = self.app.api_url + "upload"

        def upload(file: files.LocalFile) -> Coroutine[Any, Any, str]:
            return upload_file(
                transport, url, file.path, file.name, max_size=caps.max_file_size,
                progress=lambda sent, total: progress(file.name, sent, total),
            )

        server_paths = await gather_limited(MAX_UPLOADS, [upload(f) for f in local])
        return files.prepare_inputs(data, {f.path: p for f, p in zip(local, server_paths)}, caps)

    def _is_output_file(self, value: Any) -> bool:
        return files.is_file_output(value, self.app.capabilities)

    def _has_output_files(self, value: Any) -> bool:
        return self._download_files is not False and bool(files.find_files(value, self._is_output_file))

    async def _download_outputs(self, value: Any) -> Any:
        """``value`` with each file in it downloaded and replaced by its local path."""
        assert self._transport is not None
        transport, api_url = self._transport, self.app.api_url
        folder = DEFAULT_DOWNLOAD_DIR if self._download_files is True else self._download_files
        assert folder is not False
        wanted: dict[str, str] = {}
        for file in files.find_files(value, self._is_output_file):
            url = files.download_url(file, api_url)
            if url is not None:
                wanted.setdefault(url, files.download_name(file))
        urls = list(wanted)
        local = await gather_limited(
            MAX_DOWNLOADS,
            [download_file(transport, u, folder, wanted[u], max_size=self._max_download_size) for u in urls],
        )
        saved = dict(zip(urls, local))

        def replace(file: Any) -> Any:
            url = files.download_url(file, api_url)
            return saved.get(url, file) if url is not None else file

        return files.map_files(value, self._is_output_file, replace)

    def _stream_register(self, job_id: str, job: AsyncJob, session_hash: str) -> None:
        stream = self._streams.get(session_hash)
        if stream is None:
            assert self._transport is not None
            caps = self.app.capabilities
            stream = SessionStream(
                self._transport.stream_client,
                self.app.api_url + "queue/data",
                session_hash,
                close_stream=caps.close_stream,
                read_timeout=self._stream_timeout,
            )
            self._streams[session_hash] = stream
        stream.register(job_id, job)

    def _route(self, endpoint: Endpoint) -> Route:
        return self.app.capabilities.route_for(endpoint)

    def _open_route(self, job: AsyncJob) -> asyncio.Task[None]:
        """Start the job's own connection (websocket, job stream or direct call)."""
        assert self._transport is not None
        route, api_url = self._route(job._endpoint), self.app.api_url
        args = (job._endpoint, job._data, job._session_hash, job)
        if route is Route.WEBSOCKET:
            runner = run_websocket(self._transport, api_url + "queue/join", *args)
        elif route is Route.JOB_STREAM:
            runner = run_job_stream(self._transport, api_url, *args, read_timeout=self._stream_timeout)
        else:
            runner = run_direct(self._transport, api_url, *args)
        task = asyncio.get_running_loop().create_task(self._guard_route(runner, job))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        return task

    @staticmethod
    async def _guard_route(runner: Coroutine[Any, Any, None], job: AsyncJob) -> None:
        try:
            await runner
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never leave the job waiting on a dead connection
            logger.exception("gradio-jobs: the connection of job %s failed", job.job_id)
            job.lose(f"its connection failed: {exc!r}")

    def _stream_forget(self, job_id: str) -> None:
        for stream in self._streams.values():
            stream.forget(job_id)

    # -- cancelling ---------------------------------------------------------------------------

    def _drive_cancel(self, job: AsyncJob) -> None:
        """Send what stops ``job`` on the server in its current phase (see protocol/cancel.py)."""
        state = job._state
        if not state.cancelling:
            return
        action = plan_cancel(self.app.capabilities, job._endpoint, state.phase)
        if action is CancelAction.WAIT:
            return  # called again once the job has an id (_submit) or has started (deliver)
        if action is CancelAction.NONE:
            logger.info("job %s cannot be stopped on the server; it runs to its end, unheard", state.job_id)
            if state.job_id is not None:
                self._stream_forget(state.job_id)
            if job._connection is not None:
                job._connection.cancel()
            job._apply(state.resolve_cancel(ev.OUTCOME_SERVER_CONTINUES))
            return
        if action is CancelAction.CLOSE:
            if job._connection is not None:
                job._connection.cancel()
            job._apply(state.resolve_cancel(outcome_of_stopping(self.app.capabilities, job._endpoint, state.phase)))
            return
        if self._closing or self._transport is None:
            return  # close() drops the session, which cancels the job on the server
        sender = self._send_reset if action is CancelAction.RESET else self._send_cancel
        task = asyncio.get_running_loop().create_task(sender(job, action))
        self._cancel_tasks.add(task)
        task.add_done_callback(self._cancel_tasks.discard)

    async def _send_cancel(self, job: AsyncJob, action: CancelAction) -> None:
        assert self._transport is not None
        state = job._state
        if job._cancel_lock is None:
            job._cancel_lock = asyncio.Lock()
        # One request at a time per job, so the server's empty completions answer them in order.
        async with job._cancel_lock:
            if state.settled or state.job_id is None:
                return
            if action is not CancelAction.KILL:
                await self._post_cancel(job, action)
                return
            async with self._kill_turn(job):
                # The kill of a sibling that went first may have stopped this job already: a
                # second kill would find no task of its own and take down the jobs of the
                # endpoint that started since, with no message to say so (measured on 6.31).
                if state.settled:
                    return
                if await self._post_cancel(job, action):
                    await self._await_kill_marker(job)

    async def _post_cancel(self, job: AsyncJob, action: CancelAction) -> bool:
        """``POST cancel`` for ``job``; False (and the job settled) if it could not be sent."""
        assert self._transport is not None
        state = job._state
        fn_index = job._endpoint.fn_index if action is CancelAction.KILL else NO_TASK
        body = {"fn_index": fn_index, "session_hash": job._session_hash, "event_id": state.job_id}
        state.cancel_requests.append(action)
        kill = action is CancelAction.KILL
        job._kills_in_flight += kill
        try:
            await self._transport.post_ok(self.app.api_url + "cancel", body, "Cancelling a job")
        except GradioJobsError as exc:
            logger.warning("could not cancel job %s on the server: %s", state.job_id, exc)
            job._apply(state.resolve_cancel(ev.OUTCOME_CONNECTION_LOST))
            return False
        finally:
            job._kills_in_flight -= kill
        if job._siblings_after_kill and not job._kills_in_flight:
            job._siblings_after_kill = False
            self._siblings_killed(job)
        return True

    @contextlib.asynccontextmanager
    async def _kill_turn(self, job: AsyncJob) -> AsyncIterator[None]:
        """Killing cancels of one endpoint in one session go one at a time.

        A kill takes down every running job of the endpoint in the session, and only the
        empty completion of the job it names marks, in the stream, which of them it hit.
        Until that marker is read, another kill could hit jobs that nothing would tell about.
        """
        key = (job._session_hash, job._endpoint.fn_index)
        lock, users = self._kill_turns.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._kill_turns[key]

    async def _await_kill_marker(self, job: AsyncJob) -> None:
        """Wait until the stream has said how the kill ended for ``job``.

        The server queues the empty completion before it answers the cancel request, so it
        is normally read within moments; the bound only keeps a stalled stream from holding
        every later kill of the endpoint.
        """
        try:
            await asyncio.wait_for(job._wait_settled(), KILL_MARKER_TIMEOUT)
        except asyncio.TimeoutError:
            logger.warning("job %s: no word from the server %.0f s after its cancel", job.job_id, KILL_MARKER_TIMEOUT)

    async def _send_reset(self, job: AsyncJob, action: CancelAction) -> None:
        """Stop a running generator where the server has no cancel route (4.x before 4.31).

        No message follows a reset: the job is settled here and its later messages dropped.
        """
        assert self._transport is not None
        state = job._state
        body = reset_body(self.app.capabilities, job._endpoint, job._session_hash, state.job_id)
        if state.settled or body is None:
            return
        try:
            await self._transport.post_ok(self.app.api_url + "reset", body, "Cancelling a job")
        except GradioJobsError as exc:
            logger.warning("could not cancel job %s on the server: %s", state.job_id, exc)
            job._apply(state.resolve_cancel(ev.OUTCOME_CONNECTION_LOST))
            return
        if state.job_id is not None:
            self._stream_forget(state.job_id)
        job._apply(state.resolve_cancel(ev.OUTCOME_STOPPED))

    def _siblings_killed(self, target: AsyncJob) -> None:
        """A killing cancel of ``target`` also killed the running jobs of its endpoint in its session.

        Its empty completion was just read; the stream is in order, so every sibling that had
        started and not finished by now was running when the server killed it, and will never
        hear back. Those are submitted again (cancelled ones are simply settled).
        """
        for job in list(self._jobs):
            state = job._state
            if (
                job is target
                or job._session_hash != target._session_hash
                or job._endpoint.fn_index != target._endpoint.fn_index
                or not state.started
                or state.settled
            ):
                continue
            if state.cancelling:
                job._apply(state.resolve_cancel(ev.OUTCOME_STOPPED))
            else:
                logger.info("job %s was killed by the cancel of job %s; submitting it again", state.job_id, target.job_id)
                job._restart(f"killed on the server when job {target.job_id} of the same endpoint was cancelled")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
