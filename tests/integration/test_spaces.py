"""Space ids resolved through huggingface_hub against a stand-in Hub (tests/hub.py), with a
real Gradio server (or a FaultProxy in front of it) as the app behind each Space."""

from __future__ import annotations

import logging
import time

import pytest

from gradio_jobs import AsyncClient, Client, SpaceError, SpaceNotFoundError, SpaceUnavailableError
from gradio_jobs._spaces import resolve_space
from hub import HubStandIn, hub_behind_hf_endpoint
from proxy import FaultProxy


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A stand-in Hub behind ``HF_ENDPOINT``, and no stored token from the real machine."""
    with hub_behind_hf_endpoint(monkeypatch, tmp_path) as h:
        yield h


def building_then_running(hub: HubStandIn, space_id: str, polls: int):
    """BUILDING for the first ``polls`` runtime polls, then RUNNING."""
    return lambda: "BUILDING" if hub.runtime_polls(space_id) <= polls else "RUNNING"


def auth_headers(hub: HubStandIn, space_id: str) -> set:
    return {r.headers.get("authorization") for r in hub.requests_for(space_id)}


# -- a Space that runs (or gets there) -------------------------------------------------------


def test_running_space(hub, server) -> None:
    hub.add_space("owner/app", host=server.url)
    with Client("owner/app", verbose=False) as client:
        assert client.src == server.url
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert hub.runtime_polls("owner/app") == 1


async def test_running_space_async(hub, server) -> None:
    hub.add_space("owner/app", host=server.url.rstrip("/"))  # the Hub's host has no slash
    async with AsyncClient("owner/app", verbose=False) as client:
        assert client.src == server.url
        assert await client.predict(2, 3, api_name="/add") == 5.0


def test_space_page_url_resolves_like_the_id(hub, server) -> None:
    hub.add_space("owner/app", host=server.url)
    with Client("https://huggingface.co/spaces/owner/app", verbose=False) as client:
        assert client.src == server.url
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert [r.path for r in hub.requests_for("owner/app")] == ["/api/spaces/owner/app", "/api/spaces/owner/app/runtime"]


def test_sleeping_space_is_woken(hub, server) -> None:
    with FaultProxy(server.port) as proxy:
        awake_at: list[int] = []

        def stage() -> str:
            if proxy.accepted == 0:
                return "SLEEPING"
            polls = hub.runtime_polls("owner/nap")
            if not awake_at:
                awake_at.append(polls)
            return "APP_STARTING" if polls == awake_at[0] else "RUNNING"

        hub.add_space("owner/nap", host=proxy.url, stage=stage)
        with Client("owner/nap", verbose=False, space_timeout=10) as client:
            # the first request the Space's host saw was the wake-up, before any app call
            assert proxy.requests[0].startswith("GET / ")
            assert client.src == proxy.url
            assert client.predict(2, 3, api_name="/add") == 5.0
        assert awake_at and hub.runtime_polls("owner/nap") == awake_at[0] + 1


async def test_sleeping_space_is_woken_async(hub, server) -> None:
    with FaultProxy(server.port) as proxy:
        hub.add_space("owner/nap", host=proxy.url, stage=lambda: "SLEEPING" if proxy.accepted == 0 else "RUNNING")
        async with AsyncClient("owner/nap", verbose=False, space_timeout=10) as client:
            assert proxy.requests[0].startswith("GET / ")
            assert await client.predict(2, 3, api_name="/add") == 5.0


def test_building_space_is_waited_for(hub, server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="gradio_jobs")
    hub.add_space("owner/build", host=server.url, stage=building_then_running(hub, "owner/build", 2))
    with Client("owner/build", verbose=False, space_timeout=10) as client:
        assert hub.runtime_polls("owner/build") == 3
        assert client.predict(2, 3, api_name="/add") == 5.0
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Space owner/build")]
    assert logged == ["Space owner/build is BUILDING; waiting…"]  # once per stage, not once per poll


async def test_building_space_is_waited_for_async(hub, server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="gradio_jobs")
    script = {1: "BUILDING", 2: "APP_STARTING"}  # runtime poll -> stage
    hub.add_space("owner/build", host=server.url, stage=lambda: script.get(hub.runtime_polls("owner/build"), "RUNNING"))
    async with AsyncClient("owner/build", verbose=False, space_timeout=10) as client:
        assert hub.runtime_polls("owner/build") == 3
        assert await client.predict(2, 3, api_name="/add") == 5.0
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Space owner/build")]
    assert logged == ["Space owner/build is BUILDING; waiting…", "Space owner/build is APP_STARTING; waiting…"]


# -- a Space that cannot serve ---------------------------------------------------------------


def test_building_forever_times_out(hub, server) -> None:
    hub.add_space("owner/stuck", host=server.url, stage="BUILDING")
    t0 = time.monotonic()
    with pytest.raises(SpaceUnavailableError) as info:
        Client("owner/stuck", verbose=False, space_timeout=1.5)
    elapsed = time.monotonic() - t0
    assert info.value.timed_out and info.value.stage == "BUILDING" and info.value.space_id == "owner/stuck"
    assert "still BUILDING after 1.5 s" in str(info.value) and "space_timeout=" in str(info.value)
    assert 1.4 < elapsed < 5.0
    assert hub.runtime_polls("owner/stuck") >= 3


@pytest.mark.parametrize(
    "stage,meaning", [("PAUSED", "paused by its owner"), ("RUNTIME_ERROR", "crashed"), ("BUILD_ERROR", "build failed")]
)
def test_space_that_cannot_serve(hub, server, stage, meaning) -> None:
    hub.add_space("owner/down", host=server.url, stage=stage)
    with pytest.raises(SpaceUnavailableError) as info:
        Client("owner/down", verbose=False)
    assert info.value.stage == stage and not info.value.timed_out
    assert stage in str(info.value) and meaning in str(info.value) and "owner/down" in str(info.value)
    assert hub.runtime_polls("owner/down") == 1  # no waiting for what waiting cannot fix


async def test_paused_space_async(hub, server) -> None:
    hub.add_space("owner/down", host=server.url, stage="PAUSED")
    with pytest.raises(SpaceUnavailableError) as info:
        async with AsyncClient("owner/down", verbose=False):
            pass
    assert info.value.stage == "PAUSED" and "only the owner can restart it" in str(info.value)


def test_missing_space(hub, server) -> None:
    hub.add_space("owner/app", host=server.url)
    with pytest.raises(SpaceNotFoundError) as info:
        Client("owner/nope", verbose=False)
    assert info.value.space_id == "owner/nope" and "owner/nope" in str(info.value)
    assert isinstance(info.value, ValueError)


# -- private Spaces and tokens -----------------------------------------------------------------


def test_private_space_without_token(hub, server) -> None:
    hub.add_space("owner/secret", host=server.url, private=True, token="hf_test")
    with pytest.raises(SpaceNotFoundError) as info:
        Client("owner/secret", verbose=False)
    assert "owner/secret" in str(info.value) and "hf_token=" in str(info.value)
    assert auth_headers(hub, "owner/secret") == {None}


def test_private_space_with_token(hub, server) -> None:
    hub.add_space("owner/secret", host=server.url, private=True, token="hf_test")
    with Client("owner/secret", hf_token="hf_test", verbose=False) as client:
        assert client.src == server.url
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert auth_headers(hub, "owner/secret") == {"Bearer hf_test"}
    assert hub.runtime_polls("owner/secret") == 1


async def test_private_space_with_token_async(hub, server) -> None:
    hub.add_space("owner/secret", host=server.url, private=True, token="hf_test")
    async with AsyncClient("owner/secret", hf_token="hf_test", verbose=False) as client:
        assert await client.predict(2, 3, api_name="/add") == 5.0
    assert auth_headers(hub, "owner/secret") == {"Bearer hf_test"}


def test_private_space_with_stored_token(hub, server, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_stored")
    hub.add_space("owner/secret", host=server.url, private=True, token="hf_stored")
    with Client("owner/secret", verbose=False) as client:
        assert client.src == server.url
    assert auth_headers(hub, "owner/secret") == {"Bearer hf_stored"}


def test_private_space_with_wrong_token(hub, server) -> None:
    hub.add_space("owner/secret", host=server.url, private=True, token="hf_test")
    with pytest.raises(SpaceNotFoundError) as info:
        Client("owner/secret", hf_token="hf_wrong", verbose=False)
    assert "refused the token" in str(info.value)


# -- without an app: the Hub side alone --------------------------------------------------------


async def test_wake_request_carries_the_token_to_the_host_only(hub) -> None:
    # the stand-in doubles as the Space's host, so it records the wake-up's headers
    host = hub.url + "/space-host/"

    def stage() -> str:
        return "RUNNING" if any(r.path == "/space-host/" for r in hub.requests) else "SLEEPING"

    hub.add_space("owner/nap", host=host, private=True, token="hf_test", stage=stage)
    assert await resolve_space("owner/nap", "hf_test", timeout=10) == host
    (wake,) = [r for r in hub.requests if r.path == "/space-host/"]
    assert wake.method == "GET" and wake.headers.get("x-hf-authorization") == "Bearer hf_test"
    assert "authorization" not in wake.headers
    assert all(r.headers.get("x-hf-authorization") is None for r in hub.requests_for("owner/nap"))


async def test_unreachable_hub(hub) -> None:
    hub.stop()  # its port is now closed
    with pytest.raises(SpaceError) as info:
        await resolve_space("owner/app", None, timeout=5)
    assert type(info.value) is SpaceError and info.value.space_id == "owner/app"
    assert "could not reach the Hugging Face Hub" in str(info.value) and hub.url in str(info.value)
