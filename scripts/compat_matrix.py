"""Write the README's compatibility matrix from the behavioural suite's last results.

    python scripts/compat_matrix.py [build/compat.json] [README.md]

The results come from ``tests/integration/test_generations.py`` and
``tests/integration/test_stream_inputs.py`` (``./dev matrix`` runs them and then this
script): each cell is what a test found on that server version.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- compat-matrix:start -->"
END = "<!-- compat-matrix:end -->"
COLUMNS = [
    "protocol", "calculator", "fn_index only", "app without queue", "generators", "gr.Progress", "logs", "gr.Error",
    "queue rank/ETA", "gr.State", "files", "direct (queue=False)", "cancel queued", "cancel running",
    "streaming inputs",
]


# One cell: {"result": "passed" | "failed" | "skipped", "text": what the test found}.
_Cell = dict[str, Any]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _cell(cell: _Cell | None) -> str:
    if cell is None:
        return "not run"
    if cell["result"] == "failed":
        return "**fails**"
    if cell["result"] == "skipped":
        return f"n/a ({cell['text']})"
    return "yes" if cell["text"] == "yes" else cell["text"]


def render(results: dict[str, dict[str, _Cell]]) -> str:
    """The matrix as a Markdown table, newest server version first.

    ``results`` maps a server version (``"6.31.0"``) to its cells by column name; the
    columns are :data:`COLUMNS` in that order, then any other column the results have,
    sorted. A missing cell reads "not run".
    """
    columns = COLUMNS + sorted({f for cells in results.values() for f in cells} - set(COLUMNS))
    lines = [
        "| gradio | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for version in sorted(results, key=_version_key, reverse=True):
        cells = results[version]
        lines.append(f"| {version} | " + " | ".join(_cell(cells.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def update_readme(readme: str, table: str) -> str:
    """``readme`` (the README's text) with ``table`` between the matrix markers instead of
    what was there; exits with a message if the markers are missing."""
    if START not in readme or END not in readme:
        raise SystemExit(f"the README has no {START} ... {END} section")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the README's matrix: ``argv`` is ``[results.json [README.md]]``, by default
    ``build/compat.json`` and the repository's ``README.md``."""
    results_path = Path(argv[0]) if argv else ROOT / "build" / "compat.json"
    readme_path = Path(argv[1]) if len(argv) > 1 else ROOT / "README.md"
    results = json.loads(results_path.read_text())
    readme_path.write_text(update_readme(readme_path.read_text(), render(results)))
    print(f"wrote the matrix of {len(results)} server versions into {readme_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
