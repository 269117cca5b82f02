"""Waiting for a condition in tests, with a bound and a useful message."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0, describe: Callable[[], Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"condition not reached: {describe() if describe else ''}"
        time.sleep(0.01)


async def await_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)
