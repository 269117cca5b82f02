"""Benchmarks of the replica pool and of scale (issue 14): four scenarios, each with a table.

    ./dev bench-pool                          # all four, full size (10-15 minutes)
    ./dev bench-pool --quick                  # smoke run, small N (1.5-3 minutes: ten servers start)
    ./dev bench-pool --only scaling,failover  # a subset: scaling, failover, scale, batch
    ./dev bench-pool --report benchmarks/results/pool-latest.json   # print a saved run again

scaling   three replicas of ``tests/apps/pool_app.py`` (0.2 s per job, one at a time each):
          jobs/s of a ``ClientPool`` over the three / jobs/s of one ``Client`` on one replica;
          then uneven replicas (0.2, 0.2, 0.6 s): the pool's wall time against a naive
          round-robin over three ``Client``s (job i to client i % 3).
failover  one of three replicas SIGKILLed in the middle of the jobs: every job ends, and the
          replicas' own counts (``/counts``: each input started) show that none ran twice.
scale     10,000 jobs in flight on ONE client (sync and async) against the noop app, beside
          1,000: client CPU per job, peak RSS per job in flight, peak threads.
batch     ``gradio-jobs map`` over 10,000 inputs and a pool of two replicas, SIGKILLed at
          random points and started again until it exits 0: each input exactly once.

Servers are started on free ports from the server venv (``.venvs/gradio-6.31.0`` by default)
and stopped by process group at the end, also on an error, Ctrl+C or SIGTERM. The tables go to
stdout, progress to stderr, everything to ``benchmarks/results/pool-latest.json``. What each
figure means: ``benchmarks/README.md``, "Scaling out".
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(BENCH_DIR))

import run as bench  # noqa: E402  (benchmarks/run.py: scenario processes, the server warm-up)

SCENARIOS = ("scaling", "failover", "scale", "batch")
SCALING_TARGET = 2.7  # pool over three replicas / one client on one replica, jobs per second
POOL_APP = "pool_app"
WORK = "/work"

#: Sizes of the full run and of ``--quick``.
FULL = {
    "scaling_jobs": 300, "failover_jobs": 1000, "scale_sizes": [1000, 10000], "batch_inputs": 10000,
    "batch_kills": 2,
}
QUICK = {
    "scaling_jobs": 30, "failover_jobs": 150, "scale_sizes": [100, 1000], "batch_inputs": 1000,
    "batch_kills": 1,
}


def log(msg: str) -> None:
    print(f"[bench-pool] {msg}", file=sys.stderr, flush=True)


def loadavg() -> float:
    return os.getloadavg()[0]


# ---------------------------------------------------------------- servers


@contextlib.contextmanager
def replicas(version: str, argsets: Sequence[Sequence[str]], app: str = POOL_APP) -> Iterator[list[Any]]:
    """Start one server of ``app`` per argument list (concurrently); stop them all at the end."""
    from servers import start_many  # tests/servers.py

    log(f"starting {len(argsets)} x {app} on gradio {version}: {[' '.join(a) for a in argsets]}")
    t0 = time.monotonic()
    started = start_many([{"version": version, "app": app, "args": list(a)} for a in argsets])
    log(f"up in {time.monotonic() - t0:.1f} s: {', '.join(f'{s.url} (pid {s.pid})' for s in started)}")
    try:
        yield started
    finally:
        for srv in started:
            srv.stop()
        log(f"stopped {len(started)} server(s)")


def kill_group(pid: int) -> None:
    """SIGKILL a server's (or the CLI's) process group, which we created for it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def as_counts(value: Any) -> dict[str, int]:
    """``/counts``' output (a JSON component: a dict, or its text on some versions)."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise TypeError(f"/counts returned {value!r}")
    return {str(k): int(v) for k, v in value.items()}


def key(x: float) -> str:
    """How pool_app names an input in its counts: ``repr(float(x))``."""
    return repr(float(x))


def server_counts(urls: Sequence[str]) -> Counter[str]:
    """The runs each input started, summed over the replicas at ``urls``."""
    total: Counter[str] = Counter()
    for url in urls:
        total.update(fetch_counts(url))
    return total


def fetch_counts(url: str) -> dict[str, int]:
    import gradio_jobs

    with gradio_jobs.Client(url, verbose=False) as client:
        return as_counts(client.predict(api_name="/counts"))


def warm(urls: Sequence[str]) -> None:
    """Each replica's first calls are slower: one ``/work`` (input -1) and ``/whoami`` each."""
    import gradio_jobs

    for url in urls:
        with gradio_jobs.Client(url, verbose=False) as client:
            client.predict(-1, api_name=WORK)
            client.predict(api_name="/whoami")


# ---------------------------------------------------------------- small helpers


def fmt(v: Any, spec: str = "{:.2f}") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return spec.format(v)
    return str(v)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """A Markdown table; ``align`` has an ``l`` or ``r`` per column (default: the first left, the rest right)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    left = [(align[i] == "l") if i < len(align) else i == 0 for i in range(len(header))]

    def line(r: list[str]) -> str:
        padded = (c.ljust(w) if left[i] else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        return "| " + " | ".join(padded) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ("-" if left[i] else ":")) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def collect(jobs: Sequence[tuple[float, Any]], timeout: float) -> dict[str, Any]:
    """Wait for every job (``(x, job)`` pairs, jobs being futures) and check each result is 2x."""
    futures = [job for _, job in jobs]
    done, not_done = concurrent.futures.wait(futures, timeout=timeout)
    errors: Counter[str] = Counter()
    wrong = 0
    for x, job in jobs:
        if job not in done:
            continue
        exc = job.exception()
        if exc is not None:
            errors[type(exc).__name__] += 1
        elif job.result() != 2 * x:
            wrong += 1
    return {"ended": len(done), "not_ended": len(not_done), "errors": dict(errors), "wrong": wrong}


def stats_rows(stats: Sequence[Any]) -> list[dict[str, Any]]:
    """``pool.stats()`` as plain dicts (for the JSON and the tables)."""
    fields = ("src", "state", "in_flight", "done", "failed", "moved", "mean_queue_wait", "mean_run_time",
              "queue_size", "last_error")
    return [{f: getattr(s, f, None) for f in fields} for s in stats]


# ---------------------------------------------------------------- 1. scaling


def timed_sync(submit: Callable[[int, float], Any], n: int, timeout: float) -> dict[str, Any]:
    """Submit ``n`` jobs at once (job i with input i), wait for all; wall time and checks."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    jobs = [(float(i), submit(i, float(i))) for i in range(n)]
    out = collect(jobs, timeout)
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_ms_per_job"] = (time.process_time() - cpu0) / n * 1000  # every thread of this process
    out["jobs"] = n
    out["jobs_s"] = n / out["wall_s"]
    return out


def run_scaling(args: argparse.Namespace) -> dict[str, Any]:
    import gradio_jobs

    n = args.sizes["scaling_jobs"]
    delay, slow = 0.2, 0.6
    specs = [["--delay", str(delay), "--concurrency", "1", "--name", f"r{i}"] for i in range(3)]
    specs.append(["--delay", str(slow), "--concurrency", "1", "--name", "slow"])
    timeout = n * slow + 120
    out: dict[str, Any] = {"jobs": n, "delay_s": delay, "slow_delay_s": slow, "load_before": loadavg()}
    with replicas(args.server_version, specs) as servers:
        even = [s.url for s in servers[:3]]
        uneven = [servers[0].url, servers[1].url, servers[3].url]
        warm([s.url for s in servers])

        log(f"scaling: {n} jobs on one Client, one replica ...")
        with gradio_jobs.Client(even[0], verbose=False) as client:
            out["single"] = timed_sync(lambda _i, x: client.submit(x, api_name=WORK), n, timeout)
        log(f"  {out['single']['wall_s']:.1f} s, {out['single']['jobs_s']:.2f} jobs/s")

        log(f"scaling: {n} jobs on a ClientPool of three replicas ...")
        with gradio_jobs.ClientPool(even, verbose=False) as pool:
            out["pool"] = timed_sync(lambda _i, x: pool.submit(x, api_name=WORK), n, timeout)
            out["pool"]["stats"] = stats_rows(pool.stats())
        log(f"  {out['pool']['wall_s']:.1f} s, {out['pool']['jobs_s']:.2f} jobs/s")

        log(f"scaling: {n} jobs round-robin over three Clients, uneven replicas ({delay}, {delay}, {slow} s) ...")
        clients = [gradio_jobs.Client(u, verbose=False) for u in uneven]
        try:
            out["round_robin"] = timed_sync(lambda i, x: clients[i % 3].submit(x, api_name=WORK), n, timeout)
        finally:
            for c in clients:
                c.close()
        log(f"  {out['round_robin']['wall_s']:.1f} s")

        log(f"scaling: {n} jobs on a ClientPool of the uneven replicas ...")
        with gradio_jobs.ClientPool(uneven, verbose=False) as pool:
            out["pool_uneven"] = timed_sync(lambda _i, x: pool.submit(x, api_name=WORK), n, timeout)
            out["pool_uneven"]["stats"] = stats_rows(pool.stats())
        log(f"  {out['pool_uneven']['wall_s']:.1f} s")
    # What the replicas allow at best: n / (sum of their rates), and one replica alone.
    out["ideal_single_s"] = n * delay
    out["ideal_pool_s"] = n * delay / 3
    out["ideal_uneven_s"] = n / (2 / delay + 1 / slow)
    out["speedup"] = ratio(out["pool"]["jobs_s"], out["single"]["jobs_s"])
    out["uneven_ratio"] = ratio(out["pool_uneven"]["wall_s"], out["round_robin"]["wall_s"])
    out["load_after"] = loadavg()
    return out


def report_scaling(f: dict[str, Any]) -> str:
    def errs(r: dict[str, Any]) -> str:
        bad = sum(r["errors"].values()) + r["wrong"] + r["not_ended"]
        return str(bad)

    def per_replica(r: dict[str, Any]) -> str:
        return " / ".join(str(s.get("done")) for s in r.get("stats", [])) or "-"

    s, p, rr, pu = f["single"], f["pool"], f["round_robin"], f["pool_uneven"]
    speed_met = f["speedup"] is not None and f["speedup"] >= SCALING_TARGET
    uneven_met = f["uneven_ratio"] is not None and f["uneven_ratio"] < 1
    def cpu(r: dict[str, Any]) -> str:
        return fmt(r.get("cpu_ms_per_job"))

    rows = [
        ["one Client, one replica", "0.2", fmt(s["wall_s"], "{:.1f}"), fmt(f["ideal_single_s"], "{:.1f}"),
         fmt(s["jobs_s"]), "1.00x", "-", cpu(s), errs(s)],
        ["ClientPool, three replicas", "0.2 / 0.2 / 0.2", fmt(p["wall_s"], "{:.1f}"), fmt(f["ideal_pool_s"], "{:.1f}"),
         fmt(p["jobs_s"]), f"{fmt(f['speedup'])}x (target >= {SCALING_TARGET}: {'met' if speed_met else 'MISSED'})",
         per_replica(p), cpu(p), errs(p)],
        ["round-robin, three Clients", "0.2 / 0.2 / 0.6", fmt(rr["wall_s"], "{:.1f}"),
         fmt(f["ideal_uneven_s"], "{:.1f}"), fmt(rr["jobs_s"]), "1.00 (wall)", f"{f['jobs'] // 3} each", cpu(rr),
         errs(rr)],
        ["ClientPool, same replicas", "0.2 / 0.2 / 0.6", fmt(pu["wall_s"], "{:.1f}"),
         fmt(f["ideal_uneven_s"], "{:.1f}"), fmt(pu["jobs_s"]),
         f"{fmt(f['uneven_ratio'])} (wall; target < 1: {'met' if uneven_met else 'MISSED'})",
         per_replica(pu), cpu(pu), errs(pu)],
    ]
    head = (f"Pool scaling: {f['jobs']} jobs of pool_app /work (sleeps the delay, concurrency 1 per replica); "
            f"load average {f['load_before']:.2f} before, {f['load_after']:.2f} after")
    return head + "\n" + table(
        ["run", "delay per replica (s)", "wall (s)", "best possible (s)", "jobs/s", "ratio", "jobs per replica",
         "client CPU per job (ms)", "errors"], rows)


# ---------------------------------------------------------------- 2. failover


def run_failover(args: argparse.Namespace) -> dict[str, Any]:
    import gradio_jobs

    n = args.sizes["failover_jobs"]
    kill_after = int(n * 0.4)
    spec = ["--delay", "0.2", "--concurrency", "2"]
    victim_index = 1
    out: dict[str, Any] = {"jobs": n, "kill_after": kill_after, "replica_args": " ".join(spec),
                           "load_before": loadavg()}
    with replicas(args.server_version, [[*spec, "--name", f"r{i}"] for i in range(3)]) as servers:
        urls = [s.url for s in servers]
        victim = servers[victim_index]
        live = [s for i, s in enumerate(servers) if i != victim_index]
        warm(urls)
        # Counts from before the measured jobs (the warm-up's input -1) are left out below.
        spy = gradio_jobs.Client(victim.url, verbose=False)  # to read the victim's counts right before the kill
        log(f"failover: {n} jobs on a ClientPool of three replicas; SIGKILL {victim.url} after {kill_after} results")
        t0 = time.perf_counter()
        with gradio_jobs.ClientPool(urls, verbose=False) as pool:
            jobs = [(float(1000 + i), pool.submit(float(1000 + i), api_name=WORK)) for i in range(n)]
            finished = 0
            killed_snapshot: dict[str, int] | None = None
            not_ended = 0
            try:
                for _ in concurrent.futures.as_completed([j for _, j in jobs], timeout=n * 0.2 + 180):
                    finished += 1
                    if finished == kill_after:
                        killed_snapshot = as_counts(spy.predict(api_name="/counts"))
                        kill_group(victim.pid)
                        out["killed_at_s"] = time.perf_counter() - t0
                        out["results_before_kill"] = finished
                        log(f"  killed {victim.url} (pid {victim.pid}) after {finished} results, "
                            f"{out['killed_at_s']:.1f} s in")
            except concurrent.futures.TimeoutError:
                not_ended = sum(1 for _, j in jobs if not j.done())
            out["wall_s"] = time.perf_counter() - t0
            out["stats"] = stats_rows(pool.stats())
            outcome = [(x, j.replica, None if not j.done() else j.exception()) for x, j in jobs]
            results = {x: j.result() for x, j in jobs if j.done() and j.exception() is None}
        spy.close()
        live_counts = [fetch_counts(s.url) for s in live]
    live_urls = {s.url for s in live}
    ours = {key(x) for x, _ in jobs}
    merged: Counter[str] = Counter()
    twice_in_one = 0
    for counts in live_counts:
        for k, c in counts.items():
            if k in ours:
                merged[k] += c
                twice_in_one += c > 1
    snapshot = {k: c for k, c in (killed_snapshot or {}).items() if k in ours}
    succeeded = [(x, r) for x, r, e in outcome if e is None and x in results]
    failed = Counter(type(e).__name__ for _, _, e in outcome if e is not None)
    samples: dict[str, str] = {}
    for _, _, e in outcome:
        if e is not None:
            bases = [c.__name__ for c in type(e).__mro__[1:] if c.__module__.startswith("gradio_jobs")][:2]
            samples.setdefault(type(e).__name__, f"({', '.join(bases)}) {e}"[:300])
    on_live = [x for x, r in succeeded if r in live_urls]
    on_victim = [x for x, r in succeeded if r == victim.url]
    out.update(
        ended=n - not_ended,
        not_ended=not_ended,
        succeeded=len(succeeded),
        wrong_results=sum(1 for x, _ in succeeded if results[x] != 2 * x),
        failed_by_type=dict(failed),
        error_samples=samples,
        succeeded_on_live=len(on_live),
        succeeded_on_killed=len(on_victim),
        succeeded_elsewhere=len(succeeded) - len(on_live) - len(on_victim),
        live_runs=sum(merged.values()),
        killed_started_before_kill=sum(snapshot.values()),
        # An input that ran twice: twice on the live replicas (in one or two of them), or on the
        # killed one (its counts right before the kill) and again on a live one.
        ran_twice_live=sum(1 for c in merged.values() if c > 1),
        ran_twice_in_one_replica=twice_in_one,
        ran_twice_killed_and_live=sum(1 for k in snapshot if merged.get(k, 0) >= 1),
        # A success on a live replica its counts do not show, or one on the killed replica that a
        # live one shows as well.
        result_without_run=sum(1 for x in on_live if merged.get(key(x), 0) == 0),
        killed_success_rerun_live=sum(1 for x in on_victim if merged.get(key(x), 0) >= 1),
        # Runs on live replicas whose job failed (a run whose result was lost).
        ran_but_failed=sum(1 for x, _, e in outcome if e is not None and merged.get(key(x), 0) >= 1),
        moved=sum(s.get("moved") or 0 for s in out["stats"]),
        load_after=loadavg(),
    )
    out["ran_twice"] = out["ran_twice_live"] + out["ran_twice_killed_and_live"] + out["killed_success_rerun_live"]
    out["counts_add_up"] = out["live_runs"] == out["succeeded_on_live"] + out["ran_but_failed"]
    out["replicas"] = urls
    out["killed"] = victim.url
    return out


def report_failover(f: dict[str, Any]) -> str:
    failed = ", ".join(f"{k} {v}" for k, v in sorted(f["failed_by_type"].items())) or "none"
    rows = [
        ["jobs submitted", f["jobs"], ""],
        ["jobs ended", f["ended"], "must equal the jobs" + (" (ok)" if f["ended"] == f["jobs"] else " (NOT MET)")],
        ["succeeded", f["succeeded"], f"{f['wrong_results']} wrong results"],
        ["failed, by error type", sum(f["failed_by_type"].values()), failed],
        ["results before the kill", f.get("results_before_kill", "n/a"),
         f"killed {fmt(f.get('killed_at_s'), '{:.1f}')} s in; wall {f['wall_s']:.1f} s in all"],
        ["succeeded on the live replicas", f["succeeded_on_live"], ""],
        ["runs the live replicas counted", f["live_runs"],
         "equal to the line above (+ runs whose job failed: "
         f"{f['ran_but_failed']}): {'yes' if f['counts_add_up'] else 'NO'}"],
        ["succeeded on the killed replica, before it died", f["succeeded_on_killed"],
         f"it had started {f['killed_started_before_kill']} right before the kill"],
        ["jobs moved away from the killed replica", f["moved"], "resubmitted on a live one, not started there"],
        ["ran twice", f["ran_twice"],
         f"live {f['ran_twice_live']}, killed + live {f['ran_twice_killed_and_live']}, "
         f"killed success rerun {f['killed_success_rerun_live']} (must be 0)"],
        ["result without a run", f["result_without_run"], "must be 0"],
    ]
    head = (f"Failover: {f['jobs']} jobs on a ClientPool of three replicas ({f['replica_args']}), one SIGKILLed "
            f"after {f['kill_after']} results; load average {f['load_before']:.2f} before, {f['load_after']:.2f} after")
    stats = table(["replica", "state", "done", "failed (lost there)", "moved", "mean run (s)", "mean queue wait (s)"], [
        [s["src"] + (" (killed)" if s["src"] == f["killed"] else ""), s["state"], s["done"], s["failed"], s["moved"],
         fmt(s["mean_run_time"], "{:.3f}"), fmt(s["mean_queue_wait"], "{:.3f}")] for s in f["stats"]
    ], "ll")
    text = head + "\n" + table(["figure", "value", "check"], rows, "lrl") + "\n\npool.stats() at the end:\n" + stats
    for name, sample in f.get("error_samples", {}).items():
        text += f"\n{name} {sample}"
    return text


# ---------------------------------------------------------------- 3. scale of one process


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    from servers import GradioServer

    sizes = args.sizes["scale_sizes"]
    clients = ["gradio_jobs", "gradio_jobs_async"]
    out: dict[str, Any] = {"sizes": sizes, "runs": [], "load_before": loadavg()}
    log(f"scale: starting the noop app on gradio {args.server_version} ...")
    server = GradioServer(args.server_version, app="noop_app").start()
    try:
        bench.warm_server(server.url)
        plan = [(c, k) for k in sizes for c in clients]
        if args.gradio_client:
            plan.insert(0, ("gradio_client", min(sizes)))
        for client, k in plan:
            timeout = max(240.0, k * 0.06)
            log(f"scale: {client}, {k} jobs in flight ...")
            r = bench.run_scenario(server.url, client, "inflight", k, timeout)
            out["runs"].append(r)
            log("  " + bench.progress_line(r))
            if "crashed" in r:
                log("  restarting the server after a crashed run")
                server.stop()
                server.start()
                bench.warm_server(server.url)
    finally:
        server.stop()
    out["load_after"] = loadavg()
    return out


def scale_figures(r: dict[str, Any]) -> dict[str, Any]:
    k = r["n"]
    if "crashed" in r:
        return {"client": r["client"], "jobs": k, "crashed": r["crashed"][:200]}
    return {
        "client": r["client"], "jobs": k, "wall_s": r["wall_s"], "jobs_s": r["throughput_jobs_s"],
        "cpu_ms_per_job": r["cpu_per_job_ms"], "extra_rss_mb": r["extra_rss_mb"],
        "rss_kib_per_job": r["extra_rss_mb"] * 1024 / k, "extra_threads": r["extra_threads"],
        "peak_threads": r["peak_threads"], "errors": r["errors"],
    }


def report_scale(f: dict[str, Any]) -> str:
    figs = [scale_figures(r) for r in f["runs"]]
    rows = []
    for g in figs:
        if "crashed" in g:
            rows.append([g["client"], g["jobs"], "CRASHED", g["crashed"], "", "", "", "", ""])
            continue
        rows.append([g["client"], g["jobs"], fmt(g["wall_s"], "{:.1f}"), fmt(g["jobs_s"], "{:.0f}"),
                     fmt(g["cpu_ms_per_job"]), fmt(g["extra_rss_mb"], "{:.0f}"), fmt(g["rss_kib_per_job"], "{:.1f}"),
                     f"+{g['extra_threads']}", g["errors"]])
    text = table(["client", "jobs in flight", "wall (s)", "jobs/s", "CPU per job (ms)", "peak RSS growth (MB)",
                  "RSS growth per job (KiB)", "peak threads", "errors"], rows)
    growth = []
    lo, hi = min(f["sizes"]), max(f["sizes"])
    for client in ("gradio_jobs", "gradio_jobs_async"):
        a = next((g for g in figs if g["client"] == client and g["jobs"] == lo and "crashed" not in g), None)
        b = next((g for g in figs if g["client"] == client and g["jobs"] == hi and "crashed" not in g), None)
        if a is None or b is None:
            continue
        marginal = (b["extra_rss_mb"] - a["extra_rss_mb"]) * 1024 / (hi - lo)
        growth.append([client, f"{fmt(ratio(b['cpu_ms_per_job'], a['cpu_ms_per_job']))}x",
                       f"{fmt(ratio(b['rss_kib_per_job'], a['rss_kib_per_job']))}x", fmt(marginal, "{:.1f}"),
                       f"{b['extra_threads'] - a['extra_threads']:+d}"])
    head = (f"Scale of one process: jobs submitted at once on ONE client against the noop app; "
            f"load average {f['load_before']:.2f} before, {f['load_after']:.2f} after")
    text = head + "\n" + text
    if growth:
        text += f"\n\nFrom {lo} to {hi} jobs in flight:\n" + table(
            ["client", "CPU per job", "RSS per job", f"RSS per extra job, {lo} -> {hi} (KiB)", "threads"], growth)
    if not any(g["client"] == "gradio_client" for g in figs):
        text += "\n(gradio_client not run: --no-gradio-client)"
    else:
        text += (f"\ngradio_client only at {lo} (the reference): it runs each job on a thread of its executor, 40 "
                 f"at most, the rest wait in the executor's queue; at {hi} it would not hold {hi} jobs in flight "
                 "at all, only 40 and a queue, so the figure would not measure the same thing.")
    for r in f["runs"]:
        if r.get("error_samples"):
            text += f"\n{r['client']} at {r['n']}: {r['errors']} error(s), e.g. {r['error_samples'][0]}"
    return text


# ---------------------------------------------------------------- 4. the batch CLI


def cli_takes_several_sources() -> bool:
    """Whether ``gradio-jobs map`` takes several SRCs yet (engineer H's part of issue 14)."""
    done = subprocess.run([sys.executable, "-m", "gradio_jobs.cli", "map", "--help"], capture_output=True, text=True,
                          env=bench.scenario_env(), cwd=REPO_ROOT, timeout=60)
    return bool(re.search(r"SRC \[SRC \.\.\.\]|SRC\.\.\.|SRC \.\.\.", done.stdout))


def whole_lines(path: Path, state: dict[str, int]) -> int:
    """Newlines in ``path`` so far, reading only what was appended since the last call."""
    try:
        with open(path, "rb") as fh:
            fh.seek(state.get("offset", 0))
            data = fh.read()
    except FileNotFoundError:
        return 0
    state["offset"] = state.get("offset", 0) + len(data)
    state["lines"] = state.get("lines", 0) + data.count(b"\n")
    return state["lines"]


def run_batch(args: argparse.Namespace) -> dict[str, Any]:
    n = args.sizes["batch_inputs"]
    kills = args.sizes["batch_kills"]
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    several = args.batch_sources == 2 or (args.batch_sources is None and cli_takes_several_sources())
    count = 2 if several else 1
    out: dict[str, Any] = {"inputs": n, "seed": seed, "sources": count, "load_before": loadavg(), "runs": []}
    spec = ["--delay", "0", "--concurrency", "8"]
    with tempfile.TemporaryDirectory(prefix="gradio-jobs-bench-batch-") as folder, \
            replicas(args.server_version, [[*spec, "--name", f"r{i}"] for i in range(count)]) as servers:
        urls = [s.url for s in servers]
        warm(urls)
        source = Path(folder) / "in.jsonl"
        output = Path(folder) / "out.jsonl"
        source.write_text("".join(f"[{i}]\n" for i in range(n)))
        argv = [sys.executable, "-m", "gradio_jobs.cli", "map", *urls, WORK, "--input", str(source),
                "--output", str(output), "--concurrency", str(8 * count), "-q"]
        shown = [a.replace(folder + os.sep, "") for a in argv[3:]]
        out["command"] = " ".join(["gradio-jobs", *shown])
        log(f"batch: {n} inputs through {count} replica(s); {kills} SIGKILL(s) at random points (seed {seed})")
        t0 = time.perf_counter()
        watched: dict[str, int] = {}
        # At each kill: the indices written so far, and how often each had run on the servers then.
        # An input written before a kill must not run again after it (its count must not grow).
        at_kills: list[tuple[set[int], Counter[str]]] = []
        attempt = 0
        while True:
            attempt += 1
            if attempt > kills + 5:
                raise RuntimeError(f"gradio-jobs map did not finish after {attempt - 1} runs")
            lines_now = whole_lines(output, watched)
            kill_at = None
            if attempt <= kills and lines_now < n - 1:
                kill_at = rng.randint(lines_now + 1, lines_now + max(1, (n - lines_now) * 2 // 3))
            stdout = Path(folder) / f"run{attempt}.out"
            with open(stdout, "wb") as so, open(Path(folder) / f"run{attempt}.err", "wb") as se:
                proc = subprocess.Popen(argv, stdout=so, stderr=se, env=bench.scenario_env(), cwd=REPO_ROOT,
                                        start_new_session=True)
                run_t0 = time.perf_counter()
                record: dict[str, Any] = {"run": attempt, "lines_before": lines_now, "kill_at": kill_at}
                try:
                    while proc.poll() is None:
                        if kill_at is not None and whole_lines(output, watched) >= kill_at:
                            kill_group(proc.pid)
                            proc.wait()
                            break
                        time.sleep(0.02)  # a benchmark's watcher: poll the file's growth
                finally:
                    if proc.poll() is None:
                        kill_group(proc.pid)
                        proc.wait()
            record["seconds"] = time.perf_counter() - run_t0
            record["exit"] = proc.returncode
            data = output.read_bytes() if output.exists() else b""
            record["lines_after"] = data.count(b"\n")
            record["torn_bytes_after"] = len(data) - (data.rfind(b"\n") + 1)
            record["summary"] = stdout.read_text(errors="replace").strip()[-300:]
            out["runs"].append(record)
            watched = {"offset": len(data), "lines": data.count(b"\n")}
            log(f"  run {attempt}: exit {proc.returncode}, {record['lines_after']} lines"
                + (f" (SIGKILL at >= {kill_at})" if proc.returncode == -signal.SIGKILL else ""))
            if proc.returncode == -signal.SIGKILL:
                written: set[int] = set()
                for raw in data.split(b"\n")[:-1]:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        written.add(int(json.loads(raw)["index"]))
                at_kills.append((written, server_counts(urls)))
                continue
            if proc.returncode != 0:
                err = (Path(folder) / f"run{attempt}.err").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"gradio-jobs map exited {proc.returncode}: {err}")
            break
        out["wall_s"] = time.perf_counter() - t0
        counts = server_counts(urls)
        final = output.read_bytes()
    per_index: Counter[int] = Counter()
    per_replica: Counter[str] = Counter()
    wrong = 0
    torn = 0
    for raw in final.split(b"\n"):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            torn += 1
            continue
        i = int(rec["index"])
        per_index[i] += 1
        per_replica[str(rec.get("replica"))] += 1
        if rec.get("ok") is not True or rec.get("result") != 2 * i:
            wrong += 1
    runs_total = sum(c for k, c in counts.items() if k != key(-1))
    out.update(
        kills=sum(1 for r in out["runs"] if r["exit"] == -signal.SIGKILL),
        lines_before_kills=[r["lines_after"] for r in out["runs"] if r["exit"] == -signal.SIGKILL],
        duplicates=sum(1 for c in per_index.values() if c > 1),
        missing=sum(1 for i in range(n) if per_index[i] == 0),
        wrong_or_failed=wrong,
        torn_lines=torn,
        server_runs=runs_total,
        reruns=runs_total - n,
        lines_per_replica=[per_replica.get(u, 0) for u in urls],
        written_then_rerun=len({
            i for written, then in at_kills for i in written if counts.get(key(i), 0) > then.get(key(i), 0)
        }),
        load_after=loadavg(),
    )
    return out


def report_batch(f: dict[str, Any]) -> str:
    before = ", ".join(str(x) for x in f["lines_before_kills"]) or "none"
    rows = [
        ["inputs", f["inputs"], ""],
        ["runs of the CLI", len(f["runs"]), f"{f['kills']} SIGKILLed, the last exited 0"],
        ["output lines when killed", before, f"random points (seed {f['seed']})"],
        ["total wall (s)", fmt(f["wall_s"], "{:.1f}"), f"{f['inputs'] / f['wall_s']:.0f} inputs/s with restarts"],
        ["duplicates", f["duplicates"], "indices with more than one line (must be 0)"],
        ["missing", f["missing"], "indices with no line (must be 0)"],
        ["wrong or failed results", f["wrong_or_failed"], "must be 0"],
        ["torn lines left", f["torn_lines"], "must be 0"],
        ["lines per replica", " / ".join(map(str, f["lines_per_replica"])), "the output lines' replica field"],
        ["runs on the servers", f["server_runs"],
         f"{f['reruns']} more than the inputs: those in flight when killed, run again"],
        ["written before a kill, run again", f["written_then_rerun"],
         "inputs with a line at a kill whose run count grew after it (must be 0)"],
    ]
    head = (f"Batch CLI: {f['command']}\n{f['sources']} replica(s) of pool_app (--delay 0 --concurrency 8); "
            f"load average {f['load_before']:.2f} before, {f['load_after']:.2f} after")
    return head + "\n" + table(["figure", "value", "meaning"], rows, "lrl")


# ---------------------------------------------------------------- main

RUNNERS: dict[str, tuple[Callable[[argparse.Namespace], dict[str, Any]], Callable[[dict[str, Any]], str]]] = {
    "scaling": (run_scaling, report_scaling),
    "failover": (run_failover, report_failover),
    "scale": (run_scale, report_scale),
    "batch": (run_batch, report_batch),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(SCENARIOS), help=f"comma list of scenarios ({', '.join(SCENARIOS)})")
    p.add_argument("--quick", action="store_true",
                   help="small N: 30 scaling jobs, 150 failover jobs, 100 and 1,000 in flight, 1,000 batch inputs")
    p.add_argument("--server-version", default="6.31.0", help="gradio version of the server venv (default 6.31.0)")
    p.add_argument("--no-gradio-client", dest="gradio_client", action="store_false",
                   help="scale: skip gradio_client (run at the smaller size only, by default)")
    p.add_argument("--batch-sources", type=int, choices=(1, 2),
                   help="batch: replicas given to gradio-jobs map (default: 2 when it takes several SRCs)")
    p.add_argument("--seed", type=int, help="batch: the seed of the kill points (default: random, reported)")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "pool-latest.json", help="where to write the JSON")
    p.add_argument("--report", type=Path, metavar="JSON", help="only print the tables of a results file again")
    args = p.parse_args(argv)
    args.only_list = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in args.only_list:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    args.sizes = dict(QUICK if args.quick else FULL)
    return args


def present(results: dict[str, Any]) -> None:
    for name in SCENARIOS:
        if name not in results:
            continue
        print()
        if "crashed" in results[name]:
            print(f"{name}: CRASHED: {results[name]['crashed']}")
            continue
        print(RUNNERS[name][1](results[name]))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report is not None:
        saved = json.loads(args.report.read_text())
        present(saved["results"])
        return 0
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, bench._raise_interrupt)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, bench._raise_interrupt)
    os.environ.update(HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    # The pool's warnings (a replica taken out, probed, back) go to stderr beside the progress.
    logging.basicConfig(level=logging.WARNING, format="[gradio_jobs] %(message)s", stream=sys.stderr)
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = bench.scenario_env()[name]
    started = time.monotonic()
    meta: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "server_version": args.server_version,
        "quick": args.quick,
        "sizes": args.sizes,
        "host": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "loadavg_before": os.getloadavg(),
    }
    results: dict[str, Any] = {}
    interrupted = False
    try:
        for name in args.only_list:
            t0 = time.monotonic()
            try:
                results[name] = RUNNERS[name][0](args)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one scenario's crash is a result; the others still run
                import traceback

                log(f"{name} crashed: {type(exc).__name__}: {exc}")
                results[name] = {"crashed": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
            results[name]["seconds"] = time.monotonic() - t0
            log(f"{name}: {results[name]['seconds']:.0f} s")
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: the servers are stopped; the tables show what finished")
    meta.update(loadavg_after=os.getloadavg(), seconds=time.monotonic() - started, interrupted=interrupted)
    import gradio_jobs

    meta["gradio_jobs_version"] = getattr(gradio_jobs, "__version__", "?")
    present(results)
    print(f"\nload average {meta['loadavg_before'][0]:.2f} before, {meta['loadavg_after'][0]:.2f} after, "
          f"on {os.cpu_count()} CPUs; {meta['seconds']:.0f} s in all.")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(f"results written to {args.output}")
    if interrupted:
        return 130
    return 1 if any("crashed" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
