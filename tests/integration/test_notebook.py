"""``job.watch()``, a job's notebook repr and ``map(progress=True)`` in a real Jupyter kernel.

``tests/notebooks/progress.ipynb`` is executed by ``nbclient`` on the ``python3`` kernel
(jupyter_client starts it with this very interpreter, which the notebook prints) against the
bundled demo app, whose URL replaces the notebook's ``parameters`` cell. The outputs are then
read as Jupyter saved them: each live view is one ``text/html`` display whose content was
replaced in place (``update_display_data``) by its final state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from servers import serving

from tests.integration.test_watch import DEMO_APP, demo_version

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "progress.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The notebook run against the demo app: its cells by tag."""
    with serving(demo_version(), str(DEMO_APP)) as server:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        (parameters,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        parameters.source = f"URL = {server.url!r}"
        client = NotebookClient(
            nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}}
        )
        client.execute()
    cells = {tag: cell for cell in nb.cells for tag in cell.metadata.get("tags", [])}
    cells["all"] = nb.cells
    yield cells


def _html(cell: Any, output_type: str) -> list[str]:
    return [
        o["data"]["text/html"] for o in cell.outputs if o["output_type"] == output_type and "text/html" in o["data"]
    ]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&quot;", '"').strip()


def test_the_kernel_is_this_interpreter(executed) -> None:
    import sys

    (printed,) = [c for c in executed["all"] if c.source.startswith("import sys")]
    assert printed.outputs[0]["text"].strip() == sys.executable


def test_watch_renders_one_html_view_updated_to_its_final_state(executed) -> None:
    cell = executed["watch"]
    (view,) = _html(cell, "display_data")  # one output, updated in place: not one per event
    text = _text(view)
    assert re.search(r"status completed in \d+\.\d s", text), text
    assert "job /progress" in text
    assert "log info : warming up the model" in text and "log info : training finished" in text
    assert 'result "trained for 3 epochs"' in text
    assert "<table" in view and "ipywidgets" not in str(cell.outputs)
    # the cell's value: watch() returned the result
    (value,) = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    assert value["data"]["text/plain"] == "'trained for 3 epochs'"


def test_a_job_at_the_end_of_a_cell_shows_its_state_as_html(executed) -> None:
    (value,) = [o for o in executed["repr"].outputs if o["output_type"] == "execute_result"]
    assert re.fullmatch(r"<Job /progress id=\w+ status=FINISHED>", value["data"]["text/plain"])
    text = _text(value["data"]["text/html"])
    assert re.search(r"job /progress( job \w{8})? status completed in \d+\.\d s", text), text  # 4.8: no job id
    assert 'result "trained for 3 epochs"' in text


def test_map_progress_renders_a_bar_with_done_failed_and_rate(executed) -> None:
    cell = executed["map"]
    (bar,) = _html(cell, "display_data")
    assert not [o for o in cell.outputs if o["output_type"] == "stream"]  # HTML, not lines on stderr
    assert '<progress style="width:12em" max="1000" value="1000">' in bar
    assert re.search(r"3/3 done, 1 failed, 0 running, \d+\.\d/(s|min), took \d+\.\d s", _text(bar)), bar
    (value,) = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    assert value["data"]["text/plain"] == "[3, 7, 'AppError']"


def test_async_watch_renders_in_the_notebook_too(executed) -> None:
    cell = executed["async-watch"]
    (view,) = _html(cell, "display_data")
    assert re.search(r"status completed in \d+\.\d s", _text(view)), view
    (value,) = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    assert value["data"]["text/plain"] == "'trained for 2 epochs'"


def test_a_failed_job_shows_its_error(executed) -> None:
    cell = executed["failed"]
    (view,) = _html(cell, "display_data")
    assert re.search(r"status failed after \d+\.\d s", _text(view)), view
    assert "error AppError: " in _text(view)
    assert any(o.get("text", "").strip() == "AppError" for o in cell.outputs if o["output_type"] == "stream")
    (value,) = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    assert "error AppError: " in _text(value["data"]["text/html"])
