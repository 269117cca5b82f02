"""The one background event-loop thread that every sync ``Client`` of the process shares."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
from typing import Any, Callable, Coroutine, TypeVar

__all__ = ["run", "call_soon", "loop", "in_loop_thread", "callback_executor"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_callbacks: concurrent.futures.ThreadPoolExecutor | None = None


def _serve(ready: threading.Event) -> None:
    global _loop
    new_loop = asyncio.new_event_loop()
    # The loop's default executor only resolves host names for new connections: one
    # thread is plenty, and it keeps the thread count independent of the number of jobs.
    new_loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gradio-jobs-dns"))
    asyncio.set_event_loop(new_loop)
    _loop = new_loop
    ready.set()
    try:
        new_loop.run_forever()
    finally:
        new_loop.close()


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _thread
    if _loop is not None and _thread is not None and _thread.is_alive():
        return _loop
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            ready = threading.Event()
            _thread = threading.Thread(target=_serve, args=(ready,), name="gradio-jobs-loop", daemon=True)
            _thread.start()
            ready.wait()
    assert _loop is not None
    return _loop


def in_loop_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the shared loop and wait for it from the calling thread."""
    if in_loop_thread():
        coro.close()
        raise RuntimeError(
            "a blocking gradio-jobs call was made on its own event-loop thread; "
            "use AsyncClient inside async code and callbacks"
        )
    future = asyncio.run_coroutine_threadsafe(coro, loop())
    try:
        return future.result(timeout)
    except BaseException:
        future.cancel()
        raise


def call_soon(fn: Callable[..., Any], *args: Any) -> None:
    """Schedule a plain call on the shared loop (thread-safe, FIFO)."""
    loop().call_soon_threadsafe(fn, *args)


def callback_executor() -> concurrent.futures.ThreadPoolExecutor:
    """One thread for user callbacks of sync jobs, so a slow callback never stalls the loop."""
    global _callbacks
    with _lock:
        if _callbacks is None:
            _callbacks = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gradio-jobs-callbacks")
        return _callbacks


def _shutdown() -> None:
    if _loop is not None and _loop.is_running():
        _loop.call_soon_threadsafe(_loop.stop)
    if _callbacks is not None:
        _callbacks.shutdown(wait=False)


atexit.register(_shutdown)
