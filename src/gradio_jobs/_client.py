"""``Client``: the sync facade, an :class:`AsyncClient` run on the shared loop thread.

Nothing here decides anything: each call is the async client's, run on the loop thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _loop
from ._async_client import AsyncClient
from ._attributes import ClientAttributes
from ._call import call_request
from ._duplicate import duplicate_request, duplicate_space
from ._facade import SyncSubmitter
from ._job import Job
from ._map import AsyncMapRun, MapRun, map_request, start_async_map, start_map
from ._options import ClientOptions, token_fields
from ._signatures import parameters_of
from ._view_api import client_repr, view_api
from .protocol.api import App
from .protocol.queue_status import QueueStatus

if TYPE_CHECKING:
    pass

__all__ = ["Client", "amap_jobs", "map_jobs"]


class Client(ClientAttributes, SyncSubmitter):
    """A client for one Gradio app, with the API of ``gradio_client.Client``.

    ``src`` is the app's URL or a Hugging Face Space id (``"owner/name"``); ``token`` a
    Hugging Face token (``hf_token=`` is accepted too, the name of older ``gradio_client``
    versions); ``max_workers`` is accepted for compatibility (jobs here need no worker
    threads); ``verbose`` (default True) logs a line once connected; ``auth`` is
    ``(username, password)`` for an app with a login; ``httpx_kwargs`` go to the HTTP
    client (its ``timeout`` governs file transfers too); ``analytics_enabled`` is accepted
    for compatibility (gradio-jobs sends no telemetry). Every other option is a keyword of
    :class:`ClientOptions` (``headers``, ``download_files``, ``ssl_verify``,
    ``oauth_token``, ``retry``, ...), or ``options=ClientOptions(...)``.

    ``Client(src)`` connects at once (reads the app's config and API) and raises if it
    cannot. All sync clients of a process share one background event-loop thread, however
    many jobs they run. A client dropped without :meth:`close` is closed when it is collected.
    """

    def __init__(
        self,
        src: str,
        token: str | None = None,
        max_workers: int = 40,
        verbose: bool = True,
        auth: tuple[str, str] | None = None,
        httpx_kwargs: Mapping[str, Any] | None = None,
        *,
        analytics_enabled: bool = True,
        hf_token: str | None = None,
        options: ClientOptions | None = None,
        **option_fields: Any,
    ) -> None:
        self._closed = False
        if not verbose:
            option_fields["verbose"] = False
        if auth is not None:
            option_fields["auth"] = auth
        if httpx_kwargs is not None:
            option_fields["httpx_kwargs"] = httpx_kwargs
        option_fields.update(token_fields(token, hf_token))
        built = ClientOptions.build(options, "Client.__init__()", **option_fields)
        async_client = AsyncClient(src, options=built)
        self._async = _loop.open_client(async_client, _connect(async_client))
        # Dropped without close(): its jobs are cancelled and the loop stops if nothing else needs it.
        self._finalizer = weakref.finalize(self, _loop.retire, self._async)

    def _core(self) -> AsyncClient:
        return self._async

    @property
    def src(self) -> str:
        """The app's URL (for a Space, the URL it runs at)."""
        return self._async.src

    @property
    def space_id(self) -> str | None:
        """``"owner/name"`` when the client was made from a Hugging Face Space id."""
        return self._async.space_id

    @property
    def session_hash(self) -> str:
        """The session every job of this client joins."""
        return self._async.session_hash

    @property
    def options(self) -> ClientOptions:
        """The client's options."""
        return self._async.options

    @property
    def app(self) -> App:
        """The app's API model."""
        return self._async.app

    @parameters_of(call_request)
    def submit(self, *args: Any, **kwargs: Any) -> Job:
        """Start a job and return it at once; bad arguments raise here, before anything is sent.

        The endpoint's inputs are ``args`` and ``kwargs``; ``api_name`` or ``fn_index``
        chooses the endpoint; ``headers`` go with this job's requests, over the client's;
        ``deadline`` and ``keep_outputs`` are as in :meth:`AsyncClient.submit`. The callbacks
        ``on_status``, ``on_output``, ``on_log`` and ``result_callbacks`` run on one callback
        thread, in event order; one that raises is logged and the job goes on (an awaitable
        one returns runs on the loop).
        """
        return self._submit_request(call_request(*args, **kwargs))

    @parameters_of(call_request)
    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Run a job and wait for its result (the final value for generators).

        ``args``/``kwargs`` (the inputs), ``api_name``, ``fn_index``, ``headers``, ``deadline``,
        ``keep_outputs`` and the callbacks ``on_status``, ``on_output``, ``on_log`` and
        ``result_callbacks`` are those of :meth:`submit`. Ctrl+C while waiting cancels the job on the
        server.
        """
        return self.submit(*args, **kwargs).result()

    @parameters_of(map_request)
    def map(self, *args: Any, **kwargs: Any) -> MapRun:
        """Call one endpoint (``api_name`` or ``fn_index``) on each of the ``inputs``, at most
        ``concurrency`` jobs at once (default 8); yields the results in input order (see
        :func:`gradio_jobs.map_jobs`). A failed item yields its error in its place unless
        ``stop_on_error=True``; ``.progress`` sums up the run and ``on_progress(MapProgress)``
        hears each change. ``progress=True`` shows a live bar (done, failed, rate, ETA) in a
        terminal, a notebook or as plain lines on stderr (default False: nothing is shown)."""
        return map_jobs(self, *args, **kwargs)

    def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the app's public endpoints, as ``gradio_client`` does: the same text, the same dict.

        ``all_endpoints`` True also lists the unnamed endpoints in the text (None, the
        default: only when the app has no named endpoint; False: never); ``print_info``
        (default True) prints the text; ``return_format`` None (the default) returns None,
        ``"str"`` the text, and ``"dict"`` ``{"named_endpoints": ..., "unnamed_endpoints": ...}``
        with each endpoint's ``parameters``, ``returns`` and ``description`` (and
        ``oauth_token`` where the function takes a ``gr.OAuthToken``), whatever
        ``all_endpoints`` says. Fn_index, generator and visibility of each endpoint are on
        ``client.app.endpoints``.
        """
        return view_api(self.app, all_endpoints, print_info, return_format)

    def queue_status(self) -> QueueStatus:
        """The app's queue now, before submitting anything: a :class:`QueueStatus` whose
        ``queue_size`` counts the jobs waiting for a worker (see
        :meth:`AsyncClient.queue_status`). Raises :class:`UnsupportedServerError` for an app
        without a queue (a 3.x app launched without ``.queue()``)."""
        return _loop.run(self._async.queue_status())

    def reset_session(self) -> None:
        """Start a new session: later calls no longer see the ``gr.State`` of earlier ones."""
        _loop.call(self._async.reset_session)

    def close(self) -> None:
        """Cancel pending jobs on the server, stop the stream reader, close the connections.

        When the last client of the process closes, the shared loop thread stops too.
        """
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        try:
            _loop.run(self._async.close())
        finally:
            _loop.client_closed(self._async)

    @classmethod
    @parameters_of(duplicate_request)
    def duplicate(cls, *args: Any, **kwargs: Any) -> Client:
        """Copy the Hugging Face Space ``from_id`` into your account and return a connected
        client of the copy, as ``gradio_client.Client.duplicate`` does (the way out of a busy
        or rate-limited public Space).

        ``to_id`` names the copy (``"my-copy"`` or ``"owner/my-copy"``; default: the token's
        user name and the original's name). A copy that exists already is reused: nothing is
        duplicated and ``secrets`` are left alone (with a warning); its hardware and sleep time
        are still set as below. ``token`` is a Hugging Face token that may create Spaces
        (default: the one ``huggingface_hub`` has stored; ``hf_token=`` works too).
        ``private`` (default True) makes a new copy private. ``hardware`` (``"cpu-upgrade"``,
        ``"t4-small"``, ``"a10g-large"``, ...; default: the original's) is requested when the
        copy has other hardware: upgraded hardware is billed, and a warning says so.
        ``secrets`` (a dict of names to values) are added to a new copy. ``sleep_timeout``
        (default 5) is the minutes of inactivity before the copy sleeps, set when its hardware
        is not the free ``cpu-basic``. ``max_workers`` is accepted for compatibility;
        ``verbose`` (default True) logs each step at INFO. Any other keyword goes to the new
        client (``download_files=``, ``headers=``, ``space_timeout=``, ...: see
        :class:`ClientOptions`); an unknown one raises ``TypeError`` before the Hub is asked.

        Every Hub request goes through ``huggingface_hub`` (``HF_ENDPOINT`` is honoured).
        Raises :class:`SpaceNotFoundError` (a ``ValueError``) when ``from_id`` cannot be read,
        :class:`SpaceDuplicationError` (an ``OSError``) when there is no token or the Hub
        refuses the token, the copy, a secret, the hardware or the sleep time.
        """
        request = duplicate_request(*args, **kwargs)
        keywords = request.client_keywords_for(cls)
        space_id = _loop.open_client(None, duplicate_space(request))
        return cls(space_id, token=request.token, **keywords)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        """The ``view_api()`` text, as the official client's ``repr`` and ``str``."""
        return client_repr(getattr(self, "_async", None), "Client")

    __str__ = __repr__


@parameters_of(map_request)
def map_jobs(client: Client, *args: Any, **kwargs: Any) -> MapRun:
    """Run one endpoint over many inputs with the sync ``client``, at most ``concurrency``
    jobs at once (default 8); ``client.map(...)`` does the same.

    Each input is a tuple (the positional arguments), a dict (the keyword arguments) or any
    other value (the one argument; wrap a dict or tuple argument in a 1-tuple). ``inputs``
    may be any iterable, a generator too: it is consumed lazily, one input per job submitted.
    ``api_name`` or ``fn_index`` names the endpoint; an unknown one raises at once.

    Returns a :class:`MapRun` that yields one result per input, in input order (nothing is
    submitted before the first ``next()``; then jobs are submitted while you iterate, as
    earlier ones finish, and run while you handle each result). A failed item
    yields its exception (an :class:`AppError`, or ``CancelledError`` if its job was
    cancelled elsewhere) and the others go on; with ``stop_on_error=True`` (default False)
    the first error in input order is raised instead, after the results before it, and the
    jobs still running are cancelled. ``on_progress(progress)`` is called, on the iterating
    thread, after each change (a job submitted, finished or cancelled) with a
    :class:`MapProgress`; an exception it raises ends the map. ``progress=True`` (default
    False) shows the map while it is iterated: a bar with done of total, failed, running,
    rate and ETA, as HTML updated in place in a Jupyter notebook, a rich live bar when
    stderr is a terminal, and otherwise a plain line on stderr at most once a second and at
    the end. Off, it costs nothing.
    """
    if isinstance(client, AsyncClient):
        raise TypeError("map_jobs() takes a sync Client; use amap_jobs() with an AsyncClient")
    return start_map(client._async, map_request(*args, **kwargs), owner=client)



@parameters_of(map_request)
def amap_jobs(client: AsyncClient, *args: Any, **kwargs: Any) -> AsyncMapRun:
    """The async twin of :func:`map_jobs`: ``async for result in amap_jobs(client, inputs, ...)``.

    ``api_name``, ``fn_index``, ``concurrency`` (default 8) and ``stop_on_error`` (default
    False) are as in :func:`map_jobs`. ``inputs`` may be an iterable or an async iterable,
    consumed lazily. The client connects
    on the first iteration if it has not yet; an unknown endpoint raises then (at once if
    the client is connected). ``on_progress`` is called on the event loop, a plain function.
    ``progress=True`` shows the bar of :func:`map_jobs` (default False).
    """
    if isinstance(client, Client):
        raise TypeError("amap_jobs() takes an AsyncClient; use map_jobs() with a sync Client")
    return start_async_map(client, map_request(*args, **kwargs))


async def _connect(client: AsyncClient) -> AsyncClient:
    try:
        return await client.connect()
    except BaseException:
        await client.close()
        raise
