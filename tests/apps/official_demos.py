"""The demos of the official client's test suite, written anew, for tests/integration/test_official_suite.py.

gradio_client's own tests (``client/python/test/test_client.py``) launch small demos in-process;
these are our own apps showing the same behaviours, served by ONE process on several ports
(a process per demo would cost a server start-up each). Written for gradio 6.31.0; they also
run on 5.50.0 and 4.44.1 (version-dependent keywords are picked from ``gr.__version__``).

    python official_demos.py --port N

``--port`` serves the main demo. The other demos are launched first, each on a free port of
its own, and their ports are written as JSON (``{"group": 41234, ...}``) to
``demo-ports.json`` in the current directory before the main demo starts.

The main demo's endpoints (api_name):
  calculator            (num1, operation, num2) -> output: add/subtract/multiply/divide (a
                        gr.Error when dividing by zero)
  calculator_defaults   the same, with defaults: num1 is a Number of value 10, the function
                        defaults operation to None ("add") and num2 to 100
  increment_with_queue, increment_without_queue (queue=False), and a private third one declared
                        right after them (its fn_index is increment_without_queue's + 1): a
                        gr.State counter -> its new value
  progress              (x) -> x, after a gr.Progress tqdm loop over 20 steps of 0.1 s
  spell                 (x) a generator of x[:i] for each i < len(x), one each 0.2 s
  iterate               () a generator of 0 .. 19, one each 0.5 s
  long                  () sleeps 6 s, then 10
  count, show           named after their functions (no api_name given): (n) a generator of
                        "0" .. str(n - 1), one each 0.2 s; and str(list(range(n)))
  classify              (text) -> a gr.Label of three scores
  file_io               ([File, ...], File) -> the same files back
  upload_name           (File) -> the name the uploaded file has on the server
  video                 (Video) -> the same video
  submit                (message, history) -> ("", history + the message and "I love you");
                        also reads a gr.State([1, 2, 3]) that is no API parameter
  chat                  (message, history) -> ("", history + the user's and the bot's message),
                        the bot's words one of "How are you?", "I love you", "I'm very hungry"
  return_bad            () -> (a French sentence with accents and a newline, None)
  long_response         () -> "\\ta\\nb" * 90000, after gr.Info, 17 s of silence, gr.Info
  state                 (x, a gr.State) -> (x, x): the state keeps x; when the server deletes
                        that state (its session closed, then 1 s: see below) it writes the file
                        ``state-deleted-<x>`` in the current directory

The other demos:
  group      /greeting (name) -> ("Hello <name>", a gr.Group update); /show_group () -> a gr.Group
             update (no value for the API)
  accordion  /greeting (name) -> ("Hello <name>", count) with a gr.State counter and a
             gr.Accordion update; /open and /close () -> count
  no_api     count and show as in the main demo, both with their API closed (private)
  many       1000 textboxes and buttons, each with a submit and a click listener: 2000 endpoints
  limited    launched with max_file_size="15kb": /upload_1b, a gr.File's upload listener ->
             "Upload successful"
  auth       behind the login user / pass: /echo (text) -> text; /file_echo (File) -> the file

The server keeps the state of a closed session for an hour before it deletes it; as gradio's own
end-to-end tests do (``GRADIO_IS_E2E_TEST``), this app shortens that to 1 s, and only that (the
variable would also make the server send heartbeats every 0.25 s, which would take the point
out of /long_response).
"""

import argparse
import json
import os
import random
import socket
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

V = int(gr.__version__.split(".")[0])
HERE = os.getcwd()
PORTS_FILE = "demo-ports.json"

CHAT_ANSWERS = ["How are you?", "I love you", "I'm very hungry"]
FRENCH = (
    "Bonjour Olivier, tu as l'air bien r\u00e9veill\u00e9 ce matin. "
    "Tu veux que je te pr\u00e9pare tes petits-d\u00e9j.\n"
)


def private():
    """Event keywords that close an endpoint to the API."""
    return {"api_visibility": "private"} if V >= 6 else {"api_name": False}


def messages_chatbot(**kwargs):
    """A Chatbot of role/content messages (the only kind from gradio 6 on)."""
    return gr.Chatbot(**kwargs) if V >= 6 else gr.Chatbot(type="messages", **kwargs)


def shorten_closed_session_state_ttl():
    """Delete the state of a closed session after 1 s instead of an hour."""
    from gradio import state_holder

    original = state_holder.SessionState.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if hasattr(self, "STATE_TTL_WHEN_CLOSED"):
            self.STATE_TTL_WHEN_CLOSED = 1

    state_holder.SessionState.__init__ = init


# ---------------------------------------------------------------- functions


def calculator(num1, operation, num2):
    if operation == "add":
        return num1 + num2
    if operation == "subtract":
        return num1 - num2
    if operation == "multiply":
        return num1 * num2
    if num2 == 0:
        raise gr.Error("Cannot divide by zero!")
    return num1 / num2


def calculator_with_defaults(num1, operation=None, num2=100):
    return calculator(num1, operation or "add", num2)


def with_progress(x, progress=gr.Progress()):  # noqa: B008 - how gradio asks for progress
    progress(0, desc="Starting...")
    for _ in progress.tqdm(range(20)):
        time.sleep(0.1)
    return x


def spell(x):
    for i in range(len(x)):
        time.sleep(0.2)
        yield x[:i]


def iterate():
    for i in range(20):
        yield i
        time.sleep(0.5)


def long():
    time.sleep(6)
    return 10


def count(n):
    for i in range(int(n)):
        time.sleep(0.2)
        yield i


def show(n):
    return str(list(range(int(n))))


def classify(text):
    words = len(text.split())
    return {"POSITIVE": 0.7, "NEGATIVE": 0.2, "NEUTRAL": 0.1} if words else {"NEUTRAL": 1.0}


def file_io(files, one):
    return files, one


def upload_name(path):
    return os.path.basename(path)


def same(x):
    return x


def respond(message, numbers, history):
    assert numbers == [1, 2, 3], numbers
    return "", [*history, {"role": "user", "content": message}, {"role": "assistant", "content": "I love you"}]


def chat(message, history):
    answer = random.choice(CHAT_ANSWERS)
    return "", [*history, {"role": "user", "content": message}, {"role": "assistant", "content": answer}]


def return_bad():
    return FRENCH, None


def long_response():
    gr.Info("Beginning long response")
    time.sleep(17)
    gr.Info("Done!")
    return "\ta\nb" * 90000


def keep(x, state):
    return x, x


def state_deleted(value):
    if value:
        with open(os.path.join(HERE, f"state-deleted-{value}"), "w") as fh:
            fh.write("deleted\n")


# ---------------------------------------------------------------- demos


def build_main():
    with gr.Blocks() as demo:
        num1 = gr.Number(label="num1")
        operation = gr.Radio(["add", "subtract", "multiply", "divide"], label="operation")
        num2 = gr.Number(label="num2")
        output = gr.Number(label="output")
        gr.Button("=").click(calculator, [num1, operation, num2], output, api_name="calculator")
        d_num1 = gr.Number(value=10, label="num1")
        d_operation = gr.Radio(["add", "subtract", "multiply", "divide"], label="operation")
        d_num2 = gr.Number(label="num2")
        gr.Button("= with defaults").click(
            calculator_with_defaults, [d_num1, d_operation, d_num2], output, api_name="calculator_defaults"
        )

        counter = gr.State(0)
        shown = gr.Number(label="count")
        gr.Button("inc").click(lambda x: (x + 1, x + 1), counter, [counter, shown], api_name="increment_with_queue")
        gr.Button("inc direct").click(
            lambda x: (x + 1, x + 1), counter, [counter, shown], queue=False, api_name="increment_without_queue"
        )
        gr.Button("inc private").click(lambda x: (x + 1, x + 1), counter, [counter, shown], **private())

        text_in = gr.Textbox(label="x")
        text_out = gr.Textbox(label="output")
        gr.Button("progress").click(with_progress, text_in, text_out, api_name="progress")
        gr.Button("spell").click(spell, text_in, text_out, api_name="spell")

        number = gr.Number(label="number")
        gr.Button("iterate").click(iterate, None, number, api_name="iterate")
        gr.Button("long").click(long, None, number, api_name="long")

        n = gr.Number(value=10, label="n")
        counted = gr.Textbox(label="counted")
        gr.Button("count").click(count, n, counted)
        gr.Button("show").click(show, n, counted)

        label = gr.Label(label="Predicted Sentiment")
        gr.Button("classify").click(classify, text_in, label, api_name="classify")

        files_in = gr.File(file_count="multiple", label="files")
        file_in = gr.File(label="file")
        files_out = gr.File(file_count="multiple", label="files out")
        file_out = gr.File(label="file out")
        gr.Button("file_io").click(file_io, [files_in, file_in], [files_out, file_out], api_name="file_io")
        named = gr.File(type="filepath", label="named")
        gr.Button("upload_name").click(upload_name, named, text_out, api_name="upload_name")

        video_in = gr.Video(label="video")
        video_out = gr.Video(label="video out")
        gr.Button("video").click(same, video_in, video_out, api_name="video")

        history = messages_chatbot(label="history")
        message = gr.Textbox(label="message")
        numbers = gr.State([1, 2, 3])
        message.submit(respond, [message, numbers, history], [message, history], api_name="submit")
        chat_history = messages_chatbot(label="chat history")
        chat_message = gr.Textbox(label="chat message")
        chat_message.submit(chat, [chat_message, chat_history], [chat_message, chat_history], api_name="chat")

        first = gr.Textbox(label="first")
        second = gr.Textbox(label="second")
        gr.Button("return_bad").click(return_bad, None, [first, second], api_name="return_bad")
        gr.Button("long_response").click(long_response, None, text_out, api_name="long_response")

        kept = gr.State(delete_callback=state_deleted)
        gr.Button("state").click(keep, [text_in, kept], [text_out, kept], api_name="state")
    return demo


def build_group():
    with gr.Blocks() as demo:
        name = gr.Textbox(label="name")
        output = gr.Textbox(label="greeting")
        greet = gr.Button("Greet")
        show_group = gr.Button("Show group")
        with gr.Group(visible=False) as group:
            gr.Textbox("Hello!")

        def greeting(name):
            return f"Hello {name}", gr.Group(visible=True)

        greet.click(greeting, inputs=[name], outputs=[output, group], api_name="greeting")
        show_group.click(lambda: gr.Group(visible=False), None, group, api_name="show_group")
    return demo


def build_accordion():
    with gr.Blocks() as demo:
        name = gr.Textbox(label="name")
        output = gr.Textbox(label="greeting")
        num = gr.Number(label="count")
        n_counts = gr.State(value=0)
        with gr.Accordion(label="Extra stuff", open=False) as accordion:
            gr.Textbox("Hello!")

        def greeting(name, state):
            state += 1
            return state, f"Hello {name}", state, gr.Accordion(open=False)

        def step(is_open):
            return lambda state: (state + 1, state + 1, gr.Accordion(open=is_open))

        gr.Button("Greet").click(
            greeting, inputs=[name, n_counts], outputs=[n_counts, output, num, accordion], api_name="greeting"
        )
        gr.Button("Open").click(step(True), [n_counts], [n_counts, num, accordion], api_name="open")
        gr.Button("Close").click(step(False), [n_counts], [n_counts, num, accordion], api_name="close")
    return demo


def build_no_api():
    with gr.Blocks() as demo:
        n = gr.Number(value=10, label="n")
        out = gr.Textbox(label="out")
        gr.Button("Count").click(count, n, out, **private())
        gr.Button("List").click(show, n, out, **private())
    return demo


def build_many():
    with gr.Blocks() as demo:
        for _ in range(1000):
            box = gr.Textbox()
            box.submit(same, box, box)
            gr.Button().click(same, box, box)
    return demo


def build_limited():
    with gr.Blocks() as demo:
        file_1b = gr.File(label="file_1b")
        status = gr.Textbox(label="upload status")
        file_1b.upload(lambda x: "Upload successful", file_1b, status, api_name="upload_1b")
    return demo


def build_auth():
    with gr.Blocks() as demo:
        text = gr.Textbox(label="text")
        echoed = gr.Textbox(label="echoed")
        gr.Button("echo").click(same, text, echoed, api_name="echo")
        doc = gr.File(label="document")
        doc_out = gr.File(label="document out")
        gr.Button("file_echo").click(same, doc, doc_out, api_name="file_echo")
    return demo


EXTRAS = {
    "group": (build_group, {}),
    "accordion": (build_accordion, {}),
    "no_api": (build_no_api, {}),
    "many": (build_many, {}),
    "limited": (build_limited, {"max_file_size": "15kb"}),
    "auth": (build_auth, {"auth": ("user", "pass")}),
}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_extra(build, options):
    """Serve one more demo from this process, on a free port; returns the port."""
    for _ in range(5):
        port = free_port()
        demo = build()
        demo.queue()
        try:
            demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **options)
        except OSError:  # someone took the port meanwhile
            continue
        return port
    raise SystemExit("could not find a free port")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    shorten_closed_session_state_ttl()
    ports = {name: launch_extra(build, options) for name, (build, options) in EXTRAS.items()}
    with open(PORTS_FILE + ".partial", "w") as fh:
        json.dump(ports, fh)
    os.replace(PORTS_FILE + ".partial", PORTS_FILE)
    demo = build_main()
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=False)


if __name__ == "__main__":
    main()
