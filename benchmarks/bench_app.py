"""Benchmark app for the streaming and file scenarios (run.py starts it beside the noop app).

    python bench_app.py --port N

Endpoints (api_name):
  stream   n -> a generator yielding n times, 20 ms apart, each value the server's
           ``time.time()`` at the yield (as text), so the client can measure the delay
  size     File in -> its size in bytes (the upload scenario)
  big      a size in MiB -> a file of that size, made once per size (the download scenario)
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

V = int(gr.__version__.split(".")[0])
STEP_SECONDS = 0.02
_made: dict[int, str] = {}


def stream(n):
    for _ in range(int(n)):
        time.sleep(STEP_SECONDS)
        yield repr(time.time())


def size(f):
    path = f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", None) or f["path"]
    return os.path.getsize(path)


def big(mib):
    mib = int(mib)
    if mib not in _made:
        path = os.path.join(tempfile.mkdtemp(), f"big-{mib}.bin")
        block = os.urandom(1 << 20)
        with open(path, "wb") as fh:
            for _ in range(mib):
                fh.write(block)
        _made[mib] = path
    return _made[mib]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    kw = {"concurrency_limit": None} if V >= 4 else {}
    with gr.Blocks() as demo:
        n = gr.Number(label="n", value=10)
        ticks = gr.Textbox(label="tick")
        gr.Button("stream").click(stream, n, ticks, api_name="stream", **kw)
        f_in = gr.File(label="any")
        f_size = gr.Number(label="bytes")
        gr.Button("size").click(size, f_in, f_size, api_name="size", **kw)
        mib = gr.Number(label="mib", value=1)
        f_out = gr.File(label="big")
        gr.Button("big").click(big, mib, f_out, api_name="big", **kw)
    demo.queue(default_concurrency_limit=None) if V >= 4 else demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
