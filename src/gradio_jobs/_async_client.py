"""``AsyncClient``: the one implementation of a client; the sync ``Client`` runs it on a loop thread."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from typing import TYPE_CHECKING, Any

from ._async_job import AsyncJob, Dispatch, EventListener
from ._attributes import ClientAttributes
from ._call import CallRequest, PreparedCall, await_job, call_request, prepare_call
from ._duplicate import duplicate_request, duplicate_space
from ._exceptions import AuthenticationError, GradioJobsError, ServerError, UnsupportedServerError
from ._map import AsyncMapRun, map_request, start_async_map
from ._options import ClientOptions, token_fields
from ._signatures import parameters_of
from ._spaces import find_stored_token, resolve_space, space_id_of

if TYPE_CHECKING:

    from ._runtime import ClientRuntime, JobHost
    from .transport import HttpTransport
from ._view_api import client_repr, read_api_info, view_api
from .protocol.api import App, build_app
from .protocol.queue_status import QueueStatus, parse_queue_status, queue_status_available

__all__ = ["AsyncClient"]

logger = logging.getLogger("gradio_jobs")


def normalize_src(src: str) -> str:
    """``src`` as the app's URL with a trailing ``/``; a clear error if it is no URL."""
    if not isinstance(src, str) or not src.strip():
        raise GradioJobsError(f"src must be the app's URL or a Space id, got {src!r}")
    src = src.strip()
    if not src.startswith(("http://", "https://")):
        raise GradioJobsError(f"{src!r} is neither an http(s) URL nor a Hugging Face Space id like 'owner/name'")
    return src if src.endswith("/") else src + "/"


class AsyncClient(ClientAttributes):
    """An async client for one Gradio app.

    ``src`` is the app's URL or a Hugging Face Space id (``"owner/name"``); ``token`` a
    Hugging Face token (``hf_token=`` is accepted too, the name of older ``gradio_client``
    versions). Every other option is a keyword of :class:`ClientOptions`
    (``download_files``, ``headers``, ``auth``, ``oauth_token``, ``retry``, ...), or
    ``options=ClientOptions(...)``.

    Use it as ``async with AsyncClient(url) as client:``, or ``await client.connect()``
    before :meth:`submit`. Every job of a client shares one session (``gr.State`` carries
    over from call to call) and one event stream. It starts no thread.
    """

    def __init__(
        self,
        src: str,
        token: str | None = None,
        *,
        hf_token: str | None = None,
        options: ClientOptions | None = None,
        **option_fields: Any,
    ) -> None:
        option_fields.update(token_fields(token, hf_token))
        self.options = ClientOptions.build(options, "AsyncClient.__init__()", **option_fields)
        #: ``"owner/name"`` when ``src`` names a Hugging Face Space; its URL is found on connect.
        self.space_id = space_id_of(src) if isinstance(src, str) else None
        #: The app's URL (with a trailing ``/``); for a Space, known once connected.
        self.src = "" if self.space_id else normalize_src(src)
        #: The session every job of this client joins (``reset_session`` starts a new one).
        self.session_hash = str(uuid.uuid4())
        self._runtime: ClientRuntime | None = None
        self._connecting: asyncio.Future[ClientRuntime] | None = None
        self._closed = False

    # -- connecting -----------------------------------------------------------------------

    @property
    def app(self) -> App:
        """The app's API model; available once connected."""
        return self._connected().app

    @property
    def connected(self) -> bool:
        """The client has read the app's description (and is not closed)."""
        return self._runtime is not None and not self._closed

    def _core(self) -> AsyncClient:
        return self

    def _connected(self) -> ClientRuntime:
        if self._runtime is None:
            raise GradioJobsError(
                "the client is not connected yet: use `async with AsyncClient(...)` or `await client.connect()`"
            )
        return self._runtime

    async def connect(self) -> AsyncClient:
        """Read the app's config and API description. Safe to call more than once.

        A connect that fails leaves nothing open; it may be tried again.
        """
        if self._runtime is not None:
            return self
        if self._closed:
            raise GradioJobsError("the client is closed")
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_future()
            try:
                runtime = await self._load()
                if self._closed:  # close() ran while this connect was on its way
                    await runtime.aclose()
                    raise GradioJobsError("the client was closed while it was connecting")
            except BaseException as exc:
                self._connecting.set_exception(exc)
                self._connecting.exception()  # retrieved: the caller gets it via raise
                self._connecting = None
                raise
            self._runtime = runtime
            self._connecting.set_result(runtime)
        else:
            await asyncio.shield(self._connecting)
        return self

    async def _load(self) -> ClientRuntime:
        # The HTTP stack loads with the first client that connects, not with the package.
        from ._runtime import ClientRuntime
        from .transport import Heartbeat, HttpTransport

        options = self.options
        token = options.token
        if self.space_id is not None:
            # A stored token is used for Spaces only: it never goes to an app the user named by URL.
            token = token or await find_stored_token()
            self.src = await resolve_space(
                self.space_id, token, timeout=options.space_timeout, verify=options.ssl_verify
            )
        headers = dict(options.headers)
        if token:
            headers.setdefault("x-hf-authorization", f"Bearer {token}")
        transport = HttpTransport(
            self.src, headers=headers, verify=options.ssl_verify, httpx_kwargs=options.httpx_kwargs,
            allow_private_network=options.allow_private_network_files,
            limits=options.server_limits(),
        )
        try:
            app = await self._describe(transport)
        except BaseException:
            await transport.aclose()
            raise
        caps = app.capabilities
        heartbeat = None
        if caps.heartbeat_route and caps.connect_heartbeat:
            heartbeat = Heartbeat(transport.stream_client, app.api_url + "heartbeat/", self.session_hash)
        return ClientRuntime(app, transport, options, heartbeat)

    async def _describe(self, transport: HttpTransport) -> App:
        """Log in if asked, then read ``/config`` and ``/info`` into the app's model."""
        auth = self.options.auth
        if auth is not None:
            await transport.login(self.src + "login", *auth)
        try:
            config = await transport.get_json(self.src + "config", "Loading the app's config")
        except AuthenticationError as exc:
            # The official client's words first.
            hint = "; pass auth=(username, password) to log in" if auth is None else ""
            exc.args = (
                f"Could not load {self.src} as credentials were not provided. Please login. ({exc.args[0]}{hint})",
            )
            raise
        if not isinstance(config, dict):
            raise UnsupportedServerError(f"{self.src}config is not a Gradio config")
        app = build_app(self.src, config, None)
        if not app.capabilities.supported:
            raise UnsupportedServerError(
                f"the app runs gradio {app.capabilities.version_string or '(unknown version)'} with the "
                f"{app.capabilities.protocol!r} queue protocol, which this client does not speak"
            )
        # Both descriptions at once, one round trip: ours (every endpoint, for calling) and the
        # public one the official client reads (what view_api() shows).
        info, public_info = await asyncio.gather(
            self._read_info(transport, app.api_url), read_api_info(transport, app)
        )
        app = dataclasses.replace(build_app(self.src, config, info), api_info=public_info)
        if self.options.verbose:
            logger.info("Loaded as API: %s (gradio %s)", self.src, app.capabilities.version_string)
        return app

    @staticmethod
    async def _read_info(transport: HttpTransport, api_url: str) -> dict[str, Any] | None:
        """``/info?all_endpoints=True``, or None where the server has no usable one."""
        try:
            info = await transport.get_json(
                api_url + "info", "Loading the app's API description", params={"all_endpoints": "True"}
            )
        except ServerError as exc:
            # Old servers have no /info, and some fail on it (4.21 answers 500 for some apps):
            # the config alone still describes every endpoint, with less precise names.
            logger.warning("the app has no usable API description (%s); reading the endpoints from its config", exc)
            return None
        return info if isinstance(info, dict) else None

    # -- calling --------------------------------------------------------------------------

    @parameters_of(call_request)
    def submit(self, *args: Any, **kwargs: Any) -> AsyncJob:
        """Start a job and return it at once (call it on the client's event loop, connected).

        ``args`` and ``kwargs`` are the endpoint's inputs (omitted ones take their defaults);
        ``api_name`` (``"/add"``) or ``fn_index`` names the endpoint (default: the only one).
        ``headers`` are sent with this job's requests, over the client's (every job also
        sends ``x-gradio-user: api``, and in a Gradio app's handler calling a Space the end
        user's ZeroGPU ``x-ip-token``). ``deadline`` (seconds, or a :class:`Deadline` with
        ``queue``/``run``/``total``) cancels the job on the server when it runs out and fails
        it with ``JobTimeoutError``.
        ``on_status(StatusUpdate)``, ``on_output(value)``, ``on_log(LogMessage)`` and the
        ``result_callbacks`` (``fn(*outputs)`` on success) are called on the loop, in the
        order of the job's events; an awaitable one returns runs as a task, one that raises
        is logged. ``keep_outputs=N`` keeps only the last N outputs of a long generator (the
        final value is always kept). Bad arguments raise here, before anything is sent.
        """
        return self._launch(self._prepare(call_request(*args, **kwargs)))

    @parameters_of(call_request)
    async def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Run a job and return its result (the final value for generators).

        ``args``/``kwargs`` (the inputs), ``api_name``, ``fn_index``, ``headers``, ``deadline``,
        ``keep_outputs`` and the callbacks ``on_status``, ``on_output``, ``on_log`` and
        ``result_callbacks`` are those of :meth:`submit`. Connects first if needed. Cancelling the
        awaiting task cancels the job on the server.
        """
        await self.connect()
        return await await_job(self.submit(*args, **kwargs))

    @parameters_of(map_request)
    def map(self, *args: Any, **kwargs: Any) -> AsyncMapRun:
        """``async for result in client.map(inputs, api_name=...)``: one result per input, in order.

        ``api_name`` or ``fn_index`` names the endpoint. See :func:`gradio_jobs.amap_jobs` for
        ``inputs``, ``concurrency`` (jobs in flight, default 8), ``stop_on_error`` (default
        False: a failed input yields its error), ``on_progress`` and ``progress`` (True: a
        live bar with done, failed, rate and ETA; default False).
        """
        return start_async_map(self, map_request(*args, **kwargs))

    async def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the endpoints, as :meth:`gradio_jobs.Client.view_api` does (connecting first if needed).

        ``all_endpoints`` True also lists the unnamed endpoints (None, the default: only when
        there is no named one); ``print_info`` (default True) prints the text;
        ``return_format`` None (the default) returns None, ``"str"`` the text, ``"dict"``
        the official client's dict of the public endpoints.
        """
        await self.connect()
        return view_api(self.app, all_endpoints, print_info, return_format)

    async def queue_status(self) -> QueueStatus:
        """The app's queue now, before submitting anything (connecting first if needed).

        Returns a :class:`QueueStatus`: ``queue_size``, the jobs waiting for a worker (of
        every endpoint and user), and on gradio 3.x and early 4.x the server's time
        estimates. Raises :class:`UnsupportedServerError` for an app without a queue (a 3.x
        app launched without ``.queue()``).
        """
        await self.connect()
        runtime = self._connected()
        app = runtime.app
        if not queue_status_available(app.capabilities):
            raise UnsupportedServerError(
                f"{self.src} has no queue (a gradio {app.capabilities.version_string or '3.x'} app launched "
                "without .queue()), so it has no queue status"
            )
        answer = await runtime.transport.get_json(app.api_url + "queue/status", "Reading the queue's status")
        return parse_queue_status(answer)

    def reset_session(self) -> None:
        """Start a new session: later jobs no longer see the ``gr.State`` of earlier ones."""
        self.session_hash = str(uuid.uuid4())
        if self._runtime is not None:
            self._runtime.switch_heartbeat(self.session_hash)

    async def close(self) -> None:
        """Cancel the pending jobs on the server, stop the stream readers, close the connections.

        Dropping a session's event stream makes the server drop that session's queued jobs
        and stop its generators at their next step (a running plain function still runs to
        its end): one reset per session cancels everything, however many jobs are pending.
        Joins still in flight are given up to ``close_timeout`` seconds to land first.
        """
        if self._closed:
            return
        self._closed = True
        if self._runtime is not None:
            await self._runtime.aclose()

    @classmethod
    @parameters_of(duplicate_request)
    async def duplicate(cls, *args: Any, **kwargs: Any) -> AsyncClient:
        """``await AsyncClient.duplicate(from_id, ...)``: copy the Hugging Face Space
        ``from_id`` into your account and return a connected client of the copy (see
        ``Client.duplicate``, which does the same on its loop thread).

        ``to_id`` names the copy (default: the token's user name and the original's name; an
        existing copy is reused). ``token`` may create Spaces (default: the stored one).
        ``private`` (default True), ``hardware`` (default: the original's; upgrades are
        billed), ``secrets`` (added to a new copy only) and ``sleep_timeout`` (minutes,
        default 5, for hardware other than ``cpu-basic``) set up the copy. ``max_workers`` is
        accepted and ignored; ``verbose`` (default True) logs each step. Other keywords go to
        the new client (:class:`ClientOptions`). The Hub's requests run on threads of their
        own, never on the event loop.
        """
        request = duplicate_request(*args, **kwargs)
        keywords = request.client_keywords_for(cls)
        client = cls(await duplicate_space(request), token=request.token, **keywords)
        try:
            return await client.connect()
        except BaseException:
            await client.close()
            raise

    async def __aenter__(self) -> AsyncClient:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        """The ``view_api()`` text, as the official client's (``<AsyncClient src (not connected)>`` before)."""
        return client_repr(self, "AsyncClient")

    __str__ = __repr__

    # -- the submit path both clients share ------------------------------------------------

    def _prepare(self, request: CallRequest) -> PreparedCall:
        """Bind a call to the app: pure, may run on any thread."""
        runtime = self._connected()
        if runtime.closing or self._closed:
            raise GradioJobsError("the client is closed")
        return prepare_call(runtime.app, self.session_hash, request, self.add_zero_gpu_headers({}))

    def _launch(
        self, call: PreparedCall, listener: EventListener | None = None, dispatch: Dispatch | None = None
    ) -> AsyncJob:
        """Start a prepared call (on the loop): ``listener`` hears every event, ``dispatch``
        runs the callbacks (default: on the loop)."""
        runtime = self._connected()
        if self._closed:
            raise GradioJobsError("the client is closed")
        return AsyncJob(runtime, call, listener=listener, dispatch=dispatch)

    def _job_host(self) -> JobHost:
        """What this client's jobs run on (a pool places its jobs on its replicas' hosts)."""
        return self._connected()

    def _run_awaitable(self, awaitable: Any) -> None:
        """Run, on the loop, an awaitable a callback returned (the sync client's callbacks too)."""
        self._connected().run_awaitable(awaitable)
