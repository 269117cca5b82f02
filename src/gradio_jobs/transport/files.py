"""Uploading file inputs and downloading file outputs (protocol.md §5)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["DEFAULT_DOWNLOAD_DIR"]

#: Where file outputs go unless ``download_files`` says otherwise (as in ``gradio_client``).
DEFAULT_DOWNLOAD_DIR = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
