"""A call prepared for submission: the one submit path of both clients.

Preparing is pure (it binds the arguments to the endpoint and checks the input files) and
may run on any thread: the sync client prepares on the caller's thread, so bad arguments
raise there, and only launches on the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._callbacks import JobCallbacks
from .protocol import files
from .protocol.api import App, Endpoint
from .protocol.job import JobState
from .protocol.status import LogMessage, StatusUpdate

if TYPE_CHECKING:
    from ._async_job import AsyncJob

__all__ = ["CallRequest", "Deadline", "PreparedCall", "call_request", "prepare_call"]


#: What every call's requests say of themselves: apps tell API calls from browsers by it
#: (``gr.Request``), as ``gradio_client``'s do.
API_CALL_HEADERS: Mapping[str, str] = MappingProxyType({"x-gradio-user": "api"})
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Deadline:
    """Limits for one job, in seconds; each one that runs out cancels the job on the server.

    ``queue`` bounds the wait for a worker, ``run`` the time from start to end, ``total``
    everything from submission (each None: no limit). The job then fails with
    :class:`JobTimeoutError` naming the phase. (``result(timeout)`` only bounds one wait and
    leaves the job running.)
    """

    queue: float | None = None
    run: float | None = None
    total: float | None = None

    @classmethod
    def of(cls, value: Deadline | float | None) -> Deadline | None:
        """``value`` as a deadline: a number of seconds is a ``total`` limit; None is none."""
        if value is None or isinstance(value, Deadline):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return cls(total=float(value))
        raise TypeError(f"deadline must be a Deadline or a number of seconds, got {value!r}")


@dataclass(frozen=True)
class PreparedCall:
    """Everything a job needs to start: what it calls, with what, and what to tell whom."""

    endpoint: Endpoint
    data: list[Any]
    state: JobState
    callbacks: JobCallbacks
    deadline: Deadline | None
    session_hash: str
    #: The headers of this call's own requests (joining the queue), over the client's.
    headers: Mapping[str, str]
    #: The call as asked (a pool binds it again to the replica it places the job on).
    request: CallRequest


@dataclass(frozen=True)
class CallRequest:
    """A call as the caller asked for it, its options checked; not yet bound to an endpoint."""

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    api_name: str | None
    fn_index: int | None
    headers: Mapping[str, str]
    callbacks: JobCallbacks
    deadline: Deadline | None
    keep_outputs: int | None


def call_request(
    *args: Any,
    api_name: str | None = None,
    fn_index: int | None = None,
    headers: Mapping[str, str] | None = None,
    result_callbacks: Callable[..., Any] | Sequence[Callable[..., Any]] | None = None,
    deadline: Deadline | float | None = None,
    on_status: Callable[[StatusUpdate], Any] | None = None,
    on_output: Callable[[Any], Any] | None = None,
    on_log: Callable[[LogMessage], Any] | None = None,
    keep_outputs: int | None = None,
    **kwargs: Any,
) -> CallRequest:
    """The parameters of ``submit`` and ``predict`` (both clients'), checked and gathered.

    This one list is what the four methods take (see ``_signatures.parameters_of``).
    """
    if headers is None:
        headers = _NO_HEADERS
    if not isinstance(headers, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        raise TypeError(f"headers must be a mapping of header names to strings, got {headers!r}")
    if callable(result_callbacks):
        result_callbacks = [result_callbacks]
    callbacks = JobCallbacks(on_status, on_output, on_log, list(result_callbacks or ()))
    own = dict(headers) if headers else _NO_HEADERS
    return CallRequest(args, kwargs, api_name, fn_index, own, callbacks, Deadline.of(deadline), keep_outputs)


async def await_job(job: AsyncJob) -> Any:
    """``job``'s result; cancelling the awaiting task cancels the job (``predict``)."""
    try:
        return await job
    except asyncio.CancelledError:
        job.cancel()
        raise


def prepare_call(
    app: App, session_hash: str, request: CallRequest, client_headers: Mapping[str, str] | None = None
) -> PreparedCall:
    """Choose the endpoint, bind the arguments and check the files; raises before anything is sent.

    The call's requests carry ``x-gradio-user: api`` (apps tell API calls from browsers by
    it, through ``gr.Request``), then ``client_headers`` (the ones the client adds for this
    call, e.g. a ZeroGPU token), then the request's own headers, each over the one before.
    """
    endpoint = app.endpoint(api_name=request.api_name, fn_index=request.fn_index)
    data = endpoint.bind(request.args, request.kwargs)
    files.local_files(data)  # a missing input file fails here, before anything is sent
    state = JobState(endpoint, app.capabilities, request.keep_outputs)
    headers = (
        {**API_CALL_HEADERS, **(client_headers or {}), **request.headers}
        if client_headers or request.headers
        else API_CALL_HEADERS  # shared: most calls add nothing (a thousand jobs, one mapping)
    )
    return PreparedCall(endpoint, data, state, request.callbacks, request.deadline, session_hash, headers, request)
