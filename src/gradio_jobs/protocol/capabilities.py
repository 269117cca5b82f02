"""What a server can do, computed once from its ``/config``.

This is the only place that looks at version strings: everything else asks a
:class:`Capabilities`. Each flag is a fact measured on real servers; the comment on each
field says which versions have it, and the README's "Servers it speaks to" sums them up.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .diff import DeleteSemantics, delete_semantics_for

if TYPE_CHECKING:
    from .api import Endpoint

__all__ = ["Capabilities", "Route", "parse_version"]


class Route(enum.Enum):
    """How a job travels to the server and how its messages come back (see the README's
    "Servers it speaks to": which generation uses which route)."""

    #: ``POST queue/join``, then the session's one ``GET queue/data`` stream (sse_v1 and later).
    SESSION_STREAM = "session stream"
    #: One ``GET queue/join`` stream per job that asks for the data (``sse``, 4.0 to 4.8).
    JOB_STREAM = "job stream"
    #: One websocket per job at ``queue/join`` with the hash/data handshake (``ws``, 3.x).
    WEBSOCKET = "websocket"
    #: ``POST run/predict`` without the queue: one request, one answer.
    DIRECT = "direct"


_QUEUE_PROTOCOLS = ("ws", "sse", "sse_v1", "sse_v2", "sse_v2.1", "sse_v3")


def parse_version(text: Any) -> tuple[int, ...] | None:
    """The numbers of a version string: ``"4.44.1"`` -> ``(4, 44, 1)``.

    ``text`` is the config's ``version`` (anything: a non-string gives None). A leading
    ``v`` and pre-release suffixes are dropped; text that does not start with a number gives
    None.
    """
    if not isinstance(text, str):
        return None
    match = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


@dataclass(frozen=True)
class Capabilities:
    """What one server can do, built by :meth:`from_config`; each field is one fact.

    ``version`` is the parsed version (None when the config has none) and ``version_string``
    the config's text; ``protocol`` the queue protocol the config announces (``"ws"`` for
    3.x, which announces none); ``max_file_size`` the app's upload limit in bytes (None: no
    limit). The other fields are commented one by one below; those with a default
    (``queue_enabled`` True, ``legacy_files`` False, ``dropping_cancels`` True, ``reset_by``
    None) describe the common case.
    """

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
    #: ``gr.Error`` text comes wrapped in quotes (3.x and 4.x convert it with repr).
    quoted_error_messages: bool
    #: File values carry ``meta: {"_type": "gradio.FileData"}`` (4.21 and later).
    file_meta: bool
    #: Visibility is encoded as ``api_visibility`` (6.x) instead of ``api_name``/``show_api``.
    api_visibility_field: bool
    max_file_size: int | None
    #: The app runs queued events through its queue (3.x apps may turn it off).
    queue_enabled: bool = True
    #: Files travel as 3.x dicts (``name``, ``data``, ``is_file``) rather than FileData.
    legacy_files: bool = False
    #: Dropping the queue connection cancels the jobs it carries (measured: not on 4.17 to 4.21).
    dropping_cancels: bool = True
    #: ``POST reset`` stops a job: by ``event_id`` (4.x before 4.35), by ``fn_index`` (3.x), or not at all.
    reset_by: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Capabilities:
        """The capabilities of the server that served ``config`` (its parsed ``/config``).

        A config without a version is taken as the newest server speaking the protocol it
        announces.
        """
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
            quoted_error_messages=known[0] in (3, 4),
            file_meta=protocol in ("sse_v2.1", "sse_v3"),
            api_visibility_field=known[0] >= 6,
            max_file_size=max_file_size if isinstance(max_file_size, int) else None,
            queue_enabled=bool(config.get("enable_queue", True)),
            legacy_files=protocol == "ws",
            dropping_cancels=protocol not in ("sse_v2", "sse_v2.1"),
            reset_by="fn_index" if protocol == "ws" else "event_id" if known < (4, 35) else None,
        )

    @property
    def supported(self) -> bool:
        """Whether this client speaks the server's queue protocol."""
        return self.protocol in _QUEUE_PROTOCOLS

    def route_for(self, endpoint: Endpoint) -> Route:
        """The way a job of ``endpoint`` is run on this server."""
        if not endpoint.queue or not self.queue_enabled:
            return Route.DIRECT
        if self.multiplexed_stream:
            return Route.SESSION_STREAM
        if self.protocol == "sse":
            return Route.JOB_STREAM
        return Route.WEBSOCKET
