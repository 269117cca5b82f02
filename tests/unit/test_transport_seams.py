"""The transport's seams with the event loop and with the interpreter: one TLS context per
transport, Hub calls off the loop's default executor, the version import, cheap imports."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import os
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from gradio_jobs import _spaces
from gradio_jobs.transport.http import HttpTransport

PACKAGE_DIR = Path(_spaces.__file__).resolve().parent


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (same sys.path as this one), with its output."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


async def _options(transport: HttpTransport, url: str) -> tuple[str, dict[str, Any]]:
    found = transport.websocket_options(url)
    return await found if inspect.isawaitable(found) else found


# -- one TLS context per transport ------------------------------------------------------------


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verify"])
async def test_websockets_share_one_tls_context_per_transport(verify: bool) -> None:
    transport = HttpTransport("https://app.example/", verify=verify)
    try:
        url_a, first = await _options(transport, "https://app.example/queue/join")
        url_b, second = await _options(transport, "https://app.example/queue/join")
    finally:
        await transport.aclose()
    assert url_a == url_b == "wss://app.example/queue/join"
    assert isinstance(first["ssl"], ssl.SSLContext)
    assert first["ssl"] is second["ssl"]
    if verify:
        assert first["ssl"].verify_mode == ssl.CERT_REQUIRED and first["ssl"].check_hostname
    else:
        assert first["ssl"].verify_mode == ssl.CERT_NONE and not first["ssl"].check_hostname


async def test_the_tls_context_is_built_off_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    built_on: list[threading.Thread] = []
    real = ssl.create_default_context

    def recording(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built_on.append(threading.current_thread())
        return real(*args, **kwargs)

    transport = HttpTransport("https://app.example/")
    monkeypatch.setattr(ssl, "create_default_context", recording)
    try:
        await asyncio.gather(*(_options(transport, "https://app.example/queue/join") for _ in range(3)))
    finally:
        await transport.aclose()
    assert len(built_on) == 1
    assert built_on[0] is not threading.current_thread()


async def test_plain_websockets_need_no_tls() -> None:
    transport = HttpTransport("http://app.example/", headers={"x-a": "1"})
    try:
        url, options = await _options(transport, "http://app.example/queue/join")
        with pytest.raises(ValueError, match="origin"):
            await _options(transport, "http://elsewhere.example/queue/join")
    finally:
        await transport.aclose()
    assert url == "ws://app.example/queue/join"
    assert options["ssl"] is None and options["additional_headers"]["x-a"] == "1"


# -- Hub calls do not take the loop's default executor ----------------------------------------------


async def test_find_stored_token_runs_beside_a_busy_default_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    dns = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test-dns")
    loop.set_default_executor(dns)
    looked_up_on: list[str] = []

    def token() -> str:
        looked_up_on.append(threading.current_thread().name)
        return "hf_stored"

    monkeypatch.setattr(_spaces, "stored_token", token)
    release = threading.Event()
    busy = loop.run_in_executor(None, release.wait, 30)  # a slow lookup holds the default executor
    try:
        assert await asyncio.wait_for(_spaces.find_stored_token(), 5) == "hf_stored"
    finally:
        release.set()
        await busy
    assert looked_up_on and looked_up_on[0].startswith("gradio-jobs-hub")


# -- the version ---------------------------------------------------------------------------------


def test_http_imports_before_the_package_has_finished_initialising() -> None:
    # As when gradio_jobs/__init__.py is still running its imports: the package module
    # exists, but has not reached the end (nor any line after its imports).
    code = f"""
import sys, types
package = types.ModuleType("gradio_jobs")
package.__path__ = [{str(PACKAGE_DIR)!r}]
sys.modules["gradio_jobs"] = package
import gradio_jobs.transport.http as http
print(http.__version__)
"""
    done = _run_python(code)
    assert done.returncode == 0, done.stderr[-2000:]
    from gradio_jobs._version import __version__

    assert done.stdout.strip() == __version__


# -- what `import gradio_jobs` costs ---------------------------------------------------------------------

_WHO_IMPORTS = """
import json, sys
WATCHED = ("rich", "websockets", "huggingface_hub")
importers = {}

class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in WATCHED and top not in importers:
            frame = sys._getframe(1)
            while frame is not None and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
                frame = frame.f_back
            importers[top] = frame.f_globals.get("__name__") if frame is not None else None
        return None

sys.meta_path.insert(0, Watch())
%s
import gradio_jobs
print(json.dumps({"loaded": [m for m in WATCHED if m in sys.modules], "importers": importers}))
"""


def test_import_gradio_jobs_does_not_import_the_cli_websockets_or_the_hub_library() -> None:
    done = _run_python(_WHO_IMPORTS % "")
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "websockets" not in found["loaded"], found
    assert "huggingface_hub" not in found["loaded"], found
    # httpx imports its own command line (rich, click, pygments) when all three are
    # installed; nothing of gradio-jobs may import rich.
    assert not any(str(who).startswith("gradio_jobs") for who in found["importers"].values()), found


def test_without_httpx_command_line_import_gradio_jobs_loads_none_of_them() -> None:
    # httpx's ``from ._main import main`` is the only way rich gets in: without it, nothing.
    done = _run_python(_WHO_IMPORTS % 'sys.modules["httpx._main"] = None')
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["loaded"] == [], found
