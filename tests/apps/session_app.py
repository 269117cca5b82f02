"""A Gradio app for the session, login and credentials tests.

Runs unchanged under gradio 4.44.1, 5.50.0 and 6.31.0.

    python session_app.py --port N [--auth user:pass] [--marker-dir DIR] [--open-copy]

``--auth`` puts the app behind a login. ``--open-copy`` (needs ``--marker-dir``) also serves
a second copy of the app, without a login, from the same process on a port of its own
choosing, and writes that port to ``<marker-dir>/open-port`` before the main app starts:
two apps for the price of one interpreter start-up.

Endpoints (api_name):

``incr``     a ``gr.State`` counter: returns how many times this session called it.
``whoami``   (Textbox) returns, as JSON, what the app saw of the ``queue/join`` request:
             ``{"hf": x-hf-authorization, "custom": x-custom, "authorization": ...,
             "username": the logged-in user, "session_hash": ..., "text": the input}``
             (a missing header is ``null``).
``foreign``  (Textbox with a URL) returns through a ``gr.JSON`` a FileData pointing at that
             URL, so a client treats it as a file output to download from another host.

An ``unload`` handler writes ``<marker-dir>/unload-<session_hash>`` containing the session's
logged-in username (empty without a login). The server runs it when the session's
heartbeat connection closes; in all three versions the handler's ``gr.Request`` carries the
session hash (the heartbeat route builds it with ``session_hash=``) and the username read
from the heartbeat request's cookies.
"""

import argparse
import os
import socket

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

V = int(gr.__version__.split(".")[0])

MARKER_DIR = None


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--auth", default=None, help="user:password to require a login")
    p.add_argument("--marker-dir", default=None, help="where the unload handler writes its markers")
    p.add_argument("--open-copy", action="store_true", help="also serve a copy without login")
    return p.parse_args()


def incr(state):
    state = (state or 0) + 1
    return state, state


def whoami(text, request: gr.Request):
    headers = request.headers
    return {
        "hf": headers.get("x-hf-authorization"),
        "custom": headers.get("x-custom"),
        "authorization": headers.get("authorization"),
        "username": request.username,
        "session_hash": request.session_hash,
        "text": text,
    }


def foreign(url):
    return {"path": url, "url": url, "orig_name": "doc.txt", "meta": {"_type": "gradio.FileData"}}


def on_unload(request: gr.Request):
    if MARKER_DIR is None:
        return
    session_hash = request.session_hash or "unknown"
    target = os.path.join(MARKER_DIR, f"unload-{session_hash}")
    partial = target + ".partial"
    with open(partial, "w") as fh:
        fh.write(request.username or "")
    os.replace(partial, target)  # the marker appears complete or not at all


def build():
    with gr.Blocks() as demo:
        st = gr.State(0)
        cnt = gr.Number(label="count")
        gr.Button("incr").click(incr, st, [st, cnt], api_name="incr")

        w_in = gr.Textbox(label="whoami in")
        w_out = gr.JSON(label="whoami out")
        gr.Button("whoami").click(whoami, w_in, w_out, api_name="whoami")

        f_in = gr.Textbox(label="url")
        f_out = gr.JSON(label="file")
        gr.Button("foreign").click(foreign, f_in, f_out, api_name="foreign")

        demo.unload(on_unload)
    return demo


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_open_copy():
    """Serve another copy of the app, without a login; returns its port."""
    copy = build()
    copy.queue()
    for _ in range(5):
        port = free_port()
        try:
            copy.launch(server_name="127.0.0.1", server_port=port, show_error=True, prevent_thread_lock=True)
        except OSError:  # someone took the port meanwhile: another one
            continue
        return port
    raise SystemExit("could not start the open copy")


def main():
    global MARKER_DIR
    args = parse_args()
    if args.marker_dir:
        MARKER_DIR = os.path.abspath(args.marker_dir)
        os.makedirs(MARKER_DIR, exist_ok=True)
    if args.open_copy:
        if MARKER_DIR is None:
            raise SystemExit("--open-copy needs --marker-dir")
        port = launch_open_copy()
        target = os.path.join(MARKER_DIR, "open-port")
        with open(target + ".partial", "w") as fh:
            fh.write(str(port))
        os.replace(target + ".partial", target)
    demo = build()
    demo.queue()
    demo.launch(
        server_name="127.0.0.1",
        server_port=args.port,
        show_error=True,
        auth=tuple(args.auth.split(":", 1)) if args.auth else None,
        prevent_thread_lock=False,
    )


if __name__ == "__main__":
    main()
