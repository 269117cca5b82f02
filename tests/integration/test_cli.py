"""The ``gradio-jobs`` command line against real local apps.

Every command runs as ``python -m gradio_jobs.cli`` in a subprocess: with pipes (plain
output), or under a pseudo-terminal of a fixed size (the rich live display), whose output
is replayed on a small terminal model to get the screen. Waits read the output until a
marker appears, with a timeout; every process is stopped at the test's end.
"""

from __future__ import annotations

import fcntl
import http.server
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Sequence
from unittest import mock

import psutil
import pytest

from gradio_jobs import Client
from gradio_jobs.cli import ExitCode, main
from gradio_jobs.protocol import events as ev

from proxy import FaultProxy
from servers import free_port, requested_versions, venv_exists
from waiting import wait_for_event, wait_until, wait_until_quiet

V6 = "6.31.0"
COLS, ROWS = 100, 50
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def only_on(*versions: str):
    """Run a ``server`` test on these versions only."""
    return pytest.mark.parametrize(
        "server_version",
        [v for v in requested_versions() if v in versions],
        indirect=True,
        ids=lambda v: f"gradio-{v}",
    )


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def render_screen(raw: str, cols: int = COLS) -> str:
    """What a terminal of ``cols`` columns shows after ``raw``: enough of VT100 for rich's Live
    (carriage return, newline, cursor up/down, erase line; colours ignored)."""
    lines: list[list[str]] = [[]]
    row = col = 0
    pos = 0
    csi = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")
    while pos < len(raw):
        m = csi.match(raw, pos)
        if m:
            pos = m.end()
            arg, cmd = m.group(1), m.group(2)
            n = int(arg) if arg.isdigit() else 1
            if cmd == "A":
                row = max(0, row - n)
            elif cmd == "B":
                row += n
            elif cmd == "G":
                col = n - 1
            elif cmd == "K":
                while len(lines) <= row:
                    lines.append([])
                lines[row] = [] if arg == "2" else lines[row][:col]
            while len(lines) <= row:
                lines.append([])
            continue
        other = ANSI.match(raw, pos)
        if other:
            pos = other.end()
            continue
        ch = raw[pos]
        pos += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
        elif ch >= " ":
            if col >= cols:
                row, col = row + 1, 0
                while len(lines) <= row:
                    lines.append([])
            line = lines[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return "\n".join("".join(line).rstrip() for line in lines).rstrip()


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "gradio_jobs.cli", *map(str, args)]


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", **extra)
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join([h for h in env.get(key, "").split(",") if h] + ["127.0.0.1", "localhost"])
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    return env


def run_cli_process(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m gradio_jobs.cli ARGS`` with stdout and stderr on pipes (plain mode), to its end."""
    return subprocess.run(
        cli_argv(*args), capture_output=True, text=True, timeout=timeout, env=cli_env(COLUMNS="160"),
        stdin=subprocess.DEVNULL,
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command run in this process (``main(ARGS)``), stdout and stderr captured: not a terminal,
    so plain mode. Cheaper than a process each; the subprocess tests cover the entry point."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, {"COLUMNS": "160"}), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(args, int(code), out.getvalue(), err.getvalue())


def run_clis(*commands: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
    return [run_cli(*args) for args in commands]


def _default_sigint() -> None:
    # as from a shell: Ctrl+C's signal is not ignored (Python then raises KeyboardInterrupt)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Running:
    """The command in a subprocess, its output collected by a thread: under a pseudo-terminal of
    COLS x ROWS (``tty=True``: stdout and stderr are the terminal) or with pipes. ``args`` are
    the CLI's; ``argv`` runs another program instead (e.g. a Python script)."""

    def __init__(self, args: Sequence[str], *, tty: bool, argv: Sequence[str] | None = None) -> None:
        argv = list(argv) if argv is not None else cli_argv(*args)
        self.tty = tty
        self._chunks: list[bytes] = []
        self._err_chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._master: int | None = None
        if tty:
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            env = cli_env(COLUMNS=str(COLS), LINES=str(ROWS), TERM="xterm-256color")
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                start_new_session=True, preexec_fn=_default_sigint,
            )
            os.close(slave)
            self._master = master
            readers = [threading.Thread(target=self._read_fd, args=(master, self._chunks), daemon=True)]
        else:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=cli_env(COLUMNS="160"), start_new_session=True, preexec_fn=_default_sigint,
            )
            readers = [
                threading.Thread(target=self._read_fd, args=(self.proc.stdout.fileno(), self._chunks), daemon=True),
                threading.Thread(target=self._read_fd, args=(self.proc.stderr.fileno(), self._err_chunks), daemon=True),
            ]
        self._readers = readers
        for reader in readers:
            reader.start()

    def _read_fd(self, fd: int, into: list[bytes]) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                return
            if not data:
                return
            with self._lock:
                into.append(data)

    @property
    def raw(self) -> str:
        with self._lock:
            return b"".join(self._chunks).decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        with self._lock:
            return b"".join(self._err_chunks).decode("utf-8", "replace")

    @property
    def text(self) -> str:
        """Everything written so far, escape codes removed (every frame of a live display)."""
        return strip_ansi(self.raw)

    def screen(self) -> str:
        return render_screen(self.raw)

    def wait_for(self, marker: str | re.Pattern[str], timeout: float = 60.0) -> None:
        def seen() -> bool:
            text = self.text + self.stderr
            return bool(marker.search(text)) if isinstance(marker, re.Pattern) else marker in text

        wait_until(
            lambda: seen() or self.proc.poll() is not None and seen(),
            timeout,
            lambda: f"{marker!r} not shown (exit {self.proc.poll()}); output so far:\n{self.text}\n{self.stderr}",
        )

    def wait(self, timeout: float = 90.0) -> int:
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for reader in self._readers:
            reader.join(5)
        if self._master is not None:
            os.close(self._master)
            self._master = None
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def spawn():
    started: list[Running] = []

    def factory(*args: str, tty: bool = False) -> Running:
        running = Running(args, tty=tty)
        started.append(running)
        return running

    try:
        yield factory
    finally:
        for running in started:
            running.stop()


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def assert_stopped_growing(server, path: Path) -> None:
    """A /ticks job writes a line every 0.1 s while it runs: no new line while a live generator on
    the same server ticks (the first windows may still see a step that was in flight)."""
    with Client(server.url, verbose=False) as witness:
        wait_until_quiet(witness, lambda: lines_of(path), what=f"{path} (the job runs on)")


# -- info ---------------------------------------------------------------------------------------


def test_info_lists_endpoints_with_parameters_types_and_defaults(server) -> None:
    done = run_cli("info", server.url)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b" not in out
    row_a = re.search(r"^\W*/add\s*│\s*a\s*│\s*float\s*│\s*1(\.0)?\s*│\s*Number", out, re.M)
    assert row_a, out
    row_b = re.search(r"^\W*│\s*b\s*│\s*float\s*│\s*(required|null)\s*│\s*Number", out, re.M)
    assert row_b, out
    assert re.search(r"/count\s*│\s*n\s*│", out) and "generator" in out
    assert "/slow" in out and "/sleeper" in out
    assert "/priv" not in out  # private endpoints are not callable, so not listed
    assert re.search(r"^queue: \d+ waiting", out, re.M), out  # the queue as GET queue/status has it


@only_on(V6)
def test_info_json_is_the_api_description(server) -> None:
    done, everything = run_clis(["info", server.url, "--json"], ["info", server.url, "--json", "--all"])
    assert done.returncode == 0, done.stderr
    description = json.loads(done.stdout)
    add = description["named_endpoints"]["/add"]
    assert [p["parameter_name"] for p in add["parameters"]] == ["a", "b"]
    assert add["parameters"][0]["parameter_default"] == 1
    assert description["named_endpoints"]["/count"]["is_generator"] is True
    assert "/hidden" not in description["named_endpoints"]
    assert "/hidden" in json.loads(everything.stdout)["named_endpoints"]


# -- call: success ------------------------------------------------------------------------------


def test_call_prints_the_result(server) -> None:
    done = run_cli_process("call", server.url, "/add", "3", "4")  # the entry point, in a process
    assert done.returncode == ExitCode.OK, done.stderr
    assert done.stdout.splitlines()[-1] in ("7", "7.0")
    assert done.stderr == ""


@only_on(V6)
def test_call_keywords_and_json_output(server) -> None:
    keyword, intermixed, string = run_clis(
        ["call", server.url, "add", "--kw", "b=5", "--json"],  # a defaults to 1
        ["call", server.url, "/multi", "--json", "ab", "--kw", "n=3"],  # ARGS after an option
        ["call", server.url, "/notify", '"42"', "-q"],  # a JSON string stays a string
    )
    assert keyword.returncode == ExitCode.OK, keyword.stderr
    assert json.loads(keyword.stdout) == 6  # stdout holds the JSON and nothing else
    assert intermixed.returncode == ExitCode.OK, intermixed.stderr
    assert json.loads(intermixed.stdout) == ["ababab", 6, {"x": "ab", "n": 3}]
    assert (string.returncode, string.stdout) == (0, "42\n")


@only_on(V6)
def test_call_uploads_a_file_and_downloads_outputs_to_download_dir(server, tmp_path) -> None:
    source = tmp_path / "input.txt"
    source.write_text("hello")
    downloads = tmp_path / "downloads"
    done = run_cli("call", server.url, "/file_info", f"@{source}", "--download-dir", str(downloads))
    assert done.returncode == ExitCode.OK, done.stderr
    assert "uploading: input.txt 5 B of 5 B" in done.stdout.splitlines()
    info, path = json.loads(done.stdout.partition("completed in ")[2].partition("\n")[2])
    assert info == "input.txt 5"
    assert Path(path).parent.parent == downloads and Path(path).read_text() == "size=5\n"


@only_on(V6)
def test_plain_output_has_one_line_per_event_and_no_escape_codes(server) -> None:
    count, slow, notify = run_clis(
        ["call", server.url, "/count", "3"], ["call", server.url, "/slow", "3"], ["call", server.url, "/notify", "hi"]
    )
    assert count.returncode == ExitCode.OK, count.stderr
    out = count.stdout
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0] == "submitted: /count"
    assert lines[1].startswith("joined the queue: job id ")
    assert lines[2].startswith("queued: position 1 of 1")
    assert lines[3].startswith("started")
    assert lines[4:7] == ['output 1: ["tok0 ", [{"i": 0}]]', 'output 2: ["tok0 tok1 ", [{"i": 0}, {"i": 1}]]',
                          'output 3: ["tok0 tok1 tok2 ", [{"i": 0}, {"i": 1}, {"i": 2}]]']
    assert lines[7].startswith("completed in ")
    assert json.loads("\n".join(lines[8:])) == ["tok0 tok1 tok2 ", [{"i": 0}, {"i": 1}, {"i": 2}]]

    assert slow.returncode == ExitCode.OK, slow.stderr
    assert "\x1b" not in slow.stdout
    progress = [line for line in slow.stdout.splitlines() if line.startswith("progress:")]
    # the server samples progress periodically: a busy one may skip a step, and may catch the
    # tqdm at 3/3 between the last step and the return; one line per change either way
    assert progress and all(re.fullmatch(r"progress: (starting 0%|looping [0-3]/3 steps)", p) for p in progress), slow.stdout
    assert len(progress) == len(set(progress))
    assert slow.stdout.splitlines()[-1] == "done 3"

    assert "log [info]: an info message" in notify.stdout.splitlines()
    assert "log [warning]: a warning message" in notify.stdout.splitlines()
    assert notify.stdout.splitlines()[-1] == "HI"


# -- call: failures and their exit codes --------------------------------------------------------


@only_on(V6)
def test_app_error_exits_1_with_the_message_on_stderr(server) -> None:
    done = run_cli("call", server.url, "/fail", "x")
    assert done.returncode == ExitCode.APP_ERROR == 1
    assert "AppError: bad input: x" in done.stderr  # str(AppError) is the message alone, as in gradio_client
    assert "bad input" not in done.stdout


@only_on(V6)
def test_usage_errors_exit_2(server) -> None:
    url = server.url
    unknown, too_many, bad_name, no_value, no_file, no_api = run_clis(
        ["call", url, "/nope", "1"],
        ["call", url, "/add", "1", "2", "3"],
        ["call", url, "/add", "--kw", "c=1"],
        ["call", url, "/add", "--kw", "b"],
        ["call", url, "/file_info", "@/no/such/file.txt"],
        ["call", url],  # argparse: API_NAME missing
    )
    assert unknown.returncode == ExitCode.USAGE == 2
    assert "EndpointNotFoundError" in unknown.stderr and "/add" in unknown.stderr  # lists the valid ones
    assert too_many.returncode == 2 and "(a, b)" in too_many.stderr
    assert bad_name.returncode == 2 and "'c'" in bad_name.stderr
    assert no_value.returncode == 2 and "NAME=VALUE" in no_value.stderr
    assert no_file.returncode == 2 and "/no/such/file.txt" in no_file.stderr
    assert no_api.returncode == 2 and "usage:" in no_api.stderr


@only_on(V6)
def test_timeout_cancels_the_job_and_exits_3(server, tmp_path) -> None:
    ticks = tmp_path / "ticks.txt"
    generator, plain = run_clis(
        # a generator: the cancel stops it on the server
        ["call", server.url, "/ticks", str(ticks), "300", "--timeout", "1"],
        # a plain function: nothing can interrupt it on the server, it runs on
        ["call", server.url, "/sleeper", "2", "--timeout", "0.5"],
    )
    assert generator.returncode == ExitCode.TIMEOUT == 3, generator.stderr
    assert "deadline of 1 s ran out" in generator.stderr and "stopped on the server" in generator.stderr
    assert "timed out after" in generator.stdout
    assert 0 < lines_of(ticks) < 100
    assert_stopped_growing(server, ticks)

    assert plain.returncode == 3, plain.stderr
    assert "ran out" in plain.stderr and "finishes it" in plain.stderr
    done = run_cli("call", server.url, "/sleeper", "0.1")  # the server is not stuck: it queues, then runs
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "slept 0.1"


def test_unreachable_server_exits_4() -> None:
    call, info = run_clis(
        ["call", f"http://127.0.0.1:{free_port()}/", "/add", "1", "2"], ["info", f"http://127.0.0.1:{free_port()}/"]
    )
    assert call.returncode == ExitCode.CONNECTION == 4
    # a ServerUnreachableError that is also the httpx.ConnectError gradio_client lets through
    assert "ServerConnectError: [Errno 111] Connection refused" in call.stderr
    assert info.returncode == 4


@only_on(V6)
def test_connection_lost_during_the_job_exits_4(server, spawn) -> None:
    with FaultProxy(server.port) as proxy:
        running = spawn("call", proxy.url, "/count", "100")
        running.wait_for("output 2:")
        assert proxy.cut() >= 1
        assert running.wait(30) == ExitCode.CONNECTION
    assert "ConnectionLostError" in running.stderr


class _LoginRequired(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b'{"detail": "Not authenticated"}'
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_other_client_errors_exit_5() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoginRequired)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        done = run_cli("call", f"http://127.0.0.1:{httpd.server_port}/", "/add", "1", "2")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    assert done.returncode == ExitCode.CLIENT_ERROR == 5
    assert "AuthenticationError" in done.stderr


# -- under a terminal: Ctrl+C and the live display -----------------------------------------------


@only_on(V6)
def test_ctrl_c_cancels_the_job_on_the_server_and_exits_130(server, spawn, tmp_path) -> None:
    ticks = tmp_path / "ticks.txt"
    running = spawn("call", server.url, "/ticks", str(ticks), "300", tty=True)
    running.wait_for(re.compile(r"output 3: "))  # started, and shown live
    running.proc.send_signal(signal.SIGINT)
    assert running.wait(30) == ExitCode.INTERRUPTED == 130
    screen = running.screen()
    assert "cancelled by Ctrl+C: it was stopped on the server" in screen, screen
    assert "interrupted after" in screen
    assert lines_of(ticks) < 300
    assert_stopped_growing(server, ticks)


@only_on(V6)
def test_live_display_shows_progress_bars_and_the_result(server, spawn) -> None:
    running = spawn("call", server.url, "/slow", "12", tty=True)
    running.wait_for(re.compile(r"looping ━+.* [4-9]/12 steps"))
    middle = running.screen()
    assert running.wait(30) == 0
    assert "\x1b[" in running.raw  # drawn, not printed line by line
    assert re.search(r"│ \S running \d+\.\d s", middle), middle
    bar = re.search(r"looping (━+╺?━*) (\d+)/12 steps", middle)
    assert bar and len(bar.group(1)) == 30, middle
    final = running.screen()
    assert "✔ completed in" in final and final.splitlines()[-1] == "done 12", final
    assert "╭─ /slow  job " in final


@only_on(V6)
def test_live_display_streams_outputs_and_logs(server, spawn) -> None:
    running = spawn("call", server.url, "/count", "12", tty=True)
    running.wait_for("output 3: ")
    assert running.wait(30) == 0
    shown = [int(n) for n in re.findall(r"output (\d+): ", running.text)]  # one number per frame
    assert shown == sorted(shown) and len(set(shown)) >= 3 and shown[-1] == 12, shown
    final = running.screen()
    panel, _, result = final.rpartition("╯\n")
    assert "output 12: " in panel and "tok11" in panel
    assert json.loads(result)[0] == "".join(f"tok{i} " for i in range(12))  # the result, in full

    running = spawn("call", server.url, "/notify", "hey", tty=True)
    assert running.wait(30) == 0
    final = running.screen()
    assert "info: an info message" in final and "warning: a warning message" in final
    assert final.splitlines()[-1] == "HEY"


@only_on(V6)
def test_live_display_shows_queue_position_and_eta(server, spawn) -> None:
    with Client(server.url, verbose=False) as client:
        client.predict(10, api_name="/count")  # the server has timed a run: it can estimate the wait
        blocker = client.submit(300, api_name="/count")  # one at a time (gradio's default): the next one waits
        wait_for_event(blocker, ev.Started)
        running = spawn("call", server.url, "/count", "2", tty=True)
        running.wait_for(re.compile(r"queued: position 1 of 1 · ETA (\d+\.\d s|any moment now)"))
        queued = running.screen()
        # the ETA counts down between the server's estimates
        wait_until(lambda: len(set(re.findall(r"· ETA (\d+\.\d s|any moment now)", running.text))) >= 2, 15)
        blocker.cancel()
        assert running.wait(30) == 0
    assert re.search(r"│ \S queued: position 1 of 1 · ETA", queued), queued
    final = running.screen()
    assert re.search(r"completed in \d+\.\d s, \d+\.\d s of it in the queue", final), final
    assert json.loads(final.rpartition("╯\n")[2])[0] == "tok0 tok1 "


# -- the demo ------------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


DEMO_TEST = "test_demo_runs_the_tour_and_stops_its_app"


@pytest.fixture(scope="module", autouse=True)
def demo_runs(request):
    """The demo, twice at once: plain text on pipes and live on a terminal. When the demo test is
    selected, both start with the module (after the server pool, so as not to slow its start-up),
    and run while the other tests do."""
    if not any(item.name == DEMO_TEST for item in request.session.items):
        yield None
        return
    if any("server" in getattr(item, "fixturenames", ()) for item in request.session.items):
        pool = request.getfixturevalue("servers")
        if any(venv_exists(v) for v in pool.versions):
            pool.get(next(v for v in pool.versions if venv_exists(v)))
    runs = [Running(["demo"], tty=False), Running(["demo"], tty=True)]
    try:
        yield runs
    finally:
        for running in runs:
            running.stop()


def test_demo_runs_the_tour_and_stops_its_app(demo_runs) -> None:
    plain, live = demo_runs
    assert plain.wait(120) == 0, plain.text + plain.stderr
    assert live.wait(120) == 0, live.screen()
    out = plain.text
    assert "\x1b" not in out
    for n, title in enumerate(
        ["the app's endpoints", "a call: the calculator", "a generator streams its outputs",
         "progress bars and logs", "a one-worker queue", "cancelling a running job"], 1,
    ):
        assert f"== {n}/6 {title}" in out
        assert f"== {n}/6 {title}" in live.screen()
    assert "result: 7" in out
    assert 'output 5: "one two three four five"' in out
    assert "progress: training 3/5 epochs" in out and "log [info]: warming up the model" in out
    assert re.search(r"\[job \d\] queued: position 2 of 2, ETA \d+\.\d s", out), out
    assert "cancelled: it was stopped on the server" in out
    screen = live.screen()
    assert "✔ completed in" in screen and "it was stopped on the server" in screen
    assert "info: warming up the model" in screen
    pids = []
    for text in (out, screen):
        started = re.search(r"demo app: pid (\d+), http://127\.0\.0\.1:\d+/", text)
        stopped = re.search(r"demo app stopped \(pid (\d+)\)", text)
        assert started and stopped and started.group(1) == stopped.group(1), text
        pids.append(int(started.group(1)))
    tour = [float(t) for t in re.findall(r"tour done in (\d+\.\d) s", out + screen)]
    assert len(tour) == 2 and max(tour) < 45
    for pid in pids:
        assert _gone(pid), f"the demo app (pid {pid}) is still running"


def test_demo_without_gradio_says_how_to_install_it() -> None:
    code = "import sys; sys.modules['gradio'] = None; from gradio_jobs.cli import main; sys.exit(main(['demo']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=cli_env())
    assert done.returncode == 1
    assert "pip install gradio" in done.stderr


def test_demo_app_that_cannot_start_shows_its_stderr(monkeypatch, tmp_path) -> None:
    from gradio_jobs.cli import _demo

    broken = tmp_path / "broken_app.py"
    broken.write_text("import sys\nprint('cannot start: no GPU here', file=sys.stderr)\nsys.exit(3)\n")
    monkeypatch.setattr(_demo, "APP_FILE", broken)
    app = _demo.DemoApp(startup_timeout=30)
    with pytest.raises(_demo.DemoError, match=r"exited with code 3(.|\n)*cannot start: no GPU here"):
        app.start()
    assert app.proc is None

    hanging = tmp_path / "hanging_app.py"
    hanging.write_text("import sys, time\nprint('still loading', file=sys.stderr, flush=True)\ntime.sleep(60)\n")
    monkeypatch.setattr(_demo, "APP_FILE", hanging)
    app = _demo.DemoApp(startup_timeout=1.5)
    with pytest.raises(_demo.DemoError, match=r"did not answer(.|\n)*still loading") as caught:
        app.start()
    assert app.proc is None
    assert "within 1.5 s" in str(caught.value)
