"""ZeroGPU quota errors from real apps, on every server generation (3.50.2 to 6.31.0).

``tests/apps/quota_app.py`` raises the messages of Hugging Face's ``spaces`` package the way
``spaces`` does (a ``gr.Error`` with its title where gradio takes one, an HTML error whose
``str()`` is the bare message), on the first N calls with a key, then succeeds. What reaches
the client differs by generation (4.x quotes a plain ``gr.Error``'s message, only 5.x and
later send the title), and the client must give the same ``QuotaExceededError`` on each.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import CancelledError
from datetime import timedelta

import pytest
from servers import ALL_VERSIONS, requested_versions, serving
from waiting import await_event, wait_for_event

from gradio_jobs import AppError, AsyncClient, Client, Deadline, QuotaExceededError, SubmitRetry
from gradio_jobs.protocol import events as ev

pytestmark = pytest.mark.server

#: The texts quota_app raises (a copy of its MESSAGES, with {wait} filled in by the tests).
V036 = "You have exceeded your free GPU quota (60s requested vs. 12s left). Try again in {wait}"
V051 = (
    "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). Try again in {wait}. "
    "Subscribe to Hugging Face PRO to get 40 min of ZeroGPU quota a day - "
    "https://huggingface.co/subscribe/pro?from=ZeroGPU"
)


@pytest.fixture(scope="module", params=requested_versions(ALL_VERSIONS), ids=lambda v: f"gradio-{v}")
def quota_server(request):
    with serving(request.param, "quota_app") as server:
        yield server


def key() -> str:
    return uuid.uuid4().hex[:12]


def test_a_quota_message_is_a_quota_error_with_its_wait(quota_server):
    with Client(quota_server.url, verbose=False) as client:
        for kind, template, seconds in (("v036", V036, 133), ("v051", V051, 3723), ("v030", None, 7)):
            with pytest.raises(QuotaExceededError) as caught:
                client.predict(kind, 1, key(), seconds, api_name="/quota")
            error = caught.value
            assert isinstance(error, AppError) and isinstance(error, ValueError)
            assert error.retry_after == seconds
            if template is not None:  # the server's words, unchanged (no 4.x quotes)
                assert str(error) == template.format(wait=timedelta(seconds=seconds))
            if quota_server.major >= 5:
                assert error.title == "ZeroGPU quota exceeded"


@pytest.mark.parametrize("kind", ["v019", "v030_html", "v034_runs", "v034_space", "v045_mcp", "v051_credits"])
def test_quota_messages_without_a_wait(quota_server, kind):
    with Client(quota_server.url, verbose=False) as client, pytest.raises(QuotaExceededError) as caught:
        client.predict(kind, 1, key(), 5, api_name="/quota")
    assert caught.value.retry_after is None


def test_other_spaces_errors_stay_app_errors(quota_server):
    with Client(quota_server.url, verbose=False) as client, pytest.raises(AppError) as caught:
        client.predict("illegal", 1, key(), 5, api_name="/quota")
    assert type(caught.value) is AppError


async def test_the_job_waits_out_the_quota_and_is_submitted_again(quota_server):
    retry = SubmitRetry(wait_quota=True)
    name = key()
    async with AsyncClient(quota_server.url, verbose=False, submit_retry=retry) as client:
        started = time.monotonic()
        job = client.submit("v036", 2, name, 1, api_name="/quota")
        assert await job.result(timeout=60) == f"ok {name} after 3 calls"
        elapsed = time.monotonic() - started
    log = job.event_log()
    resubmitted = [e for e in log if isinstance(e, ev.Resubmitted)]
    assert [e.attempt for e in resubmitted] == [2, 3]
    for event in resubmitted:
        assert "ZeroGPU quota exceeded" in event.reason and "again in 1." in event.reason
    assert not any(isinstance(e, ev.Failed) for e in log)
    assert elapsed >= 2.0  # waited the 1 s each message named, twice
    assert isinstance(log[-1], ev.Completed)


def test_without_wait_quota_the_job_fails_at_once(quota_server):
    with Client(quota_server.url, verbose=False) as client:
        job = client.submit("v051", 1, key(), 1, api_name="/quota")
        with pytest.raises(QuotaExceededError):
            job.result(timeout=60)
    assert not any(isinstance(e, ev.Resubmitted) for e in job.event_log())


@pytest.mark.parametrize(
    ("retry", "deadline"),
    [
        (SubmitRetry(wait_quota=True), Deadline(total=20)),  # a 60 s wait would pass the deadline
        (SubmitRetry(wait_quota=True, max_quota_wait=30), None),  # longer than the cap
        (SubmitRetry(wait_quota=True, attempts=0), None),  # no attempt left
    ],
    ids=["deadline", "cap", "attempts"],
)
def test_a_wait_beyond_the_bounds_fails_at_once_with_the_quota_error(quota_server, retry, deadline):
    with Client(quota_server.url, verbose=False, submit_retry=retry) as client:
        started = time.monotonic()
        job = client.submit("v036", 1, key(), 60, api_name="/quota", deadline=deadline)
        with pytest.raises(QuotaExceededError) as caught:
            job.result(timeout=60)
        assert time.monotonic() - started < 15  # neither the wait nor the deadline was slept into
    assert caught.value.retry_after == 60
    assert not any(isinstance(e, ev.Resubmitted) for e in job.event_log())


def test_a_message_without_a_wait_is_not_waited_for(quota_server):
    with Client(quota_server.url, verbose=False, submit_retry=SubmitRetry(wait_quota=True)) as client:
        job = client.submit("v034_runs", 1, key(), 1, api_name="/quota")
        with pytest.raises(QuotaExceededError):
            job.result(timeout=60)
    assert not any(isinstance(e, ev.Resubmitted) for e in job.event_log())


def test_cancel_during_the_wait_cancels_cleanly_and_sends_nothing(quota_server):
    name = key()
    with Client(quota_server.url, verbose=False, submit_retry=SubmitRetry(wait_quota=True)) as client:
        job = client.submit("v036", 1, name, 600, api_name="/quota")
        event = wait_for_event(job, ev.Resubmitted)
        assert "again in 6" in event.reason  # 600 s and its jitter
        assert job.cancel() is True
        with pytest.raises(CancelledError):
            job.result(timeout=5)
        assert job.wait_settled(10)
        assert job.cancel_outcome == "never sent"
        # The app was called once: the cancelled wait never submitted the job again.
        assert client.predict("v036", 0, name, 1, api_name="/quota") == f"ok {name} after 2 calls"


async def test_closing_the_client_during_the_wait_settles_the_job(quota_server):
    client = AsyncClient(quota_server.url, verbose=False, submit_retry=SubmitRetry(wait_quota=True))
    await client.connect()
    job = client.submit("v036", 1, key(), 600, api_name="/quota")
    await await_event(job, ev.Resubmitted)
    await client.close()
    assert job.cancelled()
    assert await job.wait_settled(5)
    assert job.cancel_outcome == "never sent"
