"""Running the official client, gradio_client 2.7.2, beside gradio-jobs in the drop-in tests.

It is installed in the gradio 6.31.0 server venv. ``run_official(script, *args)`` runs a
script there (``sys.argv[1:]`` are ``args``) and returns the last line it printed, as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from servers import missing_venv_reason, venv_exists, venv_python

OFFICIAL_VERSION = "6.31.0"  # the server venv whose gradio_client is 2.7.2

# The official client's threads can crash the interpreter as it exits (SIGSEGV seen in CI),
# after the answer is out: each script leaves at once.
_LEAVE_AT_ONCE = """
import os as _os, sys as _sys
_sys.stdout.flush()
_os._exit(0)
"""


def run_official(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Any:
    """Run ``script`` with gradio_client 2.7.2 (``args`` as its ``sys.argv[1:]``, ``env`` added
    to the environment); the JSON of the last line it printed. Skips where the venv is missing."""
    if not venv_exists(OFFICIAL_VERSION):
        pytest.skip(missing_venv_reason(OFFICIAL_VERSION))
    full_env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_DISABLE_TELEMETRY="1", **(env or {}))
    for key in ("NO_PROXY", "no_proxy"):
        full_env[key] = ",".join([h for h in full_env.get(key, "").split(",") if h] + ["127.0.0.1", "localhost"])
    done = subprocess.run(
        [str(venv_python(OFFICIAL_VERSION)), "-c", script + _LEAVE_AT_ONCE, *args],
        capture_output=True, text=True, timeout=timeout, env=full_env,
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, f"the official client failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
    return json.loads(lines[-1])
