"""Uploading file inputs and downloading file outputs (the README's "Files" section).

Both stream: an upload reads the file in chunks as the request goes out (reporting its
progress), a download writes each chunk to disk as it arrives. Neither holds a whole file
in memory.

No file-system call runs on the event loop: opening, reading, writing, hashing, renaming
and removing files all happen on a small pool of threads of their own (``gradio-jobs-files``),
never on the loop's default executor (its one thread resolves host names, see ``_loop``).
Transfers pipeline: an upload reads chunk N+1 while chunk N is being sent, a download
writes and hashes what has arrived while the next bytes are being received.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import httpx

from .._exceptions import FileTooLargeError, InputFileError, ProtocolError
from .._limits import CHUNK_SIZE, MAX_UNWRITTEN, WRITE_BATCH
from ..protocol.files import safe_file_name
from ..protocol.responses import read_json
from .errors import check_download, httpx_text, unreachable_error
from .http import decoded_chunks, decoded_chunks_sync, error_answer, error_answer_sync

if TYPE_CHECKING:
    from .http import HttpTransport

__all__ = ["download_file", "gather_limited", "relay_file", "upload_file"]

T = TypeVar("T")

logger = logging.getLogger("gradio_jobs")


#: ``(bytes sent, total bytes)`` after each chunk of an upload.
UploadProgress = Callable[[int, int], None]

def _form_header(name: str, boundary: str) -> bytes:
    # The name is already sanitised (no quotes, backslashes or control characters).
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


# -- the blocking halves (run on the file I/O pool) --------------------------------------------


def _open_input(path: str, name: str, max_size: int | None) -> tuple[IO[bytes], int]:
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise InputFileError(f"cannot read the input file {path!r}: {exc.strerror or exc}") from exc
    if max_size is not None and size > max_size:
        # The official client's words (its component label is always empty), then ours.
        raise FileTooLargeError(
            f"File {path} exceeds the maximum file size of {max_size} bytes set in  component. "
            f"({path!r} is {size} bytes; the app accepts files of at most {max_size} bytes)",
            name=name, size=size, limit=max_size,
        )
    try:
        return open(path, "rb"), size
    except OSError as exc:
        raise InputFileError(f"cannot read the input file {path!r}: {exc.strerror or exc}") from exc


def _close_when_read(handle: IO[bytes], reads: list[concurrent.futures.Future[bytes]]) -> None:
    # A read-ahead may still be running in another thread of the pool: close after it.
    concurrent.futures.wait(reads)
    handle.close()


def _discard_when_written(partial: _Partial, writes: list[concurrent.futures.Future[None]]) -> None:
    concurrent.futures.wait(writes)
    partial.discard()


class _Partial:
    """The file a download is written to until it is complete (``<root>/.partial-*``)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.root = Path(folder).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor, self.path = tempfile.mkstemp(dir=self.root, prefix=".partial-")
        try:
            self.out = os.fdopen(descriptor, "wb")
        except BaseException:
            os.close(descriptor)
            os.unlink(self.path)
            raise
        self.digest = hashlib.sha256()

    def write(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.digest.update(chunk)  # hashlib lets other threads (the loop) run meanwhile
            self.out.write(chunk)

    def place(self, name: str, what: str) -> str:
        """Close the file and move it to ``<root>/<sha256>/<name>``; returns that path."""
        self.out.close()
        folder_for_content = self.root / self.digest.hexdigest()
        folder_for_content.mkdir(exist_ok=True)
        target = (folder_for_content / name).resolve()
        if target.parent != folder_for_content:
            raise ProtocolError(f"{what}: refusing to write outside the download folder", payload=name)
        os.replace(self.path, target)
        return str(target)

    def discard(self) -> None:
        self.out.close()
        try:
            os.unlink(self.path)
        except OSError:
            logger.debug("could not remove the partial download %s", self.path, exc_info=True)


# -- uploads ------------------------------------------------------------------------------------


async def upload_file(
    transport: HttpTransport,
    url: str,
    path: str,
    name: str,
    *,
    max_size: int | None,
    progress: UploadProgress | None = None,
) -> str:
    """Upload one local file (``POST upload``, multipart); returns the server's path for it.

    ``transport`` sends the request to ``url`` (the app's ``upload`` route); ``path`` is the
    local file, sent under the file name ``name`` (already made safe by the caller).
    ``max_size`` (bytes, None for no limit) is checked before anything is sent
    (:class:`FileTooLargeError`); an unreadable file raises :class:`InputFileError`.
    ``progress``, if given, is called on the loop as ``progress(bytes_sent, total_bytes)``
    after each chunk. The file is read in ``CHUNK_SIZE`` chunks on the file I/O pool, the
    next one while the current one is being sent.
    """
    handle, size = await transport.run_file_io(_open_input, path, name, max_size)
    boundary = uuid.uuid4().hex
    head = _form_header(name, boundary)
    tail = f"\r\n--{boundary}--\r\n".encode()
    # The last read-ahead: the handle is closed only once it is over.
    reads: list[concurrent.futures.Future[bytes]] = []

    def read_next() -> asyncio.Future[bytes]:
        future = transport.file_io_executor().submit(handle.read, CHUNK_SIZE)
        reads[:] = [future]
        return asyncio.wrap_future(future)

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        yield head
        reading = read_next()
        while True:
            chunk = await reading
            if not chunk:
                break
            reading = read_next()  # read the next chunk while this one goes out
            sent += len(chunk)
            yield chunk
            if progress is not None:
                progress(sent, size)
        yield tail

    headers = {
        "content-type": f"multipart/form-data; boundary={boundary}",
        "content-length": str(len(head) + size + len(tail)),
    }
    what = f"Uploading {name!r}"
    try:
        # The user's httpx timeout if they gave one (a slow link may need more than 60 s).
        timeout = transport.transfer_timeout
        response = await transport.send("POST", url, what, content=body(), headers=headers, timeout=timeout)
    finally:
        await _cleanup(transport.run_file_io(_close_when_read, handle, list(reads)), f"closing {path!r}")
    if response.status_code == 413:
        raise FileTooLargeError(f"{what}: the app refused the file as too large ({size} bytes)", name=name, size=size)
    paths = read_json(response.status_code, response.content, what)
    if not isinstance(paths, list) or len(paths) != 1 or not isinstance(paths[0], str):
        raise ProtocolError(f"{what}: expected a list of one server path, got {paths!r}", payload=paths)
    return paths[0]


async def download_file(
    transport: HttpTransport, url: str, folder: str | os.PathLike[str], name: str, *, max_size: int | None
) -> str:
    """Stream ``url`` into ``<folder>/<sha256 of the content>/<name>``; returns that path.

    ``transport`` fetches ``url`` (on its download connections, at most ``MAX_TRANSFERS`` at
    once, within its ``transfer_timeout``; a URL an app on a public address gives that leads
    to a private one raises :class:`PrivateNetworkError`, see ``addresses``); ``folder`` is
    created if missing. ``name`` is reduced to one safe path component
    again here, and the result is checked to be inside ``folder``; the content hash keeps
    two different files of the same name apart. ``max_size`` (bytes, None for no limit) is
    checked against the declared length and against the bytes received
    (:class:`FileTooLargeError`). The file is written to ``<folder>/.partial-*`` by the file
    I/O pool while the next bytes arrive, and removed if anything fails.
    """
    name = safe_file_name(name)
    if transport.threaded_downloads:
        return await _download_on_a_thread(transport, url, folder, name, max_size)
    what = f"Downloading {name!r}"
    partial: _Partial = await transport.run_file_io(_Partial, folder)
    writes: list[concurrent.futures.Future[None]] = []  # the batch being written, if any
    try:
        batch: list[bytes] = []
        batched = received = 0
        async with transport.stream("GET", url, what, timeout=transport.transfer_timeout) as response:
            if response.status_code >= 400:
                check_download(await error_answer(response), what)
            _check_declared_size(response, max_size, name, what)
            floor = transport.limits.rate_floor(what)
            try:
                async for chunk in decoded_chunks(response):  # decoded piece by piece: a gzip bomb stops early
                    received = _count_received(received, chunk, max_size, name, what)
                    floor.add(len(chunk))
                    batch.append(chunk)
                    batched += len(chunk)
                    if writes and writes[0].done():
                        writes.pop().result()  # a write error surfaces here
                    elif writes and batched >= MAX_UNWRITTEN:
                        await asyncio.wrap_future(writes[0])  # the disk is slower than the network
                        writes.pop().result()
                    if not writes and batched >= WRITE_BATCH:
                        writes.append(transport.file_io_executor().submit(partial.write, batch))
                        batch, batched = [], 0
            except httpx.HTTPError as exc:
                raise unreachable_error(exc, f"{httpx_text(exc)} ({what}: the transfer broke off)") from exc
        if writes:
            await asyncio.wrap_future(writes[0])
            writes.pop().result()
        if batch:
            await transport.run_file_io(partial.write, batch)
        return await transport.run_file_io(partial.place, name, what)
    except BaseException:
        await _cleanup(transport.run_file_io(_discard_when_written, partial, list(writes)), f"removing {partial.path}")
        raise


def _check_declared_size(response: httpx.Response, max_size: int | None, name: str, what: str) -> None:
    declared = response.headers.get("content-length")
    if max_size is not None and declared and declared.isdigit() and int(declared) > max_size:
        raise FileTooLargeError(
            f"{what}: the file is {declared} bytes, over the limit of {max_size} (max_download_size)",
            name=name, size=int(declared), limit=max_size,
        )


def _count_received(received: int, chunk: bytes, max_size: int | None, name: str, what: str) -> int:
    received += len(chunk)
    if max_size is not None and received > max_size:
        raise FileTooLargeError(
            f"{what}: the file is over the limit of {max_size} bytes (max_download_size)", name=name, limit=max_size
        )
    return received


class _Stopped(Exception):
    """The download's caller went away (cancelled): the thread stops and cleans up."""


async def _download_on_a_thread(
    transport: HttpTransport, url: str, folder: str | os.PathLike[str], name: str, max_size: int | None
) -> str:
    """:func:`download_file`, received, hashed and written whole on a file I/O thread."""
    stop = threading.Event()
    async with transport.transfer_slot():
        job = transport.run_file_io(_download_here, transport, url, folder, name, max_size, stop)
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            stop.set()  # the thread notices at its next chunk, removes the partial file and ends
            with contextlib.suppress(BaseException):
                await job
            raise


def _download_here(
    transport: HttpTransport,
    url: str,
    folder: str | os.PathLike[str],
    name: str,
    max_size: int | None,
    stop: threading.Event,
) -> str:
    """The body of :func:`_download_on_a_thread`, on the file I/O thread."""
    what = f"Downloading {name!r}"
    partial = _Partial(folder)
    try:
        with transport.sync_stream("GET", url, what, timeout=transport.transfer_timeout) as response:
            if response.status_code >= 400:
                check_download(error_answer_sync(response), what)
            _check_declared_size(response, max_size, name, what)
            received = 0
            floor = transport.limits.rate_floor(what)
            try:
                for chunk in decoded_chunks_sync(response):  # decoded piece by piece: a gzip bomb stops early
                    if stop.is_set():
                        raise _Stopped
                    received = _count_received(received, chunk, max_size, name, what)
                    floor.add(len(chunk))
                    partial.write([chunk])
            except httpx.HTTPError as exc:
                raise unreachable_error(exc, f"{httpx_text(exc)} ({what}: the transfer broke off)") from exc
        return partial.place(name, what)
    except BaseException:
        partial.discard()
        raise


async def _cleanup(future: asyncio.Future[None], what: str) -> None:
    """Wait for a cleanup on the file I/O pool; a cancellation meanwhile does not stop it."""
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        raise
    except Exception:  # the error that led here matters more; this one is logged
        logger.warning("gradio-jobs: %s failed", what, exc_info=True)


async def gather_limited(limit: int, coros: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run the coroutines ``coros`` at most ``limit`` at a time; their results, in order.

    The first error cancels the others (waiting for them to end) and is raised.
    """
    gate = asyncio.Semaphore(limit)

    async def one(coro: Coroutine[Any, Any, T]) -> T:
        async with gate:
            return await coro

    tasks = [asyncio.ensure_future(one(c)) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def relay_file(
    transport: HttpTransport,
    source_url: str,
    upload_url: str,
    name: str,
    *,
    max_size: int | None,
    progress: UploadProgress | None = None,
) -> str:
    """Fetch ``source_url`` (one of the app's own files) and upload it to ``upload_url``
    under ``name``; returns the server's path for the copy.

    The file passes through a temporary folder, removed afterwards whatever happens;
    ``max_size`` and ``progress`` are the upload's (see :func:`upload_file`).
    """
    folder = await transport.run_file_io(tempfile.mkdtemp, "", "gradio-jobs-relay-")
    try:
        local = await download_file(transport, source_url, folder, name, max_size=max_size)
        return await upload_file(transport, upload_url, local, name, max_size=max_size, progress=progress)
    finally:
        await transport.run_file_io(shutil.rmtree, folder, True)
