"""ZeroGPU quota errors and the queue status, without a server: the parsers and the policy.

The messages are those of Hugging Face's ``spaces`` package, release by release (read from
``spaces/zero/client.py`` of 0.19.4, 0.24.2, 0.28.3, 0.29.6, 0.30.4, 0.32.0, 0.34.2, 0.36.0,
0.37.1, 0.45.0, 0.48.3 and 0.51.3), with the wait written as ``spaces`` writes it:
``str(datetime.timedelta)``.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradio_jobs import AppError, QueueStatus, QuotaExceededError, SubmitRetry
from gradio_jobs._exceptions import GradioJobsError, ProtocolError
from gradio_jobs.protocol.capabilities import Capabilities
from gradio_jobs.protocol.job import app_error_from
from gradio_jobs.protocol.queue_status import parse_queue_status, queue_status_available
from gradio_jobs.protocol.quota import parse_quota_message, parse_wait

JOIN = "https://huggingface.co/join"
PRO = "https://huggingface.co/subscribe/pro?from=ZeroGPU"
STYLE = "white-space: nowrap;text-underline-offset: 2px;color: var(--body-text-color)"

#: (spaces release, template with {w} for the wait) of every message that names its wait.
WITH_WAIT = [
    ("0.24", "You have exceeded your GPU quota (12s left vs. 60s requested). Please retry in {w}"),
    ("0.28", "You have exceeded your GPU quota (12s left vs. 60s requested). Please retry in {w}"),
    (
        "0.28",
        "You have exceeded your GPU quota (12s left vs. 60s requested). Sign-up on Hugging Face to get more "
        "quotas or retry in {w}",
    ),
    (
        "0.29",
        "You have exceeded your GPU quota (12s left vs. 60s requested). "
        f'<a href="{JOIN}">Sign-up on Hugging Face</a> to get more quotas or retry in {{w}}',
    ),
    (
        "0.29",
        "You have exceeded your GPU quota (12s left vs. 60s requested). "
        f'<a href="{PRO}">Subscribe to Pro</a> to get more quotas or retry in {{w}}',
    ),
    ("0.30", "You have exceeded your Pro GPU quota (60s requested vs. 12s left). Try again in {w}"),
    ("0.30", "You have exceeded your GPU quota (60s requested vs. 12s left). Try again in {w}"),
    ("0.36", "You have exceeded your free GPU quota (60s requested vs. 12s left). Try again in {w}"),
    ("0.37", "You have exceeded your GPU quota (60s requested vs. 12s left). Try again in {w}"),
    (
        "0.51",
        "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). Try again in {w}. "
        f"Subscribe to Hugging Face PRO to get 40 min of ZeroGPU quota a day - {PRO}",
    ),
    (
        "0.51",
        "You have exceeded your ZeroGPU quota (60s requested vs. 12s left). Try again in {w}. "
        "Authenticate with a Hugging Face token for more quota - https://huggingface.co/settings/tokens",
    ),
    (
        "0.51",
        "You have exceeded your Pro ZeroGPU quota (120s requested vs. 0s left). Try again in {w}. "
        "Add credits to keep using ZeroGPU. $1 for 10 minutes of ZeroGPU inference - "
        "https://huggingface.co/settings/billing?add-credits=true",
    ),
]

#: Quota messages that name no wait.
WITHOUT_WAIT = [
    ("0.19", "You have exceeded your GPU quota"),
    (
        "0.30",
        f'You have exceeded your GPU quota (60s requested vs. 12s left). <a style="{STYLE}" href="{JOIN}">'
        "Create a free account</a> to get more usage quota.",
    ),
    (
        "0.30",
        f"You have exceeded your GPU quota (60s requested vs. 12s left). [Create a free account]({JOIN}) "
        "to get more usage quota.",
    ),
    (
        "0.32",
        f"You have exceeded your free GPU quota (60s requested vs. 12s left). [Subscribe to Pro]({PRO}) "
        "to get 5x more daily usage quota.",
    ),
    ("0.34", "You have exceeded your free GPU quota (60s requested vs. 12s left)."),
    ("0.34", "You have exceeded your runs limit."),
    (
        "0.34",
        "Space app has reached its GPU limit. Try re-running outside of examples if it happened after clicking one",
    ),
    (
        "0.34",
        "No GPU was available after 60s. Try re-running outside of examples if it happened after clicking one",
    ),
    (
        "0.37",
        "Unlogged user is runnning out of daily ZeroGPU quotas. Signup for free on https://huggingface.co/join "
        "or login on https://huggingface.co/login to get more ZeroGPU quota now.",
    ),
    (
        "0.37",
        "User is runnning out of daily ZeroGPU quotas. Visit https://huggingface.co/subscribe/pro "
        "to get more ZeroGPU quota now.",
    ),
    (
        "0.51",
        "You have exceeded your ZeroGPU runs limit. Subscribe to Hugging Face PRO to get 40 min of ZeroGPU "
        f"quota a day - {PRO}",
    ),
    (
        "0.51",
        "You have too many ZeroGPU credits allocated to running tasks. "
        "Try again once some of those tasks have completed.",
    ),
]

#: Errors of ``spaces`` (and of apps) that are not quota errors: waiting would not help.
NOT_QUOTA = [
    "The requested GPU duration (120s) is larger than the maximum allowed",
    "The requested GPU duration (120s) is larger than the maximum allowedSubscribe to Hugging Face PRO to allow "
    f"GPU tasks up to 40 min - {PRO}",
    "GPU task aborted",
    "No GPU was available",
    "No GPU is currently available for you after 60s",
    f"No GPU was available after 60s [Create a free account]({JOIN}) to get a higher priority in ZeroGPU queues.",
    "GPU task is exceeding its requested duration and might be aborted",
    "Expired ZeroGPU proxy token",
    "Internal Gradio error",
    "bad input: quota",
    "Please try again in 5 minutes",
]

WAITS = [timedelta(seconds=133), timedelta(hours=1, minutes=2, seconds=3), timedelta(days=1, seconds=5),
         timedelta(days=3, hours=23, minutes=59, seconds=59), timedelta(seconds=5, microseconds=500000),
         timedelta(0)]  # fmt: skip


@pytest.mark.parametrize("wait", WAITS, ids=str)
@pytest.mark.parametrize(("release", "template"), WITH_WAIT, ids=[f"{r}-{i}" for i, (r, _) in enumerate(WITH_WAIT)])
def test_every_message_with_a_wait_gives_the_wait(release, template, wait):
    info = parse_quota_message(template.format(w=wait))
    assert info is not None, f"spaces {release}'s message was not recognised"
    assert info.retry_after == pytest.approx(wait.total_seconds())


@pytest.mark.parametrize(
    ("release", "message"), WITHOUT_WAIT, ids=[f"{r}-{i}" for i, (r, _) in enumerate(WITHOUT_WAIT)]
)
def test_every_message_without_a_wait_is_a_quota_error_with_no_wait(release, message):
    info = parse_quota_message(message)
    assert info is not None, f"spaces {release}'s message was not recognised"
    assert info.retry_after is None


@pytest.mark.parametrize("message", NOT_QUOTA)
def test_other_errors_are_not_quota_errors(message):
    assert parse_quota_message(message) is None
    assert parse_quota_message(message, "ZeroGPU illegal duration") is None
    assert parse_quota_message(message, "ZeroGPU worker error") is None


def test_the_title_spaces_gives_makes_any_message_a_quota_error():
    info = parse_quota_message("No GPU was available after 60s. Try again later", "ZeroGPU quota exceeded")
    assert info is not None and info.retry_after is None
    info = parse_quota_message("anything. Try again in 0:00:07", "ZeroGPU pending credits exceeded")
    assert info is not None and info.retry_after == 7
    assert parse_quota_message(None, "ZeroGPU quota exceeded") is None  # a hidden error tells nothing


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=999)))
def test_any_timedelta_spaces_can_write_is_read_back(wait):
    message = f"You have exceeded your free GPU quota (60s requested vs. 3s left). Try again in {wait}"
    info = parse_quota_message(message)
    assert info is not None
    assert info.retry_after == pytest.approx(wait.total_seconds(), abs=1e-6)
    assert parse_wait(str(wait)) == pytest.approx(wait.total_seconds(), abs=1e-6)


UNIT_SECONDS = {"s": 1, "sec": 1, "seconds": 1, "second": 1, "min": 60, "minutes": 60, "m": 60, "h": 3600,
                "hours": 3600, "hour": 3600, "hrs": 3600, "days": 86400, "day": 86400}  # fmt: skip


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.sampled_from(sorted(UNIT_SECONDS))),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([" ", ", ", " and "]),
    st.sampled_from(["", " "]),
)
def test_waits_in_words_are_read(parts, separator, gap):
    text = separator.join(f"{n}{gap}{unit}" for n, unit in parts)
    expected = sum(n * UNIT_SECONDS[unit] for n, unit in parts)
    assert parse_wait(text) == expected
    info = parse_quota_message(f"You have exceeded your GPU quota. Please retry in {text}.")
    assert info is not None and info.retry_after == expected


@pytest.mark.parametrize("text", ["", "soon", "0:2", "five minutes", "12 parsecs", "3 minutes later", "1:xx:00"])
def test_what_is_no_wait_is_none(text):
    assert parse_wait(text) is None


def test_a_negative_timedelta_is_no_wait_at_all():
    assert parse_wait(str(timedelta(seconds=-1))) == 0.0  # "-1 day, 23:59:59"


@given(st.text(max_size=200))
def test_arbitrary_text_never_breaks_the_parser(text):
    info = parse_quota_message(text)
    lowered = text.lower()
    if info is not None:
        assert "quota" in lowered or "limit" in lowered or "credits" in lowered or "no gpu" in lowered
        assert info.retry_after is None or (info.retry_after >= 0 and math.isfinite(info.retry_after))


# -- the error ------------------------------------------------------------------------------


def caps(version: str) -> Capabilities:
    return Capabilities.from_config({"version": version, "protocol": "sse_v3" if version >= "5" else "sse_v1"})


def test_a_quota_message_makes_a_quota_error_that_is_still_an_app_error():
    message = "You have exceeded your free GPU quota (60s requested vs. 12s left). Try again in 0:02:13"
    error = app_error_from(
        {"error": message, "title": "ZeroGPU quota exceeded", "duration": 10, "visible": True}, caps("6.31.0"), "e1"
    )
    assert type(error) is QuotaExceededError
    assert isinstance(error, AppError) and isinstance(error, ValueError) and isinstance(error, GradioJobsError)
    assert str(error) == error.message == message  # the server's words, unchanged
    assert error.retry_after == 133
    assert error.title == "ZeroGPU quota exceeded"
    assert error.job_id == "e1"


def test_a_quoted_4x_quota_message_is_unquoted_then_read():
    message = "You have exceeded your GPU quota (60s requested vs. 12s left). Try again in 1:02:03"
    error = app_error_from({"error": repr(message)}, caps("4.21.0"))
    assert isinstance(error, QuotaExceededError)
    assert str(error) == message and error.retry_after == 3723


def test_other_app_errors_stay_plain_app_errors():
    error = app_error_from({"error": "GPU task aborted", "title": "ZeroGPU worker error"}, caps("6.31.0"))
    assert type(error) is AppError
    hidden = app_error_from({"error": None}, caps("6.31.0"))
    assert type(hidden) is AppError and hidden.hidden


def test_quota_error_defaults_as_app_error():
    error = QuotaExceededError("You have exceeded your GPU quota")
    assert error.retry_after is None and error.title == "Error" and error.duration == 10 and not error.hidden


# -- the policy -----------------------------------------------------------------------------


def quota_error(retry_after: float | None) -> QuotaExceededError:
    return QuotaExceededError("You have exceeded your GPU quota", retry_after=retry_after)


def test_quota_waits_are_off_by_default():
    assert SubmitRetry().quota_wait(quota_error(5), 0) is None


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_the_wait_is_retry_after_plus_a_small_jitter(retry_after):
    wait = SubmitRetry(wait_quota=True).quota_wait(quota_error(retry_after), 0)
    assert wait is not None
    assert retry_after <= wait <= retry_after + min(2.0, 0.05 * retry_after) + 1e-9


def test_quota_waits_are_bounded_by_attempts_and_the_cap():
    policy = SubmitRetry(wait_quota=True, attempts=2, max_quota_wait=60)
    assert policy.quota_wait(quota_error(10), 0) is not None
    assert policy.quota_wait(quota_error(10), 1) is not None
    assert policy.quota_wait(quota_error(10), 2) is None  # attempts spent
    assert policy.quota_wait(quota_error(61), 0) is None  # longer than the cap
    assert policy.quota_wait(quota_error(None), 0) is None  # no wait named: nothing to wait for
    assert policy.quota_wait(AppError("bad input"), 0) is None
    assert policy.quota_wait(QuotaExceededError("x", retry_after=-5), 0) == 0.0


@pytest.mark.parametrize(
    "kwargs", [{"max_quota_wait": -1}, {"max_quota_wait": "1"}, {"attempts": -1}, {"backoff": True}]
)
def test_bad_policy_values_are_refused(kwargs):
    with pytest.raises(ValueError, match="SubmitRetry"):
        SubmitRetry(**kwargs)


# -- the queue status -------------------------------------------------------------------------


def test_queue_status_of_3x_and_early_4x():
    answer = {"msg": "estimation", "rank": None, "queue_size": 3, "avg_event_process_time": 0.5,
              "avg_event_concurrent_process_time": None, "rank_eta": None, "queue_eta": 1.5}  # fmt: skip
    assert parse_queue_status(answer) == QueueStatus(3, queue_eta=1.5, avg_event_process_time=0.5)


def test_queue_status_of_later_servers():
    answer = {"msg": "estimation", "event_id": None, "rank": None, "queue_size": 0, "rank_eta": None}
    assert parse_queue_status(answer) == QueueStatus(0)


@pytest.mark.parametrize(
    "answer", [None, [], "x", {}, {"queue_size": None}, {"queue_size": -1}, {"queue_size": 1.5}, {"queue_size": True}]
)
def test_a_malformed_queue_status_is_a_protocol_error(answer):
    with pytest.raises(ProtocolError, match="queue"):
        parse_queue_status(answer)


def test_estimates_that_are_not_numbers_are_dropped():
    status = parse_queue_status({"queue_size": 2, "queue_eta": "soon", "avg_event_process_time": False})
    assert status == QueueStatus(2)


def test_an_app_without_a_queue_has_no_queue_status():
    assert not queue_status_available(Capabilities.from_config({"version": "3.50.2", "enable_queue": False}))
    assert queue_status_available(Capabilities.from_config({"version": "3.50.2", "enable_queue": True}))
    assert queue_status_available(caps("6.31.0"))
