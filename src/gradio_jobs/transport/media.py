"""Fetching streamed audio and video outputs: the segments as they come, the complete file at the end.

One :class:`MediaStreams` per job that has a streamed output (see ``protocol/media.py`` for
what each server generation serves). The job hands it each output in order, on the job's own
pipeline (later messages wait meanwhile, so outputs stay in order and each is delivered once):

- 5.x/6.x: each yield fetches the playlist once (the server announced a new chunk: no timer,
  no polling) and the segments it lists that were not fetched yet; the final output fetches
  the last ones and downloads ``playlist-file`` as any other output file (safe name,
  ``max_download_size``, private-network rules, the download folder).
- 3.50 to 4.44: the first yield opens the one reader the raw chunk route allows; a yield's
  segment is what the reader holds then (at least one byte of the new chunk: the server
  queues a chunk before it announces it); the final output waits for the route to end and
  places the assembled file (WAV sizes fixed) in the download folder. Nothing marks where a
  chunk ends on that route, so a segment may hold part of the next chunk; their concatenation
  is exact.

Memory stays bounded: a segment's bytes are held until the job delivers it (each segment, and
the whole stream, at most ``max_download_size``); the assembled file is written to disk as it
arrives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from .._exceptions import FileTooLargeError, ProtocolError
from ..protocol import media
from ..protocol.files import FILE_DATA_TYPE, safe_file_name
from .errors import check_download, httpx_text, unreachable_error
from .files import _cleanup, _discard_when_written, _Partial, download_file
from .http import decoded_chunks, error_answer

if TYPE_CHECKING:
    from .http import HttpTransport

__all__ = ["MediaStreams"]

logger = logging.getLogger("gradio_jobs")

#: The chunk route's read timeout: none (the app's generator may pause for as long as it
#: likes; the server ends the route itself after 120 s without a chunk).
_CHUNK_TIMEOUT = httpx.Timeout(30.0, read=None)
#: How much of a raw stream's start tells its format (and holds a WAV header).
_HEAD = 64


class MediaStreams:
    """The streamed outputs of one job.

    ``transport`` fetches (its download connections); ``api_url`` is the app's API root;
    ``folder`` the download folder (None: ``download_files=False``, the result keeps the
    server's file value); ``max_size`` bounds each segment and each complete stream (bytes,
    None for no limit); ``file_meta`` says whether the server marks file values with ``meta``.
    """

    def __init__(
        self,
        transport: HttpTransport,
        api_url: str,
        folder: str | os.PathLike[str] | None,
        max_size: int | None,
        *,
        file_meta: bool = True,
    ) -> None:
        self._transport = transport
        self._api_url = api_url
        self._folder = folder
        self._max_size = max_size
        self._file_meta = file_meta
        self._streams: dict[str, _Playlist | _Chunks] = {}
        #: What the streams of an earlier run of the job delivered, oldest stream first.
        self._carried: list[_Progress] = []

    async def next_output(self, value: Any) -> Any:
        """``value`` (a yield's output) with each stream in it replaced by its new :class:`MediaSegment`."""
        segments: dict[str, media.MediaSegment] = {}
        for ref in self._refs(value):
            segments[ref.key] = await self._stream(ref).segment(final=False)
        return media.map_streams(value, self._api_url, lambda _v, ref: segments[ref.key])

    async def final_output(self, value: Any) -> tuple[list[Any], Any]:
        """For the job's result ``value``: the outputs still to deliver before it (``value``
        with each stream replaced by its last segment, if the server let out more at the end)
        and ``value`` with each stream replaced by its complete file (a local path, or with
        no download folder the server's file value for it)."""
        refs = self._refs(value)
        tails: dict[str, media.MediaSegment] = {}
        finals: dict[str, Any] = {}
        for ref in refs:
            stream = self._stream(ref)
            tail = await stream.segment(final=True)
            if tail.data:
                tails[ref.key] = tail
        for ref in refs:
            finals[ref.key] = await self._stream(ref).complete()
        extra: list[Any] = []
        if tails:
            extra.append(
                media.map_streams(
                    value, self._api_url,
                    lambda v, ref: tails.get(ref.key, _empty_like(self._streams[ref.key])),
                )
            )

        def final(original: Any, ref: media.StreamRef) -> Any:
            done = finals[ref.key]
            return original if done is None else done

        return extra, media.map_streams(value, self._api_url, final)

    def close(self) -> None:
        """The job is over: stop the readers (their partial files are removed)."""
        for stream in self._streams.values():
            stream.close()

    def restart(self) -> None:
        """The job was submitted again: its new run streams anew and re-yields what the caller
        already has. Each new stream (in the order they appear) goes on from where the old
        one of the same rank was: its segment indexes continue, and the media the caller
        already has is skipped (the same bytes on 3.50-4.44, the same seconds of playlist
        segments on 5.x/6.x, exact where the app repeats itself)."""
        self.close()
        if self._streams:  # else the run was lost before it streamed: what was carried still holds
            self._carried = [stream.progress for stream in self._streams.values()]
        self._streams = {}

    def _refs(self, value: Any) -> list[media.StreamRef]:
        refs: dict[str, media.StreamRef] = {}

        def collect(item: Any, ref: media.StreamRef) -> Any:
            refs.setdefault(ref.key, ref)
            return item

        media.map_streams(value, self._api_url, collect)
        return list(refs.values())

    def _stream(self, ref: media.StreamRef) -> _Playlist | _Chunks:
        stream = self._streams.get(ref.key)
        if stream is None:
            carried = self._carried.pop(0) if self._carried else _Progress()
            kind = _Playlist if ref.kind == media.StreamKind.PLAYLIST else _Chunks
            stream = kind(self, ref, carried)
            self._streams[ref.key] = stream
        return stream

    def file_value(self, url: str, name: str) -> dict[str, Any]:
        """A file value naming ``url`` (the result with ``download_files=False``)."""
        value: dict[str, Any] = {"path": url, "url": url, "orig_name": name, "is_stream": False}
        if self._file_meta:
            value["meta"] = {"_type": FILE_DATA_TYPE}
        return value


@dataclass(frozen=True)
class _Progress:
    """What one stream delivered: segments, bytes of the stream, seconds."""

    segments: int = 0
    size: int = 0
    seconds: float = 0.0


def _empty_like(stream: _Playlist | _Chunks) -> media.MediaSegment:
    return media.MediaSegment(b"", stream.index, 0.0, stream.extension, media.mime_type_of(stream.extension))


class _Playlist:
    """A 5.x/6.x stream: an HLS playlist and its segments."""

    def __init__(self, owner: MediaStreams, ref: media.StreamRef, carried: _Progress) -> None:
        self._owner = owner
        self._ref = ref
        self._fetched = 0  # playlist entries already delivered
        self.index = carried.segments
        self.extension = ""
        self._received = 0
        self._seconds = 0.0
        #: Seconds an earlier run delivered: the entries within them are not delivered again.
        self._skip = carried.seconds

    @property
    def progress(self) -> _Progress:
        """What this stream delivered so far."""
        return _Progress(self.index, self._received, self._seconds)

    async def segment(self, *, final: bool) -> media.MediaSegment:
        owner, ref = self._owner, self._ref
        what = f"Fetching the playlist of stream {ref.key}"
        response = await owner._transport.send("GET", ref.playlist_url, what)
        check_download(response, what)
        try:
            playlist = media.parse_playlist(response.text)
        except ValueError as exc:
            raise ProtocolError(f"{what}: {exc}", payload=response.text[:200]) from exc
        new = playlist.entries[self._fetched:]
        parts: list[bytes] = []
        duration: float | None = 0.0
        for entry in new:
            if self._skip > 0 and entry.duration is not None and entry.duration <= self._skip + 0.01:
                self._skip -= entry.duration  # an earlier run delivered it
                self._seconds += entry.duration
                continue
            self._skip = 0.0
            parts.append(await self._fetch(entry.uri))
            self._seconds += entry.duration or 0.0
            self.extension = self.extension or media.extension_of(entry.uri)
            duration = None if duration is None or entry.duration is None else duration + entry.duration
        self._fetched = len(playlist.entries)
        data = b"".join(parts)
        segment = media.MediaSegment(data, self.index, duration, self.extension, media.mime_type_of(self.extension))
        if data or not final:
            self.index += 1
        return segment

    async def _fetch(self, uri: str) -> bytes:
        owner = self._owner
        what = f"Fetching a segment of stream {self._ref.key}"
        chunks: list[bytes] = []
        async with owner._transport.stream("GET", self._ref.segment_url(uri), what) as response:
            if response.status_code >= 400:
                check_download(await error_answer(response), what)
            try:
                async for chunk in decoded_chunks(response):  # bounded pieces: a gzip bomb stops early
                    self._received += len(chunk)
                    _check_size(self._received, owner._max_size, self._ref.key)
                    chunks.append(chunk)
            except httpx.HTTPError as exc:
                raise unreachable_error(exc, f"{httpx_text(exc)} ({what}: the transfer broke off)") from exc
        return b"".join(chunks)

    async def complete(self) -> Any:
        owner, ref = self._owner, self._ref
        name = safe_file_name(media.final_name(ref, ""))
        if owner._folder is None:
            return owner.file_value(ref.file_url, name)
        return await download_file(owner._transport, ref.file_url, owner._folder, name, max_size=owner._max_size)

    def close(self) -> None:
        """Nothing runs in the background for a playlist."""


class _Chunks:
    """A 3.50-4.44 stream: one reader of the raw chunk route, started at the first yield."""

    def __init__(self, owner: MediaStreams, ref: media.StreamRef, carried: _Progress) -> None:
        self._owner = owner
        self._ref = ref
        self.index = carried.segments
        #: Bytes of the stream delivered (or skipped) so far, and how many an earlier run delivered.
        self._offset = 0
        self._skip = carried.size
        self._seconds = 0.0
        self.extension = ""
        self._pending = bytearray()  # received, not delivered yet
        self._head = b""  # the stream's first bytes (its format, a WAV header)
        self._received = 0
        self._ended = False
        self._error: BaseException | None = None
        self._changed = asyncio.Event()
        self._partial: _Partial | None = None
        #: The write to the partial file in progress, if any (a discard waits for it).
        self._write: concurrent.futures.Future[None] | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        owner, ref = self._owner, self._ref
        what = f"Reading stream {ref.key}"
        try:
            if owner._folder is not None:
                self._partial = await owner._transport.run_file_io(_Partial, owner._folder)
            async with owner._transport.stream("GET", ref.chunks_url, what, timeout=_CHUNK_TIMEOUT) as response:
                if response.status_code >= 400:
                    check_download(await error_answer(response), what)
                try:
                    async for chunk in decoded_chunks(response):  # bounded pieces: a gzip bomb stops early
                        if not chunk:
                            continue
                        self._received += len(chunk)
                        _check_size(self._received, owner._max_size, ref.key)
                        if len(self._head) < _HEAD:
                            self._head += chunk[: _HEAD - len(self._head)]
                        if self._partial is not None:
                            self._write = owner._transport.file_io_executor().submit(self._partial.write, [chunk])
                            await asyncio.wrap_future(self._write)
                        self._pending += chunk
                        self._changed.set()
                except httpx.HTTPError as exc:
                    raise unreachable_error(exc, f"{httpx_text(exc)} ({what}: the transfer broke off)") from exc
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._error = exc
        finally:
            self._ended = True
            self._changed.set()

    @property
    def progress(self) -> _Progress:
        """What this stream delivered so far."""
        return _Progress(self.index, self._offset, self._seconds)

    async def segment(self, *, final: bool) -> media.MediaSegment:
        while True:
            while not (self._ended or (not final and self._pending and len(self._head) >= _HEAD)):
                # The first segment waits for the stream's head (its format, a WAV header): the
                # route may hand a chunk over in pieces.
                self._changed.clear()
                await self._changed.wait()
            if self._error is not None:
                raise self._error
            if self._skip:  # an earlier run of the job delivered these bytes
                cut = min(self._skip, len(self._pending))
                del self._pending[:cut]
                self._skip -= cut
                self._offset += cut
            if self._pending or self._ended:
                break
        if not self.extension and self._head:
            self.extension = media.guess_format(self._head, self._ref.name)
        data = bytes(self._pending)
        self._pending.clear()
        start, self._offset = self._offset, self._offset + len(data)
        duration = None
        if self.extension == ".wav":
            header = max(0, min(len(data), 44 - start))  # the WAV header is the stream's first 44 bytes
            duration = media.chunk_duration(len(data) - header, media.wav_byte_rate(self._head))
            self._seconds += duration or 0.0
        segment = media.MediaSegment(data, self.index, duration, self.extension, media.mime_type_of(self.extension))
        if data or not final:
            self.index += 1
        return segment

    async def complete(self) -> Any:
        owner, ref = self._owner, self._ref
        partial, self._partial = self._partial, None
        if partial is None:
            return None  # no download folder: the result keeps the server's value
        name = safe_file_name(media.final_name(ref, self.extension))
        what = f"Assembling stream {ref.key}"
        try:
            patches = media.wav_size_patches(self._head, self._received) if self.extension == ".wav" else []
            return await owner._transport.run_file_io(_place, partial, patches, name, what)
        except BaseException:
            await _cleanup(owner._transport.run_file_io(partial.discard), f"removing {partial.path}")
            raise

    def close(self) -> None:
        self._reader.cancel()
        partial, self._partial = self._partial, None
        if partial is not None:
            writes = [self._write] if self._write is not None else []
            future = self._owner._transport.run_file_io(_discard_when_written, partial, writes)
            future.add_done_callback(_log_failure)


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("gradio-jobs: removing a stream's partial file failed", exc_info=future.exception())


def _place(partial: _Partial, patches: list[tuple[int, bytes]], name: str, what: str) -> str:
    """On the file I/O pool: fix the header, then move the file to its content's folder."""
    if patches:
        partial.out.flush()
        for offset, data in patches:
            partial.out.seek(offset)
            partial.out.write(data)
        partial.out.flush()
        # The folder is named after the content hash: hash what is on disk now.
        partial.out.seek(0)
        partial.digest = _rehash(partial.path)
    return partial.place(name, what)


def _rehash(path: str) -> Any:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def _check_size(received: int, max_size: int | None, key: str) -> None:
    if max_size is not None and received > max_size:
        raise FileTooLargeError(
            f"Reading stream {key}: it is over the limit of {max_size} bytes (max_download_size)",
            name=key, limit=max_size,
        )

