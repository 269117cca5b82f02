"""The ZeroGPU-quota and queue-status tests' Gradio app (every generation, 3.50.2 to 6.31.0).

    python quota_app.py --port N [--no-queue]

It raises the quota errors of Hugging Face's ``spaces`` package the way ``spaces`` does
(``spaces/zero/gradio.py``'s ``error()``: a ``gr.Error`` with the title and
``print_exception=False`` where the gradio version takes them, and for the messages
``spaces`` marks as HTML a ``gr.Error`` subclass whose ``str()`` is the bare message, so 4.x
does not quote it), with the exact words of the ``spaces`` releases named in ``MESSAGES``.
``--no-queue`` launches without ``.queue()`` (3.x only: later versions always queue).

Endpoints (api_name):
  quota  (kind, fails, key, wait) -> raises the quota message ``kind`` (a key of MESSAGES,
         ``{wait}`` being ``str(timedelta(seconds=wait))``) on the first ``fails`` calls with
         this ``key``, then returns "ok <key> after <n> calls"
  hold   (path) -> waits (at most 120 s) until the file ``path`` exists, then returns "held";
         one at a time (concurrency 1), so later calls wait in the queue
"""

import argparse
import inspect
import os
import threading
import time
from datetime import timedelta

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

V = int(gr.__version__.split(".")[0])

#: kind -> (the message as the ``spaces`` release named in the comment writes it, its
#: ``gr.Error`` title, whether ``spaces`` raises it as HTML).
MESSAGES = {
    # 0.19 to 0.23: a constant, no wait
    "v019": ("You have exceeded your GPU quota", None, False),
    # 0.24 to 0.27
    "v024": ("You have exceeded your GPU quota (12s left vs. 60s requested). Please retry in {wait}", None, False),
    # 0.28, a user without login support
    "v028": (
        "You have exceeded your GPU quota (12s left vs. 60s requested). Sign-up on Hugging Face to get more "
        "quotas or retry in {wait}",
        None,
        False,
    ),
    # 0.30 to 0.33, a Pro user (its text has the wait), raised as HTML
    "v030": (
        "You have exceeded your Pro GPU quota (60s requested vs. 12s left). Try again in {wait}",
        "ZeroGPU quota exceeded",
        True,
    ),
    # 0.30 to 0.33, an unlogged user on gradio 4.39+: an HTML link instead of the wait
    "v030_html": (
        'You have exceeded your GPU quota (60s requested vs. 12s left). <a style="white-space: nowrap;'
        'text-underline-offset: 2px;color: var(--body-text-color)" href="https://huggingface.co/join">Create a '
        "free account</a> to get more daily usage quota.",
        "ZeroGPU quota exceeded",
        True,
    ),
    # 0.34 and 0.35: no wait
    "v034": ("You have exceeded your free GPU quota (60s requested vs. 12s left).", "ZeroGPU quota exceeded", False),
    "v034_runs": ("You have exceeded your runs limit.", "ZeroGPU quota exceeded", False),
    "v034_space": (
        "Space app has reached its GPU limit. Try re-running outside of examples if it happened after clicking one",
        "ZeroGPU quota exceeded",
        False,
    ),
    # 0.36 to 0.48
    "v036": (
        "You have exceeded your free GPU quota (60s requested vs. 12s left). Try again in {wait}",
        "ZeroGPU quota exceeded",
        True,
    ),
    # 0.45+, to an MCP client
    "v045_mcp": (
        "Unlogged user is runnning out of daily ZeroGPU quotas. Signup for free on https://huggingface.co/join "
        "or login on https://huggingface.co/login to get more ZeroGPU quota now.",
        "ZeroGPU quota exceeded",
        True,
    ),
    # 0.51 (latest)
    "v051": (
        "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). Try again in {wait}. "
        "Subscribe to Hugging Face PRO to get 40 min of ZeroGPU quota a day - "
        "https://huggingface.co/subscribe/pro?from=ZeroGPU",
        "ZeroGPU quota exceeded",
        False,
    ),
    "v051_runs": (
        "You have exceeded your ZeroGPU runs limit. Authenticate with a Hugging Face token for more quota - "
        "https://huggingface.co/settings/tokens",
        "ZeroGPU quota exceeded",
        False,
    ),
    "v051_credits": (
        "You have too many ZeroGPU credits allocated to running tasks. "
        "Try again once some of those tasks have completed.",
        "ZeroGPU pending credits exceeded",
        False,
    ),
    # not a quota error: waiting does not help
    "illegal": (
        "The requested GPU duration (120s) is larger than the maximum allowed",
        "ZeroGPU illegal duration",
        False,
    ),
}

_calls: dict = {}
_lock = threading.Lock()


class HTMLError(gr.Error):
    """What ``spaces`` raises for its HTML messages: ``str()`` is the bare message."""

    def __str__(self):
        return self.message


def spaces_error(title, message, html=False):
    """``spaces.zero.gradio.error``: the title and print_exception where gr.Error takes them."""
    params = inspect.signature(gr.Error).parameters
    kwargs = {}
    if title is not None and "title" in params:
        kwargs["title"] = title
    if "print_exception" in params:
        kwargs["print_exception"] = False
    return (HTMLError if html else gr.Error)(message, **kwargs)


def quota(kind, fails, key, wait):
    with _lock:
        n = _calls[key] = _calls.get(key, 0) + 1
    if n <= int(fails):
        text, title, html = MESSAGES[kind]
        raise spaces_error(title, text.format(wait=timedelta(seconds=float(wait))), html)
    return f"ok {key} after {n} calls"


def hold(path):
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return "held"


def build():
    click = gr.Button.click if hasattr(gr.Button, "click") else gr.Button().click
    one_at_a_time = {"concurrency_limit": 1} if "concurrency_limit" in inspect.signature(click).parameters else {}
    with gr.Blocks() as demo:
        kind = gr.Textbox(label="kind")
        fails = gr.Number(label="fails", value=1)
        key = gr.Textbox(label="key")
        wait = gr.Number(label="wait", value=1)
        out = gr.Textbox(label="out")
        gr.Button("quota").click(quota, [kind, fails, key, wait], out, api_name="quota")
        path = gr.Textbox(label="path")
        held = gr.Textbox(label="held")
        gr.Button("hold").click(hold, path, held, api_name="hold", **one_at_a_time)
    return demo


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--no-queue", action="store_true")
    args = p.parse_args()
    demo = build()
    if not args.no_queue:
        if V < 4:
            demo.queue(concurrency_count=1)  # 3.x: one worker for the whole queue
        else:
            demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
