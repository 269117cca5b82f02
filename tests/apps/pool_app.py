"""Test app for replica pools: one replica of an app that sleeps, counts and says who it is.

    python pool_app.py --port N [--delay S] [--concurrency K] [--name NAME] [--variant]

- ``/work(x)``: sleeps ``--delay`` seconds (default 0.2), then returns ``2 * x``. At most
  ``--concurrency`` (default 1) run at once. Each run that started is counted per ``x``.
- ``/whoami()``: ``--name`` (default: the port), so a test sees which replica ran a job.
- ``/counts()``: ``{"<x>": runs started}`` (as JSON) and ``/running()`` the runs now.
- ``/remember(text, state)``: appends ``text`` to the session's ``gr.State`` list and returns
  the list joined with ``,`` (state travels within one session only).
- ``--variant``: ``/work`` takes a second input (so the replica's API differs).
- ``--ran-file PATH``: also appends ``repr(float(x))`` and a newline to ``PATH`` as each run of
  ``/work`` starts (one ``write`` per line, so the lines survive a SIGKILL of the server).

Starts under gradio 3.50, 4.x, 5.x and 6.x.
"""

import argparse
import os
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

_lock = threading.Lock()
_counts: dict = {}
_running = [0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay", type=float, default=0.2)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--name", default=None)
    p.add_argument("--variant", action="store_true")
    p.add_argument("--ran-file", default=None)
    args = p.parse_args()
    name = args.name or str(args.port)
    major = int(gr.__version__.split(".")[0])

    # 3.x has no per-endpoint limit: a gate inside the function holds /work to --concurrency.
    gate = threading.Semaphore(args.concurrency) if major < 4 else None
    ran_fd = os.open(args.ran_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND) if args.ran_file else None

    def work(x, *extra):
        if gate is not None:
            gate.acquire()
        with _lock:
            key = repr(float(x))
            _counts[key] = _counts.get(key, 0) + 1
            _running[0] += 1
            if ran_fd is not None:
                os.write(ran_fd, (key + "\n").encode())
        try:
            if args.delay:
                time.sleep(args.delay)
        finally:
            with _lock:
                _running[0] -= 1
            if gate is not None:
                gate.release()
        return 2 * x

    def whoami():
        return name

    def counts():
        with _lock:
            return dict(_counts)

    def running():
        with _lock:
            return _running[0]

    def remember(text, state):
        state = list(state or []) + [text]
        return ",".join(state), state

    limit = {} if major < 4 else {"concurrency_limit": args.concurrency}
    with gr.Blocks() as demo:
        x = gr.Number(label="x")
        y = gr.Number(label="y")
        inputs = [x, gr.Textbox(label="extra")] if args.variant else [x]
        who = gr.Textbox(label="who")
        j = gr.JSON(label="counts")
        n = gr.Number(label="running")
        text = gr.Textbox(label="text")
        joined = gr.Textbox(label="joined")
        state = gr.State([])
        gr.Button("work").click(work, inputs, y, api_name="work", **limit)
        gr.Button("whoami").click(whoami, None, who, api_name="whoami", **({} if major < 4 else {"concurrency_limit": None}))
        gr.Button("counts").click(counts, None, j, api_name="counts", **({} if major < 4 else {"concurrency_limit": None}))
        gr.Button("running").click(running, None, n, api_name="running", **({} if major < 4 else {"concurrency_limit": None}))
        gr.Button("remember").click(remember, [text, state], [joined, state], api_name="remember")

    if major < 4:
        # 3.x: one concurrency count for the whole queue (the side endpoints share it).
        demo.queue(concurrency_count=args.concurrency + 3)
    else:
        demo.queue(default_concurrency_limit=None)
    demo.launch(server_name="127.0.0.1", server_port=args.port, show_error=True, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
