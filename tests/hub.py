"""A stand-in for the Hugging Face Hub's Space API, for the Space tests.

    with HubStandIn() as hub:                       # a real HTTP server on 127.0.0.1
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.add_space("owner/app", host=server.url)                     # RUNNING
        hub.add_space("owner/slow", host=server.url,
                      stage=lambda: "BUILDING" if hub.runtime_polls("owner/slow") <= 2 else "RUNNING")
        hub.add_space("owner/secret", host=server.url, private=True, token="hf_test")

It answers the two routes ``huggingface_hub`` calls for ``HfApi.space_info`` and
``HfApi.get_space_runtime``::

    GET /api/spaces/<owner>/<name>            (query parameters are ignored)
    GET /api/spaces/<owner>/<name>/runtime

with JSON shaped like the real Hub's; an unknown id gets 404 ``{"error": "Repository not
found"}`` with ``X-Error-Code: RepoNotFound``; a private Space asked without its token gets
401 (no token: ``RepoNotFound``; a wrong token: "Invalid credentials in Authorization
header"), as the Hub does. Any other path is a 404.

For ``Client.duplicate`` it also has users (``hub.add_user("me", token="hf_me")``) and the
routes of ``HfApi.whoami``, ``duplicate_repo``/``duplicate_space``, ``add_space_secret``,
``request_space_hardware`` and ``set_space_sleep_time``::

    GET  /api/whoami-v2                       the token's user, or 401
    POST /api/spaces/<owner>/<name>/duplicate {"repository": "me/copy", "private"|"visibility", ...}
    POST /api/spaces/<owner>/<name>/secrets   {"key": ..., "value": ...}
    POST /api/spaces/<owner>/<name>/hardware  {"flavor": ...}
    POST /api/spaces/<owner>/<name>/sleeptime {"seconds": ...}

Writes need the token of the user whose name is the Space's namespace (401 without a known
token, 403 for another namespace); a duplicate onto an existing id is a 409. A copy runs at
``hub.copy_host`` if set, else at its original's host, on ``cpu-basic`` unless the request
named hardware, private as asked (else as its original), readable with its owner's token.
A Space's ``hardware``, ``sleep_time`` and ``secrets`` record what was set; its runtime
shows them. ``hub.refusals["sleeptime"] = (402, "message")`` makes a route answer an error.

A Space's ``stage`` is a string or a callable returning the current stage, evaluated on
each request (so it can depend on what was requested so far, or on another server).

``requests`` records every request (method, path, query, headers with lower-case names, and
the JSON body of a POST);
``runtime_polls(id)`` counts the runtime requests of one Space. ``stop()`` is idempotent.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Union
from urllib.parse import parse_qs, urlsplit

__all__ = ["HubStandIn", "HubRequest", "SpaceEntry"]

Stage = Union[str, Callable[[], str]]

_ROUTE = re.compile(
    r"^/api/spaces/(?P<id>[^/]+/[^/]+?)(?:/(?P<action>runtime|duplicate|secrets|hardware|sleeptime))?/?$"
)
_WRITES = {"duplicate", "secrets", "hardware", "sleeptime"}
_SHA = "0123456789abcdef0123456789abcdef01234567"
_DATE = "2024-05-01T12:00:00.000Z"


@dataclass
class SpaceEntry:
    space_id: str
    host: str
    stage: Stage = "RUNNING"
    private: bool = False
    token: str | None = None
    hardware: str = "cpu-basic"
    sleep_time: int | None = None
    secrets: dict = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return self.space_id.split("/")[0]

    def current_stage(self) -> str:
        return self.stage() if callable(self.stage) else self.stage


@dataclass(frozen=True)
class HubRequest:
    method: str
    path: str
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    body: Any = None


class HubStandIn:
    def __init__(self) -> None:
        self.spaces: dict[str, SpaceEntry] = {}
        #: token -> user name, for whoami and the write routes
        self.users: dict[str, str] = {}
        #: where copies run (None: at their original's host)
        self.copy_host: str | None = None
        #: write route ("secrets", "hardware", "sleeptime", "duplicate") -> (status, message) it answers instead
        self.refusals: dict[str, tuple[int, str]] = {}
        self._requests: list[HubRequest] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- configuration and observation

    def add_space(
        self,
        space_id: str,
        host: str,
        *,
        stage: Stage = "RUNNING",
        private: bool = False,
        token: str | None = None,
        hardware: str = "cpu-basic",
    ) -> SpaceEntry:
        if private and not token:
            raise ValueError("a private Space needs the token that can read it")
        entry = self.spaces[space_id] = SpaceEntry(space_id, host, stage, private, token, hardware)
        return entry

    def add_user(self, name: str, *, token: str) -> None:
        """A user whose ``token`` whoami answers with ``name`` and who may write Spaces of ``name/...``."""
        self.users[token] = name

    def writes(self, space_id: str | None = None) -> list[HubRequest]:
        """The POSTs made (to one Space's routes, if given), in order."""
        chosen = self.requests_for(space_id) if space_id else self.requests
        return [r for r in chosen if r.method == "POST"]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("HubStandIn was not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[HubRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, space_id: str) -> list[HubRequest]:
        prefix = f"/api/spaces/{space_id}"
        return [r for r in self.requests if r.path == prefix or r.path.startswith(prefix + "/")]

    def runtime_polls(self, space_id: str) -> int:
        return sum(1 for r in self.requests if r.path == f"/api/spaces/{space_id}/runtime")

    # -- lifecycle

    def start(self) -> "HubStandIn":
        if self._stopped:
            raise RuntimeError("a stopped HubStandIn cannot be started again")
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="HubStandIn", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5.0)

    def __enter__(self) -> "HubStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server else "(not started)"
        return f"<HubStandIn {where} spaces={sorted(self.spaces)}>"

    # -- answers

    def _answer(self, method: str, target: str, headers: dict, body: Any = None) -> tuple[int, dict, dict]:
        parts = urlsplit(target)
        with self._lock:
            self._requests.append(HubRequest(method, parts.path, parse_qs(parts.query), headers, body))
        if parts.path.rstrip("/") == "/api/whoami-v2" and method == "GET":
            return self._whoami(headers)
        route = _ROUTE.match(parts.path)
        entry = self.spaces.get(route.group("id")) if route else None
        action = route.group("action") if route else None
        if route is None or entry is None or (method == "POST") != (action in _WRITES):
            return _NOT_FOUND
        refused = self._refuse_read(entry, headers)
        if refused:
            return refused
        if action in self.refusals:
            status, message = self.refusals[action]
            return status, {"X-Error-Message": message}, {"error": message}
        if action in _WRITES:
            with self._writing:  # one write at a time (a stage callable may block a read: not under it)
                if action == "duplicate":
                    return self._duplicate(entry, headers, body if isinstance(body, dict) else {})
                return self._write(entry, action, headers, body if isinstance(body, dict) else {})
        runtime = _runtime_json(entry)
        if action == "runtime":
            return 200, {}, runtime
        return 200, {}, _space_json(entry, runtime)

    def _refuse_read(self, entry: SpaceEntry, headers: dict) -> tuple[int, dict, dict] | None:
        if not entry.private:
            return None
        sent = headers.get("authorization", "")
        if not sent:
            return _NOT_FOUND_401
        if sent != f"Bearer {entry.token}":
            message = "Invalid credentials in Authorization header"
            return 401, {"X-Error-Message": message}, {"error": message}
        return None

    def _user(self, headers: dict) -> str | None:
        sent = headers.get("authorization", "")
        return self.users.get(sent[len("Bearer "):]) if sent.startswith("Bearer ") else None

    def _whoami(self, headers: dict) -> tuple[int, dict, dict]:
        user = self._user(headers)
        if user is None:
            message = "Invalid credentials in Authorization header"
            return 401, {"X-Error-Message": message}, {"error": message}
        return 200, {}, {
            "type": "user", "id": "66320000000000000000beef", "name": user, "fullname": user,
            "email": None, "isPro": False, "orgs": [],
            "auth": {"type": "access_token", "accessToken": {"displayName": "tests", "role": "write"}},
        }

    def _refuse_write(self, namespace: str, headers: dict) -> tuple[int, dict, dict] | None:
        user = self._user(headers)
        if user is None:
            message = "Invalid credentials in Authorization header"
            return 401, {"X-Error-Message": message}, {"error": message}
        if user != namespace:
            message = f"You don't have the rights to write to the namespace {namespace}"
            return 403, {"X-Error-Message": message}, {"error": message}
        return None

    def _duplicate(self, source: SpaceEntry, headers: dict, body: dict) -> tuple[int, dict, dict]:
        target = str(body.get("repository", ""))
        namespace, _, name = target.partition("/")
        if not namespace or not name:
            return 400, {}, {"error": f"invalid repository {target!r}"}
        refused = self._refuse_write(namespace, headers)
        if refused:
            return refused
        if target in self.spaces:
            message = "You already created this space repo"
            return 409, {"X-Error-Message": message}, {"error": message, "url": f"{self.url}/spaces/{target}"}
        if "private" in body:
            private = bool(body["private"])
        elif "visibility" in body:
            private = body["visibility"] != "public"
        else:
            private = source.private
        token = headers["authorization"][len("Bearer "):]
        self.spaces[target] = SpaceEntry(
            target, self.copy_host or source.host, "RUNNING", private, token if private else None,
            body.get("hardware") or "cpu-basic",
        )
        return 200, {}, {"url": f"{self.url}/spaces/{target}"}

    def _write(self, entry: SpaceEntry, action: str, headers: dict, body: dict) -> tuple[int, dict, dict]:
        refused = self._refuse_write(entry.owner, headers)
        if refused:
            return refused
        if action == "secrets":
            entry.secrets[body["key"]] = body["value"]
            return 200, {}, {}
        if action == "hardware":
            entry.hardware = body["flavor"]
        else:  # sleeptime
            entry.sleep_time = body["seconds"]
        return 200, {}, _runtime_json(entry)


_NOT_FOUND = (404, {"X-Error-Code": "RepoNotFound"}, {"error": "Repository not found"})
_NOT_FOUND_401 = (401, {"X-Error-Code": "RepoNotFound"}, {"error": "Repository not found"})


def _runtime_json(entry: SpaceEntry) -> dict:
    stage = entry.current_stage()
    asleep = stage in ("SLEEPING", "STOPPED", "PAUSED")
    return {
        "stage": stage,
        "hardware": {"current": None if asleep else entry.hardware, "requested": entry.hardware},
        "storage": None,
        "gcTimeout": 172800 if entry.sleep_time is None else entry.sleep_time,
        "replicas": {"current": 0 if asleep else 1, "requested": 1},
        "devMode": False,
        "domains": [{"domain": urlsplit(entry.host).netloc, "stage": "READY"}],
        "sha": _SHA,
    }


def _space_json(entry: SpaceEntry, runtime: dict) -> dict:
    owner = entry.space_id.split("/")[0]
    return {
        "_id": "663200000000000000000000",
        "id": entry.space_id,
        "author": owner,
        "sha": _SHA,
        "lastModified": _DATE,
        "createdAt": _DATE,
        "private": entry.private,
        "gated": False,
        "disabled": False,
        "host": entry.host.rstrip("/"),
        "subdomain": re.sub(r"[/_.]", "-", entry.space_id).lower(),
        "likes": 0,
        "sdk": "gradio",
        "tags": ["gradio", "region:us"],
        "runtime": runtime,
        "siblings": [{"rfilename": ".gitattributes"}, {"rfilename": "README.md"}, {"rfilename": "app.py"}],
        "cardData": {"title": entry.space_id, "sdk": "gradio", "app_file": "app.py"},
        "models": [],
        "datasets": [],
        "usedStorage": 0,
    }


def _handler_for(hub: HubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so stop() leaves no idle keep-alive threads
        protocol_version = "HTTP/1.0"

        def _reply(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            length = int(headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                sent = json.loads(raw) if raw else None
            except ValueError:
                sent = raw
            status, extra, body = hub._answer(self.command, self.path, headers, sent)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _reply

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet in tests
            pass

    return Handler


@contextlib.contextmanager
def hub_behind_hf_endpoint(monkeypatch: Any, tmp_path: Path) -> Iterator[HubStandIn]:
    """A stand-in Hub that ``huggingface_hub`` reaches through ``HF_ENDPOINT``, with no stored
    token of the real machine in sight (for a fixture: ``with ... as hub: yield hub``)."""
    import huggingface_hub.constants as hf_constants

    with HubStandIn() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path))
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
            monkeypatch.delenv(name, raising=False)
        # huggingface_hub fixed these when it was first imported, maybe by another test
        monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
        monkeypatch.setattr(hf_constants, "ENDPOINT", hub.url)
        yield hub
