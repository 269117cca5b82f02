"""``view_api``'s dict and text as pure functions (protocol/view.py, _view_api.py).

The oracle for the text is the official client itself: ``gradio_client`` 2.7.2 (in the
gradio-6.31.0 server venv) renders the same descriptions, the captured ``/info`` answers of
every generation, in a subprocess; where that venv is missing those tests are skipped.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradio_jobs import ArgumentError
from gradio_jobs._view_api import client_repr, view_api, view_text
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.view import api_info, api_info_of_app, label_text, python_name, render_api, render_endpoint
from tests.fixtures import captures

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from servers import venv_dir  # noqa: E402

SRC = "http://127.0.0.1:7860/"
INFO_CAPTURES = sorted(p.name for p in captures.CAPTURES.glob("info*.json"))
METADATA_LABEL = {"key": "chat_interface.chatbot", "_type": "translation_metadata"}

#: Renders each description with the official client's own view_api (its _info set by hand:
#: that is all view_api reads), for all_endpoints None, True and False.
OFFICIAL_RENDER = """
import json, sys
from gradio_client import Client
out = []
for info in json.load(sys.stdin):
    client = Client.__new__(Client)
    client._info = info
    out.append({key: client.view_api(all_endpoints=value, print_info=False, return_format="str")
                for key, value in {"None": None, "True": True, "False": False}.items()})
print(json.dumps(out))
"""


def official_texts(infos: list[dict]) -> list[dict[str, str]]:
    python = venv_dir("6.31.0") / "bin" / "python"
    if not python.exists():
        pytest.skip(f"{python} (the official gradio_client 2.7.2) is not built")
    done = subprocess.run(
        [str(python), "-c", OFFICIAL_RENDER], input=json.dumps(infos), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _parameter(**overrides):
    p = {
        "label": "Name",
        "parameter_name": "name",
        "parameter_has_default": False,
        "parameter_default": None,
        "type": {"type": "string"},
        "python_type": {"type": "str", "description": ""},
        "component": "Textbox",
        "example_input": "Hello!!",
    }
    p.update(overrides)
    return p


def _return(**overrides):
    r = {"label": "Output", "type": {"type": "string"}, "python_type": {"type": "str", "description": ""}, "component": "Textbox"}
    r.update(overrides)
    return r


FILE_DEFAULT = {
    "path": "/tmp/x/bus.png",
    "url": "http://127.0.0.1:7860/file=/tmp/x/bus.png",
    "meta": {"_type": "gradio.FileData"},
}

#: Hand-made descriptions for the corners the captures do not reach.
CORNERS = {
    "named_endpoints": {
        "/defaults": {
            "parameters": [
                _parameter(),
                _parameter(label="Times", parameter_name="times", parameter_has_default=True,
                           python_type={"type": "float", "description": ""}, component="Number"),
                _parameter(label="Image", parameter_name="image", parameter_has_default=True,
                           parameter_default=FILE_DEFAULT,
                           python_type={"type": "filepath", "description": "A local filepath or URL."}, component="Image"),
                _parameter(label="Files", parameter_name=None, parameter_has_default=True,
                           parameter_default=[FILE_DEFAULT, ("a", 1)], python_type={"type": "list[filepath]", "description": ""},
                           component="File"),
                _parameter(label="Choice", parameter_name="choice", parameter_has_default=True, parameter_default="b"),
            ],
            "returns": [_return(label="Some text!"), _return(label="Count (n)", python_type={"type": "float", "description": "a number"})],
            "description": "Docstring.",
        },
        "/token": {"parameters": [], "returns": [], "oauth_token": "required"},
        "/maybe_token": {"parameters": [_parameter()], "returns": [_return()], "oauth_token": "optional"},
    },
    "unnamed_endpoints": {"3": {"parameters": [_parameter(parameter_name=None, label="Text in")], "returns": [_return()]}},
}


def test_api_info_keeps_what_the_official_client_keeps() -> None:
    raw = {
        "named_endpoints": {
            "/public": {"parameters": [], "returns": [], "api_visibility": "public", "code_snippets": {"python": "x"},
                        "description": "d", "oauth_token": "optional"},
            "/undocumented": {"parameters": [], "returns": [], "api_visibility": "undocumented", "show_api": False},
            "/private": {"parameters": [], "returns": [], "api_visibility": "private"},
            "/private_shown": {"parameters": [], "returns": [], "api_visibility": "private", "show_api": True},
            "/hidden": {"parameters": [], "returns": [], "show_api": False},
            "/shown": {"parameters": [], "returns": [], "show_api": True},
            "/plain": {"parameters": [], "returns": []},
        },
        "unnamed_endpoints": {"4": {"parameters": [], "returns": [], "show_api": True}},
        "other": 1,
    }
    before = copy.deepcopy(raw)
    info = api_info(raw)
    assert raw == before  # a copy: the client's own document is never changed
    assert info["named_endpoints"] == {
        "/public": {"parameters": [], "returns": [], "description": "d", "oauth_token": "optional"},
        # a visibility other than private keeps the endpoint without looking at show_api
        "/undocumented": {"parameters": [], "returns": [], "show_api": False},
        # a private one falls back to show_api, which is True when absent (as in gradio_client)
        "/private": {"parameters": [], "returns": []},
        "/private_shown": {"parameters": [], "returns": []},
        "/shown": {"parameters": [], "returns": []},
        "/plain": {"parameters": [], "returns": []},
    }
    assert info["unnamed_endpoints"] == {"4": {"parameters": [], "returns": []}}
    assert info["other"] == 1


def test_api_info_of_a_capture() -> None:
    raw = captures.info("6.31.0", all_endpoints=False)
    info = api_info(raw)
    assert set(info["named_endpoints"]) == set(raw["named_endpoints"])
    for name, entry in info["named_endpoints"].items():
        assert "code_snippets" not in entry and "api_visibility" not in entry
        assert entry["description"] == raw["named_endpoints"][name]["description"]
    assert json.loads(json.dumps(info)) == info


def test_labels_as_text() -> None:
    assert label_text(METADATA_LABEL) == "chatbot"
    assert label_text({"key": "plain"}) == "plain"
    assert label_text(None) == ""
    assert label_text(3) == "3"
    assert python_name("Some text!") == "some_text"
    assert python_name("Count (n)") == "count_n"
    assert python_name(METADATA_LABEL) == "chatbot"


def test_render_endpoint_corners() -> None:
    text = render_endpoint("/defaults", CORNERS["named_endpoints"]["/defaults"])
    url = FILE_DEFAULT["url"]
    assert text == (
        '\n - predict(name, times, image, files, choice, api_name="/defaults") -> (some_text, count_n)\n'
        "    Parameters:\n"
        "     - [Textbox] name: str (required)  \n"
        "     - [Number] times: float | None (not required, defaults to:   None)  \n"
        f'     - [Image] image: filepath (not required, defaults to:   handle_file("{url}"))  (A local filepath or URL.) \n'
        f"     - [File] files: list[filepath] (not required, defaults to:   ['handle_file(\"{url}\")', ['a', 1]])  \n"
        "     - [Textbox] choice: str (not required, defaults to:   b)  \n"
        "    Returns:\n"
        "     - [Textbox] some_text: str \n"
        "     - [Textbox] count_n: float (a number) \n"
    )
    token = render_endpoint("/token", CORNERS["named_endpoints"]["/token"])
    assert token == (
        '\n - predict(api_name="/token") -> \n'
        "    Acts on your behalf: this endpoint takes your Hugging Face token (required). "
        "Pass it with Client(..., oauth_token=...) to grant it.\n"
        "    Parameters:\n     - None\n    Returns:\n     - None\n"
    )
    assert render_endpoint(3, CORNERS["unnamed_endpoints"]["3"]).startswith("\n - predict(text_in, fn_index=3) -> output\n")


def test_metadata_labels_render_as_their_text() -> None:
    entry = {
        "parameters": [_parameter(label=METADATA_LABEL, parameter_name=None, component="Chatbot")],
        "returns": [_return(label=METADATA_LABEL, component="Chatbot"), _return(label=None)],
    }
    text = render_endpoint("/chat", entry)
    assert text.startswith('\n - predict(chatbot, api_name="/chat") -> (chatbot, )\n')
    assert "     - [Chatbot] chatbot: str (required)  \n" in text
    # and a whole app of them, as the all-endpoints description of a gradio 6 ChatInterface has
    info = {"named_endpoints": {f"/_submit_fn_{n}": entry for n in range(3)}, "unnamed_endpoints": {}}
    assert render_api(info, all_endpoints=True).count("[Chatbot] chatbot") == 6


def test_render_api_headers_and_unnamed_endpoints() -> None:
    only_unnamed = {"named_endpoints": {}, "unnamed_endpoints": CORNERS["unnamed_endpoints"]}
    shown = render_api(only_unnamed)  # no named endpoint: the unnamed ones are shown
    assert shown.startswith("Client.predict() Usage Info\n---------------------------\nNamed API endpoints: 0\n\nUnnamed API endpoints: 1\n")
    assert "fn_index=3" in shown and shown.endswith(" \n")
    hidden = render_api(only_unnamed, all_endpoints=False)
    assert hidden.endswith("\nUnnamed API endpoints: 1, to view, run Client.view_api(all_endpoints=True)\n")
    assert "fn_index" not in hidden
    assert "Unnamed" not in render_api({"named_endpoints": CORNERS["named_endpoints"], "unnamed_endpoints": {}})
    assert render_api(CORNERS, all_endpoints=True).count(" - predict(") == 4


def test_text_equals_the_official_clients_on_every_capture() -> None:
    infos = [api_info(json.loads((captures.CAPTURES / name).read_text())) for name in INFO_CAPTURES]
    infos.append(CORNERS)
    expected = official_texts(infos)
    for name, info, texts in zip([*INFO_CAPTURES, "corners"], infos, expected, strict=True):
        for key, all_endpoints in {"None": None, "True": True, "False": False}.items():
            assert render_api(info, all_endpoints) == texts[key], f"{name}, all_endpoints={key}"


def _app(version: str, with_public_info: bool):
    app = build_app(SRC, captures.config(version), captures.info(version))
    if with_public_info:
        import dataclasses

        app = dataclasses.replace(app, api_info=captures.info(version, all_endpoints=False))
    return app


def test_view_api_returns_and_prints_as_the_official_client(capsys) -> None:
    app = _app("6.31.0", with_public_info=True)
    text = view_text(app)
    assert view_api(app, None, True, None) is None
    assert capsys.readouterr().out == text + "\n"
    assert view_api(app, None, False, "str") == text
    info = view_api(app, True, False, "dict")
    assert info == api_info(captures.info("6.31.0", all_endpoints=False))
    info["named_endpoints"].clear()  # the caller's copy: the next call is whole again
    assert view_api(app, None, False, "dict")["named_endpoints"]
    assert capsys.readouterr().out == ""
    with pytest.raises(ArgumentError, match="return_format must be None, 'str' or 'dict', got 'json'"):
        view_api(app, None, True, "json")
    assert capsys.readouterr().out == ""


def test_without_a_public_description_the_app_model_describes_the_endpoints() -> None:
    app = _app("6.31.0", with_public_info=False)
    info = api_info_of_app(app)
    public = [e for e in app.endpoints if e.callable and e.visibility == "public"]
    assert set(info["named_endpoints"]) == {e.api_name for e in public if e.api_name}
    add = info["named_endpoints"]["/add"]
    assert set(add) == {"parameters", "returns"}
    assert [(p["parameter_name"], p["parameter_has_default"], p["parameter_default"]) for p in add["parameters"]] == [
        ("a", True, 1), ("b", False, None)]
    assert "predict(a, b, api_name=\"/add\") -> sum" in render_api(info)


def test_client_repr_without_a_connection() -> None:
    class Unconnected:
        src = SRC

        @property
        def app(self):
            from gradio_jobs import GradioJobsError

            raise GradioJobsError("not connected")

    assert client_repr(Unconnected(), "AsyncClient") == f"<AsyncClient {SRC} (not connected)>"
    assert client_repr(None, "Client") == "<Client ? (not connected)>"
