"""``view_api()`` and ``repr(client)`` against the official ``gradio_client`` 2.7.2, on real apps.

For each server generation (3.50.2 to 6.31.0) the test apps run on real servers; the official
client (installed in the gradio-6.31.0 venv) describes each app in a subprocess, and our
``Client`` and ``AsyncClient`` must give the same dict (==), the same text, print the same, and
``repr``/``str`` the same, for ``all_endpoints`` None, True and False.

The one place the texts are allowed to differ: gradio 6 labels some components with
translation metadata (a dict); the official text shows such a label as ``key`` (it keeps the
alphanumeric dict keys), ours as the label's text (``chatbot``). That case is checked exactly.

Apps: core_app (every kind of endpoint, undocumented and private ones), chat_app
(``gr.ChatInterface``), docs_app (docstrings, ``api_description``, a FileData default,
punctuated labels, an unlabelled ``gr.Chatbot``, an unnamed endpoint), oauth_app (``gr.OAuthToken``,
required and optional; from gradio 4.16, the first of our versions that has it), files_app
(Image, Files, Gallery, MultimodalTextbox; from 4.44.1, the versions it is written for) and
plain_app (a 3.x app without a queue).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from gradio_jobs import AsyncClient, Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from official_client import run_official
from servers import ALL_VERSIONS, GradioServer, requested_versions, start_many, venv_exists  # noqa: E402

ALL_ENDPOINTS = {"None": None, "True": True, "False": False}

OFFICIAL_SCRIPT = """
import json, sys
import gradio_client
from gradio_client import Client
assert gradio_client.__version__ == "2.7.2", gradio_client.__version__
client = Client(sys.argv[1], verbose=False)
out = {"repr": repr(client), "str": str(client), "dict": {}, "text": {}}
for key, value in {"None": None, "True": True, "False": False}.items():
    out["dict"][key] = client.view_api(all_endpoints=value, return_format="dict", print_info=False)
    out["text"][key] = client.view_api(all_endpoints=value, return_format="str", print_info=False)
print(json.dumps(out))
"""


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2])


def apps_for(version: str) -> list[str]:
    """The test apps that run on ``version``."""
    apps = ["core_app", "chat_app", "docs_app"]
    if _version_tuple(version) >= (4, 16):
        apps.append("oauth_app")
    if _version_tuple(version) >= (4, 44):
        apps.append("files_app")
    if version.startswith("3."):
        apps.append("plain_app")
    return apps


CASES = [(v, app) for v in requested_versions(ALL_VERSIONS) for app in apps_for(v)]


class _Fleet:
    """The servers of one version at a time: all its apps start together on first use, and
    the previous version's stop (eight versions of five apps at once would not fit)."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.servers: dict[str, GradioServer] = {}
        self.errors: dict[str, BaseException] = {}

    def get(self, version: str, app: str) -> GradioServer:
        if version != self.version:
            self.stop()
            self.version = version
            apps = apps_for(version)
            started = start_many([GradioServer(version, app=a) for a in apps], return_exceptions=True)
            for a, result in zip(apps, started):
                if isinstance(result, BaseException):
                    self.errors[a] = result
                else:
                    self.servers[a] = result
        if app in self.errors:
            pytest.fail(f"{app} did not start on gradio {version}:\n{self.errors[app]}", pytrace=False)
        return self.servers[app]

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.stop()
        self.servers.clear()
        self.errors.clear()
        self.version = None


@pytest.fixture(scope="module")
def fleet():
    f = _Fleet()
    try:
        yield f
    finally:
        f.stop()


def official_view(url: str) -> dict:
    """What gradio_client 2.7.2 says about the app at ``url``: its repr, str, and view_api's
    dict and text for each ``all_endpoints`` value."""
    result: dict = run_official(OFFICIAL_SCRIPT, url, env={"HF_HUB_OFFLINE": "1"}, timeout=120)
    return result


def _has_metadata_label(info: dict) -> bool:
    entries = [*info["named_endpoints"].values(), *info["unnamed_endpoints"].values()]
    return any(isinstance(item.get("label"), dict) for e in entries for item in e["parameters"] + e["returns"])


def _metadata_labels_as_text(official_text: str, info: dict) -> str:
    """The official text with each translation-metadata label shown as its text (``chatbot``)
    where the official client shows ``key``: only in the spots where such a label is used."""
    text = official_text
    for name, entry in info["named_endpoints"].items():
        for r in entry["returns"]:
            if isinstance(r["label"], dict):
                plain = r["label"]["key"].rsplit(".", 1)[-1]
                text = text.replace(f'api_name="{name}") -> key\n', f'api_name="{name}") -> {plain}\n')
                text = text.replace(f"     - [{r['component']}] key: ", f"     - [{r['component']}] {plain}: ")
        for p in entry["parameters"]:
            if isinstance(p["label"], dict) and not p.get("parameter_name"):
                raise AssertionError("a metadata label used as a parameter name: extend this helper")
    return text


def _check_app_specifics(client: Client, version: str, app: str, info: dict, text: str) -> None:
    """What each app is there to show, beyond equality with the official client."""
    named = info["named_endpoints"]
    if app == "chat_app":
        # the ChatInterface's internal endpoints are undocumented (on 6.x with metadata labels):
        # the official view leaves them out, and so do we, without tripping over their labels
        internal = [e for e in client.app.endpoints if e.api_name and e.visibility != "public"]
        assert not any(e.api_name in named for e in internal)
        if _version_tuple(version) >= (4, 44):  # named but hidden from 4.44 on (unnamed before)
            assert internal
        if version.startswith("6."):
            assert any(isinstance(p.label, dict) for e in internal for p in e.parameters)
    if app == "docs_app" and _version_tuple(version) >= (5, 0):  # servers send descriptions from 5.x
        assert named["/greet"]["description"].startswith("Greet someone.")
        assert named["/described"]["description"] == "Reverse a string."
    if app == "docs_app" and _version_tuple(version) >= (5, 0):  # gr.I18n labels: metadata dicts
        assert isinstance(named["/turns"]["returns"][0]["label"], dict)
        assert '(history, api_name="/turns") -> turns\n' in text
    if app == "oauth_app" and version.startswith("6."):  # 6.x marks gr.OAuthToken endpoints
        assert named["/whoami"]["oauth_token"] == "required"
        assert named["/maybe"]["oauth_token"] == "optional"
        assert "oauth_token" not in named["/plain"]
        assert "token (required). Pass it with Client(..., oauth_token=...) to grant it." in text
        assert "token (optional). Pass it with Client(..., oauth_token=...) to grant it." in text
        assert text.count("Acts on your behalf") == 2
    if app == "core_app":
        # undocumented and private endpoints are not in the official view (3.x cannot hide one)
        assert "/priv" not in named
        assert ("/hidden" in named) == (client.app.endpoint("/hidden").visibility == "public")


async def _async_view(url: str) -> tuple[str, str, dict, str, str]:
    client = AsyncClient(url, verbose=False)
    before = repr(client)
    try:
        info = await client.view_api(return_format="dict", print_info=False)
        text = await client.view_api(all_endpoints=True, return_format="str", print_info=False)
        connected = repr(client)
        assert str(client) == connected
    finally:
        await client.close()
    return before, connected, info, text, repr(client)


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("version", "app"), CASES, ids=[f"gradio-{v}-{a}" for v, a in CASES])
def test_view_api_equals_the_official_clients(fleet, version, app, capsys) -> None:
    if not venv_exists(version):
        pytest.skip(f"no server venv for gradio {version}")
    server = fleet.get(version, app)
    official = official_view(server.url)
    texts = {}
    for key, info in official["dict"].items():
        texts[key] = official["text"][key]
        if _has_metadata_label(info):
            assert ") -> key\n" in texts[key]  # the official rendering this test corrects for
            texts[key] = _metadata_labels_as_text(texts[key], info)
    plain_repr = _metadata_labels_as_text(official["repr"], official["dict"]["None"])
    assert official["str"] == official["repr"] == official["text"]["None"]
    capsys.readouterr()
    with Client(server.url, verbose=False) as client:
        for key, all_endpoints in ALL_ENDPOINTS.items():
            info = official["dict"][key]
            assert client.view_api(all_endpoints=all_endpoints, return_format="dict", print_info=False) == info
            assert client.view_api(all_endpoints=all_endpoints, return_format="str", print_info=False) == texts[key]
            assert capsys.readouterr().out == ""
            assert client.view_api(all_endpoints=all_endpoints) is None
            assert capsys.readouterr().out == texts[key] + "\n"
        assert repr(client) == plain_repr and str(client) == plain_repr
        _check_app_specifics(client, version, app, official["dict"]["None"], texts["None"])
        # the endpoints listed are the app model's public ones, which carry what the dict does not
        # (fn_index, is_generator, visibility)
        public = {e.api_name for e in client.app.endpoints if e.callable and e.visibility == "public" and e.api_name}
        assert set(official["dict"]["None"]["named_endpoints"]) == public
    assert repr(client) == plain_repr  # still readable once closed, as the official client's

    before, connected, info, text, closed = asyncio.run(_async_view(server.url))
    assert before == f"<AsyncClient {server.url} (not connected)>"
    assert info == official["dict"]["None"]
    assert text == texts["True"]
    assert connected == closed == plain_repr
