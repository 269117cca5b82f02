"""A ``gr.ChatInterface`` app, for the ``view_api`` tests (every server generation).

    python chat_app.py --port N

On gradio 6 the labels of a ChatInterface's internal endpoints come in ``/info`` as
translation metadata (``{"__type__": "translation_metadata", "key": ...}``), not as text.
The chat function streams its answer; an extra Textbox is an additional input.
"""

import argparse
import os
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402


def echo(message, history, prefix):
    """Answer with the message, word by word, after ``prefix``."""
    text = message if isinstance(message, str) else (message or {}).get("text", "")
    answer = prefix or ""
    for word in text.split():
        time.sleep(0.01)
        answer += word + " "
        yield answer.strip()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    demo = gr.ChatInterface(echo, additional_inputs=[gr.Textbox(label="prefix", value=">")])
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
