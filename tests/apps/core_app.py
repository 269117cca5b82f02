"""The integration tests' Gradio app.

Runs unchanged under gradio 4.44.1, 5.50.0 and 6.31.0 (and, where cheap, older 4.x and
3.50): version-dependent features are chosen from ``gr.__version__``'s major number.

    python core_app.py --port N [--max-size N] [--show-error]

Endpoints (api_name): add, count, slow, notify, fail, crash, incr, sleeper, multi, grow,
shrink, shrink_list, hidden (undocumented), priv (private), direct (queue=False), plus
file_info (File in, File out), a JS-only listener, an unload handler and stream (a fast generator). Runtimes are kept short.
"""

import argparse
import inspect
import os
import tempfile
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

V = int(gr.__version__.split(".")[0])
VERSION = tuple(int(p) for p in gr.__version__.split(".")[:2])


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-size", type=int, default=None)
    p.add_argument("--show-error", action="store_true")
    p.add_argument("--auth", default=None, help="user:password to require a login")
    return p.parse_args()


def _listener_options():
    click = gr.Button.click if hasattr(gr.Button, "click") else gr.Button().click
    return set(inspect.signature(click).parameters)


LISTENER_OPTIONS = _listener_options()


def visibility(kind):
    """Event keyword arguments for an "undocumented" or "private" endpoint."""
    if V >= 6:
        return {"api_visibility": kind}
    if kind == "private":
        return {"api_name": False}
    if "show_api" in LISTENER_OPTIONS:
        return {"show_api": False}
    return {}  # before 4.1x: no way to hide a named endpoint


def limit(n):
    """Event keyword arguments for a per-event concurrency limit (4.x and later)."""
    return {"concurrency_limit": n} if "concurrency_limit" in LISTENER_OPTIONS else {}


# ---------------------------------------------------------------- functions


def add(a, b):
    return a + b


def count(n):
    text = ""
    items = []
    for i in range(int(n)):
        time.sleep(0.1)
        text += f"tok{i} "
        items.append({"i": i})
        yield text, items


def slow(steps, progress=gr.Progress()):
    progress(0, desc="starting")
    for _ in progress.tqdm(range(int(steps)), desc="looping", unit="steps"):
        time.sleep(0.2)
    return f"done {steps}"


def notify(x):
    gr.Info("an info message")
    gr.Warning("a warning message")
    time.sleep(0.2)
    return x.upper()


def fail(x):
    message = "bad input: " + x
    if V >= 5:
        raise gr.Error(message, title="Oops", duration=5)
    try:
        err = gr.Error(message, duration=5)
    except TypeError:  # before 4.x grew `duration`
        err = gr.Error(message)
    raise err


def crash(x):
    raise ValueError("boom " + x)


def incr(state):
    state = (state or 0) + 1
    return state, state


def sleeper(secs):
    time.sleep(float(secs))
    return f"slept {secs}"


def multi(x, n):
    text = x * int(n)
    return text, len(text), {"x": x, "n": n}


def grow():
    seq = [
        (["a"], "abc", {"value": "v1", "visible": True}),
        (["a", "b"], "abcdef", {"value": "v2"}),
        (["a", "b", "c"], "xyz", {"value": "v2", "visible": False}),
        (["c"], "xyz!", {"value": "v3"}),
    ]
    for i, (cb, t, upd) in enumerate(seq):
        if i:
            time.sleep(0.1)
        yield cb, t, gr.update(**upd)


def shrink(n):
    n = int(n)
    seq = [
        list(range(n)),
        list(range(n))[:1],
        [[1, 2, 3], [4]],
        [[1], [4]],
        {"k": [1, 2, 3], "m": 1},
        {"k": [3]},
    ]
    for i, value in enumerate(seq):
        if i:
            time.sleep(0.1)
        yield value


SHRINK_LIST_SEQ = [
    ["0", "1", "2", "3", "4", "5"],
    ["0", "1", "2"],
    ["5"],
    ["1", "2", "3"],
    [],
]


def shrink_list():
    for i, value in enumerate(SHRINK_LIST_SEQ):
        if i:
            time.sleep(0.1)
        yield value


def hidden(x):
    return "hidden " + x


def priv(x):
    return "private " + x


def file_info(f):
    path = f if isinstance(f, str) else f.name
    size = os.path.getsize(path)
    out = os.path.join(tempfile.mkdtemp(), "result.txt")
    with open(out, "w") as fh:
        fh.write(f"size={size}\n")
    return f"{os.path.basename(path)} {size}", out


def reverse(x):
    return x[::-1]


def on_unload():
    pass


def work(path, secs):
    """A plain function whose progress is visible on disk: "start", then "end" unless stopped."""
    with open(path, "a") as fh:
        fh.write("start\n")
    deadline = time.monotonic() + float(secs)
    while time.monotonic() < deadline:
        time.sleep(0.05)
    with open(path, "a") as fh:
        fh.write("end\n")
    return f"worked {secs}"


def work_serial(path, secs):
    # its own function: gradio groups concurrency by function, and this one allows one at a time
    return work(path, secs)


def ticks(path, n):
    """A generator that appends one line per step to ``path``: it stops growing once stopped."""
    for i in range(int(n)):
        with open(path, "a") as fh:
            fh.write(f"tick {i}\n")
        time.sleep(0.1)
        yield i


def stream(n):
    """A fast generator: many outputs in little time."""
    for i in range(int(n)):
        yield i


# ---------------------------------------------------------------- layout


def build():
    with gr.Blocks() as demo:
        a = gr.Number(label="a", value=1)
        b = gr.Number(label="b")
        s = gr.Number(label="sum")
        gr.Button("add").click(add, [a, b], s, api_name="add")

        n = gr.Number(label="n", value=3)
        txt = gr.Textbox(label="text")
        js = gr.JSON(label="items")
        gr.Button("count").click(count, n, [txt, js], api_name="count")

        steps = gr.Number(label="steps", value=3)
        res = gr.Textbox(label="result")
        gr.Button("slow").click(slow, steps, res, api_name="slow")

        t_in = gr.Textbox(label="x")
        t_out = gr.Textbox(label="y")
        gr.Button("notify").click(notify, t_in, t_out, api_name="notify")
        gr.Button("fail").click(fail, t_in, t_out, api_name="fail")
        gr.Button("crash").click(crash, t_in, t_out, api_name="crash")

        st = gr.State(0)
        cnt = gr.Number(label="count")
        gr.Button("incr").click(incr, st, [st, cnt], api_name="incr")

        secs = gr.Number(label="secs", value=1)
        sl_out = gr.Textbox(label="sleep out")
        gr.Button("sleep").click(sleeper, secs, sl_out, api_name="sleeper", **limit(1))

        m_x = gr.Textbox(label="mx")
        m_n = gr.Number(label="mn", value=2)
        m_text = gr.Textbox(label="repeated")
        m_len = gr.Number(label="length")
        m_json = gr.JSON(label="echo")
        gr.Button("multi").click(multi, [m_x, m_n], [m_text, m_len, m_json], api_name="multi")

        cbg = gr.CheckboxGroup(choices=["a", "b", "c"], label="cbg")
        gt = gr.Textbox(label="gt")
        gu = gr.Textbox(label="gu")
        gr.Button("grow").click(grow, None, [cbg, gt, gu], api_name="grow")

        sh_n = gr.Number(label="shrink n", value=4)
        sh_out = gr.JSON(label="shrink out")
        gr.Button("shrink").click(shrink, sh_n, sh_out, api_name="shrink")

        sl_dd = gr.Dropdown(
            choices=[str(i) for i in range(6)], multiselect=True, label="shrink list"
        )
        gr.Button("shrink_list").click(shrink_list, None, sl_dd, api_name="shrink_list")

        gr.Button("hidden").click(
            hidden, t_in, t_out, api_name="hidden", **visibility("undocumented")
        )
        priv_kw = {"api_name": "priv"} if V >= 6 else {}
        priv_kw.update(visibility("private"))
        gr.Button("priv").click(priv, t_in, t_out, **priv_kw)

        f_in = gr.File(label="upload")
        f_txt = gr.Textbox(label="info")
        f_out = gr.File(label="out")
        gr.Button("file").click(file_info, f_in, [f_txt, f_out], api_name="file_info")

        if VERSION >= (5, 45):  # validator= (a 422 on join) exists from 5.45 on
            v_in = gr.Textbox(label="word")
            v_out = gr.Textbox(label="checked")
            gr.Button("validated").click(
                lambda word: word.upper(), v_in, v_out, api_name="validated",
                validator=lambda word: gr.validate(len(word) >= 3, "word too short"),
            )

        w_path = gr.Textbox(label="path")
        w_secs = gr.Number(label="work secs", value=1)
        w_out = gr.Textbox(label="work out")
        # work: many at once (siblings that a killing cancel would hit); work_serial: one at a time
        gr.Button("work").click(work, [w_path, w_secs], w_out, api_name="work", **limit(None))
        gr.Button("work_serial").click(work_serial, [w_path, w_secs], w_out, api_name="work_serial", **limit(1))
        t_n = gr.Number(label="ticks n", value=50)
        t_out = gr.Number(label="tick")
        gr.Button("ticks").click(ticks, [w_path, t_n], t_out, api_name="ticks", **limit(None))

        js_kw = {"js": "(x) => x"} if V >= 4 else {"_js": "(x) => x"}
        gr.Button("jsonly").click(None, t_in, t_out, **js_kw)

        if hasattr(demo, "unload"):
            demo.unload(on_unload)

        d_a = gr.Number(label="direct a", value=1)
        d_out = gr.Number(label="direct out")
        gr.Button("direct").click(lambda x: x * 2, d_a, d_out, api_name="direct", queue=False)
        # no api_name: 3.x knows it by fn_index only (later versions name it after the function)
        r_in = gr.Textbox(label="to reverse")
        r_out = gr.Textbox(label="reversed")
        gr.Button("reverse").click(reverse, r_in, r_out)

        st_n = gr.Number(label="stream n", value=10)
        st_out = gr.Number(label="streamed")
        gr.Button("stream").click(stream, st_n, st_out, api_name="stream", **limit(None))
    return demo


def main():
    args = parse_args()
    demo = build()
    demo.queue(max_size=args.max_size)
    demo.launch(
        server_name="127.0.0.1",
        server_port=args.port,
        show_error=args.show_error,
        auth=tuple(args.auth.split(":", 1)) if args.auth else None,
        prevent_thread_lock=False,
    )


if __name__ == "__main__":
    main()
