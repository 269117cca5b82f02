"""The app's queue as ``GET queue/status`` describes it, before submitting anything. No I/O.

Every server generation (3.50 to 6.x) has the route (under the API prefix: ``/queue/status``
on 3.x and 4.x, ``/gradio_api/queue/status`` from 5.0). What it answers differs:

- 3.x, and 4.x up to at least 4.8: ``queue_size`` (the jobs waiting for a worker, not the running ones),
  ``queue_eta`` (the server's estimate of the seconds the queue needs: the average run
  time over the number of workers, times ``queue_size``; 1 until a job has run),
  ``avg_event_process_time`` and ``avg_event_concurrent_process_time`` (seconds; 0 or null
  until a job has run);
- 4.16 (at the latest) and later: ``queue_size`` alone (the waiting jobs of every concurrency group).

A 3.x app launched without ``.queue()`` has no queue: its route fails (HTTP 500); the client
says so before asking (:func:`queue_status_available`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._exceptions import ProtocolError
from .capabilities import Capabilities

__all__ = ["QueueStatus", "parse_queue_status", "queue_status_available"]


@dataclass(frozen=True)
class QueueStatus:
    """The app's queue right now (``client.queue_status()``).

    ``queue_size`` is the number of jobs waiting for a worker (running ones not counted), of
    every endpoint and every user. ``queue_eta``, ``avg_event_process_time`` and
    ``avg_event_concurrent_process_time`` are the server's estimates in seconds (see the
    module docstring), sent by gradio 3.x and early 4.x only (None from 4.16 at the latest).
    """

    queue_size: int
    queue_eta: float | None = None
    avg_event_process_time: float | None = None
    avg_event_concurrent_process_time: float | None = None


def queue_status_available(caps: Capabilities) -> bool:
    """Whether the app has a queue to describe (a 3.x app launched without ``.queue()``
    has none); ``caps`` are the server's capabilities."""
    return caps.queue_enabled


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def parse_queue_status(answer: Any) -> QueueStatus:
    """The :class:`QueueStatus` in the JSON ``answer`` of ``GET queue/status``.

    Raises :class:`ProtocolError` when ``answer`` is not an object with a whole, non-negative
    ``queue_size``. Estimates that are missing or not numbers become None.
    """
    if not isinstance(answer, dict):
        raise ProtocolError("the queue status is not a JSON object", payload=answer)
    size = answer.get("queue_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ProtocolError(f"the queue status has no valid queue_size: {size!r}", payload=answer)
    return QueueStatus(
        queue_size=size,
        queue_eta=_seconds(answer.get("queue_eta")),
        avg_event_process_time=_seconds(answer.get("avg_event_process_time")),
        avg_event_concurrent_process_time=_seconds(answer.get("avg_event_concurrent_process_time")),
    )
