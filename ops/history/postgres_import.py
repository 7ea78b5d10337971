"""Copy a JSON-lines history file (the embedded store's) into the PostgreSQL store, in batches.

Rows the database already has (same service and moment) are skipped, rollups included, so a rerun
adds nothing. Damaged lines are counted and skipped, as the embedded store's reader does.
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
from ops.history.postgres_write import write_rows
from ops.history.rows import CheckRow

BATCH_ROWS = 20_000
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


def import_file(path: Path, url: str) -> ImportReport:
    """Load `path` into the database at `url`; OSError for the file, psycopg.Error for the database."""
    report = ImportReport()
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC"
    with psycopg.connect(url, autocommit=True, connect_timeout=10, options=options) as conn:
        migrate(conn)
        batch: list[CheckRow] = []
        positions: list[int] = []
        for columns in _chunks(path, report):
            for row, position in rows_of(columns):
                batch.append(row)
                positions.append(position)
                if len(batch) >= BATCH_ROWS:
                    report.added += _write(conn, batch, positions)
                    report.read += len(batch)
                    batch, positions = [], []
        if batch:
            report.added += _write(conn, batch, positions)
            report.read += len(batch)
    return report


def _write(conn: psycopg.Connection, batch: list[CheckRow], positions: list[int]) -> int:
    with conn.transaction():
        return write_rows(conn, batch, positions)
