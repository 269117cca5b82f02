"""The official-errors tests' Gradio app (every generation, 3.50.2 to 6.31.0).

    python errors_app.py --port N [--max-file-size 1kb] [--copy user:password]

The app does not show its exceptions (no show_error). ``--copy`` also serves a second copy of
it, with show_error=True and a login, on another port, written to ``copy-port`` in the
current directory before the main app starts.

Endpoints (api_name):
  add        two required numbers (a, b) -> their sum
  fail       raises gr.Error("bad input: <x>")
  crash      raises a plain exception (hidden unless --show-error)
  size       a File (label "document") -> its size in bytes (the upload limit is --max-file-size)
  refused    -> a JSON value shaped as a file of the server's own, which its file route refuses
             to serve (403: this very file, outside the app's folders; it and the file cache are
             in the app's blocked_paths)
"""

import argparse
import inspect
import os
import socket
import tempfile

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

V = int(gr.__version__.split(".")[0])

#: A file that exists on the server's machine but is outside every folder the app serves.
OUTSIDE = os.path.abspath(__file__)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-file-size", default=None)
    p.add_argument("--copy", default=None, help="user:password: also serve a copy with show_error and this login")
    return p.parse_args()


def add(a, b):
    return a + b


def fail(x):
    raise gr.Error(f"bad input: {x}")


def crash(x):
    raise RuntimeError(f"boom {x}")


def size(f):
    if f is None:
        return 0
    path = f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", None)
    return os.path.getsize(path)


def refused():
    if V >= 4:
        return {"path": OUTSIDE, "orig_name": "errors_app.py", "meta": {"_type": "gradio.FileData"}}
    return {"name": OUTSIDE, "data": None, "is_file": True, "orig_name": "errors_app.py"}


def build():
    with gr.Blocks() as demo:
        a = gr.Number(label="a")
        b = gr.Number(label="b")
        total = gr.Number(label="sum")
        gr.Button("add").click(add, [a, b], total, api_name="add")

        x = gr.Textbox(label="x")
        out = gr.Textbox(label="out")
        gr.Button("fail").click(fail, x, out, api_name="fail")
        gr.Button("crash").click(crash, x, out, api_name="crash")

        doc = gr.File(label="document")
        n = gr.Number(label="bytes")
        gr.Button("size").click(size, doc, n, api_name="size")

        value = gr.JSON(label="value")
        gr.Button("refused").click(refused, None, value, api_name="refused")
    return demo


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(demo, port, options, **kwargs):
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=port, **options, **kwargs)


def launch_copy(options, auth):
    """Serve another copy of the app, with show_error=True and a login; returns its port."""
    for _ in range(5):
        port = free_port()
        try:
            launch(build(), port, options, show_error=True, auth=auth, prevent_thread_lock=True)
        except OSError:  # someone took the port meanwhile: another one
            continue
        return port
    raise SystemExit("could not start the copy")


def main():
    args = parse_args()
    options = {}
    if args.max_file_size and "max_file_size" in inspect.signature(gr.Blocks.launch).parameters:
        options["max_file_size"] = args.max_file_size
    # Never served: this file, and the file cache (gradio up to 4.21 copies a file named in any
    # output into its cache, which it would serve).
    cache = os.environ.get("GRADIO_TEMP_DIR") or os.path.join(tempfile.gettempdir(), "gradio")
    options["blocked_paths"] = [OUTSIDE, os.path.abspath(cache)]
    if args.copy:
        port = launch_copy(options, tuple(args.copy.split(":", 1)))
        with open("copy-port.partial", "w") as fh:
            fh.write(str(port))
        os.replace("copy-port.partial", "copy-port")
    launch(build(), args.port, options, show_error=False, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
