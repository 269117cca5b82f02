"""Retry policies: what may be sent again, and when."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from ._exceptions import GradioJobsError, QueueFullError, ServerError, ServerUnreachableError
from .protocol.api import Endpoint

__all__ = ["RetryPolicy", "SubmitRetry"]


def _backoff(base: float, cap: float, attempt: int) -> float:
    """``base`` seconds doubled per ``attempt`` (0 for the first retry), at most ``cap``, jittered."""
    delay = min(cap, base * 2.0**attempt)
    return delay * (0.75 + random.random() * 0.5)  # jitter, so many jobs do not retry in step


@dataclass(frozen=True)
class SubmitRetry:
    """Retries of the join request, made only while the server has not given the job an id.

    A join is sent again after a connection error that happened before the request went
    out, and after HTTP 429, 502 and 503 (honouring ``Retry-After``): answers that say the
    job was not taken, so it can never run twice. A full queue is retried only with
    ``retry_queue_full=True``.

    ``attempts`` (default 3) is the number of retries after the first try; ``backoff``
    (default 0.5) the seconds before the first retry, doubled for each further one (with
    random jitter of +-25%) up to ``max_backoff`` (default 10.0), which also caps a
    ``Retry-After`` the server sends; ``retry_queue_full`` (default False) retries a full
    queue (:class:`QueueFullError`) too.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 10.0
    retry_queue_full: bool = False

    def should_retry(self, error: BaseException, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to give up.

        ``error`` is what the join raised; ``attempt`` counts the retries made so far (0
        after the first try failed), so the answer is the wait before retry ``attempt + 1``.
        """
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
        retry_after: float | None = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        return _backoff(self.backoff, self.max_backoff, attempt)


@dataclass(frozen=True)
class RetryPolicy:
    """Opt-in: submit a job again when its connection is lost, for endpoints safe to repeat.

    When the event stream breaks, the server drops every pending job of the session. Jobs of
    the endpoints named in ``safe_endpoints`` are then submitted again; the caller keeps the
    same job object, and a generator's outputs are not delivered twice.

    ``safe_endpoints`` (default empty: nothing is repeated) is one ``api_name`` or several,
    with or without the leading slash, or ``"*"`` for every endpoint; ``attempts`` (default 3)
    bounds the resubmissions per job; ``backoff`` (default 0.5) is the seconds before the
    first one, doubled for each further one (with random jitter of +-25%) up to
    ``max_backoff`` (default 10.0).
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
        """Whether a lost job of ``endpoint`` may be submitted again, after ``attempts_so_far``
        resubmissions of it already."""
        if attempts_so_far >= self.attempts:
            return False
        return "*" in self._names or (endpoint.api_name or "") in self._names

    def delay(self, attempts_so_far: int) -> float:
        """Seconds to wait before the next resubmission of a job already resubmitted
        ``attempts_so_far`` times (0 for the first)."""
        return _backoff(self.backoff, self.max_backoff, attempts_so_far)
