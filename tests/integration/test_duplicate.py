"""``Client.duplicate`` and ``AsyncClient.duplicate`` against the stand-in Hub (tests/hub.py),
reached by ``huggingface_hub`` through ``HF_ENDPOINT``; the copy is served by a real Gradio
server of each version.

The Hub's side is checked by what it was asked (each request's method, path, token and
body), the client's by calling the copy's app.
"""

from __future__ import annotations

import logging
import threading
import warnings

import pytest

from gradio_jobs import AsyncClient, Client, SpaceDuplicationError, SpaceNotFoundError
from hub import HubStandIn, hub_behind_hf_endpoint

NOWHERE = "http://127.0.0.1:9/"  # the host of a Space no test connects to


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A stand-in Hub with one user, ``me`` (token ``hf_me``), and no stored token."""
    with hub_behind_hf_endpoint(monkeypatch, tmp_path) as h:
        h.add_user("me", token="hf_me")
        yield h


def space_requests(hub: HubStandIn) -> list:
    """The requests about Spaces and users (huggingface_hub also fetches registries of its own)."""
    return [r for r in hub.requests if r.path.startswith("/api/spaces/") or r.path == "/api/whoami-v2"]


def steps(hub: HubStandIn) -> list[str]:
    return [f"{r.method} {r.path}" for r in space_requests(hub)]


def writes(hub: HubStandIn) -> list[tuple[str, object]]:
    return [(r.path, r.body) for r in hub.writes()]


def is_private(body: dict) -> bool:
    """The duplicate request's privacy, as either huggingface_hub generation words it."""
    return body["private"] if "private" in body else body["visibility"] == "private"


def logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gradio_jobs"]


def loop_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "gradio-jobs-loop"]


# -- a new copy --------------------------------------------------------------------------------


def test_duplicate_to_a_new_id(hub, server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="gradio_jobs")
    hub.add_space("gradio/calc", host=server.url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on a first duplicate
        client = Client.duplicate(
            "gradio/calc", token="hf_me", hardware="t4-small", secrets={"API_KEY": "k1", "OTHER": "k2"},
            sleep_timeout=15,
        )
    with client:
        assert isinstance(client, Client) and client.space_id == "me/calc" and client.src == server.url
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert steps(hub) == [
        "GET /api/spaces/gradio/calc/runtime",  # the original's hardware
        "GET /api/whoami-v2",  # the copy is named after the token's user
        "GET /api/spaces/me/calc/runtime",  # no copy yet (404)
        "POST /api/spaces/gradio/calc/duplicate",
        "POST /api/spaces/me/calc/secrets",
        "POST /api/spaces/me/calc/secrets",
        "GET /api/spaces/me/calc/runtime",  # the copy's hardware
        "POST /api/spaces/me/calc/hardware",
        "POST /api/spaces/me/calc/sleeptime",
        "GET /api/spaces/me/calc",  # then the client finds the copy's app
        "GET /api/spaces/me/calc/runtime",
    ]
    (duplicate, *rest) = writes(hub)
    assert duplicate[1]["repository"] == "me/calc" and is_private(duplicate[1])
    assert rest == [
        ("/api/spaces/me/calc/secrets", {"key": "API_KEY", "value": "k1"}),
        ("/api/spaces/me/calc/secrets", {"key": "OTHER", "value": "k2"}),
        ("/api/spaces/me/calc/hardware", {"flavor": "t4-small"}),
        ("/api/spaces/me/calc/sleeptime", {"seconds": 15 * 60}),
    ]
    assert {r.headers.get("authorization") for r in space_requests(hub)} == {"Bearer hf_me"}
    copy = hub.spaces["me/calc"]
    assert copy.private and copy.secrets == {"API_KEY": "k1", "OTHER": "k2"}
    assert copy.hardware == "t4-small" and copy.sleep_time == 900
    messages = logged(caplog)
    assert messages[:3] == [
        "Creating a duplicate of gradio/calc for your own use... 🤗",
        "Created new Space: https://hf.space/me/calc",
        "NOTE: this Space uses upgraded hardware: t4-small... see billing info at https://huggingface.co/settings/billing",
    ]
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("NOTE")] == ["WARNING"]


def test_defaults_keep_the_free_hardware_and_set_no_sleep_time(hub, server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="gradio_jobs")
    hub.add_space("gradio/calc", host=server.url)
    with Client.duplicate("gradio/calc", "my-copy", token="hf_me", private=False, verbose=False) as client:
        assert client.space_id == "me/my-copy"
        assert client.predict(2, 3, api_name="/add") == 5.0
    ((path, body),) = writes(hub)  # the duplicate only: no hardware to change, no sleep time on cpu-basic
    assert path == "/api/spaces/gradio/calc/duplicate"
    assert body["repository"] == "me/my-copy" and not is_private(body)
    assert not hub.spaces["me/my-copy"].private
    assert not [m for m in logged(caplog) if "Space" in m]  # verbose=False: none of the duplicate's lines


def test_the_copy_takes_the_originals_upgraded_hardware(hub, server) -> None:
    hub.add_space("gradio/calc", host=server.url, hardware="cpu-upgrade")
    with Client.duplicate("gradio/calc", token="hf_me", verbose=False) as client:
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert writes(hub)[1:] == [
        ("/api/spaces/me/calc/hardware", {"flavor": "cpu-upgrade"}),
        ("/api/spaces/me/calc/sleeptime", {"seconds": 5 * 60}),  # the default: 5 minutes
    ]


def test_a_sleeping_originals_requested_hardware_is_taken(hub, server) -> None:
    # asleep, the original has no current hardware: the one it asked for is the one it uses
    hub.add_space("gradio/calc", host=server.url, hardware="cpu-upgrade", stage="SLEEPING")
    with Client.duplicate("gradio/calc", token="hf_me", verbose=False) as client:
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert writes(hub)[1] == ("/api/spaces/me/calc/hardware", {"flavor": "cpu-upgrade"})


def test_to_id_with_a_namespace_names_the_copy(hub, server) -> None:
    hub.add_space("gradio/calc", host=server.url)
    with Client.duplicate("gradio/calc", to_id="me/named", token="hf_me", verbose=False) as client:
        assert client.space_id == "me/named"
    assert "GET /api/whoami-v2" not in steps(hub)  # the id is known: no need to ask whose token it is
    assert writes(hub)[0][1]["repository"] == "me/named"


def test_client_keywords_reach_the_new_client(hub, server, tmp_path) -> None:
    hub.add_space("gradio/calc", host=server.url)
    with Client.duplicate(
        "gradio/calc", token="hf_me", verbose=False, headers={"x-test": "1"}, download_files=str(tmp_path)
    ) as client:
        assert client.options.headers == {"x-test": "1"}
        assert client.options.download_files == str(tmp_path)
        assert client.predict(2, 3, api_name="/add") == 5.0


def test_the_stored_token_is_used(hub, server, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_me")
    hub.add_space("gradio/calc", host=server.url)
    with Client.duplicate("gradio/calc", verbose=False) as client:
        assert client.space_id == "me/calc"
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert {r.headers.get("authorization") for r in space_requests(hub)} == {"Bearer hf_me"}


# -- an existing copy --------------------------------------------------------------------------


def test_an_existing_copy_is_reused(hub, server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="gradio_jobs")
    hub.add_space("gradio/calc", host=server.url)
    hub.add_space("me/calc", host=server.url)
    with pytest.warns(UserWarning, match="Secrets are only used when the Space is duplicated for the first time"):
        client = Client.duplicate(
            "gradio/calc", token="hf_me", secrets={"API_KEY": "k1"}, hardware="a10g-small", sleep_timeout=1
        )
    with client:
        assert client.space_id == "me/calc"
        assert client.predict(2, 3, api_name="/add") == 5.0
    # no second duplicate and no secret; the hardware and sleep time are still applied
    assert writes(hub) == [
        ("/api/spaces/me/calc/hardware", {"flavor": "a10g-small"}),
        ("/api/spaces/me/calc/sleeptime", {"seconds": 60}),
    ]
    assert hub.spaces["me/calc"].secrets == {}
    assert "Using your existing Space: https://hf.space/me/calc 🤗" in logged(caplog)


def test_an_existing_copy_with_the_wanted_hardware_is_left_alone(hub, server) -> None:
    hub.add_space("gradio/calc", host=server.url)
    hub.add_space("me/calc", host=server.url)
    with Client.duplicate("gradio/calc", token="hf_me", verbose=False) as client:
        assert client.predict(2, 3, api_name="/add") == 5.0
    assert writes(hub) == []


# -- errors ------------------------------------------------------------------------------------


def test_missing_token_is_huggingface_hubs_error(hub) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.utils import LocalTokenNotFoundError

    hub.add_space("gradio/calc", host=NOWHERE)
    with pytest.raises(LocalTokenNotFoundError) as official:  # what gradio_client lets through here
        HfApi().whoami()
    threads_before = loop_threads()
    with pytest.raises(SpaceDuplicationError) as info:
        Client.duplicate("gradio/calc")
    assert isinstance(info.value, OSError)  # as LocalTokenNotFoundError is
    assert str(info.value).startswith(str(official.value)) and "token=" in str(info.value)
    assert writes(hub) == [] and "me/calc" not in hub.spaces
    assert loop_threads() == threads_before  # the loop thread it started stopped with the failure


def test_refused_token_is_huggingface_hubs_error(hub) -> None:
    from huggingface_hub import HfApi

    hub.add_space("gradio/calc", host=NOWHERE)
    with pytest.raises(OSError) as official:
        HfApi().whoami(token="hf_wrong")
    with pytest.raises(SpaceDuplicationError) as info:
        Client.duplicate("gradio/calc", token="hf_wrong")
    assert str(info.value).startswith(str(official.value))
    assert writes(hub) == []


def test_missing_original(hub) -> None:
    with pytest.raises(SpaceNotFoundError) as info:
        Client.duplicate("gradio/nope", token="hf_me")
    assert isinstance(info.value, ValueError) and info.value.space_id == "gradio/nope"
    assert str(info.value).startswith(
        "Could not find Space: gradio/nope. If it is a private Space, please provide a `token`."
    )
    assert steps(hub) == ["GET /api/spaces/gradio/nope/runtime"]


def test_the_hub_refuses_a_copy_in_another_namespace(hub) -> None:
    hub.add_space("gradio/calc", host=NOWHERE)
    with pytest.raises(SpaceDuplicationError) as info:
        Client.duplicate("gradio/calc", to_id="someone-else/calc", token="hf_me", verbose=False)
    assert "You don't have the rights to write to the namespace someone-else" in str(info.value)
    assert "refused to duplicate gradio/calc to someone-else/calc" in str(info.value)
    assert "someone-else/calc" not in hub.spaces


def test_sleep_time_refused_has_the_official_message(hub) -> None:
    hub.add_space("gradio/calc", host=NOWHERE, hardware="t4-small")
    hub.refusals["sleeptime"] = (400, "sleep time not allowed")
    with pytest.raises(SpaceDuplicationError) as info:
        Client.duplicate("gradio/calc", token="hf_me", verbose=False)
    assert str(info.value).startswith(
        "Could not set sleep timeout on duplicated Space. Please visit https://hf.space/me/calc to set a "
        "timeout manually to reduce billing charges."
    )
    assert "sleep time not allowed" in str(info.value) and info.value.space_id == "me/calc"


def test_bad_arguments_fail_before_the_hub_is_asked(hub) -> None:
    hub.add_space("gradio/calc", host=NOWHERE)
    with pytest.raises(TypeError, match="downlod_files"):
        Client.duplicate("gradio/calc", token="hf_me", downlod_files=False)
    with pytest.raises(TypeError, match="secrets"):
        Client.duplicate("gradio/calc", token="hf_me", secrets=["API_KEY"])
    with pytest.raises(ValueError, match="from_id must be a Space id"):
        Client.duplicate("calc", token="hf_me")
    with pytest.raises(TypeError, match="hf_token"):
        Client.duplicate("gradio/calc", token="hf_me", hf_token="hf_other")
    assert space_requests(hub) == []


# -- AsyncClient.duplicate ----------------------------------------------------------------------


async def test_async_duplicate(hub, server) -> None:
    hub.add_space("gradio/calc", host=server.url)
    threads_before = loop_threads()
    client = await AsyncClient.duplicate("gradio/calc", token="hf_me", hardware="cpu-upgrade", verbose=False)
    async with client:
        assert isinstance(client, AsyncClient) and client.connected and client.space_id == "me/calc"
        assert await client.predict(2, 3, api_name="/add") == 5.0
    assert [path for path, _ in writes(hub)] == [
        "/api/spaces/gradio/calc/duplicate",
        "/api/spaces/me/calc/hardware",
        "/api/spaces/me/calc/sleeptime",
    ]
    assert loop_threads() == threads_before  # the async client starts no loop thread


async def test_async_duplicate_missing_token(hub) -> None:
    hub.add_space("gradio/calc", host=NOWHERE)
    with pytest.raises(SpaceDuplicationError):
        await AsyncClient.duplicate("gradio/calc")
    assert writes(hub) == []
