"""The demo's Gradio app: a calculator, a counting generator, a progress app, a one-worker queue.

    python demo_apps.py --port 7860

Endpoints: ``/add(a, b)``, ``/count(n)`` (a generator: one more word every 0.2 s),
``/progress(steps)`` (``gr.Progress`` bars and ``gr.Info`` logs), ``/one_worker(seconds)``
(one job at a time: the others wait in the queue). Listens on 127.0.0.1 only. Written for
gradio 4.x to 6.x; ``gradio-jobs demo`` starts and stops it.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def add(a: float, b: float) -> float:
    """``a + b``: the quick call of the tour."""
    return a + b


def count(n: float) -> Iterator[str]:
    """A generator: ``n`` outputs 0.2 s apart, each one word longer."""
    words = []
    for i in range(int(n)):
        time.sleep(0.2)
        words.append(WORDS[i % len(WORDS)])
        yield " ".join(words)


def progress(steps: float, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - gradio injects progress through this default
    """``steps`` progress steps 0.3 s apart, with an info message before and after."""
    gr.Info("warming up the model")
    for _ in progress.tqdm(range(int(steps)), desc="training", unit="epochs"):
        time.sleep(0.3)
    gr.Info("training finished")
    return f"trained for {int(steps)} epochs"


def one_worker(seconds: float) -> str:
    """Sleeps ``seconds`` on an endpoint that runs one job at a time (so others queue)."""
    time.sleep(float(seconds))
    return f"rendered in {float(seconds):g} s"


def build() -> gr.Blocks:
    """The demo app: add, count (a generator), progress (a tqdm), one_worker (a queue of one)."""
    with gr.Blocks(title="gradio-jobs demo") as demo:
        gr.Markdown("# gradio-jobs demo")
        with gr.Row():
            a = gr.Number(label="a", value=1)
            b = gr.Number(label="b", value=2)
            total = gr.Number(label="a + b")
        gr.Button("add").click(add, [a, b], total, api_name="add")

        n = gr.Number(label="n", value=5)
        words = gr.Textbox(label="words")
        gr.Button("count").click(count, n, words, api_name="count", concurrency_limit=None)

        steps = gr.Number(label="steps", value=5)
        trained = gr.Textbox(label="trained")
        gr.Button("train").click(progress, steps, trained, api_name="progress", concurrency_limit=None)

        seconds = gr.Number(label="seconds", value=1)
        rendered = gr.Textbox(label="rendered")
        gr.Button("render").click(one_worker, seconds, rendered, api_name="one_worker", concurrency_limit=1)
    return demo  # type: ignore[no-any-return]


def main() -> None:
    """Serve the demo app on 127.0.0.1 at ``--port``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    demo = build()
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, show_error=True, quiet=True)


if __name__ == "__main__":
    main()
