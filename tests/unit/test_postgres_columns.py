"""The PostgreSQL store's batches as arrays: one pass over a sweep, held sweeps joined without repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ops.check_result import ProbeResult
from ops.history.buckets import bucket_index
from ops.history.postgres_write import _columns, join_columns, sweep_columns
from ops.history.rows import CheckRow

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def results(ts: datetime) -> list[ProbeResult]:
    return [
        ProbeResult("web", True, 12.34, 200, None, ts, "up"),
        ProbeResult("db", False, 0.71, None, "refused\x00by peer", ts, "down"),
        ProbeResult("web", True, 99.0, 200, None, ts, "up"),  # given twice: kept once
    ]


def test_a_sweep_becomes_the_same_arrays_as_its_check_rows():
    columns = sweep_columns(NOW, results(NOW))
    rows = [CheckRow.from_result(NOW, r) for r in results(NOW)[:2]]
    expected = _columns(rows, [0, 1])
    expected[6][1] = "refusedby peer"  # PostgreSQL text cannot hold NUL
    assert columns == expected
    assert columns[4] == [12.3, 0.7] and columns[7] == [bucket_index(12.3), None]  # a failed check: no bucket


def test_held_sweeps_join_into_one_batch_without_repeats():
    first, second = sweep_columns(NOW, results(NOW)), sweep_columns(NOW + timedelta(seconds=10), results(NOW))
    joined = join_columns([first, second, sweep_columns(NOW, results(NOW))])  # the first one retried
    assert list(zip(joined[1], joined[0], strict=True)) == [
        ("web", NOW), ("db", NOW), ("web", NOW + timedelta(seconds=10)), ("db", NOW + timedelta(seconds=10))
    ]  # fmt: skip
    assert join_columns([first]) is first
