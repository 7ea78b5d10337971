"""The README's WebSocket one-liner works against a real app, with only what `make demo` installs."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from importlib import metadata

from tests.integration.processes import ROOT


def readme_command() -> str:
    """The Python code of the README's `.venv/bin/python -c "..."` line that reads the WebSocket."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith(".venv/bin/python -c") and "ws://127.0.0.1:9994/ws" in line:
            return shlex.split(line)[2]
    raise AssertionError("README: no `.venv/bin/python -c` line for ws://127.0.0.1:9994/ws")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions() -> set[str]:
    """requirements.txt and everything its packages require (extras left out): what `make demo` installs."""
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    todo = [line.split("==")[0].strip() for line in pins if line.strip() and not line.startswith("#")]
    seen: set[str] = set()
    while todo:
        name = normalise(todo.pop())
        if name in seen:
            continue
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # excluded by its marker here (pywin32 on Linux): installs nothing
        seen.add(name)
        for requirement in requirements:
            if "extra ==" not in requirement:
                todo.append(re.match(r"[A-Za-z0-9._-]+", requirement)[0])
    return seen


def test_the_websocket_one_liner_needs_only_runtime_requirements():
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(readme_command()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert modules, "the command imports a client library"
    owners = metadata.packages_distributions()
    runtime = runtime_distributions()
    for module in modules:
        dists = {normalise(d) for d in owners.get(module, [])}
        assert dists & runtime, f"{module} ({dists or 'not installed'}) is not installed by requirements.txt"


def test_the_websocket_one_liner_prints_the_first_snapshot(running_app):
    running_app.core.monitor.run_once()
    code = readme_command().replace("ws://127.0.0.1:9994/ws", running_app.ws_url)
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith('{"type":"snapshot"')
