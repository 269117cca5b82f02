"""Benchmark app: one ``noop`` endpoint (Textbox in, the same text out), no limits.

    python noop_app.py --port N [--max-size N] [--show-error]

Starts under gradio 4.44.1, 5.50.0 and 6.31.0 (and 3.50, without per-event limits).
"""

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

V = int(gr.__version__.split(".")[0])


def noop(x):
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-size", type=int, default=None)
    p.add_argument("--show-error", action="store_true")
    args = p.parse_args()

    with gr.Blocks() as demo:
        inp = gr.Textbox(label="in")
        out = gr.Textbox(label="out")
        kw = {"concurrency_limit": None} if V >= 4 else {}
        gr.Button("noop").click(noop, inp, out, api_name="noop", **kw)

    if V >= 4:
        demo.queue(max_size=args.max_size, default_concurrency_limit=None)
    else:
        demo.queue(max_size=args.max_size, concurrency_count=64)
    demo.launch(
        server_name="127.0.0.1",
        server_port=args.port,
        show_error=args.show_error,
        prevent_thread_lock=False,
    )


if __name__ == "__main__":
    main()
