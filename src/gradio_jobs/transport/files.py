"""Uploading file inputs and downloading file outputs (protocol.md §5).

Both stream: an upload reads the file in chunks as the request goes out (reporting its
progress), a download writes each chunk to disk as it arrives. Neither holds a whole file
in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Coroutine, TypeVar

import httpx

from .._exceptions import FileTooLargeError, InputFileError, ProtocolError, ServerUnreachableError
from ..protocol.responses import read_json, raise_for_status
from ..protocol.files import safe_file_name
from .http import HttpTransport

__all__ = ["DEFAULT_DOWNLOAD_DIR", "upload_file", "download_file", "gather_limited"]

T = TypeVar("T")

logger = logging.getLogger("gradio_jobs")

#: Where file outputs go unless ``download_files`` says otherwise (as in ``gradio_client``).
DEFAULT_DOWNLOAD_DIR = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")

CHUNK_SIZE = 1 << 20
# A transfer may take long; only silence this long means the server is gone.
TRANSFER_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

#: ``(bytes sent, total bytes)`` after each chunk of an upload.
UploadProgress = Callable[[int, int], None]


def _form_header(name: str, boundary: str) -> bytes:
    # The name is already sanitised (no quotes, backslashes or control characters).
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode("utf-8")


async def upload_file(
    transport: HttpTransport,
    url: str,
    path: str,
    name: str,
    *,
    max_size: int | None,
    progress: UploadProgress | None = None,
) -> str:
    """Upload one local file (``POST upload``, multipart); returns the server's path for it."""
    try:
        size = os.stat(path).st_size
        handle = open(path, "rb")
    except OSError as exc:
        raise InputFileError(f"cannot read the input file {path!r}: {exc.strerror or exc}") from exc
    if max_size is not None and size > max_size:
        handle.close()
        raise FileTooLargeError(
            f"{path!r} is {size} bytes; the app accepts files of at most {max_size} bytes",
            name=name, size=size, limit=max_size,
        )
    boundary = uuid.uuid4().hex
    head = _form_header(name, boundary)
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        with handle:
            yield head
            while True:
                chunk = handle.read(CHUNK_SIZE)
                if not chunk:
                    break
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
    response = await transport.send("POST", url, what, content=body(), headers=headers, timeout=TRANSFER_TIMEOUT)
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

    The content hash keeps two different files of the same name apart. ``name`` is reduced
    to one safe path component again here, and the result is checked to be inside ``folder``.
    """
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    name = safe_file_name(name)
    what = f"Downloading {name!r}"
    descriptor, partial = tempfile.mkstemp(dir=root, prefix=".partial-")
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(descriptor, "wb") as out:
            async with transport.stream("GET", url, what, timeout=TRANSFER_TIMEOUT) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_status(response.status_code, response.content, what)
                declared = response.headers.get("content-length")
                if max_size is not None and declared and declared.isdigit() and int(declared) > max_size:
                    raise FileTooLargeError(
                        f"{what}: the file is {declared} bytes, over the limit of {max_size} (max_download_size)",
                        name=name, size=int(declared), limit=max_size,
                    )
                try:
                    async for chunk in response.aiter_bytes(CHUNK_SIZE):
                        received += len(chunk)
                        if max_size is not None and received > max_size:
                            raise FileTooLargeError(
                                f"{what}: the file is over the limit of {max_size} bytes (max_download_size)",
                                name=name, limit=max_size,
                            )
                        digest.update(chunk)
                        out.write(chunk)
                except httpx.HTTPError as exc:
                    raise ServerUnreachableError(f"{what}: the transfer broke off ({type(exc).__name__}: {exc})") from exc
        folder_for_content = root / digest.hexdigest()
        folder_for_content.mkdir(exist_ok=True)
        target = (folder_for_content / name).resolve()
        if target.parent != folder_for_content:
            raise ProtocolError(f"{what}: refusing to write outside the download folder", payload=name)
        os.replace(partial, target)
        return str(target)
    except BaseException:
        try:
            os.unlink(partial)
        except OSError:
            pass
        raise


async def gather_limited(limit: int, coros: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run coroutines at most ``limit`` at a time, results in order; the first error cancels the rest."""
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
