"""A Gradio app for the drop-in tests: what a call's requests carry, and a generator.

Runs unchanged under gradio 3.50.2 through 6.31.0.

    python dropin_app.py --port N

Endpoints (api_name):

``header``         (Textbox: a header name) the value of that header on the request that
                   started the job (``gr.Request``), or ``"<none>"``.
``header_direct``  the same, ``queue=False`` (``run/predict`` where the server has it).
``count``          (Number n) a generator yielding ``"0"``, ``"1"``, ... ``str(n - 1)``.
``oauth``          (gradio 6 only; Textbox) the ``gr.OAuthToken`` the app received, or
                   ``"<none>"``.
"""

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

V = int(gr.__version__.split(".")[0])


def header(name, request: gr.Request):
    headers = request.headers
    if hasattr(headers, "get"):
        value = headers.get(name)
    else:  # 3.x queue: the websocket's headers as an object with one attribute per header
        value = vars(headers).get(name)
    return value if value is not None else "<none>"


def count(n):
    for i in range(int(n)):
        yield str(i)


def build():
    with gr.Blocks() as demo:
        name = gr.Textbox(label="name")
        out = gr.Textbox(label="value")
        gr.Button("header").click(header, name, out, api_name="header")
        gr.Button("header_direct").click(header, name, out, api_name="header_direct", queue=False)
        n = gr.Number(label="n")
        c_out = gr.Textbox(label="count")
        gr.Button("count").click(count, n, c_out, api_name="count")
        if V >= 6:

            def oauth(text, token: gr.OAuthToken | None):
                return token.token if token is not None else "<none>"

            o_in = gr.Textbox(label="text")
            o_out = gr.Textbox(label="token")
            gr.Button("oauth").click(oauth, o_in, o_out, api_name="oauth")
    return demo


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    demo = build()
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)
