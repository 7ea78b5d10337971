"""What every history store answers, through the protocol's public methods only (ops/history/protocol.py).

Each test appends sweeps, then asks one query: the same answers from the embedded and the PostgreSQL
store, or one of them is wrong. Times lie a little in the past and within the raw retention.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ops.history.export import csv_text
from ops.history.protocol import HistoryStore
from ops.history.rows import CheckRow
from ops.probes import ProbeResult

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
HOUR = timedelta(hours=1)
WINDOWS = {"1h": HOUR, "24h": timedelta(hours=24)}


def probe(ts: datetime, service: str, status="up", latency=10.0, error=None, http=None) -> ProbeResult:
    """One check; its HTTP status is 200 when it passed and none when it failed, unless given."""
    code = http if http is not None else (200 if error is None else None)
    return ProbeResult(service, error is None, latency, code, error, ts, status)


def sweep(store: HistoryStore, ago_s: float, *checks: tuple) -> datetime:
    """Append one sweep `ago_s` seconds before NOW; each check is probe()'s arguments after ts."""
    ts = NOW - timedelta(seconds=ago_s)
    store.append(ts, [probe(ts, *check) for check in checks])
    return ts


def stamps(rows: list[CheckRow]) -> list[tuple[datetime, str]]:
    return [(r.ts, r.service) for r in rows]


def test_every_store_holds_to_the_protocol(store):
    assert isinstance(store, HistoryStore)
    assert len(store) == 0 and store.recent_checks() == []
    assert store.storage_status()["ok"] is True


def test_appended_rows_come_back_oldest_first_in_sweep_order_with_latency_to_a_tenth(store):
    t1 = sweep(store, 80, ("b", "up", 12.34), ("a", "up", 4.56))
    t2 = sweep(store, 40, ("a", "down", 700.04, "HTTP 500", 500), ("b",))
    rows = store.recent_checks()
    assert stamps(rows) == [(t1, "b"), (t1, "a"), (t2, "a"), (t2, "b")]
    assert rows[1] == CheckRow(t1, "a", "up", 4.6, 200, None)
    assert rows[2] == CheckRow(t2, "a", "down", 700.0, 500, "HTTP 500")
    store.append(NOW, [])  # an empty sweep stores nothing
    assert len(store) == 4


def test_a_failed_check_keeps_what_was_measured_but_answers_no_latency(store):
    ts = sweep(store, 10, ("a", "down", 0.7, "connection refused"))
    (row,) = store.recent_checks()
    assert row.latency_ms == 0.7 and row.answered_ms is None
    assert row.as_dict() == {
        "ts": ts.isoformat(),
        "service": "a",
        "status": "down",
        "latency_ms": None,
        "http_status": None,
        "error": "connection refused",
    }
    assert store.spark_points(["a"], 5, NOW - HOUR)["a"] == [
        [int(ts.timestamp() * 1000), None, "down", "connection refused"]
    ]
    (point,) = store.chart_points("a", HOUR, 10, NOW)
    assert (point.latency_ms, point.failed, point.checks, point.error) == (None, 1, 1, "connection refused")
    assert store.percentiles(WINDOWS, NOW) == {"*": dict.fromkeys(["p50_1h", "p95_1h", "p50_24h", "p95_24h"])}
    assert list(store.tallies(NOW - HOUR, latencies=True)["a"].latencies) == []


def test_recent_checks_filter_by_service_and_since(store):
    t = [sweep(store, ago, ("a",), ("b",)) for ago in (120, 80, 40)]
    assert stamps(store.recent_checks(service="a")) == [(ts, "a") for ts in t]
    assert stamps(store.recent_checks(since=t[1])) == [(t[1], "a"), (t[1], "b"), (t[2], "a"), (t[2], "b")]
    assert stamps(store.recent_checks(service="b", since=t[2])) == [(t[2], "b")]
    assert store.recent_checks(service="nobody") == []


def test_recent_checks_sweeps_counts_the_timestamps_among_the_rows_matched(store):
    t = [sweep(store, ago, ("a",), *([("b",)] if i % 2 == 0 else [])) for i, ago in enumerate((200, 160, 120, 80, 40))]
    assert stamps(store.recent_checks(sweeps=2)) == [(t[3], "a"), (t[4], "a"), (t[4], "b")]
    assert stamps(store.recent_checks(service="b", sweeps=2)) == [(t[2], "b"), (t[4], "b")]
    assert stamps(store.recent_checks(since=t[3], sweeps=5)) == [(t[3], "a"), (t[4], "a"), (t[4], "b")]
    assert len(store.recent_checks(sweeps=100)) == 8


def test_recent_checks_per_service_keeps_the_last_of_each(store):
    t = [sweep(store, ago, ("a",), *([("b",)] if i % 2 == 0 else [])) for i, ago in enumerate((200, 160, 120, 80, 40))]
    assert stamps(store.recent_checks(per_service=2)) == [(t[2], "b"), (t[3], "a"), (t[4], "a"), (t[4], "b")]
    assert stamps(store.recent_checks(service="a", per_service=1)) == [(t[4], "a")]


def test_uptime_counts_passed_checks_degraded_included_maintenance_left_out(store):
    sweep(store, 7200, ("a", "down", None, "refused"), ("d",))
    sweep(store, 600, ("a",), ("b", "maintenance", None, "stopped for work"), ("c",), ("e",))
    sweep(store, 500, ("a", "degraded", 900.0), ("b", "maintenance", 5.0), ("c",), ("e", "down", None, "x"))
    sweep(store, 400, ("a", "pending", None, "timeout"), ("e", "down", None, "x"))  # a failure below the threshold
    sweep(store, 300, ("a", "down", None, "refused"), ("c",))
    assert store.uptime(WINDOWS, NOW) == {
        "a": {"1h": 50.0, "24h": 40.0},
        "b": {"1h": None, "24h": None},  # nothing counted
        "c": {"1h": 100.0, "24h": 100.0},
        "d": {"1h": None, "24h": 100.0},  # rows in the longer window only
        "e": {"1h": 33.333, "24h": 33.333},
    }
    assert store.uptime(WINDOWS, NOW, service="e") == {"e": {"1h": 33.333, "24h": 33.333}}
    assert store.uptime(WINDOWS, NOW, service="nobody") == {}


def test_percentiles_are_numpys_linear_over_answered_checks_with_the_fleet_pooled(store):
    a = [12.0, 3.5, 7.1, 100.2, 55.5, 8.8, 9.9]
    b = [1.1, 2.2, 300.0]
    sweep(store, 7200, ("a", "up", 1000.0), ("c", "up", 42.0))  # in the 24 h window only
    for i, value in enumerate(a):
        checks = [("a", "up", value)] + ([("b", "degraded", b[i])] if i < len(b) else [])
        sweep(store, 600 - 10 * i, *checks)
    sweep(store, 100, ("a", "down", 5000.0, "timeout"), ("b", "down", 0.4, "refused"))  # no latencies

    def figures(values_1h, values_24h, qs=(50, 95)):
        out = {}
        for label, values in (("1h", values_1h), ("24h", values_24h)):
            for q in qs:
                out[f"p{q}_{label}"] = round(float(np.percentile(values, q)), 1) if values else None
        return out

    assert store.percentiles(WINDOWS, NOW) == {
        "a": figures(a, a + [1000.0]),
        "b": figures(b, b),
        "c": figures([], [42.0]),
        "*": figures(a + b, a + b + [1000.0, 42.0]),
    }
    assert store.percentiles(WINDOWS, NOW, qs=(99,), service="b") == {
        "b": figures(b, b, (99,)),
        "*": figures(b, b, (99,)),
    }


def test_chart_points_are_each_check_while_they_fit(store):
    t1 = sweep(store, 30, ("a", "up", 10.0))
    t2 = sweep(store, 20, ("a", "down", 1.0, "refused"), ("b",))
    points = store.chart_points("a", HOUR, 10, NOW)
    assert [(p.ts, p.latency_ms, p.status, p.failed, p.checks, p.error) for p in points] == [
        (t1, 10.0, "up", 0, 1, None),
        (t2, None, "down", 1, 1, "refused"),
    ]
    assert store.chart_points("nobody", HOUR, 10, NOW) == []


def test_chart_points_bucket_by_time_with_the_worst_status_failures_and_last_error(store):
    # 1000 s in 10 buckets of 100 s from the epoch; nine buckets of three checks each.
    base = datetime.fromtimestamp((NOW.timestamp() // 100) * 100 - 900, UTC)
    bucket = {4: [("up", 10.0, None), ("down", None, "first"), ("down", None, "second")], 5: [("down", None, "x")] * 3}
    for k in range(9):
        for j, (status, latency, error) in enumerate(
            bucket.get(k, [("up", 10.0, None), ("degraded", 20.0, None), ("up", 30.0, None)])
        ):
            sweep(store, (NOW - base).total_seconds() - 100 * k - 10 - 30 * j, ("a", status, latency, error))
    points = store.chart_points("a", timedelta(seconds=1000), 10, NOW)
    assert len(points) == 9 and sum(p.checks for p in points) == 27
    assert [p.ts for p in points] == [base + timedelta(seconds=100 * k + 10) for k in range(9)]  # each bucket's first
    assert [(p.status, p.latency_ms, p.failed, p.error) for p in points[3:6]] == [
        ("degraded", 20.0, 0, None),
        ("down", 10.0, 2, "second"),
        ("down", None, 3, "x"),
    ]


def test_spark_points_are_the_last_checks_of_each_name_from_since(store):
    t = [
        sweep(store, 60 * (6 - i), ("a", "up", 10.0 + i), ("b", *(("down", 1.0, "refused") if i == 4 else ())))
        for i in range(6)
    ]
    out = store.spark_points(["b", "a", "nobody"], 3, NOW - HOUR)
    assert set(out) == {"a", "b", "nobody"} and out["nobody"] == []
    ms = [int(ts.timestamp() * 1000) for ts in t]
    assert out["a"] == [[ms[3], 13.0, "up", None], [ms[4], 14.0, "up", None], [ms[5], 15.0, "up", None]]
    assert out["b"] == [[ms[3], 10.0, "up", None], [ms[4], None, "down", "refused"], [ms[5], 10.0, "up", None]]
    assert len(store.spark_points(["a"], 10, t[4])["a"]) == 2
    assert store.spark_points([], 3, NOW - HOUR) == {}


def test_csv_rows_stream_every_raw_row_from_since_of_one_service(store):
    t1 = sweep(store, 80, ("a",), ("b",))
    t2 = sweep(store, 40, ("a", "down", 3.0, "HTTP 500", 500), ("b",))
    assert list(store.csv_rows()) == store.recent_checks()
    assert stamps(list(store.csv_rows(since=t2))) == [(t2, "a"), (t2, "b")]
    assert csv_text(store.csv_rows(service="a")).splitlines() == [
        "ts,service,status,latency_ms,http_status,error",
        f"{t1.isoformat()},a,up,10.0,200,",
        f"{t2.isoformat()},a,down,,500,HTTP 500",  # a failed check's latency is empty
    ]


def test_rows_between_include_the_start_and_leave_out_the_end(store):
    t = [sweep(store, ago, ("a",), ("b",)) for ago in (300, 200, 100)]
    assert stamps(store.rows_between(t[0], t[2])) == [(t[0], "a"), (t[0], "b"), (t[1], "a"), (t[1], "b")]
    assert store.rows_between(t[2] + timedelta(microseconds=1), NOW) == []


def test_last_runs_tell_how_each_services_history_ends(store):
    sweep(store, 300, ("a",), ("b",))
    sweep(store, 240, ("a", "down", None, "refused"), ("b",))
    sweep(store, 180, ("a",), ("b",))
    t4 = sweep(store, 120, ("a", "degraded", 900.0), ("b", "down", None, "timeout"))
    t5 = sweep(store, 60, ("a", "degraded", 950.0), ("b", "down", None, "timeout again"))
    runs = store.last_runs(["a", "b", "nobody"])
    assert set(runs) == {"a", "b"}
    a, b = runs["a"], runs["b"]
    assert a.last == CheckRow(t5, "a", "degraded", 950.0, 200, None)
    assert (a.failures, a.successes, a.status_since, a.last_error) == (0, 3, t4, "refused")
    assert b.last == CheckRow(t5, "b", "down", None, None, "timeout again")
    assert (b.failures, b.successes, b.status_since, b.last_error) == (2, 0, t4, "timeout again")
    assert set(store.last_runs(["a"])) == {"a"}


def test_tallies_count_what_uptime_counts_and_sort_the_answered_latencies(store):
    sweep(store, 7200, ("b", "up", 7.0))
    sweep(store, 300, ("a", "up", 10.0), ("a2", "maintenance", 5.0))
    sweep(store, 200, ("a", "maintenance", 5.0))
    sweep(store, 100, ("a", "down", 3.0, "refused"))
    sweep(store, 50, ("a", "degraded", 2.0))
    tallies = store.tallies(NOW - HOUR, latencies=True)
    assert set(tallies) == {"a", "a2"}
    assert (tallies["a"].counted, tallies["a"].passed, list(tallies["a"].latencies)) == (3, 2, [2.0, 5.0, 10.0])
    assert (tallies["a2"].counted, tallies["a2"].passed) == (0, 0)
    older = store.tallies(NOW - 3 * HOUR)
    assert (older["b"].counted, older["b"].passed, list(older["b"].latencies)) == (1, 1, [])  # not asked for


def test_drop_expired_drops_raw_rows_past_the_raw_retention(store):
    generation = store.generation
    old = NOW - store.raw_retention - HOUR
    store.append(old, [probe(old, "a")])
    kept = sweep(store, 60, ("a",))
    dropped = store.drop_expired(NOW)
    assert dropped["raw"] in (0, 1)  # the embedded store's own hourly pass may have dropped it first
    assert stamps(store.recent_checks()) == [(kept, "a")] and len(store) == 1
    assert store.generation != generation  # readers keeping running totals start over


def test_close_is_idempotent_and_a_new_instance_finds_every_row(store, reopen):
    sweep(store, 80, ("a", "up", 12.3), ("b", "down", 2.0, "refused"))
    sweep(store, 40, ("a", "degraded", 800.0), ("b",))
    rows = store.recent_checks()
    store.flush()
    store.close()
    store.close()
    again = reopen()
    assert again.recent_checks() == rows and len(again) == 4
    ts = sweep(again, 20, ("a",))
    assert stamps(again.recent_checks(sweeps=1)) == [(ts, "a")]


def test_uptime_over_a_window_longer_than_the_raw_retention_comes_from_the_aggregates(store):
    assert store.retention >= store.raw_retention + timedelta(hours=6)  # room for the old rows below
    old = NOW - store.raw_retention - timedelta(hours=3)
    for i in range(4):  # four old checks, one failed: gone from the raw rows, kept in the aggregates
        ts = old + timedelta(minutes=10 * i)
        store.append(ts, [probe(ts, "a", *(("down", None, "refused") if i == 0 else ()))])
    sweep(store, 60, ("a",))
    store.drop_expired(NOW)
    assert len(store.recent_checks(service="a")) == 1
    month = {"30d": timedelta(days=30), "1h": HOUR}
    assert store.uptime(month, NOW) == {"a": {"30d": 80.0, "1h": 100.0}}
    assert store.uptime(month, NOW, service="a") == {"a": {"30d": 80.0, "1h": 100.0}}


def test_a_chart_over_a_week_has_at_most_buckets_points(store):
    for hours in range(6, 150):  # a check an hour, from 6 hours to 6.2 days ago
        sweep(store, 3600 * hours, ("a", "up", float(hours)))
    points = store.chart_points("a", timedelta(days=7), 50, NOW)
    assert 1 < len(points) <= 50 and sum(p.checks for p in points) == 144
    assert [p.ts for p in points] == sorted(p.ts for p in points)
