"""``ClientPool``: the sync view of an :class:`AsyncClientPool`, run on the shared loop thread.

Nothing here decides anything: each call is the async pool's, run on the loop thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from . import _loop
from ._async_client import AsyncClient
from ._call import call_request
from ._client import Client
from ._facade import SyncSubmitter
from ._job import Job
from ._map import MapRun, map_request, start_map
from ._options import ClientOptions, token_fields
from ._pool import AsyncClientPool, ReplicaStats
from ._signatures import parameters_of
from ._view_api import view_api
from .protocol.api import App

__all__ = ["ClientPool"]


class ClientPool(SyncSubmitter):
    """One sync client over several replicas of the same app (see :class:`AsyncClientPool`,
    which this runs on the shared loop thread).

    ``sources`` are app URLs, Space ids or :class:`Client` objects (e.g. from
    :meth:`Client.duplicate`), at least one; ``token`` (or ``hf_token``), ``options`` and
    every other keyword (a :class:`ClientOptions` field) make the clients of the replicas
    given as text. ``max_in_flight`` (default None), ``queue_depth`` (default 2),
    ``probe_backoff`` (default 1.0) and ``max_probe_backoff`` (default 30.0) are those of
    :class:`AsyncClientPool`. The pool connects in the constructor (raising
    :class:`ReplicaMismatchError` or :class:`NoReplicaAvailableError` as it does).
    """

    def __init__(
        self,
        sources: Iterable[str | Client],
        token: str | None = None,
        *,
        max_in_flight: int | None = None,
        queue_depth: int | None = 2,
        probe_backoff: float = 1.0,
        max_probe_backoff: float = 30.0,
        hf_token: str | None = None,
        options: ClientOptions | None = None,
        **option_fields: Any,
    ) -> None:
        self._closed = False
        if isinstance(sources, (str, Client)):
            raise TypeError("sources must be a list of replicas (URLs, Space ids or clients), not one")
        replicas = []
        for source in sources:
            if isinstance(source, AsyncClient):
                raise TypeError("a ClientPool takes Clients (AsyncClients go in an AsyncClientPool)")
            replicas.append(source._core() if isinstance(source, Client) else source)
        option_fields.update(token_fields(token, hf_token))
        pool = AsyncClientPool(
            replicas,
            max_in_flight=max_in_flight,
            queue_depth=queue_depth,
            probe_backoff=probe_backoff,
            max_probe_backoff=max_probe_backoff,
            options=options,
            **option_fields,
        )
        self._pins: list[Client] = []
        self._async = _loop.open_client(pool, _connect(pool))
        self._finalizer = weakref.finalize(self, _loop.retire, self._async)

    def _core(self) -> AsyncClientPool:
        return self._async

    @property
    def app(self) -> App:
        """The app's API model."""
        return self._async.app

    @property
    def options(self) -> ClientOptions:
        """The options of the replicas' clients."""
        return self._async.options

    @property
    def replicas(self) -> list[str]:
        """The replicas' URLs, in the order given."""
        return self._async.replicas

    @property
    def src(self) -> str:
        """The first replica's URL."""
        return self._async.src

    def __len__(self) -> int:
        return len(self._async)

    @parameters_of(call_request)
    def submit(self, *args: Any, **kwargs: Any) -> Job:
        """Start a job on the replica where it should finish soonest and return it at once.

        Takes what :meth:`Client.submit` takes: the inputs as ``args`` and ``kwargs``,
        ``api_name`` or ``fn_index``, ``headers``, ``deadline``, ``keep_outputs`` and the
        callbacks ``on_status``, ``on_output``, ``on_log`` and ``result_callbacks`` (run on
        one callback thread). ``job.replica`` says where it runs.
        """
        return self._submit_request(call_request(*args, **kwargs))

    @parameters_of(call_request)
    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Run a job on the pool and wait for its result (the final value for generators).

        ``args``/``kwargs`` (the inputs), ``api_name``, ``fn_index``, ``headers``, ``deadline``,
        ``keep_outputs`` and the callbacks ``on_status``, ``on_output``, ``on_log`` and
        ``result_callbacks`` are those of :meth:`submit`.
        """
        return self.submit(*args, **kwargs).result()

    @parameters_of(map_request)
    def map(self, *args: Any, **kwargs: Any) -> MapRun:
        """Call one endpoint on each of the ``inputs`` over the replicas, at most
        ``concurrency`` jobs at once (default 8: raise it to keep every replica busy);
        yields the results in input order. ``api_name``, ``fn_index``, ``stop_on_error``,
        ``on_progress`` and ``progress`` (True: a live bar with done, failed, rate and ETA)
        are those of :meth:`Client.map`."""
        return start_map(self._async, map_request(*args, **kwargs), owner=self)

    def view_api(
        self, all_endpoints: bool | None = None, print_info: bool = True, return_format: str | None = None
    ) -> Any:
        """Describe the app's public endpoints, as :meth:`Client.view_api` does;
        ``all_endpoints``, ``print_info`` and ``return_format`` are that method's."""
        return view_api(self.app, all_endpoints, print_info, return_format)

    def stats(self) -> list[ReplicaStats]:
        """What the pool knows of each replica, in the order given (see :class:`ReplicaStats`)."""
        return _loop.call(self._async.stats)

    def pin(self, replica: int | str | None = None) -> Client:
        """A new :class:`Client` of one replica, with a session of its own, for endpoints that
        keep ``gr.State``. ``replica`` is an index or URL (default None: the up replica with
        the fewest of the pool's jobs). The client is closed with the pool."""
        src, options = _loop.call(self._async._pin_address, replica)
        client = Client(src, options=options)
        self._pins.append(client)
        return client

    def close(self) -> None:
        """Cancel the pool's pending jobs, close every replica's client and the pinned ones."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        for client in self._pins:
            client.close()
        try:
            _loop.run(self._async.close())
        finally:
            _loop.client_closed(self._async)

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClientPool", "ClientPool", 1)


async def _connect(pool: AsyncClientPool) -> AsyncClientPool:
    try:
        return await pool.connect()
    except BaseException:
        await pool.close()
        raise
