"""The layers of design.md, checked on the source: imports point downwards, no cycle at run time.

Imports under ``if TYPE_CHECKING:`` do not run and are left out; imports inside functions do
run, and count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "gradio_jobs"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        base = name.split(".") if is_package else name.split(".")[:-1]
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    root = base[: len(base) - (node.level - 1)]
                    stem = ".".join(root + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [
                    f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem for alias in node.names
                ]
            for target in targets:
                # "gradio_jobs.protocol.events" imports its package's __init__ too
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("gradio_jobs") and target != name:
                    graph[name].add(target)
    return graph


def test_no_import_cycle_at_run_time() -> None:
    graph = _graph()
    # A submodule importing its own package's __init__ is the only way into a package from
    # inside: the package's __init__ importing its submodules is not a cycle of the code.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                walk(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            walk(module)


@pytest.mark.parametrize(
    "layer,allowed",
    [
        ("gradio_jobs.protocol", ("gradio_jobs.protocol", "gradio_jobs._exceptions")),
        (
            "gradio_jobs.transport",
            (
                "gradio_jobs.transport",
                "gradio_jobs.protocol",
                "gradio_jobs._exceptions",
                "gradio_jobs._version",
                "gradio_jobs._limits",
            ),
        ),
    ],
)
def test_lower_layers_import_nothing_above_them(layer: str, allowed: tuple[str, ...]) -> None:
    graph = _graph()
    for module, targets in graph.items():
        if module == layer or module.startswith(layer + "."):
            above = sorted(t for t in targets if not t.startswith(allowed))
            assert above == [], f"{module} imports {above}, above its layer"


def test_import_gradio_jobs_loads_no_http_stack_cli_or_hub_library() -> None:
    """What most programs never use loads only when used: httpx with the first client that
    connects, websockets for a 3.x server, huggingface_hub for a Space id, rich for the CLI;
    ray and numpy never (gradio_jobs.ray works on the batches Ray hands it, imported by Ray)."""
    import subprocess
    import sys

    watched = ("httpx", "rich", "websockets", "huggingface_hub", "ray", "numpy")
    code = f"import sys, gradio_jobs; print(sorted(m for m in {watched!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
