"""`make demo` on a fresh clone says what it is doing while pip runs (dry run: `make -n`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str, tmp_path: Path) -> list[str]:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    venv = tmp_path / "fresh-venv"  # never created: -n only prints the recipe
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARGS")}
    argv = ["make", "-n", target, f"VENV={venv}"]  # under `make test ARGS=...` nothing of that leaks in
    run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=True)
    return run.stdout.splitlines()


def test_first_demo_announces_the_setup_and_shows_pips_progress(tmp_path):
    lines = dry_run("demo", tmp_path)
    announce = next(i for i, line in enumerate(lines) if "Setting up" in line)
    install = next(i for i, line in enumerate(lines) if "pip install" in line and "-r requirements.txt" in line)
    assert announce < install and "1-2 min" in lines[announce]
    assert "--quiet" not in lines[install] and "-q " not in lines[install]
    assert "-m dash_app --demo" in lines[-1]


def test_run_uses_the_same_setup(tmp_path):
    assert any("-r requirements.txt" in line for line in dry_run("run", tmp_path))
