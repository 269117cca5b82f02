"""Fixtures shared by the documentation tests.

``built_site``  the documentation site, built once per session with ``mkdocs build --strict``
                (mkdocs.yml at the repository's root) into a temporary folder; its path. A
                build with any warning (a broken link or anchor, a docstring mkdocstrings
                cannot render) fails the tests that use it, showing mkdocs' output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import REPO_ROOT

#: mkdocs builds the site in well under a minute; more means something hangs.
BUILD_TIMEOUT = 300.0


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site strictly, once, and return the folder holding it (its ``index.html``)."""
    site = tmp_path_factory.mktemp("site")
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(REPO_ROOT / "mkdocs.yml"),
        "--site-dir",
        str(site),
    ]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    if done.returncode != 0 or not (site / "index.html").is_file():
        pytest.fail(
            f"mkdocs build --strict failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False
        )
    return site
