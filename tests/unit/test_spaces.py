"""Space ids and the handling of runtime stages, without a Hub (see tests/integration/test_spaces.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradio_jobs import SpaceError, SpaceNotFoundError, SpaceUnavailableError
from gradio_jobs import _spaces
from gradio_jobs._spaces import (
    FAILED_STAGES,
    MAX_POLL_DELAY,
    app_url,
    next_delay,
    space_id_of,
    stage_action,
    stage_name,
    stored_token,
    timeout_error,
    unavailable_error,
)

KNOWN_STAGES = {
    "RUNNING": "ready",
    "RUNNING_BUILDING": "ready",
    "RUNNING_APP_STARTING": "ready",
    "BUILDING": "wait",
    "APP_STARTING": "wait",
    "SLEEPING": "wake",
    "STOPPED": "wake",
    "PAUSED": "fail",
    "NO_APP_FILE": "fail",
    "CONFIG_ERROR": "fail",
    "BUILD_ERROR": "fail",
    "RUNTIME_ERROR": "fail",
    "DELETING": "fail",
}

name_part = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}", fullmatch=True)


# -- space_id_of ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src,expected",
    [
        ("owner/name", "owner/name"),
        ("  abidlabs/whisper  ", "abidlabs/whisper"),
        ("Org-1/my_app.v2", "Org-1/my_app.v2"),
        ("https://huggingface.co/spaces/owner/name", "owner/name"),
        ("https://huggingface.co/spaces/owner/name/", "owner/name"),
        ("http://www.huggingface.co/spaces/owner/name", "owner/name"),
        ("https://owner-name.hf.space", None),
        ("https://huggingface.co/owner/name", None),  # a model page, not a Space
        ("http://127.0.0.1:7860/", None),
        ("owner", None),
        ("owner/name/extra", None),
        ("/owner/name", None),
        ("", None),
    ],
)
def test_space_id_of(src, expected) -> None:
    assert space_id_of(src) == expected


@given(owner=name_part, name=name_part)
def test_space_id_of_ids_and_pages_agree(owner, name) -> None:
    space_id = f"{owner}/{name}"
    assert space_id_of(space_id) == space_id
    assert space_id_of(f"https://huggingface.co/spaces/{space_id}") == space_id
    assert space_id_of(f"https://huggingface.co/spaces/{space_id}/") == space_id


@given(host=st.from_regex(r"[a-z0-9.-]{1,20}(:[0-9]{1,5})?", fullmatch=True), path=name_part)
def test_other_urls_are_not_spaces(host, path) -> None:
    if host.rstrip(".") in ("huggingface.co", "www.huggingface.co"):
        return
    assert space_id_of(f"https://{host}/spaces/{path}/{path}") is None
    assert space_id_of(f"http://{host}/{path}") is None


# -- stages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stage,action", sorted(KNOWN_STAGES.items()))
def test_stage_action(stage, action) -> None:
    assert stage_action(stage) == action


@given(st.text(max_size=20).filter(lambda s: s not in KNOWN_STAGES))
def test_unknown_stages_are_tried_optimistically(stage) -> None:
    assert stage_action(stage) == "unknown"


def test_stage_name_accepts_enums_and_strings() -> None:
    from huggingface_hub import SpaceStage

    assert stage_name(SpaceStage.BUILDING) == "BUILDING"
    assert stage_name("SLEEPING") == "SLEEPING"


@pytest.mark.parametrize("stage", sorted(FAILED_STAGES))
def test_unavailable_error_names_the_stage_and_what_it_means(stage) -> None:
    err = unavailable_error("a/b", stage, "https://huggingface.co/spaces/a/b")
    assert isinstance(err, SpaceError) and err.stage == stage and err.space_id == "a/b" and not err.timed_out
    text = str(err)
    assert "a/b" in text and stage in text and FAILED_STAGES[stage] in text and "spaces/a/b" in text


def test_paused_says_only_the_owner_can_restart() -> None:
    assert "only the owner can restart it" in str(unavailable_error("a/b", "PAUSED", "page"))


def test_timeout_error() -> None:
    err = timeout_error("a/b", "BUILDING", 30.0)
    assert err.timed_out and err.stage == "BUILDING"
    assert str(err).startswith("Space a/b was still BUILDING after 30 s; pass a larger space_timeout=")


def test_poll_delays_back_off_to_the_cap() -> None:
    delays = [_spaces.FIRST_POLL_DELAY]
    for _ in range(20):
        delays.append(next_delay(delays[-1]))
    assert delays[0] == 0.5
    assert all(b >= a for a, b in zip(delays, delays[1:]))
    assert max(delays) == MAX_POLL_DELAY == 5.0 and delays[-1] == 5.0


# -- the app's URL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "info,expected",
    [
        (SimpleNamespace(host="https://owner-name.hf.space", subdomain="owner-name"), "https://owner-name.hf.space/"),
        (SimpleNamespace(host="https://owner-name.hf.space/"), "https://owner-name.hf.space/"),
        (SimpleNamespace(host=None, subdomain="sub-domain"), "https://sub-domain.hf.space/"),
        (SimpleNamespace(), "https://my-org-my-app-v2.hf.space/"),  # a release without either field
    ],
)
def test_app_url(info, expected) -> None:
    assert app_url(info, "My_Org/my.app_v2") == expected


def test_app_url_from_huggingface_hub_space_info() -> None:
    from huggingface_hub.hf_api import SpaceInfo

    info = SpaceInfo(id="owner/name", host="https://owner-name.hf.space", private=False)
    assert app_url(info, "owner/name") == "https://owner-name.hf.space/"


# -- the stored token -------------------------------------------------------------------------


def test_stored_token_from_environment(monkeypatch, tmp_path) -> None:
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert stored_token() is None
    (tmp_path / "token").write_text("hf_file\n")
    assert stored_token() == "hf_file"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert stored_token() == "hf_env"


def test_stored_token_without_huggingface_hub(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails
    assert stored_token() is None


def test_resolve_without_huggingface_hub(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(SpaceError, match="needs huggingface_hub"):
        asyncio.run(_spaces.resolve_space("a/b", None, timeout=1))


# -- the polling loop, with a scripted Hub and no real waiting ----------------------------------


class ScriptedHub:
    """Stands in for ``_spaces._Hub``: answers stages from a script."""

    def __init__(self, stages: list[str]):
        self.stages = list(stages)
        self.polls = 0
        self.page = "https://hub.example/spaces/a/b"

    def __call__(self, space_id: str, token: str | None, pool: object = None) -> "ScriptedHub":
        return self

    async def space_info(self):
        return SimpleNamespace(host="https://a-b.hf.space", private=False)

    async def stage(self) -> str:
        self.polls += 1
        return self.stages.pop(0) if len(self.stages) > 1 else self.stages[0]


@pytest.fixture
def scripted(monkeypatch):
    sleeps: list[float] = []
    wakes: list[tuple] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay, *args):
        sleeps.append(delay)
        await real_sleep(0)

    async def fake_wake(url, token, verify):
        wakes.append((url, token, verify))

    monkeypatch.setattr(_spaces.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(_spaces, "_wake", fake_wake)

    def run(stages: list[str], token: str | None = None) -> tuple[ScriptedHub, str]:
        hub = ScriptedHub(stages)
        monkeypatch.setattr(_spaces, "_Hub", hub)
        return hub, asyncio.run(_spaces.resolve_space("a/b", token, timeout=None))

    return SimpleNamespace(run=run, sleeps=sleeps, wakes=wakes)


def test_waits_with_backoff_until_running(scripted) -> None:
    hub, url = scripted.run(["BUILDING"] * 8 + ["RUNNING"])
    assert url == "https://a-b.hf.space/" and hub.polls == 9
    assert scripted.sleeps[:3] == [0.5, 0.75, 1.125]
    assert scripted.sleeps[-2:] == [5.0, 5.0] and len(scripted.sleeps) == 8
    assert scripted.wakes == []


def test_sleeping_space_is_woken_once_per_sleep(scripted) -> None:
    hub, url = scripted.run(["SLEEPING", "SLEEPING", "APP_STARTING", "SLEEPING", "RUNNING_APP_STARTING"], token="hf_t")
    assert url == "https://a-b.hf.space/" and hub.polls == 5
    assert scripted.wakes == [("https://a-b.hf.space/", "hf_t", True)] * 2


@pytest.mark.parametrize("stage", sorted(FAILED_STAGES))
def test_failed_stage_after_waiting(scripted, stage) -> None:
    with pytest.raises(SpaceUnavailableError) as info:
        scripted.run(["BUILDING", stage])
    assert info.value.stage == stage and not info.value.timed_out


def test_unknown_stage_is_tried(scripted) -> None:
    hub, url = scripted.run(["SOMETHING_NEW"])
    assert url == "https://a-b.hf.space/" and hub.polls == 1 and scripted.sleeps == []


def test_not_found_is_a_value_error() -> None:
    assert issubclass(SpaceNotFoundError, ValueError) and issubclass(SpaceNotFoundError, SpaceError)
