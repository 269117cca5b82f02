"""The bundled demo app: a calculator, a counting generator, a progress bar, a one-worker queue.

    python examples/demo_app.py PORT
"""

import sys
import time

import gradio as gr


def add(a, b):
    return a + b


def count(n):
    text = ""
    for i in range(int(n)):
        time.sleep(0.3)
        text += f"{i + 1} "
        yield text.strip()


def train(steps, progress=gr.Progress()):
    for _ in progress.tqdm(range(int(steps)), desc="training", unit="epochs"):
        time.sleep(0.25)
    gr.Info("training finished")
    return f"model trained for {int(steps)} epochs"


def render(seconds):
    time.sleep(float(seconds))
    return f"rendered in {seconds} s"


def divide(a, b):
    if b == 0:
        raise gr.Error("cannot divide by zero")
    return a / b


with gr.Blocks(title="gradio-jobs demo") as demo:
    a, b, out = gr.Number(label="a", value=1), gr.Number(label="b", value=2), gr.Number(label="result")
    gr.Button("add").click(add, [a, b], out, api_name="add")
    gr.Button("divide").click(divide, [a, b], out, api_name="divide")
    n, text = gr.Number(label="n", value=5), gr.Textbox(label="counted")
    gr.Button("count").click(count, n, text, api_name="count")
    steps, trained = gr.Number(label="steps", value=8), gr.Textbox(label="trained")
    gr.Button("train").click(train, steps, trained, api_name="train")
    secs, rendered = gr.Number(label="seconds", value=1), gr.Textbox(label="rendered")
    gr.Button("render").click(render, secs, rendered, api_name="render", concurrency_limit=1)

if __name__ == "__main__":
    demo.queue().launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), show_error=True)
