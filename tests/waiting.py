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


# -- observation windows: "nothing happened" judged over the server's own time -----------------
#
# That something did NOT happen (a stopped generator writes no more lines, a dequeued job never
# starts) has no event. It is judged over a window of the server's own time: a live witness
# generator on the same server (the test apps' /ticks endpoint: one line, then 0.1 s, per tick)
# ticks while the state is watched. A loaded machine slows the witness as much as what it
# watches, and on a one-at-a-time queue (3.x) the witness runs only after what is ahead of it.

#: Ticks of the witness that make one window (about 0.5 s of the server's time).
WINDOW_TICKS = 5
#: How long windows may keep seeing a change before the test fails: far less than the 10 s or
#: more that the generators the tests cancel would go on ticking had they not been stopped.
QUIET_WITHIN = 10.0
#: Extra ticks the witness runs, so that a test thread that sees its start a little late still
#: has a whole window; one that sees it later than that tries again, up to WINDOW_TRIES times.
WINDOW_SLACK = 3
WINDOW_TRIES = 10


def _witness_file() -> str:
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="gradio-jobs-witness-")
    os.close(fd)
    return path


def _file_lines(path: str) -> int:
    try:
        with open(path) as fh:
            return fh.read().count("\n")
    except FileNotFoundError:
        return 0


def _is_running(event) -> bool:
    from gradio_jobs.protocol import events as ev

    return isinstance(event, (ev.Started, ev.OutputProduced))


def _window_too_short(ticks: int) -> str:
    return (
        f"no observation window of {ticks} witness ticks after {WINDOW_TRIES} tries: each time the test "
        f"saw the witness running only after most of its ticks"
    )


def observe_window(client, measure: Callable[[], Any], ticks: int = WINDOW_TICKS,
                   timeout: float = 2 * DEFAULT_TIMEOUT) -> tuple[Any, Any]:
    """``(before, after)``: ``measure()`` before and after at least ``ticks`` ticks of a live
    witness generator (``/ticks``) submitted with the sync ``client`` to the same server.

    ``before`` is taken once the witness runs (its Started event), ``after`` once it has
    finished; the witness's own file proves the window held ``ticks`` ticks after ``before``
    (a test thread that saw the start late gets a new window)."""
    for _ in range(WINDOW_TRIES):
        path = _witness_file()
        try:
            witness = client.submit(path, ticks + WINDOW_SLACK, api_name="/ticks")
            wait_for_event(witness, _is_running, timeout, what="the witness generator's start")
            before = measure()
            written = _file_lines(path)
            last = witness.result(timeout=timeout)
            assert last == ticks + WINDOW_SLACK - 1, f"the witness generator ended at tick {last}"
            after = measure()
        finally:
            _remove(path)
        if ticks + WINDOW_SLACK - written >= ticks:
            return before, after
    raise AssertionError(_window_too_short(ticks))


async def aobserve_window(client, measure: Callable[[], Any], ticks: int = WINDOW_TICKS,
                          timeout: float = 2 * DEFAULT_TIMEOUT) -> tuple[Any, Any]:
    """:func:`observe_window` with an ``AsyncClient``."""
    for _ in range(WINDOW_TRIES):
        path = _witness_file()
        try:
            witness = client.submit(path, ticks + WINDOW_SLACK, api_name="/ticks")
            await await_event(witness, _is_running, timeout, what="the witness generator's start")
            before = measure()
            written = _file_lines(path)
            last = await witness.result(timeout=timeout)
            assert last == ticks + WINDOW_SLACK - 1, f"the witness generator ended at tick {last}"
            after = measure()
        finally:
            _remove(path)
        if ticks + WINDOW_SLACK - written >= ticks:
            return before, after
    raise AssertionError(_window_too_short(ticks))


def _remove(path: str) -> None:
    import contextlib
    import os

    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _still_changing(what: str, before: Any, after: Any, ticks: int, within: float) -> str:
    return (
        f"{what} still changed ({before!r} -> {after!r}) over a window of {ticks} ticks of a live "
        f"generator on the same server, {within:.0f} s on"
    )


def wait_until_quiet(client, measure: Callable[[], Any], what: str, within: float = QUIET_WITHIN,
                     ticks: int = WINDOW_TICKS) -> Any:
    """Observation windows (:func:`observe_window`) one after another until ``measure()`` does
    not change over one (a step in flight may still land in the first); returns its value.
    Fails, naming ``what``, if it still changes after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        before, after = observe_window(client, measure, ticks)
        if before == after:
            return after
        assert time.monotonic() < deadline, _still_changing(what, before, after, ticks, within)


async def await_quiet(client, measure: Callable[[], Any], what: str, within: float = QUIET_WITHIN,
                      ticks: int = WINDOW_TICKS) -> Any:
    """:func:`wait_until_quiet` with an ``AsyncClient``."""
    deadline = time.monotonic() + within
    while True:
        before, after = await aobserve_window(client, measure, ticks)
        if before == after:
            return after
        assert time.monotonic() < deadline, _still_changing(what, before, after, ticks, within)
