"""Fixtures: loopback servers that close themselves, and a guard on the checkout's data/."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.support import LoopbackHTTP, LoopbackTCP

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT_DATA = ROOT / "data"  # an operator's real history, recovery log and maintenance windows


def data_listing(root: Path) -> dict[str, tuple[int, int] | int]:
    """Every file under `root` with (size, mtime_ns), every folder with its mtime_ns (a file created
    and removed again still changes its folder's)."""
    listing: dict[str, tuple[int, int] | int] = {}
    for path in [root, *sorted(root.rglob("*"))] if root.exists() else []:
        try:
            stat = path.lstat()
        except FileNotFoundError:
            continue
        name = str(path.relative_to(root.parent))
        listing[name] = stat.st_mtime_ns if path.is_dir() else (stat.st_size, stat.st_mtime_ns)
    return listing


def listing_changes(before: dict, after: dict) -> list[str]:
    """What differs between two listings, one line per path."""
    lines = [f"created  {name}" for name in sorted(after.keys() - before.keys())]
    lines += [f"removed  {name}" for name in sorted(before.keys() - after.keys())]
    lines += [f"modified {name}" for name in sorted(before.keys() & after.keys()) if before[name] != after[name]]
    return lines


def data_guard_message(changes: list[str], where: str) -> str:
    return (
        f"{where} touched the checkout's data/ (an operator's real history and recovery state):\n  "
        + "\n  ".join(changes)
        + "\nGive the app a tmp dir (--data-dir, data_dir=tmp_path, or cwd=tmp_path). "
        "If a dashboard was running from this checkout meanwhile (make demo / make run), that did it."
    )


@pytest.fixture(scope="session")
def checkout_data_baseline():
    """data/'s listing before the first test; the session fails if it differs after the last one."""
    baseline = {"listing": data_listing(CHECKOUT_DATA)}
    yield baseline
    changes = listing_changes(baseline["listing"], data_listing(CHECKOUT_DATA))
    if changes:
        pytest.fail(data_guard_message(changes, "The test session (after its last test)"), pytrace=False)


@pytest.fixture(autouse=True)
def checkout_data_untouched(request, checkout_data_baseline):
    """Fail the test that changed data/, naming the files; later tests compare with the new state."""
    yield
    after = data_listing(CHECKOUT_DATA)
    changes = listing_changes(checkout_data_baseline["listing"], after)
    checkout_data_baseline["listing"] = after
    if changes:
        pytest.fail(data_guard_message(changes, request.node.nodeid), pytrace=False)


_subprocess_dirs = itertools.count()


@pytest.fixture(scope="session")
def subprocess_data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("subprocess-data")


@pytest.fixture(autouse=True)
def subprocess_data_dir(monkeypatch, subprocess_data_root) -> Path:
    """A dashboard a test starts without --data-dir lands here, not in data/ (DASHBOARD_DATA_DIR,
    inherited by subprocesses). Created only when something writes there."""
    path = subprocess_data_root / f"t{next(_subprocess_dirs)}"
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(path))
    return path


@pytest.fixture
def http_server():
    server = LoopbackHTTP()
    yield server
    server.close()


@pytest.fixture
def http_server_factory():
    servers = []

    def make() -> LoopbackHTTP:
        servers.append(LoopbackHTTP())
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def tcp_server():
    server = LoopbackTCP()
    yield server
    server.close()
