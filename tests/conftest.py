"""Fixtures: loopback servers that close themselves."""

from __future__ import annotations

import pytest

from tests.support import LoopbackHTTP, LoopbackTCP


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
