"""An app whose endpoints carry descriptions, for the ``view_api`` tests (every generation).

    python docs_app.py --port N

Endpoints (api_name):
  greet      a docstring'd function (name, times=None): the docstring is the endpoint's description
  described  an endpoint with ``api_description=`` (gradio 5 and later; a docstring before)
  picture    an Image input with a default file (a FileData default), an Image output
  pair       two outputs, labels with spaces and punctuation
  turns      a Chatbot in and out, labelled through ``gr.I18n`` where there is one (5.x and later):
             /info then gives its label as translation metadata, a dict, not text
  (unnamed)  a listener without ``api_name``: unnamed on 3.x, named after its function later
"""

import argparse
import inspect
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def greet(name, times=None):
    """Greet someone.

    Says hello to ``name`` a number of times.

    Args:
        name: who to greet
        times: how many times (default once)
    """
    return " ".join(["hello " + name] * int(times or 1))


def described(x):
    return x[::-1]


def picture(image):
    """Return the picture unchanged."""
    return image


def pair(text):
    return text.upper(), len(text)


def turns(history):
    return history


def shout(text):
    return text.upper() + "!"


def _picture_file():
    path = os.path.join(os.environ.get("GRADIO_TEMP_DIR") or HERE, "docs_app_default.png")
    if not os.path.exists(path):
        from PIL import Image

        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.new("RGB", (4, 3), (200, 30, 30)).save(path)
    return path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    click = gr.Button.click if hasattr(gr.Button, "click") else gr.Button().click
    click_options = set(inspect.signature(click).parameters)
    with gr.Blocks() as demo:
        name = gr.Textbox(label="Name")
        times = gr.Number(label="Times")
        out = gr.Textbox(label="Greeting")
        gr.Button("greet").click(greet, [name, times], out, api_name="greet")

        x = gr.Textbox(label="x", value="abc")
        y = gr.Textbox(label="reversed")
        kw = {"api_description": "Reverse a string."} if "api_description" in click_options else {}
        gr.Button("described").click(described, x, y, api_name="described", **kw)

        image = gr.Image(label="Input Image", value=_picture_file(), type="filepath")
        image_out = gr.Image(label="Output Image")
        gr.Button("picture").click(picture, image, image_out, api_name="picture")

        text = gr.Textbox(label="Some text!")
        upper = gr.Textbox(label="Upper case (text)")
        length = gr.Number(label="Length, in characters")
        gr.Button("pair").click(pair, text, [upper, length], api_name="pair")

        i18n = gr.I18n(en={"docs.turns": "Turns"}) if hasattr(gr, "I18n") else None
        chat = gr.Chatbot(label=i18n("docs.turns") if i18n else "Turns")
        gr.Button("turns").click(turns, chat, chat, api_name="turns")

        gr.Button("shout").click(shout, text, upper)
    demo.queue()
    demo.launch(
        server_name="127.0.0.1",
        server_port=args.port,
        **({"i18n": i18n} if i18n else {}),
        allowed_paths=[os.path.dirname(_picture_file())],
        prevent_thread_lock=False,
    )


if __name__ == "__main__":
    main()
