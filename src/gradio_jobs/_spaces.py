"""From a Hugging Face Space id to the URL of its running app (protocol.md §1.1).

Resolution goes through ``huggingface_hub`` (so ``HF_ENDPOINT`` and the stored token work
as users expect). To be written: see the brief in the commit that adds it.
"""

from __future__ import annotations

import re

__all__ = ["space_id_of", "stored_token", "resolve_space"]

_SPACE_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SPACE_PAGE = re.compile(r"^https?://(?:www\.)?huggingface\.co/spaces/([\w.-]+/[\w.-]+?)/?$")


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
    raise NotImplementedError  # being written


async def resolve_space(space_id: str, token: str | None, *, timeout: float | None, verify: bool | str = True) -> str:
    """The running app's URL (ending in ``/``) of the Space ``space_id``."""
    raise NotImplementedError  # being written
