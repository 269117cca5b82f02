"""Streamed audio and video outputs (``gr.Audio(streaming=True)``, ``gr.Video(streaming=True)``).

    python media_app.py --port N

Endpoints (api_name):

- ``speak(n, token)``: a generator yielding ``n`` chunks of audio, each ``CHUNK_SECONDS``
  (0.5 s) of a tone as ``(sample rate, int16 numpy array)``, into
  ``gr.Audio(streaming=True, autoplay=True)``. With a non-empty ``token`` it waits after the
  first chunk until ``release(token)`` is called (at most 60 s): a test can check that the
  first segment reached it while the generator was still running. Every yield's
  ``time.time()`` is recorded under ``token``. The token ``fail`` raises ``gr.Error`` after
  the first chunk.
- ``film(n, token)``: the same with ``n`` video chunks of ``CHUNK_SECONDS`` (.ts files made
  with ffmpeg at start-up) into ``gr.Video(streaming=True)``; 5.x and later only (older
  servers cannot stream video).
- ``release(token)``: lets the generator of ``token`` go on; returns ``"ok"``.
- ``yields(token)``: the recorded yield times of ``token`` as a JSON list of floats.

Runs unchanged under gradio 3.50.2 to 6.31.0 (3.x needs ``source="microphone"`` for a
streaming Audio, 4.x ``sources=["microphone"]``).
"""

import argparse
import json
import os
import random
import subprocess
import tempfile
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

V = int(gr.__version__.split(".")[0])
RATE = 16000
CHUNK_SECONDS = 0.5
GATE_TIMEOUT = 60.0

_gates: dict[str, threading.Event] = {}
_yields: dict[str, list[float]] = {}
_lock = threading.Lock()
_video_chunks: list[str] = []


def _gate(token):
    with _lock:
        return _gates.setdefault(token, threading.Event())


def _record(token):
    with _lock:
        _yields.setdefault(token or "", []).append(time.time())


def _tone(i, phase):
    t = np.arange(int(RATE * CHUNK_SECONDS)) / RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * (330 + 110 * i) * t + phase)).astype(np.int16)


def speak(n, token):
    # A phase of its own per run: gradio 4.x caches each chunk under the hash of its content,
    # and two runs writing and reading the same cached file at once (4.20, 4.21) corrupt it.
    phase = random.random() * 2 * np.pi
    for i in range(int(n)):
        _record(token)
        yield (RATE, _tone(i, phase))
        if token == "fail":
            raise gr.Error("the stream broke")
        if token and i == 0:
            _gate(token).wait(GATE_TIMEOUT)


def film(n, token):
    for i in range(int(n)):
        _record(token)
        yield _video_chunks[i % len(_video_chunks)]
        if token and i == 0:
            _gate(token).wait(GATE_TIMEOUT)


def release(token):
    _gate(token).set()
    return "ok"


def yields(token):
    with _lock:
        return json.dumps(_yields.get(token or "", []))


def _make_video_chunks(count=4):
    folder = tempfile.mkdtemp(prefix="media-app-")
    for i in range(count):
        path = os.path.join(folder, f"chunk{i}.ts")
        subprocess.run(
            [
                "ffmpeg", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=10:duration={CHUNK_SECONDS}",
                "-f", "lavfi", "-i", f"sine=frequency={440 + 110 * i}:duration={CHUNK_SECONDS}",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "5", "-c:a", "aac", "-shortest", path,
            ],
            check=True,
        )
        _video_chunks.append(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()

    with gr.Blocks() as demo:
        n = gr.Number(value=5, label="chunks", precision=0)
        token = gr.Textbox(label="token")
        if V >= 5:
            audio = gr.Audio(streaming=True, autoplay=True, label="audio")
        elif V == 4:
            audio = gr.Audio(sources=["microphone"], streaming=True, autoplay=True, label="audio")
        else:
            audio = gr.Audio(source="microphone", streaming=True, autoplay=True, label="audio")
        text = gr.Textbox(label="text")
        # Several runs at once (4.x and later), so that cancelling one kills its running siblings.
        several = {"concurrency_limit": 4} if V >= 4 else {}
        gr.Button("speak").click(speak, [n, token], audio, api_name="speak", **several)
        # 3.x's queue runs one event at a time (and two runs of one generator in a session would
        # share its iterator there): release and yields skip the queue to pass a waiting speak.
        direct = {"queue": False} if V == 3 else {}
        gr.Button("release").click(release, token, text, api_name="release", **direct)
        gr.Button("yields").click(yields, token, text, api_name="yields", **direct)
        if V >= 5:
            _make_video_chunks()
            video = gr.Video(streaming=True, autoplay=True, label="video")
            gr.Button("film").click(film, [n, token], video, api_name="film")

    demo.queue().launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
