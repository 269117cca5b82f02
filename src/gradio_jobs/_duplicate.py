"""``Client.duplicate`` and ``AsyncClient.duplicate``: a copy of a Hugging Face Space of one's own.

The steps, their order and their messages are those of ``gradio_client``'s ``duplicate``:
read the original's runtime, name the copy (the token's user name and the Space's name,
unless ``to_id`` names it), reuse the copy if it exists (secrets are then left alone, with
a warning) or duplicate the Space and add the secrets, then request the hardware if the
copy's differs from the one wanted, and set the sleep time when that hardware is not the
free one. Every request goes through ``huggingface_hub`` (so ``HF_ENDPOINT`` and the stored
token work), on the Hub's threads of ``_spaces`` (never on the event loop). What the
official client prints is logged (``verbose`` gates the same lines as there).

Both clients take one parameter list, :func:`duplicate_request`, and run the same
:func:`duplicate_space`; each then opens a client of its own kind on the copy.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._exceptions import SpaceDuplicationError, SpaceNotFoundError
from ._limits import HUB_CALL_TIMEOUT
from ._options import ClientOptions, token_fields
from ._spaces import _Hub, hub_threads, space_id_of, stored_token

__all__ = ["DuplicateRequest", "duplicate_request", "duplicate_space"]

logger = logging.getLogger("gradio_jobs")

#: How the official client shows a Space's address in its messages.
SPACE_URL = "https://hf.space/{}"
BILLING_URL = "https://huggingface.co/settings/billing"
CPU_BASIC = "cpu-basic"
#: The duplicate request copies the repository on the Hub's side: it may take longer than a lookup.
DUPLICATE_CALL_TIMEOUT = 120.0
SECRETS_NOT_UPDATED = (
    "Secrets are only used when the Space is duplicated for the first time, and are not updated if the "
    "duplicated Space already exists."
)


@dataclass(frozen=True)
class DuplicateRequest:
    """The parameters of a duplicate, checked (see :func:`duplicate_request`)."""

    from_id: str
    to_namespace: str | None
    to_name: str
    token: str | None
    private: bool
    hardware: str | None
    secrets: dict[str, str] | None
    sleep_timeout: float
    max_workers: int
    verbose: bool
    #: Further keywords for the new client (``ClientOptions`` fields, ``options=``, ...).
    client_keywords: dict[str, Any]

    def client_keywords_for(self, cls: type[Any]) -> dict[str, Any]:
        """The keywords that open a ``cls`` on the copy, besides its id and ``token``; an
        unknown one raises ``TypeError`` now, before anything is sent to the Hub."""
        parameters = inspect.signature(cls).parameters
        named = {n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        caller = f"{cls.__name__}.duplicate()"
        if "src" in self.client_keywords:
            raise TypeError(f"{caller} got an unexpected keyword argument 'src'")
        fields = {k: v for k, v in self.client_keywords.items() if k not in named}
        ClientOptions.build(self.client_keywords.get("options"), caller, **fields)
        keywords = dict(self.client_keywords)
        if not self.verbose:  # as the clients' own verbose: True leaves options= as it is
            keywords["verbose"] = False
        if "max_workers" in named:
            keywords["max_workers"] = self.max_workers
        return keywords


def duplicate_request(
    from_id: str,
    to_id: str | None = None,
    token: str | None = None,
    private: bool = True,
    hardware: str | None = None,
    secrets: Mapping[str, str] | None = None,
    sleep_timeout: float = 5,
    max_workers: int = 40,
    verbose: bool = True,
    **kwargs: Any,
) -> DuplicateRequest:
    """The parameters of ``Client.duplicate`` and ``AsyncClient.duplicate``, checked before
    anything is sent (a wrong type raises here, an unknown client option in
    :meth:`DuplicateRequest.client_keywords_for`)."""
    source = space_id_of(from_id) if isinstance(from_id, str) else None
    if source is None:
        raise SpaceNotFoundError(
            f"Could not find Space: {from_id}. If it is a private Space, please provide a `token`. "
            f"(from_id must be a Space id like 'owner/name', got {from_id!r})",
            space_id=str(from_id),
        )
    # hf_token=: the name gradio_client 1.x used
    token = token_fields(token, kwargs.pop("hf_token", None)).get("token")
    if token is not None and not isinstance(token, str):
        raise TypeError(f"token must be a Hugging Face token (a str) or None, got {type(token).__name__}")
    namespace, name = _split_to_id(to_id, source)
    if hardware is not None:
        hardware = _hardware_name(hardware)
        if not isinstance(hardware, str) or not hardware:
            raise TypeError(f"hardware must be a hardware name like 't4-small', or None; got {hardware!r}")
    if secrets is not None:
        if not isinstance(secrets, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()
        ):
            raise TypeError("secrets must be a dict of secret names to values, both str")
        secrets = dict(secrets)
    if isinstance(sleep_timeout, bool) or not isinstance(sleep_timeout, (int, float)):
        raise TypeError(f"sleep_timeout must be a number of minutes, got {sleep_timeout!r}")
    return DuplicateRequest(
        source, namespace, name, token, bool(private), hardware, secrets, sleep_timeout, max_workers,
        bool(verbose), kwargs,
    )


def _split_to_id(to_id: str | None, from_id: str) -> tuple[str | None, str]:
    """``to_id`` as (namespace or None, name); None takes the original's name."""
    if to_id is None:
        return None, from_id.split("/")[1]
    if not isinstance(to_id, str):
        raise TypeError(f"to_id must be a Space name or id (a str) or None, got {type(to_id).__name__}")
    namespace, _, name = to_id.strip().rpartition("/")
    if not name or space_id_of(f"{namespace or 'owner'}/{name}") is None:
        raise ValueError(f"to_id must be a Space name like 'my-copy' or an id like 'owner/my-copy', got {to_id!r}")
    return namespace or None, name


def _hardware_name(hardware: Any) -> Any:
    """A ``SpaceHardware`` (a str enum) or a str, as the str the Hub knows."""
    return None if hardware is None else getattr(hardware, "value", hardware)


async def duplicate_space(request: DuplicateRequest) -> str:
    """Make (or reuse) the copy and set it up as asked; returns its Space id. The token is
    the one given, else the one ``huggingface_hub`` has stored."""
    with hub_threads() as pool:
        token = request.token or await asyncio.get_running_loop().run_in_executor(pool, stored_token)
        return await _Steps(_Hub(request.from_id, token, pool), request).run()


class _Steps:
    """One duplicate's Hub requests, in the official client's order."""

    def __init__(self, hub: _Hub, request: DuplicateRequest) -> None:
        self.hub = hub
        self.request = request
        self.token = hub.token

    async def run(self) -> str:
        request = self.request
        original = await self.runtime(request.from_id, missing="original")
        space_id = await self.copy_id()
        if await self.runtime(space_id, missing=None) is not None:
            if request.verbose:
                logger.info("Using your existing Space: %s 🤗", SPACE_URL.format(space_id))
            if request.secrets is not None:
                warnings.warn(SECRETS_NOT_UPDATED, UserWarning, stacklevel=2)
        else:
            if request.verbose:
                logger.info("Creating a duplicate of %s for your own use... 🤗", request.from_id)
            await self.duplicate(space_id)
            for key, value in (request.secrets or {}).items():
                await self.add_secret(space_id, key, value)
            if request.verbose:
                logger.info("Created new Space: %s", SPACE_URL.format(space_id))
        current = await self.runtime(space_id, missing="copy")
        current_hardware = _hardware_name(current.hardware) or CPU_BASIC
        # A sleeping original has no current hardware: the one it asked for is the one it uses.
        hardware = request.hardware or _hardware_name(original.hardware) or _hardware_name(original.requested_hardware)
        if hardware is not None and current_hardware != hardware:
            await self.hub_call(
                lambda api: api.request_space_hardware(space_id, hardware, token=self.token),
                space_id,
                f"The Hub refused the hardware {hardware!r} for {space_id} (upgraded hardware needs billing "
                f"information: {BILLING_URL}).",
            )
            logger.warning(
                "NOTE: this Space uses upgraded hardware: %s... see billing info at %s", hardware, BILLING_URL
            )
        # The Hub lets only paid hardware have a sleep time, so it is set after the hardware.
        if hardware is not None and hardware != CPU_BASIC:
            await self.set_sleep_time(space_id, int(request.sleep_timeout * 60))
        return space_id

    # -- the steps --------------------------------------------------------------------------

    async def runtime(self, space_id: str, *, missing: str | None) -> Any:
        """The Space's runtime; None if it does not exist and ``missing`` is None."""
        from_id = self.request.from_id
        try:
            return await self.hub.run(lambda api: api.get_space_runtime(space_id, token=self.token or False))
        except Exception as exc:
            if _is_not_found(exc):
                if missing is None:
                    return None
                if missing == "original":
                    raise SpaceNotFoundError(
                        f"Could not find Space: {from_id}. If it is a private Space, please provide a `token`. "
                        f"({self.hub.endpoint} has no Space {from_id} that "
                        f"{'the token given' if self.token else 'a request without a token'} can read.)",
                        space_id=from_id,
                    ) from exc
            raise self.failed(exc, space_id, f"Client.duplicate could not read the runtime of {space_id}.") from exc

    async def copy_id(self) -> str:
        """The copy's id: ``to_id``'s namespace, else the token's user name; a missing or
        refused token fails here, before anything is created."""
        request = self.request
        if request.to_namespace is not None and self.token:
            return f"{request.to_namespace}/{request.to_name}"
        # token=None: with no token at all huggingface_hub raises its own error (LocalTokenNotFoundError).
        if self.token:
            context = "Client.duplicate could not learn whose token it was given, to name the copy."
        else:
            context = (
                "Client.duplicate needs a Hugging Face token that may create Spaces: pass token=..., "
                "or log in with `hf auth login`."
            )
        user = await self.hub_call(lambda api: api.whoami(token=self.token), request.from_id, context)
        namespace = request.to_namespace or user["name"]
        return f"{namespace}/{request.to_name}"

    async def duplicate(self, space_id: str) -> None:
        request = self.request

        def duplicate(api: Any) -> Any:
            if hasattr(api, "duplicate_repo"):  # huggingface_hub 1.x and later
                return api.duplicate_repo(
                    request.from_id, space_id, repo_type="space", private=request.private, token=self.token
                )
            return api.duplicate_space(request.from_id, space_id, private=request.private, token=self.token)

        try:
            await self.hub.run(duplicate, DUPLICATE_CALL_TIMEOUT)
        except Exception as exc:
            if _status(exc) == 409:  # made meanwhile (by another call, say): it is there, as wanted
                logger.debug("the Hub says %s exists already; using it", space_id)
                return
            raise self.failed(
                exc, space_id, f"The Hub refused to duplicate {request.from_id} to {space_id}.",
                DUPLICATE_CALL_TIMEOUT,
            ) from exc

    async def add_secret(self, space_id: str, key: str, value: str) -> None:
        await self.hub_call(
            lambda api: api.add_space_secret(space_id, key, value, token=self.token),
            space_id,
            f"The Hub refused the secret {key!r} of the new Space {space_id}; add it on its settings page.",
        )

    async def set_sleep_time(self, space_id: str, seconds: int) -> None:
        try:
            await self.hub.run(lambda api: api.set_space_sleep_time(space_id, seconds, token=self.token))
        except Exception as exc:
            raise SpaceDuplicationError(
                "Could not set sleep timeout on duplicated Space. Please visit "
                f"{SPACE_URL.format(space_id)} to set a timeout manually to reduce billing charges. "
                f"({self.describe(exc)})",
                space_id=space_id,
            ) from exc

    # -- Hub calls and their errors ---------------------------------------------------------

    async def hub_call(self, use: Callable[[Any], Any], space_id: str, context: str) -> Any:
        try:
            return await self.hub.run(use)
        except Exception as exc:
            raise self.failed(exc, space_id, context) from exc

    def failed(
        self, exc: Exception, space_id: str, context: str, limit: float | None = None
    ) -> SpaceDuplicationError:
        """``huggingface_hub``'s message (the official client's error) first, then ``context``."""
        return SpaceDuplicationError(f"{self.describe(exc, limit)}\n{context}", space_id=space_id)

    def describe(self, exc: Exception, limit: float | None = None) -> str:
        if isinstance(exc, TimeoutError):
            return f"the Hugging Face Hub ({self.hub.endpoint}) did not answer within {limit or HUB_CALL_TIMEOUT:g} s"
        if isinstance(exc, ImportError):
            return f"Client.duplicate needs huggingface_hub, which could not be imported ({exc})"
        return str(exc) or type(exc).__name__


def _is_not_found(exc: Exception) -> bool:
    try:
        from huggingface_hub.utils import RepositoryNotFoundError  # type: ignore[attr-defined]
    except ImportError:
        return False
    return isinstance(exc, RepositoryNotFoundError)


def _status(exc: Exception) -> int | None:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None
