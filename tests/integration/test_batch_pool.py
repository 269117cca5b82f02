"""Batch runs over a replica pool (``gradio-jobs map SRC SRC ...``, ``run_batch(ClientPool)``) against real apps.

Two pool_app replicas per version for the module (``/work`` sleeps 0.05 s, two at a time, and
counts the inputs it ran; each test uses inputs of its own, so the counts do not mix), and a
third of its own for the test that kills a replica mid-run. The CLI runs in subprocesses (the
kill tests wait on the output file's lines, then SIGKILL), or in this process where a test
changes a module setting or needs no server.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
from collections import Counter

import pytest

import gradio_jobs.transport.errors  # noqa: F401  (the transport's subclasses of ServerUnreachableError)
from gradio_jobs import (
    AsyncClientPool,
    Client,
    ClientPool,
    ConnectionLostError,
    ServerUnreachableError,
    arun_batch,
    run_batch,
)
from gradio_jobs.cli import ExitCode
from tests.integration.test_batch import interrupt_then_resume, lines, whole_lines, write_jsonl
from tests.integration.test_cli import ANSI, Running, run_cli, run_cli_process
from tests.servers import GradioServer, free_port, missing_venv_reason, requested_versions, start_many, venv_exists
from tests.waiting import wait_until

VERSIONS = [v for v in requested_versions() if v in ("6.31.0", "4.44.1")]

#: A plain replica line: "  URL  STATE: N done, N failed, N in flight, N moved, ..."
REPLICA_LINE = re.compile(r"^  (\S+)  (\w+): (\d+) done, (\d+) failed, (\d+) in flight, (\d+) moved, ", re.M)


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"gradio-{v}")
def replicas(request) -> list[GradioServer]:
    if not venv_exists(request.param):
        pytest.skip(missing_venv_reason(request.param))
    args = ["--delay", "0.05", "--concurrency", "2"]
    servers = start_many([GradioServer(request.param, app="pool_app", args=args) for _ in range(2)])
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def urls(replicas) -> list[str]:
    return [server.url for server in replicas]


@pytest.fixture
def spawn():
    """The command in a subprocess (``Running``), stopped at the test's end."""
    started: list[Running] = []

    def factory(*args: str, tty: bool = False) -> Running:
        started.append(Running(args, tty=tty))
        return started[-1]

    yield factory
    for running in started:
        running.stop()


def counts(urls: list[str]) -> Counter[float]:
    """How often each input ran, summed over the replicas."""
    total: Counter[float] = Counter()
    for url in urls:
        with Client(url, verbose=False) as client:
            total.update({float(k): v for k, v in client.predict(api_name="/counts").items()})
    return total


def replica_figures(text: str) -> dict[str, tuple[str, int, int, int]]:
    """The last plain line of each replica in ``text``: URL -> (state, done, failed, in flight)."""
    return {m[1]: (m[2], int(m[3]), int(m[4]), int(m[5])) for m in REPLICA_LINE.finditer(text)}


def _names(cls: type) -> set[str]:
    return {cls.__name__}.union(*(_names(sub) for sub in cls.__subclasses__()))


#: The names of the errors of a job lost with its replica (a line's ``error.type``).
LOST_ERRORS = (_names(ConnectionLostError) | _names(ServerUnreachableError)) - {"NoReplicaAvailableError"}


def summary_part(stdout: str) -> str:
    """The per-replica summary at the end of the command's stdout."""
    assert "replicas (this run):" in stdout, stdout
    return stdout.split("replicas (this run):", 1)[1]


def test_cli_over_two_replicas_runs_each_input_once_on_both(urls, tmp_path) -> None:
    total, base = 60, 1000
    source = write_jsonl(tmp_path / "in.jsonl", [[base + i] for i in range(total)])
    out = tmp_path / "out.jsonl"
    result = run_cli_process("map", *urls, "/work", "--input", str(source), "--output", str(out),
                             "--concurrency", "8", timeout=120)
    assert result.returncode == ExitCode.OK, result.stderr
    assert f"{total} ok, 0 failed of {total}; {total} run now" in result.stdout
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(total))  # each index once
    assert all(r["ok"] and r["result"] == 2 * (base + r["index"]) for r in records)
    used = Counter(r["replica"] for r in records)
    assert set(used) == set(urls), used  # both replicas ran inputs, and each line names its replica
    ran = counts(urls)
    assert all(ran[float(base + i)] == 1 for i in range(total))  # no input ran twice
    # the summary on stdout: one line per replica, whose figures match the output's lines
    figures = replica_figures(summary_part(result.stdout))
    assert figures == {url: ("up", used[url], 0, 0) for url in urls}, result.stdout


def test_killed_and_restarted_over_a_pool_runs_each_input_once(urls, spawn, tmp_path) -> None:
    total, base, concurrency = 100, 2000, 4
    source = write_jsonl(tmp_path / "in.jsonl", [[base + i] for i in range(total)])
    out = tmp_path / "out.jsonl"
    argv = ("map", *urls, "/work", "--input", str(source), "--output", str(out),
            "--concurrency", str(concurrency), "--max-in-flight", "2")
    kill_at = random.Random(os.getpid()).randint(5, total - 30)
    running = spawn(*argv)
    wait_until(lambda: whole_lines(out) >= kill_at, timeout=60,
               describe=lambda: f"{whole_lines(out)} lines; {running.stderr}")
    running.proc.send_signal(signal.SIGKILL)
    running.wait(30)
    data = out.read_bytes()
    written = {json.loads(line)["index"] for line in data.split(b"\n")[:-1]}  # a torn last line is not written
    assert kill_at <= len(written) < total

    rerun = run_cli_process(*argv, timeout=120)
    assert rerun.returncode == ExitCode.OK, rerun.stderr
    assert f"{total} ok, 0 failed of {total}; {total - len(written)} run now, {len(written)} already" in rerun.stdout
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(total))  # each index exactly once
    assert {r["index"] for r in records[len(written):]} == set(range(total)) - written  # the rest, by the rerun
    assert {r["replica"] for r in records} <= set(urls)

    ran = counts(urls)
    # what was written is never run again
    assert all(ran[float(base + i)] == 1 for i in written), ran
    # the rest ran in the rerun; those the killed run had in flight may have run in it too
    # (at most --concurrency of them: the run had no more jobs out at once), never more than twice
    twice = {i for i in range(total) if ran[float(base + i)] == 2}
    assert all(1 <= ran[float(base + i)] <= 2 for i in range(total)), ran
    assert not twice & written and len(twice) <= concurrency, twice


def test_ctrl_c_over_a_pool_stops_with_130_and_the_next_run_goes_on(urls, spawn, tmp_path) -> None:
    interrupt_then_resume(spawn, urls, tmp_path, base=2500, total=150, concurrency=6, first=10,
                          runs=lambda: counts(urls))


def test_a_replica_down_at_start_the_run_completes_through_the_other(urls, tmp_path) -> None:
    total, base = 20, 3000
    dead = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    source = write_jsonl(tmp_path / "in.jsonl", [[base + i] for i in range(total)])
    out = tmp_path / "out.jsonl"
    result = run_cli_process("map", dead, urls[0], "/work", "--input", str(source), "--output", str(out),
                             timeout=120)
    assert result.returncode == ExitCode.OK, result.stderr
    assert f"{total} ok, 0 failed of {total}" in result.stdout
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(total))
    assert {r["replica"] for r in records} == {urls[0]}
    figures = replica_figures(summary_part(result.stdout))
    assert figures[urls[0]] == ("up", total, 0, 0), result.stdout
    assert figures[dead] == ("down", 0, 0, 0), result.stdout
    assert re.search(rf"^  {re.escape(dead)}  down: .*; last error: \S", result.stdout, re.M), result.stdout
    assert replica_figures(result.stderr)[dead][0] == "down", result.stderr  # the progress said so too


def test_a_replica_killed_mid_run_the_run_ends_through_the_other(replicas, urls, spawn, tmp_path) -> None:
    total, base = 200, 3500
    doomed = GradioServer(replicas[0].version, app="pool_app", args=["--delay", "0.05", "--concurrency", "2"])
    with doomed:
        source = write_jsonl(tmp_path / "in.jsonl", [[base + i] for i in range(total)])
        out = tmp_path / "out.jsonl"
        running = spawn("map", urls[0], doomed.url, "/work", "--input", str(source), "--output", str(out),
                        "--concurrency", "8")
        on_doomed = f'"replica":"{doomed.url}"'.encode()
        wait_until(lambda: out.exists() and out.read_bytes().count(on_doomed) >= 10, timeout=60,
                   describe=lambda: running.stderr)
        os.killpg(doomed.pid, signal.SIGKILL)  # the replica dies with jobs queued and running there
        code = running.wait(120)
    assert code in (ExitCode.OK, ExitCode.APP_ERROR), running.stderr
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(total))  # every input ended, once
    lost = [r for r in records if not r["ok"]]
    # only jobs that had started (or may have: the join went out, no answer came) on the dead
    # replica fail, with a lost connection or an unreachable server: /work is not safe to run again
    assert all(r["replica"] == doomed.url and r["error"]["type"] in LOST_ERRORS for r in lost), lost
    assert len(lost) <= 8  # no more than the run had in flight
    ran = counts([urls[0]])
    # the survivor ran exactly the inputs whose line names it (the moved ones among them), once each
    assert all(ran[float(r["input"][0])] == (1 if r["replica"] == urls[0] else 0) for r in records), ran
    stdout = running.text
    figures = replica_figures(summary_part(stdout))
    assert figures[doomed.url][0] == "down" and figures[urls[0]][0] == "up", stdout
    assert figures[urls[0]][1] == sum(r["replica"] == urls[0] for r in records), stdout
    assert f"{total - len(lost)} ok, {len(lost)} failed of {total}" in stdout


def test_run_batch_over_a_client_pool_and_resume(urls, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    base = 4000
    inputs = [[base + i] for i in range(30)] + [{"x": base + 30}]
    with ClientPool(urls, verbose=False) as pool:
        summary = run_batch(pool, inputs, api_name="/work", output=out, concurrency=8)
        assert (summary.total, summary.ok, summary.ran, summary.skipped) == (31, 31, 31, 0)
        records = {r["index"]: r for r in lines(out)}
        assert sorted(records) == list(range(31))
        assert records[30]["result"] == 2 * (base + 30) and records[30]["input"] == {"x": base + 30}
        used = Counter(r["replica"] for r in records.values())
        assert set(used) == set(urls), used
        stats = pool.stats()
        assert [s.src for s in stats] == urls
        assert [s.done for s in stats] == [used[url] for url in urls]  # the pool's figures match the lines
        again = run_batch(pool, inputs, api_name="/work", output=out)
        assert (again.ran, again.skipped, again.ok) == (0, 31, 31)
    assert len(lines(out)) == 31
    ran = counts(urls)
    assert all(ran[float(base + i)] == 1 for i in range(31))


async def test_arun_batch_over_an_async_client_pool(urls, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    async with AsyncClientPool(urls, verbose=False) as pool:
        summary = await arun_batch(pool, [5000, 5001, 5002, {"x": None}], api_name="/work", output=out, concurrency=4)
    assert (summary.ok, summary.failed) == (3, 1)
    records = {r["index"]: r for r in lines(out)}
    assert [records[i]["result"] for i in range(3)] == [10000, 10002, 10004]
    assert all(records[i]["replica"] in urls for i in range(4))  # the failed one ran on a replica too
    assert records[3]["ok"] is False and records[3]["error"]["type"] == "AppError"


def test_plain_lines_show_each_replica_now_and_then_and_at_the_end(urls, tmp_path, monkeypatch) -> None:
    from gradio_jobs.cli import _map

    monkeypatch.setattr(_map, "PLAIN_REPLICA_INTERVAL", 0.05)  # the replicas every 0.05 s, not every 5
    total, base = 40, 6000
    source = write_jsonl(tmp_path / "in.jsonl", [base + i for i in range(total)])
    result = run_cli("map", *urls, "/work", "--input", str(source), "--output", str(tmp_path / "o"),
                     "--concurrency", "8")  # more than one replica takes: both run inputs
    assert result.returncode == ExitCode.OK, result.stderr
    assert not ANSI.search(result.stderr + result.stdout)
    blocks = result.stderr.split("replicas:\n")
    assert len(blocks) >= 3, result.stderr  # at least one while it ran, and one at the end
    progress = re.findall(r"^map: (\d+)/40 done, (\d+) failed, (\d+) running, [\d.]+/s, (?:ETA|took) .*$",
                          result.stderr, re.M)
    assert progress and progress[-1][:2] == ("40", "0"), result.stderr
    final = blocks[-1]
    figures = replica_figures(final)
    assert set(figures) == set(urls) and sum(done for _, done, _, _ in figures.values()) == total, final
    assert all(state == "up" and failed == 0 and flying == 0 for state, _, failed, flying in figures.values())
    assert all(re.search(rf"{re.escape(url)}  up: .*, mean run \d+ ms, mean queue wait \d+ ms$", final, re.M)
               for url in urls), final
    assert replica_figures(summary_part(result.stdout)) == figures  # the summary on stdout says the same


def test_progress_on_a_terminal_shows_a_line_per_replica(urls, spawn, tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [[7000 + i] for i in range(40)])
    running = spawn("map", *urls, "/work", "--input", str(source), "--output", str(tmp_path / "o"),
                    "--concurrency", "8", tty=True)
    code = running.wait(120)
    screen = running.screen()
    assert code == ExitCode.OK, running.text
    assert ANSI.search(running.raw)  # a live display, not plain lines
    assert re.search(r"map .*40/40 done, .*failed, .*/s, took", screen), screen
    for url in urls:  # the live replica lines, then the final table
        assert len(re.findall(rf"{re.escape(url)}\s+up\s+\d+\s+0\s+\d+\s+0\s", screen)) >= 2, screen
    assert "replicas (this run)" in screen and "mean run" in screen


def test_replicas_of_another_app_are_refused_with_exit_2(replicas, urls, servers, tmp_path) -> None:
    other = servers.get(replicas[0].version).url  # core_app: other endpoints than pool_app's
    source = write_jsonl(tmp_path / "in.jsonl", [[1]])
    out = tmp_path / "out.jsonl"
    result = run_cli_process("map", urls[0], other, "/work", "--input", str(source), "--output", str(out))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "ReplicaMismatchError" in result.stderr and other in result.stderr, result.stderr
    assert not out.exists()  # refused before the output was opened


def test_max_in_flight_needs_several_sources(tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [[1]])
    result = run_cli("map", "http://127.0.0.1:9/", "/work", "--input", str(source), "--output", str(tmp_path / "o"),
                     "--max-in-flight", "2")
    assert result.returncode == ExitCode.USAGE and "needs two or more SRC" in result.stderr


def test_no_replica_reachable_exits_4(tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [[1]])
    out = tmp_path / "out.jsonl"
    dead = [f"http://127.0.0.1:{free_port()}/" for _ in range(2)]
    result = run_cli("map", *dead, "/work", "--input", str(source), "--output", str(out))
    assert result.returncode == ExitCode.CONNECTION, result.stderr
    assert "NoReplicaAvailableError" in result.stderr and all(url in result.stderr for url in dead)
    assert not out.exists()
