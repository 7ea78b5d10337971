"""Copy a JSON-lines history file (the embedded store's) into the PostgreSQL store, in batches.

What is idempotent: a row the database holds (same service and moment) is skipped, rollups included.
Retention deletes raw rows past the raw retention but keeps their rollups, so a row older than
now - raw_retention is also skipped when its service's hour rollup was there before the import began
(it was counted then). A rerun therefore adds nothing twice, before or after retention ran. The one
cost: rows of such an hour that were never imported (say a live dashboard wrote the hour's other
checks first, and it is past the raw retention now) are not added to it. Pass the dashboards'
`storage.raw_retention_h`. Damaged lines are counted and skipped, as the embedded store's reader does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from ops.history import embedded_file as hf
from ops.history.postgres_schema import migrate
from ops.history.postgres_upkeep import minute_of
from ops.history.postgres_write import fold_rows, write_rows
from ops.history.rows import CheckRow

BATCH_ROWS = 20_000
RAW_RETENTION = timedelta(hours=48)  # storage.raw_retention_h's default
# The hour rollups past the raw retention as they were before the import wrote anything.
SNAPSHOT_SQL = """CREATE TEMP TABLE import_rolled_up ON COMMIT PRESERVE ROWS AS
    SELECT service, bucket FROM checks_hour WHERE bucket < %s"""
ROLLED_UP_SQL = """SELECT k.service, k.bucket FROM unnest(%s::text[], %s::timestamptz[]) AS k(service, bucket)
    JOIN import_rolled_up r USING (service, bucket)"""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATEMENT_TIMEOUT_MS = 120_000  # an import batch is bigger than a sweep


@dataclass
class ImportReport:
    read: int = 0
    added: int = 0
    bad_lines: int = 0

    @property
    def skipped(self) -> int:
        return self.read - self.added


def rows_of(columns: hf.Columns) -> Iterator[tuple[CheckRow, int]]:
    """(row, its position in its sweep) for each decoded row, in file order."""
    services = {i: name for name, i in columns.services.items()}
    errors = {i: text for text, i in columns.errors.items()}
    last_stamp, position = None, 0
    for i, stamp in enumerate(columns.ts_us):
        position = position + 1 if stamp == last_stamp else 0
        last_stamp = stamp
        latency, http_status = columns.latency_ms[i], columns.http_status[i]
        yield (
            CheckRow(
                EPOCH + timedelta(microseconds=stamp),
                services[columns.service[i]],
                hf.STATUSES[columns.status[i]],
                None if math.isnan(latency) else latency,
                None if math.isnan(http_status) else int(http_status),
                errors.get(columns.error[i]),
            ),
            position,
        )


def _chunks(path: Path, report: ImportReport) -> Iterator[hf.Columns]:
    with open(path, "rb") as handle:
        legacy = hf.legacy_records(handle)
        if legacy is not None:
            from ops.history.embedded_frame import legacy_columns  # pandas, only for the old format

            yield legacy_columns(legacy)
            return
        read = hf.ReadReport()
        yield from hf.read_lines(handle, read, chunk_rows=BATCH_ROWS)
        report.bad_lines = read.bad_lines + int(read.torn_tail)


def import_file(path: Path, url: str, raw_retention: timedelta = RAW_RETENTION) -> ImportReport:
    """Load `path` into the database at `url`; OSError for the file, psycopg.Error for the database."""
    report = ImportReport()
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC"
    with psycopg.connect(url, autocommit=True, connect_timeout=10, options=options) as conn:
        migrate(conn)
        cutoff = datetime.now(UTC) - raw_retention
        conn.execute(SNAPSHOT_SQL, (cutoff,))
        batch: list[CheckRow] = []
        positions: list[int] = []
        for columns in _chunks(path, report):
            for row, position in rows_of(columns):
                batch.append(row)
                positions.append(position)
                if len(batch) >= BATCH_ROWS:
                    report.added += _write(conn, batch, positions, cutoff)
                    report.read += len(batch)
                    batch, positions = [], []
        if batch:
            report.added += _write(conn, batch, positions, cutoff)
            report.read += len(batch)
        until, mark = minute_of(datetime.now(UTC)), None
        while mark is None or mark < until:  # rows newer than the fold mark are in the rollups before we return
            with conn.transaction():
                _, mark = fold_rows(conn, until)
    return report


def _write(conn: psycopg.Connection, batch: list[CheckRow], positions: list[int], cutoff: datetime) -> int:
    """Write the batch but the rows past the raw retention whose hour was rolled up before (see above)."""
    hours = {(r.service, _hour(r.ts)) for r in batch if r.ts < cutoff}
    if hours:
        services, buckets = zip(*hours, strict=True)
        counted = {(s, b.astimezone(UTC)) for s, b in conn.execute(ROLLED_UP_SQL, (list(services), list(buckets)))}
        if counted:
            kept = [i for i, r in enumerate(batch) if r.ts >= cutoff or (r.service, _hour(r.ts)) not in counted]
            batch, positions = [batch[i] for i in kept], [positions[i] for i in kept]
    with conn.transaction():
        return write_rows(conn, batch, positions)


def _hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
