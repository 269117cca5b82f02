"""A 3.x-style app without a queue (3.x runs every event through ``run/predict`` then).

    python plain_app.py --port N

Endpoints: add, incr (gr.State), fail (gr.Error). Only 3.x can launch without a queue;
later versions always start one.
"""

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402


def add(a, b):
    return a + b


def incr(state):
    state = (state or 0) + 1
    return state, state


def fail(x):
    raise gr.Error("bad input: " + x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    with gr.Blocks() as demo:
        a, b, s = gr.Number(label="a"), gr.Number(label="b"), gr.Number(label="sum")
        gr.Button("add").click(add, [a, b], s, api_name="add")
        st, n = gr.State(0), gr.Number(label="count")
        gr.Button("incr").click(incr, st, [st, n], api_name="incr")
        x, y = gr.Textbox(label="x"), gr.Textbox(label="y")
        gr.Button("fail").click(fail, x, y, api_name="fail")
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
