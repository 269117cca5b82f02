"""Retry policies: what may be sent again, and when."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Iterable

from ._exceptions import GradioJobsError, QueueFullError, ServerError, ServerUnreachableError
from .protocol.api import Endpoint

__all__ = ["RetryPolicy", "SubmitRetry"]


def _backoff(base: float, cap: float, attempt: int) -> float:
    delay = min(cap, base * (2**attempt))
    return delay * (0.75 + random.random() * 0.5)  # jitter, so many jobs do not retry in step


@dataclass(frozen=True)
class SubmitRetry:
    """Retries of the join request, made only while the server has not given the job an id.

    A join is sent again after a connection error that happened before the request went
    out, and after HTTP 429, 502 and 503 (honouring ``Retry-After``): answers that say the
    job was not taken, so it can never run twice. A full queue is retried only with
    ``retry_queue_full=True``.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 10.0
    retry_queue_full: bool = False

    def should_retry(self, error: BaseException, attempt: int) -> float | None:
        """Seconds to wait before try number ``attempt + 1``, or None to give up."""
        if attempt >= self.attempts or not isinstance(error, GradioJobsError):
            return None
        if isinstance(error, QueueFullError):
            if not self.retry_queue_full:
                return None
        elif isinstance(error, ServerUnreachableError):
            if error.request_sent:
                return None
        elif not (isinstance(error, ServerError) and error.status_code in (429, 502, 503)):
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        return _backoff(self.backoff, self.max_backoff, attempt)


@dataclass(frozen=True)
class RetryPolicy:
    """Opt-in: submit a job again when its connection is lost, for endpoints safe to repeat.

    When the event stream breaks, the server drops every pending job of the session. Jobs of
    the endpoints named in ``safe_endpoints`` (``"*"`` for all) are then submitted again, up
    to ``attempts`` times with exponential ``backoff``; the caller keeps the same job object,
    and a generator's outputs are not delivered twice.
    """

    safe_endpoints: Iterable[str] | str = ()
    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 10.0
    _names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [self.safe_endpoints] if isinstance(self.safe_endpoints, str) else list(self.safe_endpoints)
        normalized = {n if n == "*" or n.startswith("/") else "/" + n for n in names}
        object.__setattr__(self, "_names", frozenset(normalized))

    def allows(self, endpoint: Endpoint, attempts_so_far: int) -> bool:
        if attempts_so_far >= self.attempts:
            return False
        return "*" in self._names or (endpoint.api_name or "") in self._names

    def delay(self, attempts_so_far: int) -> float:
        return _backoff(self.backoff, self.max_backoff, attempts_so_far)
