"""The history's export shapes, both built from CheckRow.as_dict: CSV text and the API's sweeps."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from ops.history.rows import COLUMNS, CheckRow

CSV_BATCH = 5000  # rows per piece of a streamed CSV


def csv_chunks(rows: Iterable[CheckRow], batch: int = CSV_BATCH) -> Iterator[str]:
    """CSV text in pieces: the header row, then one line per check (a failed one with an empty latency_ms)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, row in enumerate(rows, 1):
        writer.writerow(row.as_dict().values())
        if i % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(rows: Iterable[CheckRow]) -> str:
    """The whole CSV as one text (a browser download)."""
    return "".join(csv_chunks(rows))


def sweeps_of(rows: Iterable[CheckRow]) -> list[dict]:
    """[{"ts", "results": [{service, status, latency_ms, http_status, error}]}], one entry per timestamp."""
    out: list[dict] = []
    for row in rows:
        record = row.as_dict()
        ts = record.pop("ts")
        if not out or out[-1]["ts"] != ts:
            out.append({"ts": ts, "results": []})
        out[-1]["results"].append(record)
    return out
