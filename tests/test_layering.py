"""The library (``rag``) never depends on the web layer (``api``), and the command modules do not import
each other in a cycle. Imports inside functions count: they are read from the source, not only observed."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI_MODULES = {"rag.commands", "rag.cli_support", "rag.evaluation.cli", "api.cli"}


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imported(path: Path, name: str) -> set[str]:
    """Every module named by an import statement anywhere in the file (``from a import b`` names ``a`` and ``a.b``)."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    modules = {**_modules("rag"), **_modules("api")}
    return {name: {m for m in _imported(path, name) if m in modules and m != name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_rag_module_imports_the_web_layer_even_inside_a_function() -> None:
    offenders = {
        name: sorted(m for m in imports if m == "api" or m.startswith("api."))
        for name, imports in ((n, _imported(p, n)) for n, p in _modules("rag").items())
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_importing_every_rag_module_loads_neither_api_nor_the_web_framework() -> None:
    script = f"""
import importlib, json, sys
for name in {sorted(_modules("rag"))!r}:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("api", "fastapi", "uvicorn"))))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_command_modules_are_in_no_import_cycle() -> None:
    graph = _graph()
    assert set(graph) >= CLI_MODULES
    assert [component for component in _cycles(graph) if component & CLI_MODULES] == []
    # The evaluation command only uses the shared helpers, not the entry point or the other commands.
    assert graph["rag.evaluation.cli"] & CLI_MODULES == {"rag.cli_support"}
    assert graph["rag.commands"] & CLI_MODULES == {"rag.cli_support"}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
