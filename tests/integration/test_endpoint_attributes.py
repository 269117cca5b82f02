"""``client.endpoints`` against the official ``gradio_client`` 2.7.2, attribute by attribute.

For each server generation (3.50.2 to 6.31.0) the test apps run on real servers; the official
client (installed in the gradio-6.31.0 venv) lists each app's endpoints in a subprocess and
prints every public attribute of each of its ``Endpoint`` objects (``fn_index``, ``api_name``,
``root_url``, ``is_valid``, ``api_visibility``, ``backend_fn``, ``dependency``, ``protocol``,
``parameters_info``, ``oauth_token_requirement``, ``input_component_types``,
``output_component_types``, ``repr``/``str``, ``oauth_token_payload()``, and whether
``client`` is the client). Our ``Client`` and ``AsyncClient`` must give equal values, under the
same keys and in the same order.

Apps: core_app (every kind of endpoint: State, files, undocumented, private, JavaScript-only,
``queue=False``, an unload handler), chat_app (``gr.ChatInterface``'s internal endpoints),
docs_app (an unnamed endpoint, a FileData default), oauth_app (``gr.OAuthToken``, required and
optional; from 4.16) and files_app (Image, Files, Gallery, MultimodalTextbox; from 4.44.1).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from gradio_jobs import AsyncClient, Client
from gradio_jobs.client import DEFAULT_TEMP_DIR, ComponentApiType, Endpoint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from official_client import OFFICIAL_VERSION, run_official
from servers import (
    ALL_VERSIONS,
    GradioServer,
    missing_venv_reason,
    requested_versions,
    start_many,
    venv_exists,
    venv_python,
)

pytestmark = pytest.mark.server

OAUTH_TOKEN = "oauth-tok"

#: Prints, for each app URL given (a JSON object name -> URL), every public attribute of each
#: of the official client's endpoints, and its DEFAULT_TEMP_DIR.
OFFICIAL_SCRIPT = r"""
import dataclasses, json, sys
import gradio_client
from gradio_client import Client
from gradio_client.client import DEFAULT_TEMP_DIR
assert gradio_client.__version__ == "2.7.2", gradio_client.__version__

def describe(e, client):
    return {
        "fn_index": e.fn_index,
        "api_name": e.api_name,
        "root_url": e.root_url,
        "is_valid": e.is_valid,
        "api_visibility": e.api_visibility,
        "backend_fn": e.backend_fn,
        "dependency": e.dependency,
        "protocol": e.protocol,
        "parameters_info": e.parameters_info,
        "oauth_token_requirement": e.oauth_token_requirement,
        "input_component_types": [dataclasses.asdict(t) for t in e.input_component_types],
        "output_component_types": [dataclasses.asdict(t) for t in e.output_component_types],
        "repr": repr(e),
        "str": str(e),
        "oauth_token_payload": e.oauth_token_payload(),
        "client_is_the_client": e.client is client,
    }

out = {"DEFAULT_TEMP_DIR": DEFAULT_TEMP_DIR, "apps": {}}
for name, url in json.loads(sys.argv[1]).items():
    client = Client(url, verbose=False, oauth_token=sys.argv[2])
    out["apps"][name] = [[key, describe(e, client)] for key, e in client.endpoints.items()]
    client.close()
print(json.dumps(out))
"""


def describe(endpoint: Endpoint[Any], client: Any) -> dict[str, Any]:
    """Our view's attributes, read as the official script reads the official ones."""
    return {
        "fn_index": endpoint.fn_index,
        "api_name": endpoint.api_name,
        "root_url": endpoint.root_url,
        "is_valid": endpoint.is_valid,
        "api_visibility": endpoint.api_visibility,
        "backend_fn": endpoint.backend_fn,
        "dependency": endpoint.dependency,
        "protocol": endpoint.protocol,
        "parameters_info": endpoint.parameters_info,
        "oauth_token_requirement": endpoint.oauth_token_requirement,
        "input_component_types": [dataclasses.asdict(t) for t in endpoint.input_component_types],
        "output_component_types": [dataclasses.asdict(t) for t in endpoint.output_component_types],
        "repr": repr(endpoint),
        "str": str(endpoint),
        "oauth_token_payload": endpoint.oauth_token_payload(),
        "client_is_the_client": endpoint.client is client,
    }


def listing(endpoints: dict[int, Endpoint[Any]], client: Any) -> list[Any]:
    """``client.endpoints`` as JSON (what the official script prints), keys and order kept."""
    return json.loads(json.dumps([[key, describe(e, client)] for key, e in endpoints.items()]))


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2])


def apps_for(version: str) -> list[str]:
    """The test apps that run on ``version``."""
    apps = ["core_app", "chat_app", "docs_app"]
    if _version_tuple(version) >= (4, 16):
        apps.append("oauth_app")
    if _version_tuple(version) >= (4, 44):
        apps.append("files_app")
    return apps


CASES = [(v, app) for v in requested_versions(ALL_VERSIONS) for app in apps_for(v)]


def official_listing(urls: dict[str, str]) -> dict[str, Any]:
    """What gradio_client 2.7.2 says about the apps at ``urls`` (see ``OFFICIAL_SCRIPT``)."""
    result: dict[str, Any] = run_official(OFFICIAL_SCRIPT, json.dumps(urls), OAUTH_TOKEN, env={"HF_HUB_OFFLINE": "1"})
    return result


class _Fleet:
    """The servers of one version at a time (all its apps start together on first use, the
    previous version's stop), and what the official client says about them (asked once)."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.servers: dict[str, GradioServer] = {}
        self.errors: dict[str, BaseException] = {}
        self.official: dict[str, Any] | None = None

    def get(self, version: str, app: str) -> tuple[GradioServer, list[Any]]:
        if not venv_exists(version):
            pytest.skip(missing_venv_reason(version))
        if version != self.version:
            self.stop()
            self.version = version
            apps = apps_for(version)
            started = start_many([GradioServer(version, app=a) for a in apps], return_exceptions=True)
            for a, result in zip(apps, started, strict=True):
                if isinstance(result, BaseException):
                    self.errors[a] = result
                else:
                    self.servers[a] = result
            self.official = official_listing({a: s.url for a, s in self.servers.items()})
        if app in self.errors:
            pytest.fail(f"{app} did not start on gradio {version}:\n{self.errors[app]}", pytrace=False)
        assert self.official is not None
        return self.servers[app], self.official["apps"][app]

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.stop()
        self.servers.clear()
        self.errors.clear()
        self.official = None
        self.version = None


@pytest.fixture(scope="module")
def fleet():
    f = _Fleet()
    try:
        yield f
    finally:
        f.stop()


def assert_same(ours: list[Any], official: list[Any]) -> None:
    """The two listings are equal: the same keys in the same order, then each attribute of
    each endpoint (compared one by one, so a failure names the endpoint and the attribute)."""
    assert [key for key, _ in ours] == [key for key, _ in official]
    for (key, mine), (_, theirs) in zip(ours, official, strict=True):
        assert mine.keys() == theirs.keys()
        for attribute in theirs:
            assert mine[attribute] == theirs[attribute], f"endpoint {key}: {attribute}"


def newest_requested() -> str:
    return max(requested_versions(ALL_VERSIONS), key=lambda v: tuple(int(p) for p in v.split(".")))


def test_the_apps_cover_every_kind_of_endpoint(fleet: _Fleet) -> None:
    """The comparison above means something: across the apps of the newest requested version
    there are private, undocumented and JS-only endpoints, State and file components, a
    parameter listing and (on 6.x) an OAuth requirement, all compared."""
    version = newest_requested()
    seen: list[dict[str, Any]] = []
    for app in apps_for(version):
        seen += [e for _, e in fleet.get(version, app)[1]]
    assert any(not e["is_valid"] for e in seen)
    assert any(e["backend_fn"] is False for e in seen)
    assert any(t["is_state"] for e in seen for t in e["input_component_types"])
    assert any(t["value_is_file"] for e in seen for t in e["input_component_types"] + e["output_component_types"])
    assert any(e["parameters_info"] for e in seen) and any(e["parameters_info"] is None for e in seen)
    if version.startswith("6."):
        assert {e["oauth_token_requirement"] for e in seen} >= {"required", "optional", None}
        assert any(e["oauth_token_payload"] for e in seen)


def test_default_temp_dir_is_the_official_value(fleet: _Fleet) -> None:
    version = newest_requested()
    fleet.get(version, "core_app")
    assert fleet.official is not None
    assert fleet.official["DEFAULT_TEMP_DIR"] == DEFAULT_TEMP_DIR
    assert isinstance(DEFAULT_TEMP_DIR, str)


def test_default_temp_dir_follows_gradio_temp_dir(tmp_path: Path) -> None:
    """With ``$GRADIO_TEMP_DIR`` set, both constants are that folder, read at import."""
    if not venv_exists(OFFICIAL_VERSION):
        pytest.skip(missing_venv_reason(OFFICIAL_VERSION))
    env = dict(os.environ, GRADIO_TEMP_DIR=str(tmp_path / "elsewhere"), HF_HUB_OFFLINE="1")
    code = "import sys; from {}.client import DEFAULT_TEMP_DIR; print(DEFAULT_TEMP_DIR)"
    found = [
        subprocess.run(
            [str(python), "-c", code.format(package)], capture_output=True, text=True, timeout=120, env=env, check=True
        ).stdout.strip()
        for python, package in ((venv_python(OFFICIAL_VERSION), "gradio_client"), (Path(sys.executable), "gradio_jobs"))
    ]
    assert found == [str(tmp_path / "elsewhere")] * 2


def test_views_hold_their_client_weakly(fleet: _Fleet) -> None:
    """As in gradio_client: the views do not keep the client alive; once it is collected,
    ``endpoint.client`` raises ValueError, and the computed attributes stay readable."""
    version = newest_requested()
    server, official = fleet.get(version, "core_app")
    client = Client(server.url, verbose=False)
    endpoints = client.endpoints
    view = next(iter(endpoints.values()))
    expected_repr = repr(view)
    collected = weakref.ref(client)
    client.close()
    del client
    gc.collect()
    assert collected() is None
    with pytest.raises(ValueError, match="garbage collected"):
        view.client  # noqa: B018
    assert repr(view) == expected_repr == official[0][1]["repr"]
    assert view.api_name == official[0][1]["api_name"]


def test_unknown_attribute_is_a_clear_attribute_error(fleet: _Fleet) -> None:
    version = newest_requested()
    server, _ = fleet.get(version, "core_app")
    with Client(server.url, verbose=False) as client:
        view = next(iter(client.endpoints.values()))
        with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
            view.no_such_thing  # noqa: B018
        assert "parameters" in dir(view) and "root_url" in dir(view)
        assert all(isinstance(t, ComponentApiType) for t in view.input_component_types)


@pytest.mark.parametrize("version,app", CASES, ids=[f"gradio-{v}-{a}" for v, a in CASES])
def test_endpoints_equal_the_official(fleet: _Fleet, version: str, app: str) -> None:
    """Client and AsyncClient, each endpoint, each attribute, equal to gradio_client's."""
    server, official = fleet.get(version, app)
    assert official  # every app has endpoints: something is compared
    with Client(server.url, verbose=False, oauth_token=OAUTH_TOKEN) as client:
        endpoints = client.endpoints
        ours = listing(endpoints, client)
        assert client.endpoints is endpoints  # one dict, as the official client's attribute
        # The view sits over our own model of the endpoint, whose names stay reachable.
        models = {m.fn_index: m for m in client.app.endpoints}
        for key, view in endpoints.items():
            assert view.model is models[key]
            assert view.parameters == view.model.parameters and view.label == view.model.label
    assert_same(ours, official)

    async def read() -> list[Any]:
        async with AsyncClient(server.url, verbose=False, oauth_token=OAUTH_TOKEN) as aclient:
            return listing(aclient.endpoints, aclient)

    assert_same(asyncio.run(read()), official)
