"""A real running app (waitress + WebSocket server on free loopback ports)."""

from __future__ import annotations

import pytest

from dash_app.factory import create_app
from tests import postgres_cluster
from tests.support import http_service, make_settings


@pytest.fixture
def running_app(tmp_path, http_server):
    """The whole app over one loopback service, loop stopped so tests drive the sweeps."""
    settings = make_settings([http_service("web", http_server), {"name": "db", "type": "tcp", "port": 1}])
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    app.ws_url = f"ws://127.0.0.1:{app.ws.port}/ws"
    yield app
    app.stop()


@pytest.fixture
def pg_cluster():
    """Make started throwaway PostgreSQL clusters (tests/postgres_cluster.py); all closed at the end."""
    if not postgres_cluster.available():
        # A failure, never a skip: a skipped test would hide the missing dependency.
        pytest.fail(f"no PostgreSQL server binaries in {postgres_cluster.PG_BIN} (make setup-test installs them)")
    clusters = []

    def make(start: bool = True, **settings) -> postgres_cluster.PostgresCluster:
        clusters.append(postgres_cluster.PostgresCluster(**settings))
        if start:
            clusters[-1].start()
        return clusters[-1]

    yield make
    for cluster in clusters:
        cluster.close()
