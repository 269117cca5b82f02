"""The compatibility matrix of the docs is the generated one (scripts/compat_matrix.py, ``./dev matrix``).

The script writes the table between the page's markers; these tests check that it writes into
every target that has them (and refuses when none has), and that the site's page holds a
complete matrix: every column the script knows, one row per server generation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripts.compat_matrix import COLUMNS, END, START, has_markers, main, render

from tests.servers import ALL_VERSIONS, REPO_ROOT

PAGE = REPO_ROOT / "docs" / "generations.md"
RESULTS = {
    "6.31.0": {"protocol": {"result": "passed", "text": "sse_v3"}},
    "3.50.2": {"protocol": {"result": "passed", "text": "ws"}, "files": {"result": "failed", "text": "fails"}},
}


def _results(tmp_path: Path) -> Path:
    path = tmp_path / "compat.json"
    path.write_text(json.dumps(RESULTS))
    return path


def test_matrix_goes_into_every_target_with_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "generations.md"
    page.write_text(f"# Generations\n\n{START}\nold table\n{END}\n\nThe columns: ...\n")
    readme = tmp_path / "README.md"
    readme.write_text("# gradio-jobs\n\nSee the site for the matrix.\n")
    assert main([str(_results(tmp_path)), str(page), str(readme)]) == 0
    table = render(RESULTS)
    assert page.read_text() == f"# Generations\n\n{START}\n{table}\n{END}\n\nThe columns: ...\n"
    assert readme.read_text() == "# gradio-jobs\n\nSee the site for the matrix.\n"  # no markers: untouched
    assert str(page) in capsys.readouterr().out


def test_matrix_needs_a_target_with_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"no markers here, only an end one {END} and a start after it {START}\n")
    assert not has_markers(readme.read_text())
    with pytest.raises(SystemExit, match="compat-matrix:start"):
        main([str(_results(tmp_path)), str(readme)])


def test_generations_page_holds_the_whole_matrix() -> None:
    text = PAGE.read_text()
    assert has_markers(text), f"{PAGE} lost its {START} ... {END} markers"
    table = text.split(START, 1)[1].split(END, 1)[0].strip().splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header[0] == "gradio" and header[1 : len(COLUMNS) + 1] == COLUMNS
    versions = [row.strip("|").split("|")[0].strip() for row in table[2:]]
    assert sorted(versions) == sorted(ALL_VERSIONS)
    assert all(row.count("|") == table[0].count("|") for row in table[2:])
