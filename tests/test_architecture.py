"""The layout the package promises: ARCHITECTURE.md's module map is the package, no
import cycles, no module over about 800 lines, and a root and a command-line parser that
import no numerical library (``benchmarks/bench_cli.py`` measures the start-up time)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "bayes_ccd"
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    """``bayes_ccd.x.y`` -> file, for every module and package of the source tree."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``path`` imports anywhere (top level, inside
    functions or under TYPE_CHECKING: a cycle is a cycle of the design)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bayes_ccd"):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bayes_ccd")}
    return {m for m in found if m in modules}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_is_over_800_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_architecture_map_lists_exactly_the_modules(repo) -> None:
    text = (repo / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([\w/]+\.py)`", table))
    actual = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    packages = {name for name in actual if name.endswith("/__init__.py")}
    # a sub-package's __init__ holds its docstring only; the map lists its modules
    assert listed - actual == set(), "listed but absent"
    assert actual - packages - {"cli/__init__.py"} - listed == set(), "present but not listed"


def test_subpackage_inits_export_nothing() -> None:
    """The root is the one public API: sub-package ``__init__`` files hold docstrings, so
    that ``bayes_ccd.<package>.<module>`` paths stay unambiguous."""
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent in (PACKAGE, PACKAGE / "cli"):
            continue
        tree = ast.parse(init.read_text(encoding="utf-8"))
        code = [n for n in tree.body if not isinstance(n, (ast.Expr, ast.ImportFrom))]
        imports = [
            n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module != "__future__"
        ]
        assert not code and not imports, init


@pytest.mark.parametrize("module", ["bayes_ccd", "bayes_ccd.cli"])
def test_importing_the_root_and_the_parser_loads_no_heavy_library(module) -> None:
    code = (
        f"import sys, {module}; "
        + ("bayes_ccd.cli.build_parser(); " if module.endswith("cli") else "")
        + "heavy = [m for m in ('numpy', 'pandas', 'matplotlib', 'esda', 'libpysal', 'pymc', "
        "'xarray', 'scipy') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
