"""Which history store (and recovery log, recovery state, delivery log) a dashboard runs on: files or PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from config.settings import Settings


def open_store(settings: Settings, data_dir: str | Path, history_path: str | Path | None = None):
    """A PostgresStore when `storage` names a database (or --store did), else the embedded store.
    Not loaded yet: the caller calls load()."""
    from ops.history.embedded import EmbeddedStore, memory_for

    url = settings.storage.database_url
    retention, raw = timedelta(days=settings.retention_days), timedelta(hours=settings.storage.raw_retention_h)
    checks_per_hour = len(settings.services) * 3600.0 / max(settings.interval_s, 0.2)
    # Both stores read raw rows only within `memory` (at most ~1 M rows), the rollups beyond it.
    memory = memory_for(raw, checks_per_hour)
    if url:
        from ops.history.postgres import PostgresStore

        return PostgresStore(url, raw, retention, memory=memory)
    path = Path(history_path) if history_path else Path(data_dir) / "health_history.json"
    return EmbeddedStore(path, raw, retention, memory=memory)


def open_recovery_log(settings: Settings, data_dir: str | Path):
    """The recovery log in the same place as the history: PostgreSQL's shared table, or the JSON-lines file."""
    url = settings.storage.database_url
    if url:
        from ops.history.postgres_recovery_log import PostgresRecoveryLog

        return PostgresRecoveryLog(url)
    from ops.recovery_log import RecoveryLog

    return RecoveryLog(settings.recovery.log_path or Path(data_dir) / "recovery_log.jsonl")


def open_recovery_state(settings: Settings, recovery_log):
    """The shared recovery policy state in PostgreSQL (over the recovery log's connections), or None
    (the engine keeps its state file)."""
    if not settings.storage.database_url:
        return None
    from ops.history.postgres_recovery_state import PostgresRecoveryState

    return PostgresRecoveryState(recovery_log.pool)


def open_delivery_log(settings: Settings, data_dir: str | Path, recovery_log=None):
    """The notification delivery log beside the history: PostgreSQL's shared table (over the recovery
    log's connections), or the JSON-lines file."""
    url, keep = settings.storage.database_url, settings.notifications.delivery.log_entries
    if url:
        from ops.history.postgres_recovery_log import PostgresDeliveryLog

        return PostgresDeliveryLog(url, keep=keep, pool=recovery_log.pool)
    from ops.notify.delivery_log import DeliveryLog

    return DeliveryLog(Path(data_dir) / "notifications_log.jsonl", keep=keep)
