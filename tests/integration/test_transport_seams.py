"""The seams between the transport and the event loop, against real servers.

- file transfers do no file-system work on the loop thread (a real gradio 6.31 files app);
- a slow Hugging Face Hub call does not take the loop's default executor (the one thread
  that resolves host names for every client) away from everyone else (a stand-in Hub).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hub import HubStandIn, hub_behind_hf_endpoint
from servers import GradioServer, serving

from gradio_jobs import AsyncClient, _spaces, handle_file
from gradio_jobs.transport import files as transfer

MIB = 1 << 20
FILES_PY = os.path.normcase(os.path.abspath(transfer.__file__))
#: Calls that touch the file system or hash file content.
IO_CALLS = frozenset({
    "open", "stat", "lstat", "fstat", "read", "readinto", "readall", "write", "writelines", "flush", "close",
    "replace", "rename", "mkdir", "unlink", "remove", "update", "hexdigest", "digest", "fdopen", "mkstemp",
})
IO_MODULES = frozenset({"posix", "nt", "io", "_io", "builtins"})


@pytest.fixture(scope="module")
def files_server() -> Iterator[GradioServer]:
    with serving("6.31.0", "files_app") as server:
        yield server


def _is_io(arg: Any) -> bool:
    if getattr(arg, "__name__", None) not in IO_CALLS:
        return False
    owner = getattr(arg, "__self__", None)
    if isinstance(owner, types.ModuleType):
        return owner.__name__ in IO_MODULES
    return isinstance(owner, io.IOBase) or hasattr(owner, "hexdigest")


def _from_transfer_code(frame: types.FrameType | None) -> bool:
    for _ in range(8):
        if frame is None:
            return False
        if os.path.normcase(frame.f_code.co_filename) == FILES_PY:
            return True
        frame = frame.f_back
    return False


class IoCalls:
    """Records, through a profile hook in every thread, each file-system or hashing call:
    on the loop thread those that ``transport/files.py`` makes (directly or through
    pathlib/tempfile), on other threads every one of them."""

    def __init__(self, loop_thread: int) -> None:
        self.loop_thread = loop_thread
        self.on_loop: list[str] = []
        self.off_loop: set[str] = set()
        self.active = True

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if not self.active or event != "c_call" or not _is_io(arg):
            return
        if threading.get_ident() == self.loop_thread:
            if _from_transfer_code(frame):
                self.on_loop.append(arg.__name__)
        else:
            self.off_loop.add(arg.__name__)


@pytest.fixture
def io_calls() -> Iterator[IoCalls]:
    # Each client's transport makes its own file I/O pool: its threads start under the hook.
    calls = IoCalls(threading.get_ident())
    threading.setprofile(calls)
    sys.setprofile(calls)
    try:
        yield calls
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        calls.active = False


async def test_file_transfers_do_no_file_io_on_the_loop_thread(
    files_server: GradioServer, tmp_path: Path, io_calls: IoCalls
) -> None:
    source = tmp_path / "input.bin"
    source.write_bytes(os.urandom(3 * MIB + 17))
    downloads = tmp_path / "downloads"
    async with AsyncClient(files_server.url, verbose=False, download_files=str(downloads)) as client:
        assert await client.predict(handle_file(source), api_name="/size") == 3 * MIB + 17
        path = await client.predict(3, api_name="/big")
    io_calls.active = False
    assert os.path.getsize(path) == 3 * MIB  # noqa: ASYNC240 - the transfer is over
    assert Path(path).resolve().is_relative_to(downloads.resolve())  # noqa: ASYNC240
    assert io_calls.on_loop == [], f"file-system calls on the event loop thread: {sorted(set(io_calls.on_loop))}"
    # and the work did happen, elsewhere
    assert {"write", "update", "replace", "mkdir"} <= io_calls.off_loop, io_calls.off_loop
    assert io_calls.off_loop & {"read", "readinto", "readall"}, io_calls.off_loop


async def test_a_failed_download_leaves_no_partial_file_and_no_loop_io(
    files_server: GradioServer, tmp_path: Path, io_calls: IoCalls
) -> None:
    downloads = tmp_path / "downloads"
    async with AsyncClient(
        files_server.url, verbose=False, download_files=str(downloads), max_download_size=2 * MIB
    ) as client:
        with pytest.raises(Exception, match="limit"):
            await client.predict(3, api_name="/big")
    io_calls.active = False
    assert [p.name for p in downloads.rglob("*") if p.is_file()] == []
    assert io_calls.on_loop == [], f"file-system calls on the event loop thread: {sorted(set(io_calls.on_loop))}"


# -- the Hub ---------------------------------------------------------------------------------------


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubStandIn]:
    """A stand-in Hub behind ``HF_ENDPOINT``, and no stored token from the real machine."""
    with hub_behind_hf_endpoint(monkeypatch, tmp_path) as h:
        yield h


async def test_a_stalled_hub_leaves_the_default_executor_free(hub: HubStandIn) -> None:
    loop = asyncio.get_running_loop()
    # As on the sync clients' loop thread (_loop._serve): one thread, for host names.
    dns = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test-dns")
    loop.set_default_executor(dns)
    entered, release = threading.Event(), threading.Event()

    def stalled_stage() -> str:
        entered.set()
        release.wait(30)
        return "RUNNING"

    hub.add_space("owner/slow-hub", host="http://127.0.0.1:9/", stage=stalled_stage)
    resolving = asyncio.ensure_future(_spaces.resolve_space("owner/slow-hub", None, timeout=60))
    try:
        for _ in range(2000):  # wait on the loop, not in an executor
            if entered.is_set():
                break
            await asyncio.sleep(0.01)
        assert entered.is_set(), "the Hub was never asked"
        # The Hub holds a call open; a host-name lookup (any default-executor job) still runs at once.
        assert await asyncio.wait_for(loop.run_in_executor(None, lambda: "resolved"), 2.0) == "resolved"
    finally:
        release.set()
    assert await asyncio.wait_for(resolving, 30) == "http://127.0.0.1:9/"


@pytest.mark.parametrize("hook_kind", ["plain hook: downloads on a file thread", "async hook: downloads on the loop"])
async def test_downloads_pass_the_users_hooks_on_either_path(
    files_server: GradioServer, tmp_path: Path, hook_kind: str
) -> None:
    seen: list[str] = []

    def plain(request: Any) -> None:
        seen.append(str(request.url))

    async def awaited(request: Any) -> None:
        seen.append(str(request.url))

    hook = plain if hook_kind.startswith("plain") else awaited
    async with AsyncClient(
        files_server.url, verbose=False, download_files=str(tmp_path), httpx_kwargs={"event_hooks": {"request": [hook]}}
    ) as client:
        path = await client.predict(2, api_name="/big")
    assert os.path.getsize(path) == 2 * MIB  # noqa: ASYNC240 - the transfer is over
    assert any("file=" in url for url in seen), seen
