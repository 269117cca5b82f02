"""The one background event-loop thread that every sync ``Client`` of the process shares."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
import weakref
from typing import Any, Callable, Coroutine, TypeVar

__all__ = ["run", "call_soon", "loop", "in_loop_thread", "callback_executor", "open_client", "client_closed"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_callbacks: concurrent.futures.ThreadPoolExecutor | None = None
#: Open sync clients: the loop thread lives while there is one, and they are closed at exit.
_clients: "weakref.WeakSet[Any]" = weakref.WeakSet()
#: Sync clients being connected: the loop must outlive their construction too.
_opening = 0


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


def open_client(client: Any, connect: Coroutine[Any, Any, T]) -> T:
    """Connect a sync client on the loop; it counts as open only once ``connect`` succeeds.

    A construction that fails stops the loop again if nothing else needs it, so a wrong URL
    leaves no thread behind.
    """
    global _opening
    with _lock:
        _opening += 1
    connected = False
    try:
        result = run(connect)
        connected = True
        return result
    finally:
        with _lock:
            _opening -= 1
            if connected:
                _clients.add(client)
            idle = not _clients and not _opening
        if idle:
            _stop()


def client_closed(client: Any) -> None:
    """When the last sync client closes, stop the loop and its threads: nothing is left behind."""
    with _lock:
        _clients.discard(client)
        if _clients or _opening:
            return
    _stop()


def _stop() -> None:
    global _loop, _thread, _callbacks
    with _lock:
        old_loop, thread, callbacks = _loop, _thread, _callbacks
        _loop = _thread = _callbacks = None
    if old_loop is not None and thread is not None and thread.is_alive() and threading.current_thread() is not thread:
        try:
            asyncio.run_coroutine_threadsafe(old_loop.shutdown_default_executor(), old_loop).result(2)
        except Exception:
            pass
        old_loop.call_soon_threadsafe(old_loop.stop)
        thread.join(2)
    if callbacks is not None:
        callbacks.shutdown(wait=False)


def _close_all_at_exit() -> None:
    """Interpreter exit: cancel every pending job on its server (bounded by close_timeout)."""
    for client in list(_clients):
        try:
            client.close()
        except Exception:
            pass
    _stop()


# Run before concurrent.futures joins its worker threads at exit (the loop still needs its
# resolver thread to send the cancels); plain atexit is the fallback.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_close_all_at_exit)
else:  # pragma: no cover
    atexit.register(_close_all_at_exit)
