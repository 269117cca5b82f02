"""The behavioural suite, run against every server generation (gradio 3.50.2 to 6.31.0).

Each test is one column of the README's compatibility matrix (``@feature``); what it finds
(``record_property("matrix", ...)``) becomes the cell, so the matrix says what really
happened, per version, in the last run (``./dev matrix`` rewrites it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradio_jobs import AppError, AsyncClient, Client, Status, events
from gradio_jobs.protocol.capabilities import Route
from tests.waiting import wait_for_event, wait_until, wait_until_quiet

feature = pytest.mark.feature

SHRINK_LIST_SEQ = [["0", "1", "2", "3", "4", "5"], ["0", "1", "2"], ["5"], ["1", "2", "3"], []]
SHRINK_SEQ = [[0, 1, 2, 3], [0], [[1, 2, 3], [4]], [[1], [4]], {"k": [1, 2, 3], "m": 1}, {"k": [3]}]


@pytest.fixture
def client(gen_server):
    with Client(gen_server.url, verbose=False) as c:
        yield c


def of_type(job, kind):
    return [e for e in job.event_log() if isinstance(e, kind)]


def route_text(client: Client, api_name: str) -> str:
    return {
        Route.SESSION_STREAM: "session stream",
        Route.JOB_STREAM: "job stream",
        Route.WEBSOCKET: "websocket",
        Route.DIRECT: "run/predict",
    }[client.app.capabilities.route_for(client.app.endpoint(api_name))]


@feature("protocol")
def test_protocol(client, generation, record_property) -> None:
    caps = client.app.capabilities
    assert caps.version_string == generation and caps.supported
    described = client.view_api(print_info=False, return_format="dict")
    assert {"/add", "/count", "/file_info"} <= set(described["named_endpoints"])
    record_property("matrix", caps.protocol)


@feature("fn_index only")
def test_unnamed_endpoint_by_fn_index(client, record_property) -> None:
    [reverse] = [e for e in client.app.endpoints if e.api_name in (None, "/reverse") and e.callable and e.input_ids]
    assert client.predict("abc", fn_index=reverse.fn_index) == "cba"
    record_property("matrix", "unnamed" if reverse.api_name is None else f"named {reverse.api_name}")


@feature("app without queue")
def test_app_without_a_queue(generation, start_server, record_property) -> None:
    if not generation.startswith("3."):
        pytest.skip("only 3.x apps can run without a queue")
    server = start_server(app="plain_app", version=generation)
    with Client(server.url, verbose=False) as client:
        assert not client.app.capabilities.queue_enabled
        assert client.predict(1, 2, api_name="/add") == 3
        assert client.predict(api_name="/incr") == 1 and client.predict(api_name="/incr") == 2
        with pytest.raises(AppError) as err:
            client.predict("x", api_name="/fail")
        assert err.value.message == "bad input: x"
        record_property("matrix", route_text(client, "/add"))


@feature("calculator")
def test_calculator(client, record_property) -> None:
    assert client.predict(1, 2, api_name="/add") == 3
    assert client.predict(b=4, a=2.5, api_name="/add") == 6.5
    job = client.submit(5, 6, api_name="/add")
    assert job.result(timeout=30) == 11 and job.outputs() == [11] and job.done()
    status = job.status()
    assert status.code is Status.FINISHED and status.success
    record_property("matrix", route_text(client, "/add"))


@feature("calculator")
async def test_calculator_async(gen_server) -> None:
    async with AsyncClient(gen_server.url, verbose=False) as client:
        assert await client.predict(1, 2, api_name="/add") == 3
        job = client.submit(3, api_name="/count")
        outputs = [text async for text, _items in job]
        assert outputs == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 "]


@feature("generators")
def test_generators_grow_and_shrink(client, record_property) -> None:
    job = client.submit(3, api_name="/count")
    outputs = list(job)
    assert [text for text, _ in outputs] == ["tok0 ", "tok0 tok1 ", "tok0 tok1 tok2 "]
    assert outputs[-1][1] == [{"i": 0}, {"i": 1}, {"i": 2}] and job.result() == outputs[-1]
    assert list(client.submit(4, api_name="/shrink")) == SHRINK_SEQ
    assert list(client.submit(api_name="/shrink_list")) == SHRINK_LIST_SEQ
    grown = list(client.submit(api_name="/grow"))
    assert [(choices, text) for choices, text, _ in grown] == [
        (["a"], "abc"), (["a", "b"], "abcdef"), (["a", "b", "c"], "xyz"), (["c"], "xyz!"),
    ]
    diffs = client.app.capabilities.diff_semantics
    record_property("matrix", f"yes (diffs, {diffs.value} deletes)" if diffs else "yes (full values)")


@feature("gr.Progress")
def test_progress(client) -> None:
    job = client.submit(3, api_name="/slow")
    assert job.result(timeout=30) in ("done 3", "done 3.0")  # 3.x numbers are floats
    units = [u for e in of_type(job, events.ProgressReported) for u in e.units]
    looping = [u for u in units if u.desc == "looping"]
    assert looping and looping[-1].length == 3 and looping[-1].unit == "steps"


@feature("logs")
def test_logs(client) -> None:
    job = client.submit("hi", api_name="/notify")
    assert job.result(timeout=30) == "HI"
    logs = [(e.log.level, e.log.message) for e in of_type(job, events.Logged)]
    assert logs == [("info", "an info message"), ("warning", "a warning message")]


@feature("gr.Error")
def test_app_error(client) -> None:
    job = client.submit("x", api_name="/fail")
    with pytest.raises(AppError) as err:
        job.result(timeout=30)
    assert err.value.message == "bad input: x"
    assert job.status().code is Status.FINISHED and job.status().success is False


@feature("queue rank/ETA")
def test_queue_rank_and_eta(client, record_property) -> None:
    # sleeper runs one at a time (a concurrency limit of 1; the whole 3.x queue runs one at a time).
    # The server estimates from the durations it has seen: give it one first.
    assert client.predict(0.1, api_name="/sleeper") in ("slept 0.1",)
    jobs = [client.submit(0.6, api_name="/sleeper") for _ in range(3)]
    assert [j.result(timeout=60) for j in jobs] == ["slept 0.6"] * 3
    # Where each job has its own connection (3.x, 4.0-4.8) they reach the queue in any order:
    # whichever came last waited behind the others.
    queued = [q for job in jobs for q in of_type(job, events.Queued)]
    assert queued, "no job was ever reported queued"
    assert max(q.rank for q in queued if q.rank is not None) >= 1
    assert all(q.queue_size is None or q.queue_size >= 1 for q in queued)
    etas = [q.eta for q in queued if q.eta is not None]
    record_property("matrix", "rank and ETA" if etas else "rank")


@feature("gr.State")
def test_state(gen_server) -> None:
    with Client(gen_server.url, verbose=False) as first, Client(gen_server.url, verbose=False) as second:
        assert [first.predict(api_name="/incr") for _ in range(3)] == [1, 2, 3]
        assert second.predict(api_name="/incr") == 1  # sessions are not shared
        first.reset_session()
        assert first.predict(api_name="/incr") == 1


@feature("files")
def test_file_in_and_out(client, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("hello world")
    info, out = client.predict(source, api_name="/file_info")
    assert info.endswith(" 11")
    assert Path(out).read_text() == "size=11\n"
    assert Path(out).resolve() != source.resolve()


@feature("direct (queue=False)")
def test_direct_call(client, record_property) -> None:
    job = client.submit(21, api_name="/direct")
    assert job.result(timeout=30) == 42
    assert not of_type(job, events.Queued)
    record_property("matrix", route_text(client, "/direct"))


def _second_output(event) -> bool:
    return isinstance(event, events.OutputProduced) and event.index >= 1


@feature("cancel queued")
def test_cancel_queued(client, tmp_path: Path, record_property) -> None:
    """A job cancelled while it waits: taken off the queue, or honestly said to run anyway."""
    blocker = client.submit(str(tmp_path / "blocker"), 1.0, api_name="/work_serial")
    wait_for_event(blocker, events.Started)
    target_file = tmp_path / "target"
    target = client.submit(str(target_file), 0.1, api_name="/work_serial")
    wait_for_event(target, events.Joined)
    assert target.cancel() and target.cancelled()
    # work_serial runs one job at a time, first come first served: once this probe has run,
    # the target has run too unless it left the queue.
    probe = client.submit(str(tmp_path / "probe"), 0.1, api_name="/work_serial")
    assert probe.result(timeout=60) == "worked 0.1" and blocker.result(timeout=60) == "worked 1.0"
    assert target.wait_settled(30)
    outcome = target.cancel_outcome
    if outcome == events.OUTCOME_DEQUEUED:
        assert not target_file.exists()
    else:
        assert outcome == events.OUTCOME_SERVER_CONTINUES and target_file.read_text() == "start\nend\n"
    record_property("matrix", outcome)


@feature("cancel running")
def test_cancel_running_generator(client, tmp_path: Path, record_property) -> None:
    """A running generator cancelled after two steps stops there, or is honestly said to go on."""
    ticks = tmp_path / "ticks"
    job = client.submit(str(ticks), 100, api_name="/ticks")
    wait_for_event(job, _second_output, what="the generator's second output")
    assert job.cancel() and job.cancelled()
    assert job.wait_settled(30)
    outcome = job.cancel_outcome

    def written() -> int:
        return ticks.read_text().count("\n")

    # Whether the server went on has no event: it is judged on disk (a tick takes 0.1 s).
    if outcome == events.OUTCOME_STOPPED:
        # no new line while a live generator on the same server ticks (on 3.x's one-at-a-time
        # queue it runs only once the cancelled one is gone); a step in flight may still land first
        assert wait_until_quiet(client, written, what=f"{ticks.name} (the generator ran on)") < 100
    else:
        assert outcome == events.OUTCOME_SERVER_CONTINUES
        before = written()
        wait_until(lambda: written() > before, describe=lambda: f"{ticks.name} stays at {written()} lines: "
                   f"the outcome says the server continues, but it does not")
    record_property("matrix", outcome)
