"""What code written for gradio_client 2.7.2 reads and passes, against real servers.

``tests/apps/dropin_app.py`` on every requested server generation: a call's own headers,
``x-gradio-user: api``, the ZeroGPU token of the request a Gradio handler serves, the
``oauth_token`` of endpoints that take a ``gr.OAuthToken``, the client's attributes, and
``async for update in job`` on the sync ``Job``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from gradio_jobs import AsyncClient, Client, OutputUpdate, Status, StatusUpdate
from hub import HubStandIn, hub_behind_hf_endpoint
from servers import ALL_VERSIONS, GradioServer, missing_venv_reason, requested_versions, start_many, venv_exists

VERSIONS = requested_versions(ALL_VERSIONS)


@pytest.fixture(scope="module")
def dropin_servers() -> Iterator[dict[str, GradioServer]]:
    present = [v for v in VERSIONS if venv_exists(v)]
    servers = start_many([GradioServer(v, app="dropin_app") for v in present])
    try:
        yield dict(zip(present, servers))
    finally:
        for srv in servers:
            srv.stop()


@pytest.fixture(params=VERSIONS, ids=lambda v: f"gradio-{v}")
def app(request, dropin_servers) -> GradioServer:
    if request.param not in dropin_servers:
        pytest.skip(missing_venv_reason(request.param))
    return dropin_servers[request.param]


@pytest.fixture
def hub(monkeypatch, tmp_path) -> Iterator[HubStandIn]:
    with hub_behind_hf_endpoint(monkeypatch, tmp_path) as h:
        yield h


def major(server: GradioServer) -> int:
    return int(server.version.split(".")[0])


# -- a call's own headers ------------------------------------------------------------------


def test_a_calls_headers_reach_the_app_over_the_clients(app) -> None:
    with Client(app.url, verbose=False, headers={"x-team": "client", "x-only-client": "yes"}) as client:
        assert client.predict("x-team", api_name="/header", headers={"x-team": "call"}) == "call"
        assert client.predict("x-only-client", api_name="/header", headers={"x-team": "call"}) == "yes"
        # the next call, without headers of its own, is back to the client's
        assert client.predict("x-team", api_name="/header") == "client"
        job = client.submit("x-team", api_name="/header", headers={"x-team": "submitted"})
        assert job.result(timeout=60) == "submitted"


def test_every_call_says_it_comes_from_the_api(app) -> None:
    with Client(app.url, verbose=False) as client:
        assert client.predict("x-gradio-user", api_name="/header") == "api"
        # a call may say otherwise
        assert client.predict("x-gradio-user", api_name="/header", headers={"x-gradio-user": "me"}) == "me"


def test_a_calls_headers_reach_an_endpoint_outside_the_queue(app) -> None:
    with Client(app.url, verbose=False) as client:
        assert client.predict("x-team", api_name="/header_direct", headers={"x-team": "direct"}) == "direct"


async def test_a_calls_headers_reach_the_app_async(app) -> None:
    async with AsyncClient(app.url, verbose=False, headers={"x-team": "client"}) as client:
        assert await client.predict("x-team", api_name="/header", headers={"x-team": "call"}) == "call"
        assert await client.submit("x-gradio-user", api_name="/header") == "api"


def test_headers_that_are_no_mapping_of_strings_are_refused_before_sending(app) -> None:
    with Client(app.url, verbose=False) as client:
        with pytest.raises(TypeError, match="headers must be a mapping"):
            client.submit("x", api_name="/header", headers=[("x-team", "a")])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="headers must be a mapping"):
            client.submit("x", api_name="/header", headers={"x-team": 1})  # type: ignore[dict-item]


# -- the token of the user a Gradio app serves (ZeroGPU) -------------------------------------


def _serving(headers: dict[str, str]):
    """Run as gradio does while a handler of an app serves a request with ``headers``."""
    from gradio.context import LocalContext

    return LocalContext.request.set(SimpleNamespace(headers=httpx.Headers(headers)))


def test_a_space_client_inside_a_handler_passes_the_users_zero_gpu_token_on(app, hub) -> None:
    hub.add_space("owner/zero", host=app.url)
    from gradio.context import LocalContext

    with Client("owner/zero", verbose=False) as client:
        assert client.predict("x-ip-token", api_name="/header") == "<none>"  # not serving anyone
        reset = _serving({"x-ip-token": "user-token"})
        try:
            assert client.predict("x-ip-token", api_name="/header") == "user-token"
            assert client.add_zero_gpu_headers({"a": "b"}) == {"a": "b", "x-ip-token": "user-token"}
        finally:
            LocalContext.request.reset(reset)


def test_a_url_client_never_passes_a_zero_gpu_token_on(app) -> None:
    from gradio.context import LocalContext

    with Client(app.url, verbose=False) as client:
        reset = _serving({"x-ip-token": "user-token"})
        try:
            # the official client forwards the token to Spaces only
            assert client.predict("x-ip-token", api_name="/header") == "<none>"
            assert client.add_zero_gpu_headers({"a": "b"}) == {"a": "b"}
        finally:
            LocalContext.request.reset(reset)


# -- oauth_token -----------------------------------------------------------------------------


def test_oauth_token_goes_to_the_endpoints_that_take_one(app) -> None:
    if major(app) < 6:
        pytest.skip("gr.OAuthToken through the API needs gradio 6")
    with Client(app.url, verbose=False, oauth_token="hf_user") as client:
        assert client.oauth_token == "hf_user"
        assert client.predict("hi", api_name="/oauth") == "hf_user"
    with Client(app.url, verbose=False) as client:
        assert client.predict("hi", api_name="/oauth") == "<none>"


# -- the client's attributes -------------------------------------------------------------------


def test_the_clients_attributes_are_gradio_clients(app, tmp_path) -> None:
    config = httpx.get(app.url + "config").json()
    with Client(app.url, "hf_secret", verbose=False, download_files=str(tmp_path), headers={"x-a": "b"}) as client:
        assert client.src == app.url
        assert client.token == "hf_secret"
        assert client.space_id is None
        assert client.config == config
        assert client.protocol == config.get("protocol", "ws")
        assert str(client.app_version) == app.version
        assert client.upload_url.startswith(app.url) and client.upload_url.endswith("upload")
        assert client.output_dir == str(tmp_path)
        assert client.headers["x-a"] == "b"
        assert client.headers["x-hf-authorization"] == "Bearer hf_secret"
        assert isinstance(client.cookies, dict)
        assert isinstance(client.session_hash, str) and len(client.session_hash) > 8
        named = {e.api_name for e in client.endpoints.values()}
        assert {"/header", "/count"} <= named
        assert sorted(client.endpoints) == sorted(e.fn_index for e in client.endpoints.values())


def test_hf_token_is_still_accepted(app) -> None:
    with Client(app.url, hf_token="hf_old", verbose=False) as client:
        assert client.token == "hf_old"
    with pytest.raises(TypeError, match="token"):
        Client(app.url, "a", hf_token="b", verbose=False)


# -- async for update in job -------------------------------------------------------------------


async def test_async_for_on_a_sync_job_yields_its_updates(app) -> None:
    with Client(app.url, verbose=False) as client:
        job = client.submit(4, api_name="/count")
        updates = [update async for update in job]
    outputs = [u for u in updates if isinstance(u, OutputUpdate)]
    statuses = [u for u in updates if isinstance(u, StatusUpdate)]
    assert [u.outputs for u in outputs if not u.final] == ["0", "1", "2", "3"]
    assert outputs[-1].final and outputs[-1].success and outputs[-1].outputs == "3"
    assert statuses[-1].code is Status.FINISHED and statuses[-1].success
    assert all(u.type == "output" for u in outputs) and all(u.type == "status" for u in statuses)


async def test_async_for_on_a_sync_job_ends_with_its_failure(app) -> None:
    with Client(app.url, verbose=False) as client:
        job = client.submit("not a number", api_name="/count")
        updates = [update async for update in job]
    final = [u for u in updates if isinstance(u, OutputUpdate) and u.final]
    assert len(final) == 1 and final[0].success is False and isinstance(final[0].outputs, Exception)
    assert job.done()


async def test_two_readers_on_other_loops_see_the_same_updates(app) -> None:
    with Client(app.url, verbose=False) as client:
        job = client.submit(3, api_name="/count")

        async def read() -> list[object]:
            return [u.outputs for u in [x async for x in job] if isinstance(u, OutputUpdate)]

        here = asyncio.create_task(read())
        there = await asyncio.to_thread(asyncio.run, read())
        assert await here == there == ["0", "1", "2", "2"]
        assert json.dumps(there)


def test_next_on_a_job_takes_its_outputs_in_turn(app) -> None:
    with Client(app.url, verbose=False) as client:
        job = client.submit(3, api_name="/count")
        assert [next(job), next(job), next(job)] == ["0", "1", "2"]
        with pytest.raises(StopIteration):
            next(job)
        assert list(job) == ["0", "1", "2"]  # a for loop starts at the first output
