"""Resumable batch runs (``run_batch``, ``arun_batch``, ``gradio-jobs map``) against real apps.

One batch_app server per version for the module (its ``/work`` doubles a number and counts
how often each input ran; each test uses inputs of its own, so the counts do not mix). The
CLI runs in subprocesses; the kill test waits on the output file's lines, then SIGKILLs.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
from pathlib import Path

import pytest

from gradio_jobs import AsyncClient, BatchJournalError, Client, arun_batch, run_batch
from gradio_jobs.cli import ExitCode
from tests.integration.test_cli import ANSI, Running, run_cli_process, spawn  # noqa: F401 (spawn: the CLI's fixture)
from tests.servers import GradioServer, missing_venv_reason, requested_versions, venv_exists
from tests.waiting import wait_until

VERSIONS = [v for v in requested_versions() if v in ("6.31.0", "4.44.1")]


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"gradio-{v}")
def app(request):
    if not venv_exists(request.param):
        pytest.skip(missing_venv_reason(request.param))
    with GradioServer(request.param, app="batch_app", args=["--delay", "0.05"]) as srv:
        yield srv


@pytest.fixture
def client(app):
    with Client(app.url, verbose=False) as c:
        yield c


def counts(client: Client) -> dict[float, int]:
    return {float(k): v for k, v in client.predict(api_name="/counts").items()}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def whole_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def write_jsonl(path: Path, items: list) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def test_run_batch_writes_one_line_per_input_and_resumes(client, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    inputs = [[100 + i] for i in range(12)] + [{"x": -100}]
    seen = []
    summary = run_batch(client, inputs, api_name="/work", output=out, concurrency=4, on_progress=seen.append)
    assert (summary.total, summary.ok, summary.failed, summary.ran, summary.skipped) == (13, 12, 1, 13, 0)
    assert not summary.all_ok
    records = {r["index"]: r for r in lines(out)}
    assert sorted(records) == list(range(13))
    for i in range(12):
        r = records[i]
        assert r["ok"] is True and r["result"] == 2 * (100 + i) and r["input"] == [100 + i] and r["error"] is None
        assert r["replica"] == client.src and r["seconds"] > 0 and r["started"].endswith("+00:00")
    failed = records[12]
    assert failed["ok"] is False and failed["result"] is None and failed["input"] == {"x": -100}
    assert failed["error"]["type"] == "AppError" and "negative input" in failed["error"]["message"]
    assert seen[0].finished == 0 and seen[-1].finished == 13  # the last report is heard before it returns
    assert seen[-1].failed == 1 and seen[-1].rate > 0 and seen[-1].eta == 0
    assert [p.finished for p in seen] == sorted(p.finished for p in seen)

    again = run_batch(client, inputs, api_name="/work", output=out)
    assert (again.ran, again.skipped, again.ok, again.failed) == (0, 13, 12, 1)
    assert len(lines(out)) == 13
    ran = counts(client)
    assert all(ran[100.0 + i] == 1 for i in range(12)) and ran[-100.0] == 1


async def test_arun_batch_on_an_async_client(app, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    async with AsyncClient(app.url, verbose=False) as aclient:
        summary = await arun_batch(aclient, [200, 201, 202], api_name="/work", output=out, concurrency=2)
    assert summary.all_ok and summary.ran == 3
    assert sorted((r["index"], r["result"]) for r in lines(out)) == [(0, 400), (1, 402), (2, 404)]


def test_an_output_of_other_inputs_is_refused(client, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    run_batch(client, [[300], [301]], api_name="/work", output=out)
    before = out.read_bytes()
    with pytest.raises(BatchJournalError, match="belongs to other inputs"):
        run_batch(client, [[300], [999]], api_name="/work", output=out)
    assert out.read_bytes() == before
    result = run_cli_process(
        "map", client.src, "/work", "--input", str(write_jsonl(tmp_path / "in.jsonl", [[300], [999]])),
        "--output", str(out),
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "belongs to other inputs" in result.stderr and out.read_bytes() == before


def test_a_torn_last_line_is_cut_away_and_redone(client, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    inputs = [[400 + i] for i in range(5)]
    run_batch(client, inputs, api_name="/work", output=out)
    data = out.read_bytes()
    last = json.loads(data.splitlines()[-1])
    out.write_bytes(data[:-7])  # killed in the middle of writing the last line
    summary = run_batch(client, inputs, api_name="/work", output=out)
    assert summary.ran == 1 and summary.skipped == 4 and summary.truncated == len(data.splitlines()[-1]) + 1 - 7
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(5))
    ran = counts(client)
    assert ran[float(last["input"][0])] == 2  # its line was lost: it is the one run again
    assert sum(ran[400.0 + i] for i in range(5)) == 6


def test_cli_csv_end_to_end_and_retry_failed(client, tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("x\n500\n501\n-500\n502\n")
    out = tmp_path / "out.jsonl"
    argv = ("map", client.src, "/work", "--input", str(source), "--output", str(out))
    first = run_cli_process(*argv)
    assert first.returncode == ExitCode.APP_ERROR, first.stderr
    assert "3 ok, 1 failed of 4" in first.stdout
    assert {r["index"]: r["ok"] for r in lines(out)} == {0: True, 1: True, 2: False, 3: True}
    assert {r["index"]: r["input"] for r in lines(out)}[2] == {"x": -500}

    client.predict(api_name="/heal")  # negative inputs succeed from now on
    plain = run_cli_process(*argv)
    assert plain.returncode == ExitCode.APP_ERROR and "0 run now" in plain.stdout  # failed stays failed
    retried = run_cli_process(*argv, "--retry-failed")
    assert retried.returncode == ExitCode.OK, retried.stderr
    assert "4 ok, 0 failed of 4; 1 run now, 3 already in the output" in retried.stdout
    records = lines(out)
    assert len(records) == 5 and [r["index"] for r in records].count(2) == 2
    assert records[-1]["index"] == 2 and records[-1]["ok"] is True and records[-1]["result"] == -1000
    ran = counts(client)
    assert [ran[v] for v in (500.0, 501.0, -500.0, 502.0)] == [1, 1, 2, 1]


def test_killed_at_a_random_point_and_restarted_runs_each_input_once(app, client, spawn, tmp_path) -> None:
    total = 80
    base = 600
    source = write_jsonl(tmp_path / "in.jsonl", [[base + i] for i in range(total)])
    out = tmp_path / "out.jsonl"
    argv = ("map", app.url, "/work", "--input", str(source), "--output", str(out), "--concurrency", "4")
    kill_at = random.Random(os.getpid()).randint(3, total - 20)
    running = spawn(*argv)
    wait_until(lambda: whole_lines(out) >= kill_at, timeout=60,
               describe=lambda: f"{whole_lines(out)} lines; {running.stderr}")
    running.proc.send_signal(signal.SIGKILL)
    running.wait(30)
    written = {json.loads(line)["index"] for line in out.read_bytes().split(b"\n")[:-1]}
    assert kill_at <= len(written) < total

    rerun = run_cli_process(*argv, timeout=120)
    assert rerun.returncode == ExitCode.OK, rerun.stderr
    assert f"{total} ok, 0 failed of {total}" in rerun.stdout
    indices = [r["index"] for r in lines(out)]
    assert sorted(indices) == list(range(total))  # each input exactly once
    ran = counts(client)
    assert all(ran[float(base + i)] == 1 for i in written)  # nothing written was run again
    assert all(1 <= ran[float(base + i)] <= 2 for i in range(total))  # at most the ones in flight twice


def test_plain_progress_lines_have_no_escape_codes(client, tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [700 + i for i in range(30)])
    result = run_cli_process("map", client.src, "/work", "--input", str(source), "--output", str(tmp_path / "o"))
    assert result.returncode == ExitCode.OK, result.stderr
    assert not ANSI.search(result.stderr + result.stdout)
    assert "30 inputs from" in result.stderr
    assert re.search(r"^map: 30/30 done, 0 failed, 0 running, [\d.]+/s, took", result.stderr, re.M), result.stderr


def test_progress_bar_on_a_terminal(client, spawn, tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [[800 + i] for i in range(40)] + [[-800]])
    running = spawn("map", client.src, "/work", "--input", str(source), "--output", str(tmp_path / "o"),
                    "--concurrency", "2", tty=True)
    code = running.wait(120)
    screen = running.screen()
    assert code in (ExitCode.OK, ExitCode.APP_ERROR), running.text  # /heal may have run in another test
    assert ANSI.search(running.raw)  # a live display, not plain lines
    assert re.search(r"map .*41/41 done, .*failed, .*/s, took", screen), screen
    assert "of 41" in screen


def test_ctrl_c_stops_with_130_and_the_next_run_goes_on(app, client, spawn, tmp_path) -> None:
    interrupt_then_resume(spawn, [app.url], tmp_path, base=900, total=60, concurrency=2, first=5,
                          runs=lambda: counts(client))


def interrupt_then_resume(spawn, sources, tmp_path, *, base, total, concurrency, first, runs) -> None:
    """Ctrl+C a ``gradio-jobs map`` over ``sources`` once ``first`` lines are out: exit 130,
    whole lines only; the same command then runs the rest, and ``runs()`` (the app's counts
    per input) shows each input written before the Ctrl+C ran once."""
    source = write_jsonl(tmp_path / "in.jsonl", [[base + i] for i in range(total)])
    out = tmp_path / "out.jsonl"
    argv = ("map", *sources, "/work", "--input", str(source), "--output", str(out), "--concurrency", str(concurrency))
    running = spawn(*argv)
    wait_until(lambda: whole_lines(out) >= first, timeout=60, describe=lambda: running.stderr)
    running.proc.send_signal(signal.SIGINT)
    assert running.wait(30) == ExitCode.INTERRUPTED, running.stderr
    assert "run again to go on" in running.stderr
    data = out.read_bytes()
    assert data.endswith(b"\n")  # Ctrl+C leaves whole lines only
    written = {json.loads(line)["index"] for line in data.splitlines()}
    assert first <= len(written) < total
    rerun = run_cli_process(*argv, timeout=120)
    assert rerun.returncode == ExitCode.OK, rerun.stderr
    assert f"{total - len(written)} run now, {len(written)} already in the output" in rerun.stdout
    assert sorted(r["index"] for r in lines(out)) == list(range(total))
    ran = runs()
    assert all(ran[float(base + i)] == 1 for i in written)


def test_unknown_endpoint_and_unreadable_input_exit_2(client, tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [[1]])
    out = tmp_path / "out.jsonl"
    unknown = run_cli_process("map", client.src, "/nope", "--input", str(source), "--output", str(out))
    assert unknown.returncode == ExitCode.USAGE and "nope" in unknown.stderr
    assert out.read_bytes() == b""
    (tmp_path / "bad.jsonl").write_text("[1]\n{oops\n")
    bad = run_cli_process("map", client.src, "/work", "--input", str(tmp_path / "bad.jsonl"), "--output", str(out))
    assert bad.returncode == ExitCode.USAGE and "line 2 is not JSON" in bad.stderr
    (tmp_path / "bad.csv").write_text("x\n1,2\n")
    csv_bad = run_cli_process("map", client.src, "/work", "--input", str(tmp_path / "bad.csv"), "--output", str(out))
    assert csv_bad.returncode == ExitCode.USAGE and "line 2 has 2 cells" in csv_bad.stderr


def test_an_output_in_use_by_another_run_is_refused(app, client, spawn, tmp_path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [[1000 + i] for i in range(200)])
    out = tmp_path / "out.jsonl"
    running = spawn("map", app.url, "/work", "--input", str(source), "--output", str(out), "--concurrency", "1")
    wait_until(lambda: whole_lines(out) >= 1, timeout=60, describe=lambda: running.stderr)
    with pytest.raises(BatchJournalError, match="in use by another batch run"):
        run_batch(client, [[1000 + i] for i in range(200)], api_name="/work", output=out)
