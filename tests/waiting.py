"""Waiting in tests: on a job's own events where there are any, else on a condition, always with
a bound and a message that says what did not happen.

- ``wait_for_event(job, match)`` / ``await await_event(job, match)``: the first event of the job
  that matches (an event class, a tuple of them, or a predicate). They follow ``job.events()``,
  which waits on the job's own signal: nothing is sampled. They fail at once if the job's part is
  over without such an event, and after ``timeout`` seconds if it never comes.
- ``wait_until(predicate)`` / ``await await_until(predicate)``: for facts outside the library
  that have no event (a file the app writes, a process, the OS's sockets). They check the
  predicate every few milliseconds, so keep them for those.

The timeouts are generous on purpose (the test machines are shared and slow): they bound a
hang, they are not a measurement.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any, Callable, Union

#: Long enough for the slowest loaded machine; a test that hits it has hung.
DEFAULT_TIMEOUT = 30.0

Match = Union[type, tuple, Callable[[Any], bool]]


def _matcher(match: Match) -> Callable[[Any], bool]:
    if isinstance(match, type) or (isinstance(match, tuple) and all(isinstance(m, type) for m in match)):
        return lambda event: isinstance(event, match)
    return match


def _name(match: Match, what: str | None) -> str:
    if what:
        return what
    if isinstance(match, type):
        return f"a {match.__name__} event"
    if isinstance(match, tuple):
        return "an event of " + " / ".join(m.__name__ for m in match)
    return f"an event matching {getattr(match, '__name__', match)!r}"


def _history(job) -> str:
    return "\n  ".join(repr(e) for e in job.event_log()) or "(none)"


def _described(describe: Callable[[], Any] | str | None) -> str:
    if describe is None:
        return ""
    return str(describe() if callable(describe) else describe)


def wait_for_event(job, match: Match, timeout: float = DEFAULT_TIMEOUT, what: str | None = None):
    """The first event of the sync ``job`` that matches; fails if the job ends without one or
    none comes within ``timeout`` seconds."""
    test = _matcher(match)
    found: queue.Queue = queue.Queue()

    def follow() -> None:  # job.events() has no timeout of its own: follow it on a side thread
        try:
            for event in job.events():
                if test(event):
                    found.put(("found", event))
                    return
            found.put(("ended", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            found.put(("raised", exc))

    threading.Thread(target=follow, name="test-wait-for-event", daemon=True).start()
    try:
        kind, value = found.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(
            f"{_name(match, what)} did not come within {timeout:.0f} s; the job's events so far:\n  {_history(job)}"
        ) from None
    if kind == "raised":
        raise value
    if kind == "ended":
        raise AssertionError(f"the job ended without {_name(match, what)}; its events:\n  {_history(job)}")
    return value


async def await_event(job, match: Match, timeout: float = DEFAULT_TIMEOUT, what: str | None = None):
    """The first event of the ``AsyncJob`` that matches (see :func:`wait_for_event`)."""
    test = _matcher(match)

    async def follow():
        async for event in job.events():
            if test(event):
                return event
        raise AssertionError(f"the job ended without {_name(match, what)}; its events:\n  {_history(job)}")

    try:
        return await asyncio.wait_for(follow(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(
            f"{_name(match, what)} did not come within {timeout:.0f} s; the job's events so far:\n  {_history(job)}"
        ) from None


def wait_until(
    predicate: Callable[[], bool],
    timeout: float = DEFAULT_TIMEOUT,
    describe: Callable[[], Any] | str | None = None,
    interval: float = 0.01,
) -> None:
    """Until ``predicate()`` holds, for at most ``timeout`` seconds (then an AssertionError that
    says what was awaited: ``describe``, a text or a function giving the current state)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not reached within {timeout:.0f} s: {_described(describe)}")
        time.sleep(interval)


async def await_until(
    predicate: Callable[[], bool],
    timeout: float = DEFAULT_TIMEOUT,
    describe: Callable[[], Any] | str | None = None,
    interval: float = 0.01,
) -> None:
    """``wait_until`` for async tests: checks between sleeps of the running loop."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not reached within {timeout:.0f} s: {_described(describe)}")
        await asyncio.sleep(interval)
