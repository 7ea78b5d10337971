"""The contract suite's stores: `store` is a fresh, loaded store of each kind, `reopen` opens another
instance over the same storage (a restart: close the first one before).

"embedded" is ops/history/embedded.py over a file in tmp_path. "postgresql" is built by
tests/contract/pg_store_factory.py: one throwaway cluster per session, a fresh database per test. A
missing PostgreSQL server fails (make setup-test installs it), it is never skipped; run the embedded
half alone with `-k embedded`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from ops.history.embedded import EmbeddedStore
from ops.history.protocol import HistoryStore

RETENTION = timedelta(days=7)
Opener = Callable[[], HistoryStore]


@pytest.fixture(scope="session")
def pg_cluster():
    from tests.contract.pg_store_factory import running_cluster

    with running_cluster() as cluster:
        yield cluster


def _embedded(tmp_path) -> Opener:
    path = tmp_path / "history.jsonl"

    def open_store() -> HistoryStore:
        store = EmbeddedStore(path, RETENTION)
        store.load()
        return store

    return open_store


def _postgresql(request, tmp_path) -> Opener:
    from tests.contract.pg_store_factory import make_store

    first = make_store(tmp_path, request.getfixturevalue("pg_cluster"))
    opened = []

    def open_store() -> HistoryStore:
        if not opened:
            opened.append(first)
            return first
        store = type(first)(first.url, first.raw_retention, first.retention)  # the same database again
        store.load()
        return store

    return open_store


@pytest.fixture(params=["embedded", "postgresql"])
def opener(request, tmp_path) -> Iterator[Opener]:
    """Opens a loaded store over this test's storage; every store opened is closed at the end."""
    make = _embedded(tmp_path) if request.param == "embedded" else _postgresql(request, tmp_path)
    opened: list[HistoryStore] = []

    def open_store() -> HistoryStore:
        opened.append(make())
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> HistoryStore:
    """A fresh, loaded, empty store."""
    return opener()


@pytest.fixture
def reopen(opener: Opener) -> Opener:
    """Another instance over the same storage as `store` (close that one first)."""
    return opener
