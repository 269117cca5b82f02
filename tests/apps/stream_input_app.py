"""A streaming-input app: one ``.stream`` event, as a webcam filter is built.

    python stream_input_app.py --port N [--time-limit SECONDS]

Endpoints (api_name):

- ``measure``: ``gr.Image(webcam, streaming=True).stream(...)``; its function answers
  ``"WxH"`` of the frame it gets and prints ``measured WxH`` to the server's log (so a test
  can count its runs). A frame one pixel wide takes 2 s (for the cancel and deadline tests).
  A browser sends frames for as long as the webcam runs; an API call sends one. On 5.x and
  later the event has ``time_limit`` (here 60 s unless ``--time-limit`` says otherwise, 0
  meaning none: long on purpose, a call that waits for it shows) and ``stream_every``; the
  server sends each output as ``process_streaming`` and then waits for the next frame. Older
  servers run each frame as an ordinary event. One run at a time (``concurrency_limit=1``,
  the default), so a call waits for the one before it to end on the server.
- ``add``: a plain endpoint beside it.

Runs unchanged under gradio 3.50.2 to 6.31.0 (3.x takes the frame as a base64 data URL).
"""

import argparse
import inspect
import os
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

V = int(gr.__version__.split(".")[0])


def measure(frame):
    if frame is None:
        return "no frame"
    height, width = frame.shape[:2]
    if width == 1:
        time.sleep(2)
    print(f"measured {width}x{height}", flush=True)
    return f"{width}x{height}"


def add(a, b):
    return a + b


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--time-limit", type=float, default=60.0, help="0: none (the server's default)")
    args = p.parse_args()

    with gr.Blocks() as demo:
        if V >= 4:
            cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="frame")
        else:
            cam = gr.Image(source="webcam", streaming=True, type="numpy", label="frame")
        size = gr.Textbox(label="size")
        stream = cam.stream
        options = inspect.signature(stream).parameters
        kw = {}
        if "time_limit" in options:
            kw["time_limit"] = args.time_limit or None
        if "stream_every" in options:
            kw["stream_every"] = 0.1
        if "concurrency_limit" in options:
            kw["concurrency_limit"] = 1
        stream(measure, cam, size, api_name="measure", **kw)
        a, b, total = gr.Number(label="a"), gr.Number(label="b"), gr.Number(label="sum")
        gr.Button("add").click(add, [a, b], total, api_name="add")

    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
