"""Streamed audio and video outputs (``gr.Audio(streaming=True)``, ``gr.Video(streaming=True)``). No I/O.

What the servers do, measured on 3.50.2, 4.8.0 to 4.44.1, 5.50.0 and 6.31.0 with
``tests/apps/media_app.py`` (a generator yielding ``(rate, int16 array)`` chunks of 0.5 s, and
on 5.x and later ``.ts`` video chunks):

- Every yield of the generator is a ``process_generating`` message whose value for the
  streaming output is a file value with ``is_stream: true`` and no data: the media itself
  travels on other routes. The ``process_completed`` value is the same stream value again.
- **5.x and 6.x** (``path`` is ``<session>/<run>/<component>/playlist.m3u8``, ``url`` the
  absolute ``…/stream/<path>``): the server encodes each chunk (audio to AAC, video to MPEG-TS)
  and appends it as an HLS segment; ``GET stream/<session>/<run>/<component>/playlist.m3u8``
  lists the segments (``#EXTINF:<seconds>,`` then ``<id>.aac`` or ``<id>.ts``), ending with
  ``#EXT-X-ENDLIST`` once the stream is over. Each segment is served at
  ``stream/<session>/<run>/<component>/<id>.<ext>`` and stays there (several readers may fetch
  it); ``stream/…/playlist-file`` returns the whole stream as one file once it has ended (audio
  in the format the app's first chunk had, ``wav`` here; video as ``mp4``). The segment of a
  yield is in the playlist before its ``process_generating`` is sent. 5.50 encodes each chunk
  alone (one segment of 0.5 s per yield, each padded by the AAC encoder: a 1.5 s stream decodes
  as 1.73 s); 6.31 keeps one encoder across the stream, so the segment of a yield holds what the
  encoder has let out so far (0.064 s after the first 0.5 s chunk) and the rest arrives in a
  last segment flushed before ``process_completed`` (a 1.5 s stream decodes as 1.6 s). The
  streams of a session live until the session ends on the server.
- **3.50 and 4.x** (``path``, or ``name`` on 3.x, is ``<session>/<run>/<component>``; 4.x adds
  ``url``): there are no segments. ``GET stream/<session>/<run>/<component>`` streams the raw
  chunks as the generator makes them (each yield's file content, a ``wav`` header only on the
  first, with its sizes set to ``0xFFFFFFFF``) and ends after the last. The server *pops*
  each chunk it sends: only one reader ever gets them, and nothing marks where a chunk ends.
  There is no combined file: the client assembles it from the bytes it read. (4.20 and 4.21
  cache a yielded chunk under the hash of its content: two runs yielding the same audio at
  once can read each other's half-written file, and the stream gets it so.)
- When: the ``process_generating`` of a yield leaves the server once the chunk is queued (5.x and
  6.x: encoded). From the app's yield to the message reaching the client, median/max over 20
  yields: 6.31 12/72 ms, 5.50 265/367 ms (it encodes each chunk before announcing it), 4.44
  28/52 ms, 3.50 5/7 ms; fetching the segment then adds about 5 ms (median) on every version.
- The end: 5.x/6.x list ``#EXT-X-ENDLIST`` (and 6.x its flushed last segment) before they send
  ``process_completed``; 3.50/4.x end the chunk route after the last chunk (a ``None`` marker),
  also when the generator fails.

A job of gradio-jobs delivers each streamed output as a :class:`MediaSegment` per yield (the
media that became available with it), one more with what the server let out at the end (6.x's
encoder flush), and as its result the complete file (see ``transport/media.py``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

from .files import map_files

__all__ = [
    "MediaSegment",
    "Playlist",
    "PlaylistEntry",
    "PlaylistError",
    "StreamKind",
    "StreamRef",
    "chunk_duration",
    "extension_of",
    "final_name",
    "guess_format",
    "holds_stream",
    "map_streams",
    "mime_type_of",
    "parse_playlist",
    "stream_ref",
    "wav_byte_rate",
    "wav_size_patches",
]

#: The suffix of a 5.x/6.x stream's ``path``.
_PLAYLIST = "playlist.m3u8"

_MIME = {
    ".aac": "audio/aac",
    ".ts": "video/mp2t",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
}


@dataclass(frozen=True)
class MediaSegment:
    """One piece of a streamed audio or video output, as a job delivers it while the app's
    generator runs (in iteration, ``outputs()``, ``on_output`` and ``OutputProduced`` events).

    ``data`` holds the segment's bytes (always in memory: a segment is a fraction of a second
    to a few seconds of media, and each is at most ``max_download_size``); ``index`` counts the
    segments of this output from 0; ``duration`` is in seconds where the server says or the
    format tells (None otherwise); ``extension`` (``".aac"``, ``".ts"``, ``".wav"``...) and
    ``mime_type`` say what the bytes are. Writing the segments of one output one after the
    other, in order, gives a playable stream (ADTS audio or MPEG-TS on 5.x/6.x, the app's own
    format on older servers); the job's result is the complete file.
    """

    data: bytes = field(repr=False)
    index: int
    duration: float | None
    extension: str
    mime_type: str | None

    @property
    def size(self) -> int:
        """The segment's length in bytes."""
        return len(self.data)

    def __repr__(self) -> str:
        seconds = "?" if self.duration is None else f"{self.duration:.3f}"
        return f"MediaSegment(index={self.index}, {self.size} bytes, {seconds} s, {self.extension})"


class StreamKind:
    """How a server serves a stream (see the module docstring)."""

    #: 5.x/6.x: an HLS playlist of segments, and the combined file at ``playlist-file``.
    PLAYLIST = "playlist"
    #: 3.50 to 4.44: one route streaming the raw chunks, popped as they are read.
    CHUNKS = "chunks"


@dataclass(frozen=True)
class StreamRef:
    """Where one streamed output lives on the server.

    ``key`` identifies the stream (``<session>/<run>/<component>``); ``kind`` is a
    :class:`StreamKind` value; ``base`` is the URL of the stream's folder on the server, ending
    in ``/`` for playlists (built from the address the client uses, not the server's ``url``);
    ``name`` the file name the server suggests (``orig_name``), if any.
    """

    key: str
    kind: str
    base: str
    name: str | None

    @property
    def playlist_url(self) -> str:
        """The playlist (5.x/6.x)."""
        return self.base + _PLAYLIST

    @property
    def file_url(self) -> str:
        """The combined file once the stream has ended (5.x/6.x)."""
        return self.base + "playlist-file"

    @property
    def chunks_url(self) -> str:
        """The raw chunk stream (3.50 to 4.44)."""
        return self.base

    def segment_url(self, uri: str) -> str:
        """The URL of the playlist entry ``uri`` (relative to the playlist)."""
        return urljoin(self.playlist_url, uri)


def stream_ref(value: Any, api_url: str) -> StreamRef | None:
    """The stream ``value`` (any part of an output) announces, or None if it is no stream.

    A stream is a file value (FileData, or a 3.x file dict) with ``is_stream`` true and a
    server path; ``api_url`` is the app's API root (ending in ``/``), under which the
    ``stream/`` routes live on every generation.
    """
    if not isinstance(value, dict) or value.get("is_stream") is not True:
        return None
    path = value.get("path")
    if not isinstance(path, str):
        path = value.get("name")  # 3.x
    if not isinstance(path, str) or not path or "://" in path or path.startswith("/"):
        return None
    name = value.get("orig_name")
    name = name if isinstance(name, str) and name else None
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    if parts[-1] == _PLAYLIST:
        key = "/".join(parts[:-1])
        return StreamRef(key, StreamKind.PLAYLIST, api_url + "stream/" + quote(key) + "/", name)
    return StreamRef(path, StreamKind.CHUNKS, api_url + "stream/" + quote(path), name)


def holds_stream(value: Any, api_url: str) -> bool:
    """Whether ``value`` (an output value, at any depth) holds a streamed media file."""
    if stream_ref(value, api_url) is not None:
        return True
    if isinstance(value, dict):
        return any(holds_stream(item, api_url) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_stream(item, api_url) for item in value)
    return False


def map_streams(value: Any, api_url: str, replace: Any) -> Any:
    """``value`` with every stream in it replaced by ``replace(stream_value, ref)``."""
    def replace_stream(stream: Any) -> Any:
        return replace(stream, stream_ref(stream, api_url))

    return map_files(value, lambda item: stream_ref(item, api_url) is not None, replace_stream)


@dataclass(frozen=True)
class PlaylistEntry:
    """One segment of a playlist: its ``uri`` (relative) and ``duration`` in seconds (None if unsaid)."""

    uri: str
    duration: float | None


@dataclass(frozen=True)
class Playlist:
    """An HLS media playlist as the 5.x/6.x stream routes write it.

    ``entries`` are the segments in order; ``ended`` is True once ``#EXT-X-ENDLIST`` is there.
    """

    entries: tuple[PlaylistEntry, ...]
    ended: bool


class PlaylistError(ValueError):
    """The server's playlist is not an HLS media playlist."""


def parse_playlist(text: str) -> Playlist:
    """Parse ``text``, an HLS media playlist (``#EXTM3U``, ``#EXTINF``, URIs, ``#EXT-X-ENDLIST``).

    Tags other than ``#EXTINF`` and ``#EXT-X-ENDLIST`` are skipped; a duration that is not a
    finite non-negative number becomes None. Raises :class:`PlaylistError` (a ``ValueError``)
    if ``text`` does not start with ``#EXTM3U``.
    """
    lines = [line.strip() for line in text.splitlines()]
    if not lines or lines[0].lstrip("\ufeff") != "#EXTM3U":
        raise PlaylistError(f"not an HLS playlist: {text[:80]!r}")
    entries: list[PlaylistEntry] = []
    ended = False
    duration: float | None = None
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("#EXTINF:"):
            number = line[len("#EXTINF:"):].split(",", 1)[0].strip()
            try:
                seconds = float(number)
            except ValueError:
                seconds = math.nan
            duration = seconds if math.isfinite(seconds) and seconds >= 0 else None
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif not line.startswith("#"):
            entries.append(PlaylistEntry(line, duration))
            duration = None
    return Playlist(tuple(entries), ended)


def extension_of(uri: str) -> str:
    """The extension of a playlist entry or file name (``".aac"``), without a query; ``""`` if none."""
    name = uri.split("?", 1)[0].rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return "." + ext.lower() if dot and stem and ext.isalnum() else ""


def mime_type_of(extension: str) -> str | None:
    """The mime type of a media file extension (``".aac"`` -> ``"audio/aac"``); None if unknown."""
    return _MIME.get(extension.lower())


def guess_format(head: bytes, name: str | None = None) -> str:
    """The extension of a raw stream (3.50 to 4.44) from its first bytes ``head``, else from
    ``name`` (the server's ``orig_name``); ``""`` if neither tells."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ".wav"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        # MPEG audio frame sync (MP3), or ADTS AAC (its layer bits are 00).
        return ".aac" if len(head) >= 2 and head[1] & 0x06 == 0 and head[:3] != b"ID3" else ".mp3"
    if head[:4] == b"OggS":
        return ".ogg"
    if head[:4] == b"fLaC":
        return ".flac"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return ".mp4"
    if head[:1] == b"G" and len(head) >= 189 and head[188:189] == b"G":
        return ".ts"
    return extension_of(name or "")


def wav_byte_rate(head: bytes) -> int | None:
    """Bytes per second of the canonical WAV header at the start of ``head`` (None if it is not one)."""
    if len(head) < 44 or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt ":
        return None
    byte_rate = struct.unpack_from("<I", head, 28)[0]
    return int(byte_rate) if byte_rate > 0 else None


def wav_size_patches(head: bytes, total: int) -> list[tuple[int, bytes]]:
    """The writes that make a WAV stream of ``total`` bytes, whose header is at the start of
    ``head``, a valid file: ``(offset, bytes)`` pairs setting the RIFF and ``data`` sizes the
    server left at ``0xFFFFFFFF``. Empty if ``head`` is not a canonical 44-byte header."""
    if wav_byte_rate(head) is None or head[36:40] != b"data" or total < 44:
        return []
    return [(4, struct.pack("<I", min(total - 8, 0xFFFFFFFF))), (40, struct.pack("<I", min(total - 44, 0xFFFFFFFF)))]


def chunk_duration(size: int, byte_rate: int | None) -> float | None:
    """Seconds of PCM in ``size`` bytes at ``byte_rate`` bytes per second (None if unknown)."""
    if byte_rate is None:
        return None
    return size / byte_rate


def final_name(ref: StreamRef, extension: str) -> str:
    """The file name of the complete stream: the server's ``orig_name`` where it gave one (its
    suffix replaced by ``extension`` when that is known and differs), else ``stream`` + extension."""
    name = ref.name or ""
    if not name:
        return "stream" + (extension or "")
    if extension and extension_of(name) != extension:
        stem = name.rpartition(".")[0] if extension_of(name) else name
        return (stem or "stream") + extension
    return name
