"""The command line's exit codes, in one place, and which error leads to which."""

from __future__ import annotations

from enum import IntEnum

from .._exceptions import (
    AppError,
    ArgumentError,
    ConnectionLostError,
    EndpointNotFoundError,
    InputFileError,
    JobTimeoutError,
    ReplicaMismatchError,
    ServerUnreachableError,
    ValidationError,
)

__all__ = ["EXIT_CODE_HELP", "ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    OK = 0
    APP_ERROR = 1
    USAGE = 2
    TIMEOUT = 3
    CONNECTION = 4
    CLIENT_ERROR = 5
    INTERRUPTED = 130


EXIT_CODE_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.APP_ERROR: (
        "the app's function failed (gr.Error or another exception), or its validator rejected the inputs"
    ),
    ExitCode.USAGE: "bad command line: unknown endpoint, wrong arguments, missing input file",
    ExitCode.TIMEOUT: "--timeout ran out (the job was cancelled on the server)",
    ExitCode.CONNECTION: "the server could not be reached, or the connection was lost during the job",
    ExitCode.CLIENT_ERROR: "any other client error (login refused, queue full, not a Gradio app, ...)",
    ExitCode.INTERRUPTED: "interrupted by Ctrl+C (the job was cancelled on the server)",
}


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for an error raised by gradio-jobs (or by the job)."""
    if isinstance(error, (AppError, ValidationError)):
        return ExitCode.APP_ERROR
    if isinstance(error, (ArgumentError, EndpointNotFoundError, InputFileError, ReplicaMismatchError)):
        # (ReplicaMismatchError: the SRCs given are not copies of one app.)
        return ExitCode.USAGE
    if isinstance(error, JobTimeoutError):
        return ExitCode.TIMEOUT
    if isinstance(error, (ConnectionLostError, ServerUnreachableError)):
        return ExitCode.CONNECTION
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.CLIENT_ERROR
