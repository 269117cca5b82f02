"""Run ONE benchmark scenario with ONE client in this process and print one JSON line.

    python benchmarks/scenario.py --url http://127.0.0.1:PORT/ --client gradio_jobs \
        --scenario inflight --jobs 1000

Each scenario runs in a fresh process (``run.py`` starts one per measurement), so the
process's CPU time, thread count and RSS belong to that client alone.

Clients
    gradio_client      ``gradio_client.Client(url, verbose=False)``
    gradio_jobs        ``gradio_jobs.Client(url, verbose=False)`` (sync)
    gradio_jobs_async  ``gradio_jobs.AsyncClient`` (``async with``, awaitable jobs, gather)
    raw                a minimal hand-written httpx protocol client: the floor

Scenarios
    latency    ``--n`` sequential ``predict`` calls after 5 warm-up calls
    inflight   ``--jobs`` jobs submitted at once, then every result collected
    stream     (bench app) one generator job of ``--n`` outputs: the delay from each yield on
               the server to the caller's iteration receiving it (median, p95)
    files      (bench app) a ``--n`` MiB file uploaded (``/size``) and one downloaded (``/big``),
               each call timed end to end
    import     (no server) ``--n`` fresh interpreters each running ``import <client>``;
               the median wall time of one

The last line on stdout is the JSON result; anything a client prints goes before it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import json
import os
import platform
import resource
import sys
import threading
import time
import traceback
import uuid
from typing import Any

import psutil

CLIENTS = ("gradio_jobs", "gradio_client", "gradio_jobs_async", "raw")
SCENARIOS = ("latency", "inflight", "stream", "files", "import")
#: The scenarios of the bench app (benchmarks/bench_app.py); the others run on the noop app.
BENCH_APP_SCENARIOS = ("stream", "files")
#: Clients that run the bench app's scenarios (and the import one): the two being compared.
COMPARED = ("gradio_jobs", "gradio_client")
API_NAME = "/noop"
WARMUP = 5
SAMPLE_INTERVAL = 0.005  # seconds between two samples of threads and RSS
MAX_ERROR_SAMPLES = 5
RAW_JOIN_CONCURRENCY = 8  # joins the raw async client keeps in flight (see AsyncRawClient)


# ---------------------------------------------------------------- measuring


class Sampler(threading.Thread):
    """Samples the process's OS thread count and RSS every 5 ms.

    Its own CPU time is published in ``cpu`` (``time.thread_time()``), so the caller can
    take it out of the process's CPU time; it is itself one of the threads it counts,
    which the caller accounts for by taking the baseline after starting it.
    """

    def __init__(self, interval: float = SAMPLE_INTERVAL) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.interval = interval
        self.proc = psutil.Process()
        self.peak_threads = 0
        self.peak_rss = 0
        self.samples = 0
        self.cpu = 0.0
        self._stop_event = threading.Event()
        self._first = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            self.cpu = time.thread_time()
            self._first.set()
            if self._stop_event.wait(self.interval):
                break
        self.sample()
        self.cpu = time.thread_time()

    def sample(self) -> None:
        n = self.proc.num_threads()
        rss = self.proc.memory_info().rss
        if n > self.peak_threads:
            self.peak_threads = n
        if rss > self.peak_rss:
            self.peak_rss = rss
        self.samples += 1

    def start_and_wait(self) -> Sampler:
        self.start()
        self._first.wait()
        return self

    def reset_peaks(self) -> None:
        self.peak_threads = 0
        self.peak_rss = 0

    def finish(self) -> None:
        self._stop_event.set()
        self.join()


class ThreadCounter:
    """Counts the Python threads started while it is installed (``threading.Thread.start``)."""

    def __init__(self) -> None:
        self.started = 0
        self.names: dict[str, int] = {}
        self._original = threading.Thread.start

    def install(self) -> None:
        counter, original = self, self._original

        def start(thread: threading.Thread, *args: Any, **kwargs: Any) -> Any:
            counter.started += 1
            # "ThreadPoolExecutor-0_12" -> "ThreadPoolExecutor-0"; "gradio-jobs-loop" as is
            name = thread.name.rsplit("_", 1)[0] if thread.name[-1:].isdigit() else thread.name
            counter.names[name] = counter.names.get(name, 0) + 1
            return original(thread, *args, **kwargs)

        threading.Thread.start = start  # type: ignore[method-assign]


class Profiler:
    """``--profile``: cProfile in every thread (the caller's and each one started later).

    cProfile only sees the thread that enabled it, and the sync clients do their work on
    threads of their own (gradio-jobs' loop thread, gradio_client's pools), so every
    thread started after ``install`` runs under a profiler of its own; ``dump`` merges
    them all. The profile spans the client's creation to the scenario's end.
    """

    def __init__(self, path: str) -> None:
        import cProfile

        self.path = path
        self._cprofile = cProfile
        self.main = cProfile.Profile()
        self.threads: list[Any] = []

    def install(self) -> None:
        profiler, original = self, threading.Thread.run

        def run(thread: threading.Thread) -> None:
            if thread.name == "bench-sampler":
                return original(thread)
            prof = profiler._cprofile.Profile()
            profiler.threads.append(prof)
            prof.enable()
            try:
                original(thread)
            finally:
                prof.disable()

        threading.Thread.run = run  # type: ignore[method-assign]
        self.main.enable()

    def dump(self) -> None:
        import pstats

        self.main.disable()
        stats = pstats.Stats(self.main)
        for prof in self.threads:
            # a thread's profile still running may be mid-update: it is left out
            with contextlib.suppress(Exception):
                stats.add(prof)
        stats.dump_stats(self.path)


class Window:
    """Wall time and process CPU time (all threads, minus the sampler's) over a span."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def __enter__(self) -> Window:
        self.cpu0 = time.process_time()
        self.sampler_cpu0 = self.sampler.cpu
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.t0
        self.sampler.sample()  # catch the state right at the end as well
        cpu = time.process_time() - self.cpu0
        self.cpu = max(0.0, cpu - (self.sampler.cpu - self.sampler_cpu0))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class Errors:
    def __init__(self) -> None:
        self.count = 0
        self.samples: list[str] = []

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(what[:300])

    def check(self, got: Any, expected: str) -> None:
        if got != expected:
            self.add(f"wrong result: expected {expected!r}, got {got!r}")

    def exception(self, exc: BaseException) -> None:
        cause = exc.__cause__ or exc.__context__
        because = f" [caused by {type(cause).__module__}.{type(cause).__name__}]" if cause is not None else ""
        self.add(f"{type(exc).__name__}: {exc}{because}")


# ---------------------------------------------------------------- the raw client (the floor)


def _app_urls(url: str, config: dict) -> tuple[str, int]:
    """(API base URL, fn_index of /noop) from the app's config."""
    prefix = (config.get("api_prefix") or "").strip("/")
    api = url + (prefix + "/" if prefix else "")
    for index, dep in enumerate(config.get("dependencies", [])):
        if dep.get("api_name") in ("noop", "/noop"):
            return api, dep.get("id", index)
    raise RuntimeError("the app has no /noop endpoint")


def _sse_messages(lines):
    for line in lines:
        if line.startswith("data:"):
            yield json.loads(line[5:])


class RawClient:
    """Sync raw client: per call, POST queue/join then read queue/data until close_stream."""

    def __init__(self, url: str) -> None:
        import httpx

        self.http = httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0))
        config = self.http.get(url + "config").json()
        self.api, self.fn_index = _app_urls(url, config)
        self.session = uuid.uuid4().hex

    def predict(self, x: str) -> Any:
        body = {"data": [x], "fn_index": self.fn_index, "session_hash": self.session}
        r = self.http.post(self.api + "queue/join", json=body)
        r.raise_for_status()
        event_id = r.json()["event_id"]
        result: Any = None
        found = False
        with self.http.stream("GET", self.api + "queue/data", params={"session_hash": self.session}) as resp:
            resp.raise_for_status()
            for msg in _sse_messages(resp.iter_lines()):
                kind = msg.get("msg")
                if kind == "process_completed" and msg.get("event_id") == event_id:
                    if not msg.get("success", True):
                        raise RuntimeError(f"the app failed: {msg.get('output')!r}")
                    result, found = msg["output"]["data"][0], True
                # No break on close_stream: the server ends the body right after it, and
                # reading to the end hands the connection back to the pool for the next call.
        if not found:
            raise RuntimeError("the stream closed before the job completed")
        return result

    def close(self) -> None:
        self.http.close()


class AsyncRawClient:
    """Async raw client: concurrent joins, ONE shared queue/data stream routing by event_id.

    The server closes the stream once the session has nothing pending; it is reopened as
    soon as a job that joined since is still waiting.
    """

    def __init__(self, url: str, join_concurrency: int = RAW_JOIN_CONCURRENCY) -> None:
        import httpx

        self.url = url
        # httpcore's pool does work proportional to (queued requests x connections) every
        # time a request starts or ends, so 1,000 joins queued on a 100-connection pool
        # cost more CPU than the protocol itself. The floor therefore keeps at most
        # `join_concurrency` joins in flight, on a pool just large enough for them and the
        # stream; 0 sends every join at once on a 100-connection pool, as a naive client would.
        self.join_limit = asyncio.Semaphore(join_concurrency) if join_concurrency > 0 else None
        connections = join_concurrency + 1 if join_concurrency > 0 else 100
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=15.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self.session = uuid.uuid4().hex
        self.waiting: dict[str, asyncio.Future] = {}  # joined, not completed
        self.early: dict[str, dict] = {}  # completions that came before their join answer
        self.joined = asyncio.Event()
        self.reader: asyncio.Task | None = None

    async def connect(self) -> AsyncRawClient:
        config = (await self.http.get(self.url + "config")).json()
        self.api, self.fn_index = _app_urls(self.url, config)
        return self

    async def predict(self, x: str) -> Any:
        body = {"data": [x], "fn_index": self.fn_index, "session_hash": self.session}
        if self.join_limit is None:
            r = await self.http.post(self.api + "queue/join", json=body)
        else:
            async with self.join_limit:
                r = await self.http.post(self.api + "queue/join", json=body)
        r.raise_for_status()
        event_id = r.json()["event_id"]
        msg = self.early.pop(event_id, None)
        if msg is None:
            future = asyncio.get_running_loop().create_future()
            self.waiting[event_id] = future
            self.joined.set()
            if self.reader is None or self.reader.done():
                self.reader = asyncio.create_task(self._read())
            msg = await future
        if not msg.get("success", True):
            raise RuntimeError(f"the app failed: {msg.get('output')!r}")
        return msg["output"]["data"][0]

    async def _read(self) -> None:
        try:
            while self.waiting:
                async with self.http.stream(
                    "GET", self.api + "queue/data", params={"session_hash": self.session}
                ) as resp:
                    resp.raise_for_status()
                    async for line in resp.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        msg = json.loads(line[5:])
                        kind = msg.get("msg")
                        if kind == "process_completed":
                            future = self.waiting.pop(msg.get("event_id"), None)
                            if future is None:
                                self.early[msg.get("event_id")] = msg
                            elif not future.done():
                                future.set_result(msg)
                        # close_stream: the body ends right after it; reading to the end
                        # keeps the connection for the next request.
        except Exception as exc:
            waiting, self.waiting = self.waiting, {}
            for future in waiting.values():
                if not future.done():
                    future.set_exception(exc)

    async def close(self) -> None:
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()
        await self.http.aclose()


# ---------------------------------------------------------------- the clients, uniformly


class SyncRunner:
    """Runs a scenario with a blocking client (gradio_client, gradio_jobs, raw)."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        if kind == "gradio_client":
            import gradio_client

            self.client = gradio_client.Client(url, verbose=False)
        elif kind == "gradio_jobs":
            import gradio_jobs

            self.client = gradio_jobs.Client(url, verbose=False)
        elif kind == "raw":
            self.client = RawClient(url)
        else:
            raise ValueError(kind)

    def predict(self, x: str) -> Any:
        if self.kind == "raw":
            return self.client.predict(x)
        return self.client.predict(x, api_name=API_NAME)

    def latency(self, n: int, errors: Errors) -> list[float]:
        times = []
        for _i in range(n):
            t0 = time.perf_counter()
            try:
                got = self.predict("x")
            except Exception as exc:
                errors.exception(exc)
                continue
            times.append(time.perf_counter() - t0)
            errors.check(got, "x")
        return times

    def warm(self) -> None:
        for _i in range(WARMUP):
            self.predict("warm")

    def inflight(self, k: int, errors: Errors, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if self.kind == "raw":
            raise ValueError("the raw client runs in-flight jobs with its async variant")
        jobs = []
        for i in range(k):
            try:
                jobs.append((f"x{i}", self.client.submit(f"x{i}", api_name=API_NAME)))
            except Exception as exc:
                errors.exception(exc)
        for expected, job in jobs:
            try:
                got = job.result(timeout=max(0.1, deadline - time.monotonic()))
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                errors.exception(exc)
                continue
            errors.check(got, expected)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


class AsyncRunner:
    """Runs a scenario with an async client (gradio_jobs.AsyncClient, the async raw client)."""

    def __init__(self, kind: str, url: str, raw_join_concurrency: int = RAW_JOIN_CONCURRENCY) -> None:
        self.kind = kind
        self.url = url
        self.raw_join_concurrency = raw_join_concurrency

    async def __aenter__(self) -> AsyncRunner:
        if self.kind == "gradio_jobs_async":
            import gradio_jobs

            self.client = gradio_jobs.AsyncClient(self.url, verbose=False)
            await self.client.__aenter__()
        elif self.kind == "raw":
            self.client = await AsyncRawClient(self.url, self.raw_join_concurrency).connect()
        else:
            raise ValueError(self.kind)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.kind == "gradio_jobs_async":
            await self.client.__aexit__(*exc)
        else:
            await self.client.close()

    def submit(self, x: str) -> Any:
        if self.kind == "raw":
            return self.client.predict(x)
        return self.client.submit(x, api_name=API_NAME)  # an awaitable AsyncJob

    async def predict(self, x: str) -> Any:
        if self.kind == "raw":
            return await self.client.predict(x)
        return await self.client.predict(x, api_name=API_NAME)

    async def warm(self) -> None:
        for _i in range(WARMUP):
            await self.predict("warm")

    async def latency(self, n: int, errors: Errors) -> list[float]:
        times = []
        for _i in range(n):
            t0 = time.perf_counter()
            try:
                got = await self.predict("x")
            except Exception as exc:
                errors.exception(exc)
                continue
            times.append(time.perf_counter() - t0)
            errors.check(got, "x")
        return times

    async def inflight(self, k: int, errors: Errors, timeout: float) -> None:
        expected = [f"x{i}" for i in range(k)]
        jobs = [self.submit(x) for x in expected]
        try:
            results = await asyncio.wait_for(asyncio.gather(*jobs, return_exceptions=True), timeout)
        except TimeoutError:
            errors.add(f"timed out after {timeout:g} s")
            errors.count = k
            return
        for want, got in zip(expected, results, strict=False):
            if isinstance(got, BaseException):
                errors.exception(got)
            else:
                errors.check(got, want)


# ---------------------------------------------------------------- streaming, files, import


def _make_client(kind: str, url: str, download_dir: str | None = None) -> Any:
    if kind == "gradio_client":
        import gradio_client

        if download_dir is None:
            return gradio_client.Client(url, verbose=False)
        return gradio_client.Client(url, verbose=False, download_files=download_dir)
    if kind == "gradio_jobs":
        import gradio_jobs

        if download_dir is None:
            return gradio_jobs.Client(url, verbose=False)
        return gradio_jobs.Client(url, verbose=False, download_files=download_dir)
    raise ValueError(f"the {kind} client does not run this scenario; choose from {', '.join(COMPARED)}")


def run_stream(client: Any, n: int, errors: Errors) -> dict[str, Any]:
    """One generator job of ``n`` outputs; each output is the server's time.time() at its yield."""
    delays: list[float] = []
    job = client.submit(n, api_name="/stream")
    for out in job:
        received = time.time()
        try:
            delays.append((received - float(out)) * 1000)
        except (TypeError, ValueError):
            errors.add(f"unexpected output {out!r}")
    job.result(timeout=60)
    if len(delays) != n:
        errors.add(f"{len(delays)} outputs for {n} yields")
    return {
        "stream_p50_ms": percentile(delays, 50),
        "stream_p95_ms": percentile(delays, 95),
        "stream_outputs": len(delays),
    }


def run_files(client: Any, kind: str, mib: int, folder: str, errors: Errors) -> dict[str, Any]:
    """Upload a ``mib`` MiB file, then download one, each call timed end to end."""
    source = os.path.join(folder, "upload.bin")
    block = os.urandom(1 << 20)
    with open(source, "wb") as fh:
        for _ in range(mib):
            fh.write(block)
    if kind == "gradio_client":
        from gradio_client import handle_file
    else:
        from gradio_jobs import handle_file
    size = mib << 20
    t0 = time.perf_counter()
    got = client.predict(handle_file(source), api_name="/size")
    upload_s = time.perf_counter() - t0
    if got != size:
        errors.add(f"upload: the server saw {got!r} bytes, not {size}")
    t0 = time.perf_counter()
    path = client.predict(mib, api_name="/big")
    download_s = time.perf_counter() - t0
    if not isinstance(path, str) or os.path.getsize(path) != size:
        errors.add(f"download: got {path!r}")
    return {
        "upload_s": upload_s,
        "download_s": download_s,
        "upload_mb_s": mib / upload_s,
        "download_mb_s": mib / download_s,
    }


def run_import(kind: str, n: int) -> dict[str, Any]:
    """The median wall time of ``import <kind>`` in ``n`` fresh interpreters (and of ``pass``)."""
    import subprocess

    def median_of(code: str) -> float:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - t0)
        return percentile(times, 50) * 1000

    bare = median_of("pass")
    total = median_of(f"import {kind}")
    return {"import_ms": total, "import_over_bare_ms": total - bare, "bare_interpreter_ms": bare}


def run_compared(args: argparse.Namespace) -> dict[str, Any]:
    """The stream, files and import scenarios: one client, one measurement."""
    import tempfile

    errors = Errors()
    out: dict[str, Any] = {"client": args.client, "scenario": args.scenario, "n": args.n}
    if args.scenario == "import":
        out.update(run_import(args.client, args.n))
    else:
        with tempfile.TemporaryDirectory(prefix="gradio-jobs-bench-") as folder:
            client = _make_client(args.client, args.url, os.path.join(folder, "downloads"))
            try:
                client.predict(1, api_name="/stream" if args.scenario == "stream" else "/big")  # warm-up
                if args.scenario == "stream":
                    out.update(run_stream(client, args.n, errors))
                else:
                    out.update(run_files(client, args.client, args.n, folder, errors))
            finally:
                close = getattr(client, "close", None)
                if close is not None:
                    close()
    out["errors"] = errors.count
    out["error_samples"] = errors.samples
    return out


# ---------------------------------------------------------------- one scenario


def run_scenario(args: argparse.Namespace) -> dict[str, Any]:
    counter = ThreadCounter()
    sampler = Sampler().start_and_wait()
    proc = psutil.Process()
    # The baseline: this process before any client exists (the sampler already counted in).
    base_threads = proc.num_threads()
    base_rss = proc.memory_info().rss
    sampler.reset_peaks()
    counter.install()
    profiler = Profiler(args.profile) if args.profile else None
    if profiler is not None:
        profiler.install()
    errors = Errors()
    out: dict[str, Any] = {
        "client": args.client,
        "scenario": args.scenario,
        "n": args.n if args.scenario == "latency" else args.jobs,
        "baseline_threads": base_threads - 1,  # without the sampler
        "baseline_rss_mb": base_rss / 2**20,
    }
    is_async = args.client == "gradio_jobs_async" or (args.client == "raw" and args.scenario == "inflight")
    t_setup = time.perf_counter()

    def finish(window: Window, setup_s: float) -> None:
        out["setup_s"] = setup_s
        out["wall_s"] = window.wall
        out["cpu_s"] = window.cpu

    if not is_async:
        runner = SyncRunner(args.client, args.url)
        setup_s = time.perf_counter() - t_setup
        try:
            runner.warm()
            if args.scenario == "latency":
                with Window(sampler) as w:
                    times = runner.latency(args.n, errors)
                finish(w, setup_s)
                out["latencies_ms"] = [t * 1000 for t in times]
            else:
                with Window(sampler) as w:
                    runner.inflight(args.jobs, errors, args.timeout)
                finish(w, setup_s)
        finally:
            runner.close()
    else:

        async def main() -> None:
            async with AsyncRunner(args.client, args.url, args.raw_join_concurrency) as runner:
                setup_s = time.perf_counter() - t_setup
                await runner.warm()
                if args.scenario == "latency":
                    with Window(sampler) as w:
                        times = await runner.latency(args.n, errors)
                    finish(w, setup_s)
                    out["latencies_ms"] = [t * 1000 for t in times]
                else:
                    with Window(sampler) as w:
                        await runner.inflight(args.jobs, errors, args.timeout)
                    finish(w, setup_s)

        asyncio.run(main())

    sampler.finish()
    if profiler is not None:
        profiler.dump()
        out["profile"] = args.profile
    jobs = out["n"]
    out["errors"] = errors.count
    out["error_samples"] = errors.samples
    out["cpu_per_job_ms"] = out["cpu_s"] / jobs * 1000 if jobs else float("nan")
    out["throughput_jobs_s"] = jobs / out["wall_s"] if out["wall_s"] > 0 else float("nan")
    if args.scenario == "latency":
        lat = out["latencies_ms"]
        out["p50_ms"] = percentile(lat, 50)
        out["p95_ms"] = percentile(lat, 95)
        out["mean_ms"] = sum(lat) / len(lat) if lat else float("nan")
        if not args.keep_latencies:
            del out["latencies_ms"]
    # Threads and RSS: the peaks from just before creating the client until it was closed.
    out["peak_threads"] = sampler.peak_threads - 1  # the sampler is not the client's
    out["extra_threads"] = sampler.peak_threads - base_threads
    out["threads_started"] = counter.started
    out["threads_started_by_name"] = counter.names
    out["peak_rss_mb"] = sampler.peak_rss / 2**20
    out["extra_rss_mb"] = (sampler.peak_rss - base_rss) / 2**20
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out["samples"] = sampler.samples
    return out


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("gradio_client", "gradio_jobs", "httpx"):
        module = sys.modules.get(name)
        if module is not None:
            found[name] = getattr(module, "__version__", "?")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="the noop app's URL (ends with /)")
    p.add_argument("--client", required=True, choices=CLIENTS)
    p.add_argument("--scenario", required=True, choices=SCENARIOS)
    p.add_argument(
        "--n", type=int, default=200,
        help="latency: sequential predictions (after 5 warm-up ones); stream: outputs; files: MiB; import: processes",
    )
    p.add_argument("--jobs", type=int, default=100, help="inflight: jobs submitted at once")
    p.add_argument("--timeout", type=float, default=240.0, help="inflight: seconds for all results")
    p.add_argument(
        "--raw-join-concurrency", type=int, default=RAW_JOIN_CONCURRENCY,
        help="raw inflight: joins in flight at once (0: all at once, on a 100-connection pool)",
    )
    p.add_argument("--profile", metavar="PATH", help="write a cProfile of all threads to PATH (slows everything)")
    p.add_argument("--keep-latencies", action="store_true", help="latency: include every latency in the JSON")
    args = p.parse_args(argv)
    if not args.url.endswith("/"):
        args.url += "/"
    # A scenario that hangs past its timeout (plus time to close the client) prints every
    # thread's stack to stderr and exits: run.py reports that stack tail as the crash.
    faulthandler.dump_traceback_later(args.timeout + 90, exit=True)
    try:
        out = run_compared(args) if args.scenario in (*BENCH_APP_SCENARIOS, "import") else run_scenario(args)
    except Exception as exc:  # a crash is a result too: run.py reports it
        out = {
            "client": args.client,
            "scenario": args.scenario,
            "n": args.jobs if args.scenario == "inflight" else args.n,
            "crashed": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()[-3000:],
        }
    out["versions"] = versions()
    out["pid"] = os.getpid()
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main()
    # Threads a client left behind (pools, heartbeats) must not keep the process alive.
    sys.stdout.flush()
    os._exit(code)
