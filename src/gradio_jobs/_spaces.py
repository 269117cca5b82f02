"""From a Hugging Face Space id to the URL of its running app.

Resolution goes through ``huggingface_hub`` (so ``HF_ENDPOINT`` and the stored token work
as users expect), imported only when a Space is named. The Hub has no push API for a
Space's runtime: a Space that is building or waking up is polled until it runs.

Every ``huggingface_hub`` call blocks, so it runs on a small pool of threads of its own
(``gradio-jobs-hub``): never on the event loop, and never on the loop's default executor,
whose one thread resolves host names for every client of the process (see ``_loop``), so a
slow Hub cannot stall the connections of other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._exceptions import SpaceError, SpaceNotFoundError, SpaceUnavailableError
from ._limits import FIRST_POLL_DELAY, HUB_CALL_TIMEOUT, HUB_THREADS, MAX_POLL_DELAY, MAX_REDIRECTS, WAKE_TIMEOUT

__all__ = ["find_stored_token", "hub_threads", "resolve_space", "space_id_of", "stored_token"]


logger = logging.getLogger("gradio_jobs")

_SPACE_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SPACE_PAGE = re.compile(r"^https?://(?:www\.)?huggingface\.co/spaces/([\w.-]+/[\w.-]+?)/?$")

DEFAULT_ENDPOINT = "https://huggingface.co"

READY_STAGES = frozenset({"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING"})
WAIT_STAGES = frozenset({"BUILDING", "APP_STARTING"})
WAKE_STAGES = frozenset({"SLEEPING", "STOPPED"})
#: Stages no amount of waiting fixes, with what they mean for the user.
FAILED_STAGES = {
    "PAUSED": "it was paused by its owner, and only the owner can restart it",
    "NO_APP_FILE": "it has no app file to run (app.py, or the file its README names)",
    "CONFIG_ERROR": "its configuration (the YAML header of its README) is invalid; the owner must fix it",
    "BUILD_ERROR": "its build failed; the build logs are on its page",
    "RUNTIME_ERROR": "its app failed at start-up or crashed; the logs are on its page",
    "DELETING": "it is being deleted",
}


def space_id_of(src: str) -> str | None:
    """``"owner/name"`` when ``src`` names a Space (an id or its huggingface.co page), else None."""
    src = src.strip()
    page = _SPACE_PAGE.match(src)
    if page:
        return page.group(1)
    if src.startswith(("http://", "https://")):
        return None
    return src if _SPACE_ID.match(src) else None


def stored_token() -> str | None:
    """The token ``huggingface_hub`` has stored (``HF_TOKEN``, ``huggingface-cli login``), if any."""
    try:
        import huggingface_hub
    except Exception:  # missing or broken: there is simply no stored token
        return None
    try:
        get_token = getattr(huggingface_hub, "get_token", None)
        if get_token is None:  # releases before get_token was exported
            get_token = huggingface_hub.HfFolder.get_token
        return get_token() or None
    except Exception:
        logger.debug("huggingface_hub could not read its stored token", exc_info=True)
        return None


@contextlib.contextmanager
def hub_threads() -> Iterator[ThreadPoolExecutor]:
    """Threads named ``gradio-jobs-hub`` for one lookup's (or one duplicate's) Hub calls, never
    the loop's default executor (which resolves host names: a slow Hub must not stall every
    connection); they end with the lookup (one still in a call that timed out ends when that
    call does)."""
    pool = ThreadPoolExecutor(HUB_THREADS, thread_name_prefix="gradio-jobs-hub")
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


async def find_stored_token() -> str | None:
    """:func:`stored_token`, run on a Hub thread (it imports ``huggingface_hub`` and may read
    a token file): the stored token, or None."""
    with hub_threads() as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, stored_token)


def stage_action(stage: str) -> str:
    """What to do about a runtime stage: ``"ready"``, ``"wait"``, ``"wake"``, ``"fail"``
    or ``"unknown"`` (a stage this client does not know: it tries the app anyway)."""
    if stage in READY_STAGES:
        return "ready"
    if stage in WAIT_STAGES:
        return "wait"
    if stage in WAKE_STAGES:
        return "wake"
    if stage in FAILED_STAGES:
        return "fail"
    return "unknown"


def next_delay(delay: float) -> float:
    """The pause before the poll after one that followed a pause of ``delay`` seconds."""
    return min(delay * 1.5, MAX_POLL_DELAY)


def unavailable_error(space_id: str, stage: str, page: str) -> SpaceUnavailableError:
    reason = FAILED_STAGES.get(stage, "it cannot serve requests")
    return SpaceUnavailableError(  # the official client's words first
        f"The current space is in the invalid state: {stage}. Please contact the owner to fix this. "
        f"(Space {space_id} is {stage}: {reason}; {page})",
        space_id=space_id,
        stage=stage,
    )


def timeout_error(space_id: str, stage: str, timeout: float) -> SpaceUnavailableError:
    return SpaceUnavailableError(
        f"Space {space_id} was still {stage} after {timeout:g} s; pass a larger space_timeout= "
        "(or None to wait as long as it takes)",
        space_id=space_id,
        stage=stage,
        timed_out=True,
    )


def app_url(info: Any, space_id: str) -> str:
    """The app's URL (ending in ``/``) from a ``SpaceInfo``, whatever its release exposes."""
    host = getattr(info, "host", None)
    if not host:
        subdomain = getattr(info, "subdomain", None)
        if not subdomain:  # the Hub's own rule for a Space's subdomain
            subdomain = re.sub(r"[/_.]", "-", space_id).lower()
        host = f"https://{subdomain}.hf.space"
    return host.rstrip("/") + "/"


def stage_name(stage: Any) -> str:
    """Some releases give a ``SpaceStage`` enum, others the raw string."""
    return str(getattr(stage, "value", stage))


async def resolve_space(
    space_id: str,
    token: str | None,
    *,
    timeout: float | None,
    verify: bool | str = True,
) -> str:
    """The running app's URL (ending in ``/``) of the Space ``space_id``.

    ``token`` (None for none) goes to the Hub and, as ``x-hf-authorization``, to the Space's
    host when it is woken up. A Space that is building, starting or asleep is polled (and
    woken) until it runs, for at most ``timeout`` seconds (None: as long as it takes), then
    :class:`SpaceUnavailableError`; a Space that cannot run raises it at once, a missing or
    private one :class:`SpaceNotFoundError`. ``verify`` is the TLS setting for waking it.
    """
    with hub_threads() as pool:
        return await _wait_until_running(_Hub(space_id, token, pool), space_id, token, timeout, verify)


async def _wait_until_running(
    hub: _Hub, space_id: str, token: str | None, timeout: float | None, verify: bool | str
) -> str:
    url = app_url(await hub.space_info(), space_id)
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = FIRST_POLL_DELAY
    last: str | None = None
    while True:
        stage = await hub.stage()
        action = stage_action(stage)
        if action == "ready":
            return url
        if action == "fail":
            raise unavailable_error(space_id, stage, hub.page)
        if action == "unknown":
            logger.debug("Space %s is in stage %s, unknown to this client; trying its app", space_id, stage)
            return url
        if stage != last:
            if action == "wake":
                logger.info("Space %s is %s; waking it up…", space_id, stage)
                await _wake(url, token, verify)
            else:
                logger.info("Space %s is %s; waiting…", space_id, stage)
            last = stage
        if deadline is not None and timeout is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise timeout_error(space_id, stage, timeout)
            await asyncio.sleep(min(delay, left))
        else:
            await asyncio.sleep(delay)
        delay = next_delay(delay)


async def _wake(url: str, token: str | None, verify: bool | str) -> None:
    # The Hub starts a sleeping Space when its host is requested; the answer does not matter.
    import httpx  # here: only a Space id needs it, and only when asleep

    headers = {"x-hf-authorization": f"Bearer {token}"} if token else {}
    try:
        # The answer's body is never read (a hostile host cannot make it large), nor followed far.
        client = httpx.AsyncClient(verify=verify, timeout=WAKE_TIMEOUT, max_redirects=MAX_REDIRECTS)
        async with client, client.stream("GET", url, headers=headers):
            pass
    except Exception:  # polling the runtime tells whether it woke up
        logger.debug("waking %s failed", url, exc_info=True)


class _Hub:
    """huggingface_hub's sync calls, run in a worker thread, their errors turned into ours."""

    def __init__(self, space_id: str, token: str | None, pool: ThreadPoolExecutor):
        self._pool = pool
        self.space_id = space_id
        self.token = token
        # huggingface_hub reads HF_ENDPOINT once, at import; this reads it for each Space.
        self.endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.page = f"{self.endpoint}/spaces/{space_id}"
        self._api: Any = None

    async def space_info(self) -> Any:
        return await self.call("space_info", timeout=HUB_CALL_TIMEOUT)

    async def stage(self) -> str:
        return stage_name((await self.call("get_space_runtime")).stage)

    def _with_api(self, use: Callable[[Any], Any]) -> Any:
        if self._api is None:  # imported here, in the worker thread: it takes a while the first time
            from huggingface_hub import HfApi

            self._api = HfApi(endpoint=self.endpoint, token=self.token)
        return use(self._api)

    async def run(self, use: Callable[[Any], Any], limit: float = HUB_CALL_TIMEOUT) -> Any:
        """``use(HfApi)`` on the Hub's threads, its answer or its exception as they are
        (``huggingface_hub``'s own errors, ``ImportError`` when it cannot be imported), or
        ``TimeoutError`` after ``limit`` seconds (the call itself ends in its thread).
        The ``HfApi`` talks to :attr:`endpoint` with :attr:`token` as its default token."""
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(self._pool, self._with_api, use), limit)

    async def call(self, method: str, **kwargs: Any) -> Any:
        """``HfApi.<method>(space_id, token=..., **kwargs)`` on the Hub's threads, within
        ``HUB_CALL_TIMEOUT``; any failure becomes a :class:`SpaceError`."""
        try:
            # token=False: send exactly the token given (the caller already looked up the stored one)
            return await self.run(lambda api: getattr(api, method)(self.space_id, token=self.token or False, **kwargs))
        except TimeoutError as exc:
            raise SpaceError(
                f"the Hugging Face Hub ({self.endpoint}) did not answer {method} for Space {self.space_id} "
                f"within {HUB_CALL_TIMEOUT:g} s",
                space_id=self.space_id,
            ) from exc
        except ImportError as exc:
            raise SpaceError(
                f"resolving the Space id {self.space_id!r} needs huggingface_hub, which could not be imported "
                f"({exc}); install it, or pass the app's URL instead",
                space_id=self.space_id,
            ) from exc
        except Exception as exc:  # no requests/httpx/huggingface_hub error leaks out
            raise self._translate(method, exc) from exc

    def _translate(self, what: str, exc: Exception) -> SpaceError:
        # (huggingface_hub.errors only exists since 0.23; .utils has them in every supported release)
        from huggingface_hub.utils import (  # type: ignore[attr-defined]
            HfHubHTTPError,
            HFValidationError,
            RepositoryNotFoundError,
        )

        sid = self.space_id
        if isinstance(exc, HFValidationError):
            return SpaceNotFoundError(f"{sid!r} is not a valid Space id: {exc}", space_id=sid)
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if isinstance(exc, RepositoryNotFoundError) or status in (401, 403, 404):
            if not self.token:
                hint = "it does not exist, or it is private: pass hf_token= with a token that can read it"
            elif status == 401 and not isinstance(exc, RepositoryNotFoundError):
                hint = "the Hub refused the token given (invalid or expired)"
            else:
                hint = "it does not exist, or it is private and the token given cannot read it"
            return SpaceNotFoundError(  # the official client's words first
                f"Could not find Space: {sid}. If it is a private Space, please provide a Hugging Face token. "
                f"(Space {sid} was not found on {self.endpoint}; {hint})",
                space_id=sid,
            )
        if isinstance(exc, HfHubHTTPError):
            return SpaceError(
                f"the Hugging Face Hub ({self.endpoint}) answered {what} for Space {sid} with an error "
                f"(HTTP {status}): {exc}",
                space_id=sid,
            )
        return SpaceError(
            f"could not reach the Hugging Face Hub at {self.endpoint} to resolve Space {sid}: "
            f"{type(exc).__name__}: {exc}",
            space_id=sid,
        )
