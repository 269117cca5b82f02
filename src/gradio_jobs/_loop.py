"""The one background event-loop thread that every sync ``Client`` of the process shares."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = [
    "call",
    "call_soon",
    "callback_executor",
    "client_closed",
    "in_loop_thread",
    "loop",
    "open_client",
    "retire",
    "run",
]

T = TypeVar("T")

logger = logging.getLogger("gradio_jobs")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_callbacks: concurrent.futures.ThreadPoolExecutor | None = None
#: The loop's default executor, which only resolves host names.
_resolver: concurrent.futures.ThreadPoolExecutor | None = None
#: The async clients of the open sync clients, held strongly: the loop thread lives while
#: there is one, and they are closed at exit (their sync clients may be gone by then).
_clients: set[Any] = set()
#: Sync clients being connected: the loop must outlive their construction too.
_opening = 0
#: Closes of dropped clients running on the loop (held so that they are not collected).
_retiring: set[asyncio.Task[None]] = set()


def _serve(ready: threading.Event) -> None:
    global _loop, _resolver
    new_loop = asyncio.new_event_loop()
    # The loop's default executor only resolves host names for new connections: one
    # thread is plenty, and it keeps the thread count independent of the number of jobs.
    _resolver = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gradio-jobs-dns")
    new_loop.set_default_executor(_resolver)
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


def call(fn: Callable[..., T], *args: Any) -> T:
    """Run the plain function ``fn(*args)`` on the shared loop and return its answer.

    On the loop thread itself it is called at once.
    """
    if in_loop_thread():
        return fn(*args)

    async def on_loop() -> T:
        return fn(*args)

    return run(on_loop())


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
    """Connect the async ``client`` of a sync client on the loop; it counts as open only once
    ``connect`` succeeds.

    A construction that fails stops the loop again if nothing else needs it, so a wrong URL
    leaves no thread behind. ``client=None`` runs ``connect`` the same way and keeps nothing
    open (``Client.duplicate``'s Hub calls).
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
            if connected and client is not None:
                _clients.add(client)
        _stop(_detach_if_idle())


def client_closed(client: Any) -> None:
    """The async ``client`` of a sync client was closed: when it was the last, stop the loop
    and its threads, so that nothing is left behind."""
    with _lock:
        _clients.discard(client)
    _stop(_detach_if_idle())


def retire(client: Any) -> None:
    """A sync client was dropped without ``close()``: close its async ``client`` on the loop
    (its pending jobs are cancelled on the server), then stop the loop if nothing needs it.

    Called by the sync client's finalizer, from whatever thread collects it: never blocks.
    """
    with _lock:
        current = _loop if client in _clients else None
    if current is None:
        return
    try:
        current.call_soon_threadsafe(_start_retiring, client)
    except RuntimeError:  # the loop is closed already
        logger.debug("a dropped client found its loop closed")


def _start_retiring(client: Any) -> None:
    task = asyncio.get_running_loop().create_task(_retire(client))
    _retiring.add(task)
    task.add_done_callback(_retiring.discard)


async def _retire(client: Any) -> None:
    try:
        await client.close()
    except Exception:
        logger.exception("gradio-jobs: closing a dropped client failed")
    with _lock:
        _clients.discard(client)
    detached = _detach_if_idle()
    _stop(detached)


_Detached = tuple[
    asyncio.AbstractEventLoop,
    threading.Thread,
    "concurrent.futures.ThreadPoolExecutor | None",  # the callback thread's
    "concurrent.futures.ThreadPoolExecutor | None",  # the resolver's
]


def _detach_if_idle() -> _Detached | None:
    """If no client needs the loop, forget it (under the lock, so that a client opening now
    starts a new one) and return what must be stopped."""
    global _loop, _thread, _callbacks, _resolver
    with _lock:
        if _clients or _opening or _loop is None or _thread is None:
            return None
        detached = (_loop, _thread, _callbacks, _resolver)
        _loop = _thread = _callbacks = _resolver = None
    return detached


def _stop(detached: _Detached | None) -> None:
    if detached is None:
        return
    old_loop, thread, callbacks, resolver = detached
    if callbacks is not None:
        callbacks.shutdown(wait=False)  # a callback may be the very caller of close()
    if thread.is_alive() and threading.current_thread() is not thread:
        old_loop.call_soon_threadsafe(old_loop.stop)
        thread.join(2)
        # Joined here, not by the loop's shutdown_default_executor(), which starts one more
        # thread just to join this one. A lookup in flight is bounded by the system resolver.
        if resolver is not None:
            resolver.shutdown(wait=True)
    else:  # on the loop thread itself (a dropped client's close): its threads end on their own
        old_loop.stop()


def _close_all_at_exit() -> None:
    """Interpreter exit: cancel every pending job on its server (bounded by close_timeout)."""
    with _lock:
        clients = list(_clients)
    for client in clients:
        try:
            run(client.close())
        except Exception:
            logger.debug("closing a client at exit failed", exc_info=True)
        with _lock:
            _clients.discard(client)
    _stop(_detach_if_idle())


# Run before concurrent.futures joins its worker threads at exit (the loop still needs its
# resolver thread to send the cancels); plain atexit is the fallback.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_close_all_at_exit)
else:  # pragma: no cover
    atexit.register(_close_all_at_exit)
