"""Write the compatibility matrix of the docs (and of the README, while it has one) from the
behavioural suite's last results.

    python scripts/compat_matrix.py [build/compat.json [FILE ...]]

The table goes between the ``<!-- compat-matrix:start -->`` and ``<!-- compat-matrix:end -->``
markers of each FILE that has them: by default ``docs/generations.md`` (the site's page on
server generations) and ``README.md``; at least one must have them.

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


def update_readme(readme: str, table: str, name: str = "the README") -> str:
    """``readme`` (a Markdown text: the README's or a docs page's) with ``table`` between the
    matrix markers instead of what was there; exits naming ``name`` if the markers are missing."""
    if not has_markers(readme):
        raise SystemExit(f"{name} has no {START} ... {END} section")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def has_markers(text: str) -> bool:
    """Whether ``text`` has both matrix markers, the start before the end."""
    return START in text and END in text.split(START, 1)[1]


#: Where the matrix goes by default: every one of these that has the markers.
DEFAULT_TARGETS = [ROOT / "docs" / "generations.md", ROOT / "README.md"]


def main(argv: list[str]) -> int:
    """Rewrite the matrix: ``argv`` is ``[results.json [FILE ...]]``, by default
    ``build/compat.json`` and :data:`DEFAULT_TARGETS`. Each FILE with the markers gets the
    table; exits with a message if none of them has the markers."""
    results_path = Path(argv[0]) if argv else ROOT / "build" / "compat.json"
    targets = [Path(a) for a in argv[1:]] or DEFAULT_TARGETS
    results = json.loads(results_path.read_text())
    table = render(results)
    written = []
    for target in targets:
        if target.is_file() and has_markers(text := target.read_text()):
            target.write_text(update_readme(text, table, str(target)))
            written.append(str(target))
    if not written:
        raise SystemExit(f"none of {', '.join(map(str, targets))} has a {START} ... {END} section")
    print(f"wrote the matrix of {len(results)} server versions into {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
