"""2,000 jobs on one client, random cancels, a cut connection in the middle: nothing is lost."""

from __future__ import annotations

import concurrent.futures
import itertools
import random
import threading
import time

import pytest

from gradio_jobs import Client, ConnectionLostError, ServerUnreachableError
from proxy import FaultProxy


@pytest.mark.timeout(300)
def test_two_thousand_jobs_with_cancels_and_a_cut(start_server) -> None:
    server = start_server(app="noop_app", version="6.31.0")  # no concurrency limit on the server
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    rng = random.Random(7)
    with FaultProxy(port) as proxy, Client(proxy.url, verbose=False) as client:
        jobs = []
        cancelled_by_us = set()
        def cancel_some(n: int) -> None:
            for victim in rng.sample(jobs, n):
                if victim.cancel():
                    cancelled_by_us.add(id(victim))

        # Nothing completes until every job is submitted (under load, submitting 2,000 can take
        # longer than running them); then the cut comes the moment the 800th job completes, from
        # its done callback on the client's loop thread, so no other job completes in between
        # and the rest are surely pending.
        proxy.stall()
        for i in range(2000):
            jobs.append(client.submit(str(i), api_name="/noop"))
            if i % 10 == 9:
                cancel_some(1)
        completed = itertools.count(1)
        was_cut = threading.Event()

        def cut_at_800(job) -> None:
            if not job.cancelled() and job.exception() is None and next(completed) == 800:
                proxy.cut()  # every connection, the event stream included
                was_cut.set()

        for job in jobs:
            job.add_done_callback(cut_at_800)
        proxy.resume()
        assert was_cut.wait(120), "800 jobs did not complete within 120 s"
        cancel_some(50)
        done, not_done = concurrent.futures.wait(jobs, timeout=240)
        assert not not_done, f"{len(not_done)} jobs never ended"
        results = errors = cancels = 0
        for index, job in enumerate(jobs):
            if job.cancelled():
                cancels += 1
                assert id(job) in cancelled_by_us
            elif job.exception() is not None:
                errors += 1
                # lost with the stream, or a join that was on the wire when the connection died
                # (not retried: the server may have taken it)
                assert isinstance(job.exception(), (ConnectionLostError, ServerUnreachableError)), job.exception()
            else:
                results += 1
                assert job.result() == str(index)
        print(f"\n2000 jobs: {results} results, {errors} lost with the cut, {cancels} cancelled")
        assert results + errors + cancels == 2000
        assert cancels == len(cancelled_by_us)
        assert results > 500 and errors > 0
        # every job is settled too: no cancel verdict is left hanging
        deadline = time.monotonic() + 30
        assert all(job.wait_settled(max(0.0, deadline - time.monotonic())) for job in jobs)
