"""``Client``: the sync facade, an :class:`AsyncClient` run on the shared loop thread."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import os

from . import _loop
from ._async_client import AsyncClient
from ._async_job import Deadline
from ._job import Job
from ._retry import RetryPolicy, SubmitRetry
from ._exceptions import GradioJobsError
from .protocol.api import App
from ._callbacks import JobCallbacks
from ._map import MapProgress, MapRun, map_jobs
from .protocol.job import JobState
from .protocol.status import LogMessage, StatusUpdate
from .transport.files import DEFAULT_DOWNLOAD_DIR

__all__ = ["Client"]


class Client:
    """A client for one Gradio app, with the API of ``gradio_client.Client``.

    ``Client(src)`` connects at once (reads the app's config and API) and raises if it
    cannot. All sync clients of a process share one background event-loop thread, however
    many jobs they run.
    """

    def __init__(
        self,
        src: str,
        hf_token: str | None = None,
        max_workers: int = 40,
        verbose: bool = True,
        auth: tuple[str, str] | None = None,
        httpx_kwargs: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        download_files: str | os.PathLike[str] | bool = DEFAULT_DOWNLOAD_DIR,
        max_download_size: int | None = None,
        ssl_verify: bool | str = True,
        space_timeout: float | None = 300.0,
        stream_timeout: float | None = 35.0,
        retry: RetryPolicy | None = None,
        submit_retry: SubmitRetry | None = None,
        close_timeout: float = 2.0,
    ) -> None:
        # max_workers is accepted for compatibility: jobs here need no worker threads.
        self._closed = False
        self._async = _loop.open_client(
            self,
            _make_client(
                src,
                hf_token or token,
                auth=auth,
                headers=headers,
                download_files=download_files,
                max_download_size=max_download_size,
                verbose=verbose,
                ssl_verify=ssl_verify,
                httpx_kwargs=httpx_kwargs,
                space_timeout=space_timeout,
                stream_timeout=stream_timeout,
                retry=retry,
                submit_retry=submit_retry,
                close_timeout=close_timeout,
            ),
        )

    @property
    def src(self) -> str:
        return self._async.src

    @property
    def space_id(self) -> str | None:
        """``"owner/name"`` when the client was made from a Hugging Face Space id."""
        return self._async.space_id

    @property
    def session_hash(self) -> str:
        return self._async.session_hash

    @property
    def app(self) -> App:
        return self._async.app

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
    ) -> Job:
        """Start a job and return it at once. Bad arguments raise here, before anything is sent.

        ``deadline`` (seconds, or a :class:`Deadline` with ``queue``/``run``/``total``) cancels
        the job on the server when it runs out and fails it with ``JobTimeoutError``.
        ``on_status(StatusUpdate)``, ``on_output(value)``, ``on_log(LogMessage)`` and
        ``result_callbacks`` run on one callback thread, in the order of the job's events;
        one that raises is logged and the job goes on. ``keep_outputs=N`` keeps only the last
        N outputs of a long generator (the final value is always kept).
        """
        if self._closed:
            raise GradioJobsError("the client is closed")
        callbacks = JobCallbacks(on_status, on_output, on_log)
        endpoint, data = self._async._prepare(args, kwargs, api_name, fn_index)
        if callable(result_callbacks):
            result_callbacks = [result_callbacks]
        state = JobState(endpoint, self._async.app.capabilities, keep_outputs)
        job = Job(state, result_callbacks or (), callbacks)
        _loop.call_soon(self._start, job, endpoint, data, state, Deadline.of(deadline))
        return job

    def _start(self, job: Job, endpoint: Any, data: list[Any], state: JobState, deadline: Deadline | None) -> None:
        try:
            async_job = self._async._start(endpoint, data, state, job._on_event, None, deadline)
        except Exception as exc:  # e.g. the client was closed meanwhile
            for event in state.fail(exc):
                job._on_event(event)
            return
        job._attach(async_job)

    def predict(
        self,
        *args: Any,
        api_name: str | None = None,
        fn_index: int | None = None,
        deadline: Deadline | float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a job and wait for its result (the final value for generators).

        Ctrl+C while waiting cancels the job on the server.
        """
        return self.submit(*args, api_name=api_name, fn_index=fn_index, deadline=deadline, **kwargs).result()

    def map(
        self,
        inputs: Iterable[Any],
        *,
        api_name: str | None = None,
        fn_index: int | None = None,
        concurrency: int = 8,
        stop_on_error: bool = False,
        on_progress: Callable[[MapProgress], Any] | None = None,
    ) -> MapRun:
        """Call one endpoint on each input, at most ``concurrency`` jobs at once; yields the
        results in input order (see :func:`gradio_jobs.map_jobs`). A failed item yields its
        error in its place unless ``stop_on_error=True``; ``.progress`` sums up the run."""
        return map_jobs(
            self, inputs, api_name=api_name, fn_index=fn_index, concurrency=concurrency,
            stop_on_error=stop_on_error, on_progress=on_progress,
        )

    def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the app's endpoints: prints a readable summary and returns it.

        ``return_format="dict"`` returns ``{"named_endpoints": ..., "unnamed_endpoints": ...}``
        with each endpoint's parameters (names, types, defaults) and returns instead.
        ``all_endpoints=True`` includes undocumented endpoints.
        """
        return self._async._view_api(all_endpoints, print_info, return_format)

    def reset_session(self) -> None:
        """Start a new session: later calls no longer see the ``gr.State`` of earlier ones."""
        _loop.run(_on_loop(self._async.reset_session))

    def close(self) -> None:
        """Cancel pending jobs on the server, stop the stream reader, close the connections.

        When the last client of the process closes, the shared loop thread stops too.
        """
        if self._closed:
            return
        self._closed = True
        try:
            _loop.run(self._async.close())
        finally:
            _loop.client_closed(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)


async def _on_loop(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


async def _make_client(src: str, hf_token: str | None, **options: Any) -> AsyncClient:
    client = AsyncClient(src, hf_token, **options)
    try:
        return await client.connect()
    except BaseException:
        await client.close()
        raise
