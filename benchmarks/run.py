"""gradio-jobs side by side with gradio_client, against one local noop app.

    ./dev bench                       # full run: latency (N=200), 100 and 1,000 in flight
    ./dev bench --quick               # smoke run: N=30, 50 in flight
    ./dev bench --repeat 3            # the median of 3 runs of everything
    .venv/bin/python benchmarks/run.py --server-version 5.50.0 --inflight 100,1000

Starts ``tests/apps/noop_app.py`` under the chosen gradio (a server venv from ``./dev
setup``), runs every scenario for every client, each in its own process
(``benchmarks/scenario.py``), interleaving the clients so the machine's noise hits all of
them alike, prints a table of figures and ratios and writes everything to
``benchmarks/results/latest.json``. The server is stopped at the end, also on an error or
Ctrl+C. See ``benchmarks/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SCENARIO = BENCH_DIR / "scenario.py"
RESULTS_DIR = BENCH_DIR / "results"

sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(BENCH_DIR))

import scenario as sc  # noqa: E402  (benchmarks/scenario.py)

DEFAULT_CLIENTS = ["gradio_jobs", "gradio_client", "gradio_jobs_async", "raw"]
LABELS = {
    "gradio_jobs": "gradio-jobs",
    "gradio_client": "gradio_client",
    "gradio_jobs_async": "jobs async",
    "raw": "raw (floor)",
}

# The targets, for the report (these are not timed tests).
P50_RATIO_MAX = 1 / 5  # p50 latency at most 1/5 of gradio_client's
CPU_RATIO_MAX = 1 / 6  # client CPU per job at most 1/6 of gradio_client's
EXTRA_THREADS_MAX = 4  # peak threads at most 4 beyond the caller's, whatever the job count
FILE_RATIO_MAX = 1.0  # file transfers at least at par with gradio_client
IMPORT_RATIO_MAX = 0.5  # `import gradio_jobs` at most half the time of `import gradio_client`

WARM_SERVER_CALLS = 50  # sequential calls to a fresh server before anything is measured
BENCH_APP = BENCH_DIR / "bench_app.py"  # the stream and files scenarios' app


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- running scenarios


def scenario_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_DISABLE_TELEMETRY="1",  # gradio_client would phone home from a thread of its own
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    for key in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in env.get(key, "").split(",") if h]
        env[key] = ",".join([*hosts, "127.0.0.1", "localhost"])
    return env


def run_scenario(url: str, client: str, scenario: str, size: int, timeout: float) -> dict[str, Any]:
    """Run one scenario in a fresh process; its JSON line, or a ``crashed`` record."""
    cmd = [sys.executable, str(SCENARIO), "--url", url, "--client", client, "--scenario", scenario]
    cmd += ["--jobs", str(size), "--timeout", str(timeout)] if scenario == "inflight" else ["--n", str(size)]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=scenario_env(), timeout=timeout + 120, cwd=REPO_ROOT
        )
    except subprocess.TimeoutExpired:
        return {"client": client, "scenario": scenario, "n": size, "crashed": f"no result after {timeout + 120:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                break
            result["process_s"] = time.monotonic() - t0
            return result
    tail = (proc.stderr or proc.stdout or "")[-4000:]
    return {"client": client, "scenario": scenario, "n": size, "crashed": f"exit code {proc.returncode}: {tail}"}


def warm_server(url: str) -> None:
    """A few calls first: the server's first requests are slower than the rest."""
    raw = sc.RawClient(url)
    try:
        for _ in range(WARM_SERVER_CALLS):
            raw.predict("warm")
    finally:
        raw.close()


# ---------------------------------------------------------------- summarising

# How repeats are combined: the median, but errors and thread peaks take the worst run.
WORST_OF = {"errors": max, "extra_threads": max, "peak_threads": max}
SUMMARY_KEYS = [
    "p50_ms", "p95_ms", "mean_ms", "cpu_per_job_ms", "throughput_jobs_s", "wall_s", "cpu_s", "errors",
    "extra_threads", "peak_threads", "threads_started", "peak_rss_mb", "extra_rss_mb", "setup_s",
    "stream_p50_ms", "stream_p95_ms", "upload_s", "download_s", "upload_mb_s", "download_mb_s",
    "import_ms", "import_over_bare_ms",
]


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "crashed" not in r]
    out: dict[str, Any] = {"runs": len(runs), "crashed": len(runs) - len(ok)}
    for key in SUMMARY_KEYS:
        values = [r[key] for r in ok if isinstance(r.get(key), (int, float)) and not math.isnan(r[key])]
        if not values:
            continue
        out[key] = WORST_OF.get(key, statistics.median)(values)
    if out["crashed"]:
        out["errors"] = max(out.get("errors", 0), runs[0].get("n", 0))
    samples = [s for r in runs for s in r.get("error_samples", [])]
    samples += [r["crashed"][:500] for r in runs if "crashed" in r]
    if samples:
        out["error_samples"] = samples[:5]
    return out


class Row:
    """One line of the table: a metric for every client, the ratio and the target."""

    def __init__(
        self,
        label: str,
        key: tuple[str, int],
        field: str,
        fmt: str,
        *,
        target: str = "",
        met: Callable[[dict[str, float | None]], bool | None] | None = None,
        with_ratio: bool = True,
    ) -> None:
        self.label, self.key, self.field, self.fmt = label, key, field, fmt
        self.target, self.met_fn, self.with_ratio = target, met, with_ratio


def value(summary: dict, client: str, key: tuple[str, int], field: str) -> float | None:
    v = summary.get(client, {}).get(f"{key[0]}:{key[1]}", {}).get(field)
    return v if isinstance(v, (int, float)) else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def paired_ratio(runs: list[dict[str, Any]], key: tuple[str, int], field: str, a: str, b: str) -> float | None:
    """The median over repeats of a's figure / b's figure in the same repeat.

    The clients of one repeat ran minutes apart at most, so pairing them cancels most of
    the drift of a noisy machine; with one repeat it is the plain ratio.
    """
    per_repeat: dict[int, dict[str, float]] = {}
    for r in runs:
        if "crashed" in r or r.get("scenario") != key[0] or r.get("n") != key[1] or r.get("client") not in (a, b):
            continue
        v = r.get(field)
        if isinstance(v, (int, float)) and not math.isnan(v):
            per_repeat.setdefault(r.get("repeat", 0), {})[r["client"]] = v
    ratios = [ratio(d[a], d[b]) for d in per_repeat.values() if a in d and b in d]
    ratios = [x for x in ratios if x is not None]
    return statistics.median(ratios) if ratios else None


def build_rows(n: int, inflight: list[int], extra: dict[str, int] | None = None) -> list[Row]:
    lat = ("latency", n)
    rows = [
        Row(
            "latency p50 (ms)", lat, "p50_ms", "{:.1f}", target=f"ratio <= 1/{round(1 / P50_RATIO_MAX)}",
            met=lambda v: None if v["ratio"] is None else v["ratio"] <= P50_RATIO_MAX,
        ),
        Row("latency p95 (ms)", lat, "p95_ms", "{:.1f}"),
        Row("CPU per predict, sequential (ms)", lat, "cpu_per_job_ms", "{:.2f}"),
        Row(
            "peak threads, sequential (+caller's)", lat, "extra_threads", "{:.0f}", target=f"<= {EXTRA_THREADS_MAX}",
            met=lambda v: None if v["jobs"] is None else v["jobs"] <= EXTRA_THREADS_MAX,
        ),
    ]
    for k in inflight:
        key = ("inflight", k)
        rows += [
            Row(f"throughput @{k} in flight (jobs/s)", key, "throughput_jobs_s", "{:.1f}"),
            Row(
                f"CPU per job @{k} in flight (ms)", key, "cpu_per_job_ms", "{:.2f}",
                target=f"ratio <= 1/{round(1 / CPU_RATIO_MAX)}",
                met=lambda v: None if v["ratio"] is None else v["ratio"] <= CPU_RATIO_MAX,
            ),
            Row(
                f"errors @{k} in flight", key, "errors", "{:.0f}", target="0",
                met=lambda v: None if v["jobs"] is None else v["jobs"] == 0, with_ratio=False,
            ),
            Row(
                f"peak threads @{k} in flight (+caller's)", key, "extra_threads", "{:.0f}",
                target=f"<= {EXTRA_THREADS_MAX}",
                met=lambda v: None if v["jobs"] is None else v["jobs"] <= EXTRA_THREADS_MAX,
            ),
            Row(f"peak RSS @{k} in flight (MB)", key, "peak_rss_mb", "{:.1f}"),
            Row(f"  RSS growth over baseline @{k} (MB)", key, "extra_rss_mb", "{:.1f}"),
        ]
    extra = extra or {}
    if "stream" in extra:
        key = ("stream", extra["stream"])
        rows += [
            Row(f"stream: yield -> caller p50, {key[1]} outputs (ms)", key, "stream_p50_ms", "{:.1f}"),
            Row("stream: yield -> caller p95 (ms)", key, "stream_p95_ms", "{:.1f}"),
        ]
    if "files" in extra:
        key = ("files", extra["files"])
        at_par = f"ratio <= {FILE_RATIO_MAX:g}"
        rows += [
            Row(
                f"upload {key[1]} MiB, call (s)", key, "upload_s", "{:.2f}", target=at_par,
                met=lambda v: None if v["ratio"] is None else v["ratio"] <= FILE_RATIO_MAX,
            ),
            Row(
                f"download {key[1]} MiB, call (s)", key, "download_s", "{:.2f}", target=at_par,
                met=lambda v: None if v["ratio"] is None else v["ratio"] <= FILE_RATIO_MAX,
            ),
        ]
    if "import" in extra:
        key = ("import", extra["import"])
        rows += [
            Row(
                f"import time, median of {key[1]} processes (ms)", key, "import_ms", "{:.0f}",
                target=f"ratio <= {IMPORT_RATIO_MAX:g}",
                met=lambda v: None if v["ratio"] is None else v["ratio"] <= IMPORT_RATIO_MAX,
            ),
            Row("  import time over a bare interpreter (ms)", key, "import_over_bare_ms", "{:.0f}"),
        ]
    return rows


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else spec.format(v)


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.3f}x" if r < 0.1 else f"{r:.2f}x"


def render_table(
    summary: dict, runs: list[dict[str, Any]], rows: list[Row], clients: list[str], extra_checks: list[dict]
) -> tuple[str, list[dict]]:
    header = ["metric", LABELS["gradio_jobs"], LABELS["gradio_client"], "ratio", "target", "met?"]
    refs = [c for c in ("gradio_jobs_async", "raw") if c in clients]
    header += [LABELS[c] + " (x gc)" for c in refs]
    lines, records = [], []
    for row in rows:
        jobs = value(summary, "gradio_jobs", row.key, row.field)
        gc = value(summary, "gradio_client", row.key, row.field)
        r = paired_ratio(runs, row.key, row.field, "gradio_jobs", "gradio_client") if row.with_ratio else None
        verdict = row.met_fn({"jobs": jobs, "gc": gc, "ratio": r}) if row.met_fn else None
        met = "-" if row.met_fn is None else ("?" if verdict is None else ("yes" if verdict else "NO"))
        cells = [row.label, fmt(jobs, row.fmt), fmt(gc, row.fmt), fmt_ratio(r), row.target or "-", met]
        record = {
            "metric": row.label, "scenario": f"{row.key[0]}:{row.key[1]}", "field": row.field,
            "gradio_jobs": jobs, "gradio_client": gc, "ratio": r, "target": row.target or None,
            "met": verdict,
        }
        for c in refs:
            v = value(summary, c, row.key, row.field)
            rc = paired_ratio(runs, row.key, row.field, c, "gradio_client") if row.with_ratio else None
            cells.append(fmt(v, row.fmt) + ("" if rc is None else f" ({fmt_ratio(rc)})"))
            record[c] = v
        lines.append(cells)
        records.append(record)
    for check in extra_checks:
        cells = [check["metric"], check["gradio_jobs_text"], check["gradio_client_text"], "-", check["target"],
                 "?" if check["met"] is None else ("yes" if check["met"] else "NO")]
        cells += ["" for _ in refs]
        lines.append(cells)
        records.append({k: v for k, v in check.items() if not k.endswith("_text")})
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=False))
        return "| " + " | ".join((c.ljust(w) if i == 0 or i == 4 else c.rjust(w)) for i, (c, w) in pairs) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(c) for c in lines]
    return "\n".join(out), records


def thread_independence_check(summary: dict, inflight: list[int]) -> list[dict]:
    """Peak threads must not grow with the number of jobs in flight."""
    if len(inflight) < 2:
        return []
    lo, hi = min(inflight), max(inflight)

    def growth(client: str) -> float | None:
        a = value(summary, client, ("inflight", lo), "extra_threads")
        b = value(summary, client, ("inflight", hi), "extra_threads")
        return None if a is None or b is None else b - a

    jobs, gc = growth("gradio_jobs"), growth("gradio_client")
    return [{
        "metric": f"thread growth {lo} -> {hi} in flight",
        "gradio_jobs": jobs, "gradio_client": gc,
        "gradio_jobs_text": fmt(jobs, "{:+.0f}"), "gradio_client_text": fmt(gc, "{:+.0f}"),
        "target": "0 (independent of jobs)", "met": None if jobs is None else jobs <= 0,
    }]


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server-version", default="6.31.0", help="gradio version of the server venv (default 6.31.0)")
    p.add_argument("--server-url", help="benchmark an already running noop app instead of starting one")
    p.add_argument("--latency-n", type=int, default=200, help="sequential predictions in the latency scenario")
    p.add_argument("--inflight", default="100,1000", help="comma list of job counts submitted at once")
    p.add_argument("--repeat", type=int, default=1, help="run everything R times and report the medians")
    p.add_argument("--clients", default=",".join(DEFAULT_CLIENTS), help="comma list of clients to run")
    p.add_argument("--timeout", type=float, default=240.0, help="seconds one in-flight scenario may take")
    p.add_argument("--quick", action="store_true", help="a fast smoke run: N=30, 50 in flight, 20 outputs, 20 MiB")
    p.add_argument("--stream-n", type=int, default=50, help="stream scenario: outputs of the generator (0: skip)")
    p.add_argument("--file-mib", type=int, default=200, help="files scenario: MiB uploaded and downloaded (0: skip)")
    p.add_argument("--import-n", type=int, default=9, help="import scenario: fresh processes per client (0: skip)")
    p.add_argument("--only-new", action="store_true", help="run only the stream, files and import scenarios")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json", help="where to write the JSON")
    p.add_argument("--report", type=Path, metavar="JSON", help="only print the table of a results file again")
    args = p.parse_args(argv)
    if args.quick:
        args.latency_n, args.inflight, args.stream_n, args.file_mib, args.import_n = 30, "50", 20, 20, 5
    args.inflight_list = [int(x) for x in str(args.inflight).split(",") if x.strip()]
    args.client_list = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in args.client_list:
        if c not in sc.CLIENTS:
            p.error(f"unknown client {c!r}; choose from {', '.join(sc.CLIENTS)}")
    for c in ("gradio_jobs", "gradio_client"):
        if c not in args.client_list:
            log(f"note: {c} is not among the clients, so its column and the ratios stay empty")
    return args


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report is not None:
        saved = json.loads(args.report.read_text())
        present(saved["runs"], saved["meta"])
        return 0
    # Ctrl+C must reach us even when started from a shell that ignores SIGINT for
    # background jobs; SIGTERM and SIGHUP stop the server the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _raise_interrupt)

    server = None
    bench_server = None
    started = time.monotonic()
    load_before = os.getloadavg()
    runs: list[dict[str, Any]] = []
    plan = [] if args.only_new else [("latency", args.latency_n)] + [("inflight", k) for k in args.inflight_list]
    compared = [c for c in args.client_list if c in sc.COMPARED]
    extra = extra_plan(args)
    new_plan = [(scenario, size) for scenario, size in extra.items()]
    total = (len(plan) * len(args.client_list) + len(new_plan) * len(compared)) * args.repeat
    interrupted = False
    server_version = "external" if args.server_url else args.server_version
    try:
        if args.server_url:
            url = args.server_url if args.server_url.endswith("/") else args.server_url + "/"
        else:
            from servers import GradioServer  # tests/servers.py

            log(f"starting the noop app on gradio {args.server_version} ...")
            server = GradioServer(args.server_version, app="noop_app").start()
            url = server.url
            log(f"server up at {url} (pid {server.pid}, {server.startup_seconds:.1f} s)")
        warm_server(url)
        bench_url = None
        if any(s in extra for s in sc.BENCH_APP_SCENARIOS):
            from servers import GradioServer

            log(f"starting the bench app (stream, files) on gradio {args.server_version} ...")
            bench_server = GradioServer(args.server_version, app=str(BENCH_APP)).start()
            bench_url = bench_server.url
        done = 0
        for rep in range(args.repeat):
            for scenario, size in plan:
                # Rotate the order each repeat and each scenario, so no client always runs first.
                shift = (rep + plan.index((scenario, size))) % len(args.client_list)
                order = args.client_list[shift:] + args.client_list[:shift]
                for client in order:
                    done += 1
                    if server is not None and not server.running:
                        raise RuntimeError(f"the server died; last lines of its log:\n{server.log_tail(30)}")
                    result = run_scenario(url, client, scenario, size, args.timeout)
                    result["repeat"] = rep
                    runs.append(result)
                    log(f"{done}/{total} {progress_line(result)}")
                    if "crashed" in result and server is not None:
                        # A client killed with jobs pending may leave the server busy:
                        # the next runs get a fresh one.
                        log("restarting the server after a crashed run")
                        server.stop()
                        server.start()
                        url = server.url
                        warm_server(url)
            for scenario, size in new_plan:
                shift = (rep + new_plan.index((scenario, size))) % max(1, len(compared))
                for client in compared[shift:] + compared[:shift]:
                    done += 1
                    where = bench_url if scenario in sc.BENCH_APP_SCENARIOS else url
                    result = run_scenario(where or url, client, scenario, size, args.timeout)
                    result["repeat"] = rep
                    runs.append(result)
                    log(f"{done}/{total} {progress_line(result)}")
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping the server; the table shows what finished")
    finally:
        if server is not None:
            server.stop()
            log("server stopped")
        if bench_server is not None:
            bench_server.stop()

    meta = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "server_version": server_version if runs else None,
        "latency_n": args.latency_n,
        "inflight": args.inflight_list,
        "extra": extra,
        "only_new": args.only_new,
        "repeat": args.repeat,
        "interrupted": interrupted,
        "clients": args.client_list,
        "host": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
        "versions": next(
            (r["versions"] for r in runs if r.get("client") == "gradio_jobs" and "versions" in r), None
        ),
        "gradio_client_version": next(
            (
                r["versions"].get("gradio_client")
                for r in runs
                if r.get("client") == "gradio_client" and "versions" in r
            ),
            None,
        ),
        "targets": {
            "p50_ratio_max": P50_RATIO_MAX, "cpu_ratio_max": CPU_RATIO_MAX, "extra_threads_max": EXTRA_THREADS_MAX,
            "file_ratio_max": FILE_RATIO_MAX, "import_ratio_max": IMPORT_RATIO_MAX,
        },
    }
    report = present(runs, meta)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1))
    print(f"results written to {args.output}")
    if interrupted:
        return 130
    return 0 if runs else 1


def present(runs: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """Print the table for ``runs`` and return the whole report (meta, table, summary, runs)."""
    clients, n, inflight = meta["clients"], meta["latency_n"], meta["inflight"]
    extra = meta.get("extra") or {}
    plan = [] if meta.get("only_new") else [("latency", n)] + [("inflight", k) for k in inflight]
    plan += list(extra.items())
    summary: dict[str, dict[str, Any]] = {}
    for client in clients:
        for scenario, size in plan:
            mine = [r for r in runs if r["client"] == client and r["scenario"] == scenario and r["n"] == size]
            if mine:
                summary.setdefault(client, {})[f"{scenario}:{size}"] = summarize(mine)

    rows = build_rows(n, inflight, extra)
    if meta.get("only_new"):
        rows = [r for r in rows if r.key[0] in extra]
    checks = [] if meta.get("only_new") else thread_independence_check(summary, inflight)
    table, records = render_table(summary, runs, rows, clients, checks)
    load_before, load_after = meta.get("loadavg_before") or [0.0], meta.get("loadavg_after") or [0.0]

    print()
    print(
        f"gradio-jobs vs gradio_client on gradio {meta.get('server_version')} noop app; latency N={n}, "
        f"in flight {', '.join(map(str, inflight))}, {meta['repeat']} repeat(s)"
        f"{' (medians; ratios: median of the per-repeat ratios)' if meta['repeat'] > 1 else ''}"
    )
    print(table)
    print(
        "ratio = gradio-jobs / gradio_client; the last columns are for reference, each with its own "
        "ratio to gradio_client."
    )
    took = f"; {meta['seconds']:.0f} s in all" if meta.get("seconds") else ""
    print(
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, on "
        f"{meta.get('host', {}).get('cpus')} CPUs{took}."
    )
    for client, per in summary.items():
        for key, s in per.items():
            if s.get("errors") or s.get("crashed"):
                print(f"  {LABELS.get(client, client)} {key}: {s.get('errors', 0)} errors, "
                      f"{s.get('crashed', 0)} crashed run(s); e.g. {s.get('error_samples', ['?'])[0]}")
    return {"meta": meta, "table": records, "summary": summary, "runs": runs}


def extra_plan(args: argparse.Namespace) -> dict[str, int]:
    """The stream, files and import scenarios to run, with their sizes (0 skips one)."""
    sizes = {"stream": args.stream_n, "files": args.file_mib, "import": args.import_n}
    return {scenario: size for scenario, size in sizes.items() if size > 0}


def progress_line(r: dict[str, Any]) -> str:
    head = f"{r['client']:<17} {r['scenario']} {r['n']}:"
    if "crashed" in r:
        return f"{head} CRASHED {r['crashed'][:300]}"
    if r["scenario"] == "stream":
        return (f"{head} yield -> caller p50 {r['stream_p50_ms']:.1f} ms, p95 {r['stream_p95_ms']:.1f} ms, "
                f"{r['errors']} errors")
    if r["scenario"] == "files":
        return (f"{head} upload {r['upload_s']:.2f} s ({r['upload_mb_s']:.0f} MiB/s), download {r['download_s']:.2f} s "
                f"({r['download_mb_s']:.0f} MiB/s), {r['errors']} errors")
    if r["scenario"] == "import":
        return f"{head} {r['import_ms']:.0f} ms ({r['import_over_bare_ms']:.0f} ms over a bare interpreter)"
    if r["scenario"] == "latency":
        body = f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms"
    else:
        body = f"{r['wall_s']:.1f} s, {r['throughput_jobs_s']:.1f} jobs/s"
    return (
        f"{head} {body}, CPU/job {r['cpu_per_job_ms']:.2f} ms, +{r['extra_threads']} threads, "
        f"peak RSS {r['peak_rss_mb']:.0f} MB, {r['errors']} errors"
    )


if __name__ == "__main__":
    sys.exit(main())
