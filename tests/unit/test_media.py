"""protocol/media.py: recognising streamed outputs, the playlist, the segment type, WAV sizes."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from gradio_jobs import MediaSegment
from gradio_jobs.protocol import media

API = "http://127.0.0.1:7860/gradio_api/"
OLD_API = "http://127.0.0.1:7860/"

# As 6.31.0 sends it (captured with tests/apps/media_app.py).
NEW_STREAM = {
    "path": "93fe33fc/436209fd/3/playlist.m3u8",
    "url": "http://127.0.0.1:37313/gradio_api/stream/93fe33fc/436209fd/3/playlist.m3u8",
    "size": None,
    "orig_name": "audio.wav",
    "mime_type": None,
    "is_stream": True,
    "meta": {"_type": "gradio.FileData"},
}
# As 4.44.1 sends it, and 3.50.2 (``name``, no ``url``).
OLD_STREAM = {"path": "3327/140194668635664/3", "url": "http://127.0.0.1:51421/stream/3327/140194668635664/3",
              "orig_name": "audio.wav", "is_stream": True, "meta": {"_type": "gradio.FileData"}}
LEGACY_STREAM = {"name": "3327/140194668635664/3", "is_stream": True, "is_file": False}

PLAYLIST_631 = (
    "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n#EXT-X-VERSION:4\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-START:TIME-OFFSET=0\n#EXTINF:0.064000,\n93a2d3fc.aac\n"
    "#EXTINF:0.128000,\n4306d288.aac\n#EXTINF:1.216000,\n43ca2537.aac\n#EXT-X-ENDLIST\n"
)
PLAYLIST_550_LIVE = (
    "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:6\n#EXT-X-VERSION:4\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:0.500,\n88054ebd.aac\n"
)


def test_a_new_servers_stream_is_a_playlist_under_the_clients_address():
    ref = media.stream_ref(NEW_STREAM, API)
    assert ref is not None
    assert ref.kind == media.StreamKind.PLAYLIST
    assert ref.key == "93fe33fc/436209fd/3"
    # Built from the address the client uses, not the server's own url (port 37313).
    assert ref.playlist_url == API + "stream/93fe33fc/436209fd/3/playlist.m3u8"
    assert ref.file_url == API + "stream/93fe33fc/436209fd/3/playlist-file"
    assert ref.segment_url("abc.aac") == API + "stream/93fe33fc/436209fd/3/abc.aac"
    assert ref.name == "audio.wav"


@pytest.mark.parametrize("value", [OLD_STREAM, LEGACY_STREAM])
def test_an_old_servers_stream_is_the_chunk_route(value):
    ref = media.stream_ref(value, OLD_API)
    assert ref is not None and ref.kind == media.StreamKind.CHUNKS
    assert ref.chunks_url == OLD_API + "stream/3327/140194668635664/3"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "x",
        {"path": "a/b/playlist.m3u8"},  # no is_stream
        {"path": "a/b", "is_stream": False},
        {"path": "a/../b", "is_stream": True},
        {"path": "/etc/passwd", "is_stream": True},
        {"path": "http://evil/x", "is_stream": True},
        {"path": "", "is_stream": True},
        {"path": 3, "is_stream": True},
        {"path": "a//b", "is_stream": True},
    ],
)
def test_what_is_not_a_stream(value):
    assert media.stream_ref(value, API) is None


def test_streams_are_found_and_replaced_at_any_depth():
    value = [{"video": NEW_STREAM, "subtitles": None}, "text", (NEW_STREAM,)]
    assert media.holds_stream(value, API)
    assert not media.holds_stream(["text", {"path": "x"}], API)
    replaced = media.map_streams(value, API, lambda v, ref: ref.key)
    assert replaced == [{"video": "93fe33fc/436209fd/3", "subtitles": None}, "text", ("93fe33fc/436209fd/3",)]


def test_playlist_of_631():
    playlist = media.parse_playlist(PLAYLIST_631)
    assert playlist.ended
    assert [e.uri for e in playlist.entries] == ["93a2d3fc.aac", "4306d288.aac", "43ca2537.aac"]
    assert [e.duration for e in playlist.entries] == [0.064, 0.128, 1.216]


def test_live_playlist_has_no_end():
    playlist = media.parse_playlist(PLAYLIST_550_LIVE)
    assert not playlist.ended and len(playlist.entries) == 1


@pytest.mark.parametrize("text", ["", "hello", "<html>", "#EXT-X-VERSION:4\n"])
def test_not_a_playlist(text):
    with pytest.raises(ValueError):
        media.parse_playlist(text)


def test_odd_durations_become_none():
    playlist = media.parse_playlist("#EXTM3U\n#EXTINF:nan,\na.ts\n#EXTINF:-1,\nb.ts\n#EXTINF:x\nc.ts\nd.ts\n")
    assert [e.duration for e in playlist.entries] == [None, None, None, None]


def _wav(seconds: float, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(rate * seconds))
    return out.getvalue()


def test_wav_stream_header_is_fixed():
    data = bytearray(_wav(0.5))
    # What 3.50/4.x send: the sizes set to 0xFFFFFFFF, then more PCM without a header.
    data[4:8] = b"\xff\xff\xff\xff"
    data[40:44] = b"\xff\xff\xff\xff"
    data += b"\x00\x00" * 8000
    assert media.wav_byte_rate(bytes(data)) == 32000
    for offset, patch in media.wav_size_patches(bytes(data), len(data)):
        data[offset:offset + len(patch)] = patch
    with wave.open(io.BytesIO(bytes(data))) as w:
        assert w.getnframes() / w.getframerate() == 1.0
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8


def test_no_patches_for_what_is_not_a_wav():
    assert media.wav_size_patches(b"ID3" + b"\x00" * 60, 1000) == []
    assert media.wav_byte_rate(b"RIFF") is None


@pytest.mark.parametrize(
    ("head", "name", "ext"),
    [
        (b"RIFF\xff\xff\xff\xffWAVEfmt ", None, ".wav"),
        (b"ID3\x04\x00", None, ".mp3"),
        (b"\xff\xfb\x90\x00", None, ".mp3"),
        (b"\xff\xf1\x50\x80", None, ".aac"),
        (b"OggS\x00", None, ".ogg"),
        (b"fLaC", None, ".flac"),
        (b"\x00\x00\x00\x20ftypisom", None, ".mp4"),
        (b"??", "speech.MP3", ".mp3"),
        (b"??", None, ""),
    ],
)
def test_format_of_a_raw_stream(head, name, ext):
    assert media.guess_format(head, name) == ext


def test_segment_type():
    segment = MediaSegment(b"abc", 2, 0.5, ".aac", "audio/aac")
    assert segment.size == 3
    assert "abc" not in repr(segment) and "index=2" in repr(segment)
    with pytest.raises(AttributeError):
        segment.index = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("orig", "ext", "name"),
    [("audio.wav", ".wav", "audio.wav"), ("audio.wav", ".mp3", "audio.mp3"), (None, ".wav", "stream.wav"),
     ("speech", ".wav", "speech.wav"), ("video-stream.mp4", "", "video-stream.mp4")],
)
def test_final_name(orig, ext, name):
    ref = media.StreamRef("a/b/c", media.StreamKind.CHUNKS, OLD_API + "stream/a/b/c", orig)
    assert media.final_name(ref, ext) == name


def test_mime_types():
    assert media.mime_type_of(".ts") == "video/mp2t"
    assert media.mime_type_of(".xyz") is None
    assert media.extension_of("abc.AAC?__sign=1") == ".aac"
    assert media.extension_of("noext") == ""
