"""Versioned schema migrations for the PostgreSQL store: numbered SQL files, applied once each.

ops/history/migrations/NNNN_name.sql are applied in order, each recorded in `schema_migrations`.
The whole run holds a transaction-scoped advisory lock, so two dashboards starting at once against
an empty database migrate it once: the second waits, then finds every version applied.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg

from ops.history.protocol import StoreUnusable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any fixed 64-bit number; it only has to differ from other advisory locks taken in this database.
MIGRATION_LOCK = 0x6D635F686973  # "mc_his"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql\Z")


def migrations(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, str, str]]:
    """[(version, name, sql)] in version order; a misnamed or duplicate file is an error."""
    found: dict[int, tuple[int, str, str]] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None or int(match[1]) in found:
            raise ValueError(f"{path}: migration files are named NNNN_name.sql with unique numbers")
        found[int(match[1])] = (int(match[1]), match[2], path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {version for (version,) in conn.execute("SELECT version FROM schema_migrations")}
        known = migrations()
        newer = sorted(done - {version for version, _, _ in known})
        if newer:  # its data may be written in ways this version does not know (e.g. how rollups fold)
            raise StoreUnusable(
                f"the history database has schema version {newer[-1]}, newer than this Mission Control "
                f"knows ({known[-1][0]}): run the same version on every dashboard that shares it"
            )
        for version, name, sql in known:
            if version in done:
                continue
            conn.execute(sql.encode())  # no parameters: several statements go in one simple query
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied.append(version)
    if applied:
        log.info("history database: applied migrations %s", ", ".join(map(str, applied)))
    return applied
