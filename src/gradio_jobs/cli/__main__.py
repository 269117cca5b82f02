"""``python -m gradio_jobs.cli``: the ``gradio-jobs`` command."""

import sys

from . import main

sys.exit(main())
