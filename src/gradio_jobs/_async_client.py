"""``AsyncClient``: the real implementation of a client; the sync ``Client`` runs it on a loop thread."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Callable, Coroutine, Mapping, Sequence

import httpx

from ._async_job import AsyncJob, EventListener
from ._exceptions import GradioJobsError, UnsupportedServerError
from .protocol.api import App, Endpoint, build_app
from .protocol.job import JobState
from .protocol.view import render_api
from .transport import HttpTransport, SessionStream

__all__ = ["AsyncClient"]

logger = logging.getLogger("gradio_jobs")


def normalize_src(src: str) -> str:
    if not isinstance(src, str) or not src.strip():
        raise GradioJobsError(f"src must be the app's URL, got {src!r}")
    src = src.strip()
    if not src.startswith(("http://", "https://")):
        raise UnsupportedServerError(
            f"{src!r} is not an http(s) URL; Hugging Face Space ids are not supported yet"
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
        headers: Mapping[str, str] | None = None,
        verbose: bool = True,
        ssl_verify: bool = True,
        httpx_kwargs: Mapping[str, Any] | None = None,
        stream_timeout: float | None = 35.0,
    ) -> None:
        self.src = normalize_src(src)
        all_headers = dict(headers or {})
        if hf_token:
            all_headers.setdefault("x-hf-authorization", f"Bearer {hf_token}")
        self.verbose = verbose
        self._stream_timeout = stream_timeout
        self._transport_options = dict(headers=all_headers, verify=ssl_verify, httpx_kwargs=httpx_kwargs)
        self._transport: HttpTransport | None = None
        self._app: App | None = None
        self._connecting: asyncio.Future[App] | None = None
        self.session_hash = str(uuid.uuid4())
        self._streams: dict[str, SessionStream] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False

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
        if self._transport is None:
            self._transport = HttpTransport(**self._transport_options)
        transport = self._transport
        config = await transport.get_json(self.src + "config", "Loading the app's config")
        if not isinstance(config, dict):
            raise UnsupportedServerError(f"{self.src}config is not a Gradio config")
        app = build_app(self.src, config, None)
        if not app.capabilities.supported:
            raise UnsupportedServerError(
                f"the app runs gradio {app.capabilities.version_string or '(unknown version)'} with the "
                f"{app.capabilities.protocol!r} queue protocol, which this client does not speak yet"
            )
        info = await transport.get_json(
            app.api_url + "info", "Loading the app's API description", params={"all_endpoints": "True"}
        )
        app = build_app(self.src, config, info if isinstance(info, dict) else None)
        if self.verbose:
            logger.info("Loaded as API: %s (gradio %s)", self.src, app.capabilities.version_string)
        return app

    # -- calling --------------------------------------------------------------------------

    def submit(
        self,
        *args: Any,
        api_name: str | None = None,
        fn_index: int | None = None,
        result_callbacks: Callable[..., Any] | Sequence[Callable[..., Any]] | None = None,
        **kwargs: Any,
    ) -> AsyncJob:
        """Start a job and return it at once (must be called from the client's event loop)."""
        endpoint, data = self._prepare(args, kwargs, api_name, fn_index)
        return self._start(endpoint, data, JobState(endpoint, self.app.capabilities), None, result_callbacks)

    async def predict(self, *args: Any, api_name: str | None = None, fn_index: int | None = None, **kwargs: Any) -> Any:
        """Run a job and return its result (the final value for generators)."""
        await self.connect()
        job = self.submit(*args, api_name=api_name, fn_index=fn_index, **kwargs)
        try:
            return await job
        except asyncio.CancelledError:
            job.cancel()
            raise

    async def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the endpoints; see :meth:`gradio_jobs.Client.view_api`."""
        await self.connect()
        return self._view_api(all_endpoints, print_info, return_format)

    def reset_session(self) -> None:
        """Start a new session: later jobs no longer see the ``gr.State`` of earlier ones."""
        self.session_hash = str(uuid.uuid4())

    async def close(self) -> None:
        """Cancel the pending jobs on the server, stop the stream readers, close the connections."""
        if self._closed:
            return
        self._closed = True
        streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            await stream.aclose()
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
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
        if self._closed:
            raise GradioJobsError("the client is closed")
        endpoint = self.app.endpoint(api_name=api_name, fn_index=fn_index)
        return endpoint, endpoint.bind(args, kwargs)

    def _start(
        self,
        endpoint: Endpoint,
        data: list[Any],
        state: JobState,
        listener: EventListener | None,
        result_callbacks: Callable[..., Any] | Sequence[Callable[..., Any]] | None,
    ) -> AsyncJob:
        if callable(result_callbacks):
            result_callbacks = [result_callbacks]
        return AsyncJob(self, endpoint, data, state, listener=listener, result_callbacks=result_callbacks or ())

    def _view_api(self, all_endpoints: bool | None, print_info: bool, return_format: str | None) -> Any:
        description = self.app.describe(all_endpoints=bool(all_endpoints))
        text = render_api(self.src, description)
        if print_info:
            print(text)
        if return_format == "dict":
            return description
        return text

    async def _join(self, endpoint: Endpoint, data: list[Any], session_hash: str) -> str:
        assert self._transport is not None
        body = {
            "data": data,
            "fn_index": endpoint.fn_index,
            "session_hash": session_hash,
            "event_data": None,
            "trigger_id": None,
        }
        return await self._transport.join(self.app.api_url + "queue/join", body)

    def _stream_register(self, job_id: str, job: AsyncJob, session_hash: str) -> None:
        stream = self._streams.get(session_hash)
        if stream is None:
            assert self._transport is not None
            caps = self.app.capabilities
            stream = SessionStream(
                self._transport.client,
                self.app.api_url + "queue/data",
                session_hash,
                close_stream=caps.close_stream,
                read_timeout=self._stream_timeout,
            )
            self._streams[session_hash] = stream
        stream.register(job_id, job)

    def _stream_forget(self, job_id: str) -> None:
        for stream in self._streams.values():
            stream.forget(job_id)

    async def _cancel_on_server(self, endpoint: Endpoint, job_id: str, session_hash: str) -> None:
        if self._transport is None or self._closed:
            return
        caps = self.app.capabilities
        if not caps.cancel_route:
            logger.warning("gradio %s has no cancel route: the server keeps running job %s", caps.version_string, job_id)
            return
        body = {"fn_index": endpoint.fn_index, "session_hash": session_hash, "event_id": job_id}
        try:
            await self._transport.post_ok(self.app.api_url + "cancel", body, "Cancelling a job")
        except GradioJobsError as exc:
            logger.warning("could not cancel job %s on the server: %s", job_id, exc)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
