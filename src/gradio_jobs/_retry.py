"""Retry policies: what may be sent again, and when."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from ._exceptions import GradioJobsError, QueueFullError, QuotaExceededError, ServerError, ServerUnreachableError
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

    ``wait_quota`` (default False) makes a job that failed with a ZeroGPU
    :class:`QuotaExceededError` wait the ``retry_after`` its message names (plus random
    jitter of up to 5%, at most 2 s) and be submitted again, at most ``attempts`` times per
    job; the caller keeps the same job object, and a ``Resubmitted`` event names the quota
    and the wait. A quota error that names no wait, a wait longer than ``max_quota_wait``
    seconds (default None: no cap), or one that would end after a deadline of the job
    (``submit(deadline=...)``) fails the job at once with the quota error.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 10.0
    retry_queue_full: bool = False
    wait_quota: bool = False
    max_quota_wait: float | None = None

    def __post_init__(self) -> None:
        for name in ("attempts", "backoff", "max_backoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"SubmitRetry.{name} must be a number >= 0, got {value!r}")
        cap = self.max_quota_wait
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float)) or cap < 0):
            raise ValueError(f"SubmitRetry.max_quota_wait must be seconds >= 0 or None, got {cap!r}")

    def quota_wait(self, error: BaseException, waits_so_far: int) -> float | None:
        """Seconds to wait before submitting a job again after it failed with ``error``, or
        None to let it fail.

        Only with ``wait_quota``, only for a :class:`QuotaExceededError` whose message names
        its wait, at most ``attempts`` times per job (``waits_so_far`` counts the waits it
        has had already) and at most ``max_quota_wait`` seconds. The job checks its deadline.
        """
        if not self.wait_quota or not isinstance(error, QuotaExceededError) or error.retry_after is None:
            return None
        if waits_so_far >= self.attempts:
            return None
        wait = max(error.retry_after, 0.0)
        if self.max_quota_wait is not None and wait > self.max_quota_wait:
            return None
        return wait + random.uniform(0.0, min(2.0, 0.05 * wait))

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
