"""``gradio-jobs call``: run one job with a live display, print its result, exit with its code.

``run_jobs`` (also used by the demo's tour) submits jobs, follows each one's events on a
thread of its own into the display, and turns how each ended into a :class:`JobOutcome`.
Ctrl+C cancels the jobs on the server before the command gives up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rich.console import Console

from .._client import Client
from .._exceptions import GradioJobsError, JobTimeoutError
from .._job import Job
from .._limits import DEFAULT_DOWNLOAD_DIR
from ..protocol import events as ev
from ._args import UsageError, parse_auth, parse_kw, parse_value
from ._display import (
    Display,
    JobView,
    LiveDisplay,
    NullDisplay,
    PlainDisplay,
    describe_cancel_outcome,
)
from ._exit import ExitCode, exit_code_for

__all__ = ["JobOutcome", "JobSpec", "connecting", "follow", "make_client", "print_error", "run", "run_jobs"]

#: What :func:`connecting` connects: a client, or a pool.
C = TypeVar("C")

logger = logging.getLogger("gradio_jobs")

#: How long to wait, after a cancel, for the server's answer about what it did.
CANCEL_WAIT = 5.0


@dataclass
class JobSpec:
    api_name: str
    args: Sequence[Any] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    tag: str | None = None
    timeout: float | None = None
    #: Called on the job's follower thread after each event (the demo cancels from here).
    on_event: Callable[[Job, ev.JobEvent], None] | None = None


@dataclass
class JobOutcome:
    code: ExitCode
    value: Any = None
    error: BaseException | None = None
    #: After a cancel (Ctrl+C, timeout, or asked for): what the server did, in words.
    cancel_note: str | None = None


def follow(job: Job) -> Iterator[ev.JobEvent]:
    """The job's events from the first one, then live, until it completed, failed or was cancelled."""
    for event in job.events():
        yield event
        if isinstance(event, ev.TERMINAL_EVENTS):
            return


def make_client(args: argparse.Namespace, **options: Any) -> Client:
    return Client(
        args.src,
        hf_token=args.hf_token,
        auth=parse_auth(args.auth),
        verbose=False,
        **options,
    )


def connect(args: argparse.Namespace, err: Console, **options: Any) -> Client | int:
    """The client for ``args.src``, or the exit code after saying on ``err`` why there is none."""
    return connecting(err, lambda: make_client(args, **options))


def connecting(err: Console, make: Callable[[], C]) -> C | int:
    """What ``make`` connects (a client, a pool), or the exit code after saying on ``err`` why not."""
    try:
        return make()
    except UsageError as exc:
        print_error(err, str(exc))
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print_error(err, "interrupted while connecting")
        return ExitCode.INTERRUPTED
    except GradioJobsError as exc:
        print_error(err, exc)
        return exit_code_for(exc)


def print_error(console: Console, error: BaseException | str) -> None:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    console.print(f"error: {text}", style="bold red", markup=False, highlight=False, soft_wrap=True)


# -- running jobs -------------------------------------------------------------------------------


def run_jobs(client: Client, specs: Sequence[JobSpec], display: Display) -> list[JobOutcome]:
    """Run the jobs at once, showing them on ``display``; wait for all of them.

    Bad arguments raise before anything is shown (``ArgumentError``, ``EndpointNotFoundError``,
    ``InputFileError``). Ctrl+C cancels every job on the server, marks the outcomes
    ``INTERRUPTED`` and returns (a second Ctrl+C gives up waiting for the server's answer).
    """
    jobs: list[Job] = []
    try:
        for spec in specs:
            jobs.append(client.submit(*spec.args, api_name=spec.api_name, deadline=spec.timeout, **spec.kwargs))
    except BaseException:
        for job in jobs:
            job.cancel()
        raise
    views = [JobView(spec.title or spec.api_name, spec.tag) for spec in specs]
    interrupted = False
    with display.showing(views):
        followers = [
            threading.Thread(target=_follow_into, args=(job, view, spec, display), daemon=True, name="gradio-jobs-cli")
            for job, view, spec in zip(jobs, views, specs, strict=True)
        ]
        for thread in followers:
            thread.start()
        try:
            for thread in followers:
                thread.join()
        except KeyboardInterrupt:
            interrupted = True
            for job in jobs:
                job.cancel()
        try:
            for thread in followers:
                thread.join(CANCEL_WAIT)
            outcomes = [_outcome(job, view, interrupted) for job, view in zip(jobs, views, strict=True)]
        except KeyboardInterrupt:
            interrupted = True
            outcomes = [JobOutcome(ExitCode.INTERRUPTED, cancel_note=describe_cancel_outcome(None)) for _ in jobs]
        for view in views:
            display.ended(view)
    return outcomes


def _follow_into(job: Job, view: JobView, spec: JobSpec, display: Display) -> None:
    try:
        for event in follow(job):
            view.apply(event)
            display.event(view, event)
            if spec.on_event is not None:
                spec.on_event(job, event)
    except Exception:  # a bug here must not look like Ctrl+C: say so, and let the job end
        logger.exception("gradio-jobs: showing the job %s failed", job.job_id)
        with contextlib.suppress(BaseException):
            job.exception()  # wait for the end regardless (interruptible from the main thread)


def _outcome(job: Job, view: JobView, interrupted: bool) -> JobOutcome:
    """How the job ended; after a cancel, waits (a little) for what the server did about it."""
    if job.cancelled() or (interrupted and not job.done()):
        job.wait_settled(CANCEL_WAIT)
        note = describe_cancel_outcome(job.cancel_outcome)
        if interrupted:
            view.end("interrupted", f"cancelled by Ctrl+C: {note}")
            return JobOutcome(ExitCode.INTERRUPTED, cancel_note=note)
        view.end("cancelled", note)
        cancelled = CancelledError(f"the job was cancelled: {note}")
        return JobOutcome(ExitCode.CLIENT_ERROR, error=cancelled, cancel_note=note)
    if not job.done():  # defensive: its follower always waits for the end
        return JobOutcome(ExitCode.CLIENT_ERROR, error=RuntimeError("the job had not ended"))
    error = job.exception()
    if error is None:
        return JobOutcome(ExitCode.OK, value=job.result())
    if isinstance(error, JobTimeoutError):
        job.wait_settled(CANCEL_WAIT)
        note = describe_cancel_outcome(job.cancel_outcome)
        view.end("timed out", note)
        return JobOutcome(ExitCode.TIMEOUT, error=error, cancel_note=note)
    return JobOutcome(exit_code_for(error), error=error)


# -- the command ----------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def result_text(value: Any) -> str:
    """The result as the command prints it: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, default=str)


def choose_display(json_output: bool, quiet: bool, out: Console, err: Console) -> Display:
    if quiet:
        return NullDisplay()
    if json_output:  # stdout holds the JSON only: the view goes to a terminal on stderr, or nowhere
        return LiveDisplay(err) if err.is_terminal else NullDisplay()
    return LiveDisplay(out) if out.is_terminal else PlainDisplay(sys.stdout)


def run(args: argparse.Namespace) -> int:
    out = Console()
    err = Console(stderr=True)
    try:
        positional = [parse_value(a) for a in args.args]
        kwargs = parse_kw(args.kw)
        parse_auth(args.auth)
    except UsageError as exc:
        print_error(err, str(exc))
        return ExitCode.USAGE
    except GradioJobsError as exc:  # @path of a file that does not exist
        print_error(err, exc)
        return exit_code_for(exc)
    display = choose_display(args.json, args.quiet, out, err)
    download = args.download_dir if args.download_dir is not None else DEFAULT_DOWNLOAD_DIR
    client = connect(args, err, download_files=download)
    if not isinstance(client, Client):
        return client
    try:
        spec = JobSpec(args.api_name, positional, kwargs, timeout=args.timeout)
        try:
            (outcome,) = run_jobs(client, [spec], display)
        except GradioJobsError as exc:  # refused before it was sent: endpoint, arguments, files
            print_error(err, exc)
            return exit_code_for(exc)
    finally:
        client.close()
    return report(outcome, args.json, out, err)


def report(outcome: JobOutcome, json_output: bool, out: Console, err: Console) -> int:
    if outcome.code is ExitCode.OK:
        if json_output:
            sys.stdout.write(to_json(outcome.value) + "\n")
        else:
            out.print(result_text(outcome.value), markup=False, highlight=False, soft_wrap=True)
        sys.stdout.flush()
    elif outcome.code is ExitCode.INTERRUPTED:
        err.print(
            f"cancelled by Ctrl+C: {outcome.cancel_note or describe_cancel_outcome(None)}",
            style="yellow", markup=False, highlight=False, soft_wrap=True,
        )
    elif outcome.code is ExitCode.TIMEOUT:
        print_error(err, f"timeout: {outcome.error}; {outcome.cancel_note}")
    elif outcome.error is not None:
        print_error(err, outcome.error)
    return int(outcome.code)
