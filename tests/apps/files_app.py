"""The file tests' Gradio app (gradio 4.44.1, 5.50.0, 6.31.0).

    python files_app.py --port N [--max-file-size 1kb]

Endpoints (api_name):
  image        Image (filepath) in -> the same picture mirrored, and its size as text
  files        several Files in -> each file upper-cased, and the names as text
  gallery      Gallery in -> the images in reverse order with new captions
  multimodal   MultimodalTextbox in -> the text and the number of files, and the first file
  same_names   -> two different files, both called result.txt
  odd_names    -> files named with backslashes, dots and control characters
  big          a size in MiB -> a file of that size
  size         File in -> its size in bytes
  file_stream  a generator yielding a new file at each step
"""

import argparse
import os
import tempfile

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

V = int(gr.__version__.split(".")[0])


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-file-size", default=None)
    return p.parse_args()


def _path(f):
    """A file input's path, whatever shape this gradio version hands it over in."""
    if f is None:
        return None
    if isinstance(f, str):
        return f
    if isinstance(f, dict):
        return f.get("path") or f.get("name")
    return getattr(f, "path", None) or f.name


def _write(name, content, mode="w"):
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, name)
    with open(path, mode) as fh:
        fh.write(content)
    return path


def image(path):
    with Image.open(path) as img:
        mirrored = ImageOps.mirror(img.convert("RGB"))
        out = os.path.join(tempfile.mkdtemp(), "mirrored.png")
        mirrored.save(out)
        return out, f"{img.width}x{img.height}"


def files(items):
    outs, names = [], []
    for item in items or []:
        path = _path(item)
        names.append(os.path.basename(path))
        with open(path) as fh:
            outs.append(_write(os.path.basename(path), fh.read().upper()))
    return outs, ",".join(names)


def gallery(items):
    out = []
    for n, item in enumerate(reversed(items or [])):
        path = item[0] if isinstance(item, (tuple, list)) else _path(item)
        out.append((_path(path) if not isinstance(path, str) else path, f"item {n}"))
    return out


def multimodal(message):
    paths = [_path(f) for f in message.get("files", [])]
    return f"{message.get('text', '')}|{len(paths)}", (paths[0] if paths else None)


def same_names():
    return _write("result.txt", "first"), _write("result.txt", "second")


def odd_names():
    return [_write("..\\..\\evil.txt", "backslashes"), _write("a\x01b .txt", "control"), _write("..data", "dots")]


def big(mib):
    path = os.path.join(tempfile.mkdtemp(), "big.bin")
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(int(mib)):
            fh.write(block)
    return path


def size(f):
    return os.path.getsize(_path(f))


def file_stream(n):
    for i in range(int(n)):
        yield _write(f"step{i}.txt", f"step {i}")


def build():
    with gr.Blocks() as demo:
        img_in = gr.Image(type="filepath", label="picture")
        img_out = gr.Image(type="filepath", label="mirrored")
        img_size = gr.Textbox(label="size")
        gr.Button("image").click(image, img_in, [img_out, img_size], api_name="image")

        f_in = gr.File(file_count="multiple", label="documents")
        f_out = gr.File(file_count="multiple", label="upper")
        f_names = gr.Textbox(label="names")
        gr.Button("files").click(files, f_in, [f_out, f_names], api_name="files")

        g_in = gr.Gallery(label="pictures", type="filepath")
        g_out = gr.Gallery(label="reversed")
        gr.Button("gallery").click(gallery, g_in, g_out, api_name="gallery")

        mm_in = gr.MultimodalTextbox(label="message")
        mm_text = gr.Textbox(label="summary")
        mm_file = gr.File(label="first")
        gr.Button("multimodal").click(multimodal, mm_in, [mm_text, mm_file], api_name="multimodal")

        first = gr.File(label="first")
        second = gr.File(label="second")
        gr.Button("same").click(same_names, None, [first, second], api_name="same_names")

        odd = gr.File(file_count="multiple", label="odd")
        gr.Button("odd").click(odd_names, None, odd, api_name="odd_names")

        mib = gr.Number(label="mib", value=1)
        big_out = gr.File(label="big")
        gr.Button("big").click(big, mib, big_out, api_name="big")

        s_in = gr.File(label="any")
        s_out = gr.Number(label="bytes")
        gr.Button("size").click(size, s_in, s_out, api_name="size")

        n = gr.Number(label="steps", value=3)
        stream_out = gr.File(label="step file")
        gr.Button("stream").click(file_stream, n, stream_out, api_name="file_stream")
    return demo


def main():
    args = parse_args()
    demo = build()
    demo.queue()
    options = {}
    if args.max_file_size:
        options["max_file_size"] = args.max_file_size
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False, **options)


if __name__ == "__main__":
    main()
