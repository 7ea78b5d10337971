"""The PostgreSQL store for the contract suite: one throwaway cluster per session, a fresh database per store.

tests/contract/conftest.py builds its `pg_cluster` session fixture from `running_cluster()` and
calls `make_store(tmp_path, cluster)` per test. A missing server is a failure, never a skip:
`make setup-test` installs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from ops.history.postgres import PostgresStore
from tests import postgres_cluster


@contextmanager
def running_cluster() -> Iterator[postgres_cluster.PostgresCluster]:
    """A started cluster, closed (stopped and deleted) at the end."""
    if not postgres_cluster.available():
        pytest.fail(f"no PostgreSQL server binaries in {postgres_cluster.PG_BIN} (make setup-test installs them)")
    cluster = postgres_cluster.PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


def fresh_database(cluster: postgres_cluster.PostgresCluster) -> str:
    """CREATE DATABASE with a new name; returns its postgresql:// URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with cluster.admin(autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.dsn(dbname=name)


def make_store(
    tmp_path,
    cluster: postgres_cluster.PostgresCluster,
    *,
    raw_retention: timedelta = timedelta(hours=48),
    retention: timedelta = timedelta(days=7),
    memory: timedelta | None = None,
) -> PostgresStore:
    """A loaded PostgresStore over an empty database of `cluster` (tmp_path: unused, for the embedded
    factory's signature). The caller closes it."""
    del tmp_path
    store = PostgresStore(fresh_database(cluster), raw_retention, retention, memory=memory)
    store.load()
    return store
