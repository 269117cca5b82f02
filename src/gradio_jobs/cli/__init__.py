"""The ``gradio-jobs`` command line: ``info``, ``call``, ``map`` and ``demo``.

    gradio-jobs info http://127.0.0.1:7860/
    gradio-jobs call http://127.0.0.1:7860/ /add 3 4
    gradio-jobs map http://127.0.0.1:7860/ /add --input in.jsonl --output out.jsonl
    gradio-jobs demo

``gradio-jobs call --help`` lists the exit codes (see ``_exit.ExitCode``).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from ._exit import ExitCode

__all__ = ["ExitCode", "main"]


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: open jobs are cancelled, the demo app is stopped


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    from ._args import parse_argv

    args = parse_argv(sys.argv[1:] if argv is None else argv)  # exits 2 on a bad command line
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        # Ctrl+C already raises KeyboardInterrupt; make a SIGTERM unwind the same way, so that
        # the job is cancelled on the server and the demo app is stopped.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if args.command == "info":
            from . import _info

            return _info.run(args)
        if args.command == "call":
            from . import _call

            return _call.run(args)
        if args.command == "map":
            from . import _map

            return _map.run(args)
        from . import _demo

        return _demo.run(args)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
