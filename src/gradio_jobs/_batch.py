"""Resumable batch runs: each input once, its outcome appended to a JSONL file that is also the journal.

``arun_batch`` is the one implementation (on the client's event loop); ``run_batch`` runs it
on the shared loop thread for a sync :class:`Client`. The file is read, checked and cut on a
thread of the run's own, and every write is followed by ``os.fsync`` there too, so the event
loop never waits on the disk. Writes are grouped: each write (and its fsync) holds every line
that finished while the one before it was on the disk, so a slow disk costs one fsync per
group, not one per input. A line is only ever written whole, in one append; a kill can at worst
leave the last one torn, which the next run cuts away and redoes (see ``_journal``).

The client is an :class:`AsyncClient` or an :class:`AsyncClientPool` (anything with
``submit(*args, api_name=..., **kwargs)`` returning an awaitable job); the ``replica`` of each
line is the job's ``replica``: the client's URL, or the pool's replica that ran it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from . import _loop
from ._async_client import AsyncClient
from ._client import Client
from ._client_pool import ClientPool
from ._exceptions import ArgumentError, BatchJournalError, EndpointNotFoundError
from ._journal import JournalState, as_json_value, encode_record, pending_indices, read_journal
from ._pool import AsyncClientPool
from ._signatures import parameters_of

__all__ = ["BatchProgress", "BatchRequest", "BatchSummary", "arun_batch", "batch_request", "run_batch"]

logger = logging.getLogger("gradio_jobs")


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch run stands (what ``on_progress`` hears after each write to the output).

    ``total`` inputs; ``done`` of them have a line in the output saying they succeeded and
    ``failed`` one saying they failed (the ones written by earlier runs included);
    ``skipped`` were already in the output when this run started and are not run again;
    ``running`` jobs are in flight; ``elapsed`` seconds since this run started; ``rate`` is
    this run's inputs finished per second, and ``eta`` the seconds left at that rate (None
    until one has finished); ``ran`` inputs this run has written (a retried failure included).
    """

    total: int
    done: int
    failed: int
    skipped: int
    running: int
    elapsed: float
    rate: float
    eta: float | None
    ran: int = 0

    @property
    def finished(self) -> int:
        """Inputs with a line in the output, succeeded or failed."""
        return self.done + self.failed


@dataclass(frozen=True)
class BatchSummary:
    """How a batch run ended: ``total`` inputs, ``ok`` succeeded and ``failed`` failed (by the last
    line of each in ``output``), ``ran`` run by this run, ``skipped`` already in the output when
    it started, ``truncated`` bytes of a torn last line cut away, ``seconds`` it took."""

    total: int
    ok: int
    failed: int
    ran: int
    skipped: int
    truncated: int
    seconds: float
    output: str

    @property
    def all_ok(self) -> bool:
        """Every input has succeeded."""
        return self.ok == self.total


ProgressCallback = Callable[[BatchProgress], Any]


def _call_args(item: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(item, (list, tuple)):
        return tuple(item), {}
    if isinstance(item, dict):
        return (), dict(item)
    return (item,), {}


def _error_of(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)}


class _Output:
    """The output file, opened, checked, cut and appended to on one thread of its own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gradio-jobs-journal")
        self._file: IO[bytes] | None = None

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def open(self, inputs: Sequence[Any]) -> JournalState:
        return await self._run(self._open, inputs)  # type: ignore[no-any-return]

    def _open(self, inputs: Sequence[Any]) -> JournalState:
        handle = open(self.path, "a+b")  # noqa: SIM115  (closed by close())
        try:
            _lock(handle, self.path)
            handle.seek(0)
            state = read_journal(handle.read(), inputs, self.path)
            if state.torn_bytes:
                logger.warning("%s: cutting away a torn last line (%d bytes)", self.path, state.torn_bytes)
                handle.truncate(state.valid_length)
                os.fsync(handle.fileno())
        except BaseException:
            handle.close()
            raise
        self._file = handle
        _sync_directory(self.path)  # a new file's name survives a power loss too
        return state

    async def append(self, data: bytes) -> None:
        await self._run(self._append, data)

    def _append(self, data: bytes) -> None:
        assert self._file is not None
        self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    async def close(self) -> None:
        try:
            if self._file is not None:
                await self._run(self._file.close)
        finally:
            self._executor.shutdown(wait=False)


def _sync_directory(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:  # not POSIX, or no access: the file's own fsyncs still hold its lines
        return
    try:
        os.fsync(fd)
    except OSError:
        logger.debug("could not fsync the directory of %s", path)
    finally:
        os.close(fd)


def _lock(handle: IO[bytes], path: str) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BatchJournalError(f"{path} is in use by another batch run") from None


class _Run:
    def __init__(
        self, client: Any, inputs: list[Any], api_name: str | None, fn_index: int | None,
        concurrency: int, on_progress: ProgressCallback | None,
    ) -> None:
        self.client = client
        self.inputs = inputs
        self.call_options: dict[str, Any] = {"api_name": api_name} if fn_index is None else {"fn_index": fn_index}
        self.concurrency = concurrency
        self.on_progress = on_progress
        #: The ``replica`` of an input whose job was never made (bad arguments): a client's own
        #: URL; None for a pool (the input reached no replica).
        self.replica: str | None = (client.src or None) if isinstance(client, AsyncClient) else None
        self.start = time.monotonic()
        self.ok = self.failed = self.skipped = self.ran = self.running = 0
        self.lines: asyncio.Queue[tuple[int, bool, bytes]] = asyncio.Queue()

    def progress(self) -> BatchProgress:
        elapsed = time.monotonic() - self.start
        rate = self.ran / elapsed if elapsed > 0 else 0.0
        left = len(self.inputs) - self.ok - self.failed
        eta = left / rate if rate > 0 else None
        return BatchProgress(
            len(self.inputs), self.ok, self.failed, self.skipped, self.running, elapsed, rate, eta, self.ran
        )

    def report(self) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(self.progress())
        except Exception:
            logger.exception("gradio-jobs: a batch run's on_progress callback failed")

    async def work(self, pending: deque[int]) -> None:
        while pending:
            index = pending.popleft()
            args, kwargs = _call_args(self.inputs[index])
            started = datetime.datetime.now(datetime.timezone.utc)
            t0 = time.monotonic()
            result: Any = None
            error: dict[str, str] | None = None
            job: Any = None
            self.running += 1
            try:
                job = self.client.submit(*args, **kwargs, **self.call_options)
                try:
                    result = as_json_value(await job)
                except asyncio.CancelledError:
                    job.cancel()
                    raise
            except EndpointNotFoundError:
                raise  # the same for every input: the run stops
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the app's error, a lost connection, bad arguments: this input's
                error = _error_of(exc)
            finally:
                self.running -= 1
            record = {
                "index": index, "input": self.inputs[index], "ok": error is None, "result": result,
                "error": error, "started": started.isoformat(timespec="milliseconds"),
                "seconds": round(time.monotonic() - t0, 4),
                # the job's app: a pool's job names the replica it ran on (None if it reached none)
                "replica": self.replica if job is None else job.replica,
            }
            await self.lines.put((index, error is None, encode_record(record)))

    async def write(self, output: _Output, previous: dict[int, bool]) -> None:
        while True:
            batch = [await self.lines.get()]
            while not self.lines.empty():
                batch.append(self.lines.get_nowait())
            await output.append(b"".join(line for _, _, line in batch))
            for index, ok, _ in batch:
                was = previous.pop(index, None)  # a retried failure: it no longer counts as failed
                if was is False:
                    self.failed -= 1
                self.ran += 1
                if ok:
                    self.ok += 1
                else:
                    self.failed += 1
            self.report()
            for _ in batch:
                self.lines.task_done()


@dataclass(frozen=True)
class BatchRequest:
    """The checked arguments of one batch run (see :func:`batch_request`)."""

    items: list[Any]
    output: str
    api_name: str | None
    fn_index: int | None
    concurrency: int
    retry_failed: bool
    on_progress: ProgressCallback | None


def batch_request(
    inputs: Iterable[Any],
    *,
    output: str | os.PathLike[str],
    api_name: str | None = None,
    fn_index: int | None = None,
    concurrency: int = 8,
    retry_failed: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BatchRequest:
    """The one parameter list of :func:`run_batch` and :func:`arun_batch`, checked.

    ``inputs`` is the list of inputs, each one a list (or tuple) of positional arguments, a
    dict of keyword arguments, or any other value as the one argument; they must be JSON
    values (they are stored in the output). ``output`` is the JSONL file, which is also the
    journal: each line is ``{"index", "input", "ok", "result", "error", "started",
    "seconds", "replica"}``, written (and fsync'ed) as each input finishes, in the order
    they finish; when it already holds lines for these inputs, those inputs are not run
    again (a torn last line is cut away and redone); lines for other inputs raise
    :class:`BatchJournalError`. ``api_name`` (or ``fn_index``) names the endpoint.
    ``concurrency`` (default 8) bounds the jobs in flight. ``retry_failed`` (default False)
    runs the inputs whose last line says they failed again, appending a new line for each
    (the last line of an index wins). ``on_progress(BatchProgress)`` is called after each
    write to the output.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ArgumentError(f"concurrency must be an integer of at least 1, got {concurrency!r}")
    return BatchRequest(
        [as_json_value(item) for item in inputs], os.fspath(output), api_name, fn_index,
        concurrency, retry_failed, on_progress,
    )


@parameters_of(batch_request)
async def arun_batch(client: AsyncClient | AsyncClientPool, *args: Any, **kwargs: Any) -> BatchSummary:
    """Run the endpoint once on each input, appending one JSON line per input to ``output``, resumably.

    ``client`` is an :class:`AsyncClient`, or an :class:`AsyncClientPool` whose replicas share
    the inputs (each line's ``replica`` names the one that ran it); it is connected here if it
    is not yet. The other
    parameters are :func:`batch_request`'s: ``inputs``, ``output`` (the JSONL file that is
    also the journal: a second run with the same arguments goes on where the first
    stopped), ``api_name`` or ``fn_index``, ``concurrency`` (default 8 jobs in flight),
    ``retry_failed`` (default False: failed inputs stay failed) and ``on_progress``, called
    on the loop after each write (keep it quick). An input that fails is a line with
    ``"ok": false`` and ``"error": {"type", "message"}``, never an exception; an unknown
    endpoint raises ``EndpointNotFoundError``. Cancelling the run cancels its jobs on the
    server; what was written stays, and the next run goes on from there.
    """
    return await _run_batch(client, batch_request(*args, **kwargs))


async def _run_batch(client: AsyncClient | AsyncClientPool, request: BatchRequest) -> BatchSummary:
    items, path = request.items, request.output
    connect = getattr(client, "connect", None)
    if connect is not None:
        await connect()
    out = _Output(path)
    state = await out.open(items)
    try:
        run = _Run(client, items, request.api_name, request.fn_index, request.concurrency, request.on_progress)
        pending = deque(pending_indices(state, len(items), request.retry_failed))
        previous = {i: state.records[i].get("ok") is True for i in pending if i in state.records}
        run.ok = len(state.ok)
        run.failed = len(state.failed)
        run.skipped = len(items) - len(pending)
        run.report()
        writer = asyncio.ensure_future(run.write(out, previous))
        workers = [asyncio.ensure_future(run.work(pending)) for _ in range(min(request.concurrency, len(pending)))]
        try:
            await asyncio.gather(*workers)
            await run.lines.join()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if not writer.done():
                # write what finished before a cancel or an error (the rest is redone next time)
                try:
                    await asyncio.wait_for(asyncio.shield(run.lines.join()), 10)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    logger.warning("%s: gave up writing the last finished inputs", path)
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
        return BatchSummary(
            len(items), run.ok, run.failed, run.ran, run.skipped, state.torn_bytes,
            time.monotonic() - run.start, path,
        )
    finally:
        await out.close()


@parameters_of(batch_request)
def run_batch(client: Client | ClientPool, *args: Any, **kwargs: Any) -> BatchSummary:
    """:func:`arun_batch` for a sync :class:`Client`: blocks until every input has a line in ``output``.

    ``client`` is the connected :class:`Client` whose app runs the jobs, or a
    :class:`ClientPool` whose replicas share them (each line's ``replica`` names the one that
    ran its input); ``inputs``,
    ``output`` (the JSONL file that is also the journal), ``api_name`` or ``fn_index``,
    ``concurrency`` (default 8) and ``retry_failed`` (default False) are those of
    :func:`arun_batch` (see :func:`batch_request`). ``on_progress`` is called on the
    library's callback thread, and has heard the last report when this returns. Ctrl+C
    cancels the jobs on the server; what was written stays.
    """
    request = batch_request(*args, **kwargs)
    delivered: list[concurrent.futures.Future[Any]] = []
    user = request.on_progress
    if user is not None:

        def on_progress(progress: BatchProgress) -> None:
            delivered[:] = [_loop.callback_executor().submit(user, progress)]

        request = dataclasses.replace(request, on_progress=on_progress)
    summary = _loop.run(_run_batch(client._async, request))
    for future in delivered:  # the callback has heard the last progress when this returns
        future.exception()
    return summary
