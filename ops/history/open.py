"""Which history store (and recovery log) a dashboard runs on: the embedded files, or PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from config.settings import Settings


def open_store(settings: Settings, data_dir: str | Path, history_path: str | Path | None = None):
    """A PostgresStore when `storage` names a database (or --store did), else the embedded store.
    Not loaded yet: the caller calls load()."""
    url = settings.storage.database_url
    retention = timedelta(days=settings.retention_days)
    if url:
        from ops.history.postgres import PostgresStore

        return PostgresStore(url, timedelta(hours=settings.storage.raw_retention_h), retention)
    from ops.history.embedded import EmbeddedStore

    return EmbeddedStore(Path(history_path) if history_path else Path(data_dir) / "health_history.json", retention)


def open_recovery_log(settings: Settings, data_dir: str | Path):
    """The recovery log in the same place as the history: PostgreSQL's shared table, or the JSON-lines file."""
    url = settings.storage.database_url
    if url:
        from ops.history.postgres_recovery_log import PostgresRecoveryLog

        return PostgresRecoveryLog(url)
    from ops.recovery_log import RecoveryLog

    return RecoveryLog(settings.recovery.log_path or Path(data_dir) / "recovery_log.jsonl")
