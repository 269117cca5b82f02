"""Test app for batch runs: ``/work`` doubles a number and counts how often each input ran.

    python batch_app.py --port N [--delay S]

- ``/work(x)``: 2 * x after ``--delay`` seconds; a negative ``x`` raises ``gr.Error`` until
  ``/heal`` was called. Each run that finished is counted per ``x``.
- ``/counts()``: the counts, ``{"<x>": runs}`` (as JSON).
- ``/heal()``: negative inputs succeed from now on.

Starts under gradio 4.x, 5.x and 6.x.
"""

import argparse
import os
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

_lock = threading.Lock()
_counts: dict = {}
_healed = [False]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay", type=float, default=0.0)
    args = p.parse_args()

    def work(x):
        if args.delay:
            time.sleep(args.delay)
        with _lock:
            key = repr(float(x))
            _counts[key] = _counts.get(key, 0) + 1
        if x < 0 and not _healed[0]:
            raise gr.Error(f"negative input: {x}")
        return 2 * x

    def counts():
        with _lock:
            return dict(_counts)

    def heal():
        _healed[0] = True
        return "healed"

    with gr.Blocks() as demo:
        x = gr.Number(label="x")
        y = gr.Number(label="y")
        j = gr.JSON(label="counts")
        t = gr.Textbox(label="state")
        gr.Button("work").click(work, x, y, api_name="work", concurrency_limit=None)
        gr.Button("counts").click(counts, None, j, api_name="counts")
        gr.Button("heal").click(heal, None, t, api_name="heal")

    demo.queue(default_concurrency_limit=None)
    demo.launch(server_name="127.0.0.1", server_port=args.port, show_error=True, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
