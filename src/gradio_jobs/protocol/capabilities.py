"""What a server can do, computed once from its ``/config``.

This is the only place that looks at version strings: everything else asks a
:class:`Capabilities` (protocol.md §8 lists the facts behind each flag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .diff import DeleteSemantics, delete_semantics_for

__all__ = ["Capabilities", "parse_version"]

_QUEUE_PROTOCOLS = ("ws", "sse", "sse_v1", "sse_v2", "sse_v2.1", "sse_v3")


def parse_version(text: Any) -> tuple[int, ...] | None:
    """``"4.44.1"`` -> ``(4, 44, 1)``; pre-release suffixes are dropped; junk gives None."""
    if not isinstance(text, str):
        return None
    match = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


@dataclass(frozen=True)
class Capabilities:
    version: tuple[int, ...] | None
    version_string: str | None
    protocol: str
    #: The API prefix with a trailing slash (``"gradio_api/"``), or ``""`` at the root.
    api_prefix: str
    #: How list deletes in generator diffs are numbered; None when the server sends full values.
    diff_semantics: DeleteSemantics | None
    #: The server ends the queue stream with ``close_stream`` after the session's last job.
    close_stream: bool
    #: One ``queue/data`` stream per session, multiplexed by ``event_id`` (sse_v1 and later).
    multiplexed_stream: bool
    #: ``POST cancel`` exists (4.31 and later); otherwise only the ``cancels`` mechanism.
    cancel_route: bool
    #: ``POST cancel`` also removes a waiting job from the queue (6.14 and later).
    cancel_dequeues: bool
    #: ``GET heartbeat/<session>`` exists (4.26 and later).
    heartbeat_route: bool
    #: The app asks clients to hold the heartbeat open (missing means yes).
    connect_heartbeat: bool
    #: ``gr.Error`` text comes wrapped in quotes (4.x converts it with repr).
    quoted_error_messages: bool
    #: File values carry ``meta: {"_type": "gradio.FileData"}`` (4.21 and later).
    file_meta: bool
    #: Visibility is encoded as ``api_visibility`` (6.x) instead of ``api_name``/``show_api``.
    api_visibility_field: bool
    max_file_size: int | None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Capabilities:
        version_string = config.get("version") if isinstance(config.get("version"), str) else None
        version = parse_version(version_string)
        protocol = config.get("protocol") or "ws"
        if protocol not in _QUEUE_PROTOCOLS:
            protocol = str(protocol)
        prefix = config.get("api_prefix") or ""
        prefix = prefix.strip("/")
        prefix = prefix + "/" if prefix else ""

        diffs = protocol in ("sse_v2", "sse_v2.1", "sse_v3")
        # Without a version we assume the newest behaviour of the protocol announced.
        known = version or (99,)
        max_file_size = config.get("max_file_size")
        return cls(
            version=version,
            version_string=version_string,
            protocol=protocol,
            api_prefix=prefix,
            diff_semantics=delete_semantics_for(known) if diffs else None,
            close_stream=protocol == "sse_v3",
            multiplexed_stream=protocol in ("sse_v1", "sse_v2", "sse_v2.1", "sse_v3"),
            cancel_route=known >= (4, 31),
            cancel_dequeues=known >= (6, 14),
            heartbeat_route=known >= (4, 26),
            connect_heartbeat=bool(config.get("connect_heartbeat", True)),
            quoted_error_messages=known[0] == 4,
            file_meta=protocol in ("sse_v2.1", "sse_v3"),
            api_visibility_field=known[0] >= 6,
            max_file_size=max_file_size if isinstance(max_file_size, int) else None,
        )

    @property
    def supported(self) -> bool:
        """Whether this client speaks the server's queue protocol yet."""
        return self.multiplexed_stream
