"""An app whose functions take a ``gr.OAuthToken``, for the ``view_api`` tests.

    python oauth_app.py --port N

``gr.OAuthToken`` exists from gradio 4.x on (the app exits with an error where it does not).
Endpoints (api_name):
  whoami    (text, token: gr.OAuthToken): the token is required
  maybe     (text, token: gr.OAuthToken | None): the token is optional
  plain     (text): no token
"""

import argparse
import os
from typing import Optional

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402


def whoami(text: str, token: gr.OAuthToken) -> str:
    return f"{text}: {'token' if token else 'no token'}"


def maybe(text: str, token: Optional[gr.OAuthToken]) -> str:
    return f"{text}: {'token' if token else 'no token'}"


def plain(text: str) -> str:
    return text


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    with gr.Blocks() as demo:
        text = gr.Textbox(label="text")
        out = gr.Textbox(label="answer")
        gr.Button("whoami").click(whoami, text, out, api_name="whoami")
        gr.Button("maybe").click(maybe, text, out, api_name="maybe")
        gr.Button("plain").click(plain, text, out, api_name="plain")
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
