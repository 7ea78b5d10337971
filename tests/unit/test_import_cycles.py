"""Import direction, module by module: no import circles among our modules (function-level imports
count too), so `auth` -> `login` and `api` -> `openapi` each go one way only; and pandas stays inside
the history store (ops/history/): callbacks and the API ask it named queries, never slice a frame."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("config", "ops", "layouts", "callbacks", "dash_app")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_imports(path: Path, known: set[str]) -> set[str]:
    """Our modules that `path` imports anywhere in its body (`from pkg import mod` counts as pkg.mod)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found |= modules
            if len(modules) < len(node.names):  # names defined in node.module itself
                found.add(node.module)
    return {name for name in found if name in known}


def top_level_imports(path: Path) -> set[str]:
    """The top-level package of everything `path` imports anywhere in its body ("pandas", "ops", ...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def pandas_outside_the_store() -> list[str]:
    """Our modules outside ops/history/ that import pandas."""
    store = ROOT / "ops" / "history"
    paths = [p for room in ROOMS for p in (ROOT / room).rglob("*.py") if not p.is_relative_to(store)]
    return sorted(str(p.relative_to(ROOT)) for p in paths if "pandas" in top_level_imports(p))


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for room in ROOMS for p in (ROOT / room).rglob("*.py")}
    known = set(paths)
    return {name: our_imports(path, known) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk (each reported once, from its first module)."""
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_circles_among_our_modules():
    assert cycles(import_graph()) == []


def test_auth_imports_login_and_api_imports_openapi_never_the_reverse():
    graph = import_graph()
    assert "dash_app.login" in graph["dash_app.auth"] and "dash_app.auth" not in graph["dash_app.login"]
    assert "dash_app.openapi" in graph["dash_app.api"] and "dash_app.api" not in graph["dash_app.openapi"]


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_pandas_stays_inside_the_history_store():
    assert pandas_outside_the_store() == []


def test_the_pandas_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "charts.py"
    module.write_text("def chart():\n    from pandas import DataFrame\n    return DataFrame()\n")
    assert "pandas" in top_level_imports(module)
    assert "pandas" not in top_level_imports(ROOT / "callbacks" / "charts.py")
