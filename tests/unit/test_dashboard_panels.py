"""Header, summary cards, recovery log and CSV export helpers."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from callbacks.common import clock, error_text, local_ms, zone
from callbacks.export import csv_download, export_filename
from callbacks.header import clock_data, overall_from, sweep_summary
from callbacks.recovery import entry_view
from callbacks.summary import fleet_p95, recoveries_since, summary_from
from ops.fleet import fleet_summary
from ops.history.embedded import EmbeddedStore
from ops.probes import ProbeResult

NOW = datetime.now(UTC).replace(microsecond=0)


def services(*pairs, **extra) -> list[dict]:
    return [{"name": n, "status": s, "enabled": True, "uptime": {"24h": u}, **extra} for n, s, u in pairs]


def with_fleet(snap: dict) -> dict:
    """A snapshot as the server sends it: overall and counts by the one fleet rule (ops/fleet.py)."""
    return {**snap, **fleet_summary(snap["services"])}


def test_header_shows_the_servers_overall_and_counts_never_its_own_sums():
    # The page used to recompute these and disagreed with the API (issue 10, item 1).
    snap = {"services": services(("a", "up", 100.0), ("b", "down", 90.0)), "overall": "maintenance"}
    snap["counts"] = {"maintenance": 2, "down": 0}
    assert overall_from(snap) == ("maintenance", {"maintenance": 2, "down": 0})
    assert overall_from({"services": []}) == ("pending", {})


def test_clock_data_falls_back_to_last_sweep_plus_interval():
    snap = {"time": NOW.isoformat(), "sweep": 3}
    assert clock_data(snap, NOW + timedelta(seconds=7), 40)["next"] == (NOW + timedelta(seconds=7)).isoformat()
    stale = clock_data(snap, NOW - timedelta(seconds=5), 40)  # the loop's next_run from before this sweep
    assert stale["next"] == (NOW + timedelta(seconds=40)).isoformat()
    assert clock_data({}, None, 40)["next"] is None


def test_sweep_summary_names_the_sweep_and_counts():
    text = sweep_summary(with_fleet({"sweep": 12, "services": services(("a", "up", 1), ("b", "down", 1))}), 0.42)
    assert text == "Sweep #12 done in 0.4 s: 1 down, 1 up."


def test_summary_cards_come_from_snapshot_history_and_log():
    store = EmbeddedStore(None, timedelta(days=1))
    for i in range(20):
        ts = NOW - timedelta(minutes=i)
        store.append(ts, [ProbeResult("a", True, float(i + 1), 200, None, ts, "up")])
    store.append(NOW, [ProbeResult("a", False, 5000.0, None, "timeout", NOW, "down")])  # not a latency
    snap = with_fleet(
        {
            "services": services(("a", "up", 100.0), ("b", "degraded", 99.0), ("c", "down", None)),
            "system": {"cpu_percent": 95.0, "cpu_max": 90, "cpu_over": True, "memory_percent": 40.0, "mem_max": 90},
        }
    )
    log = [
        {"time": (NOW - timedelta(hours=1)).isoformat(), "outcome": "recovered"},
        {"time": (NOW - timedelta(hours=30)).isoformat(), "outcome": "recovered"},
        {"time": NOW.isoformat(), "outcome": "skipped"},
    ]
    summary = summary_from(snap, fleet_p95(store, NOW), log, NOW)
    assert (summary["up"], summary["total"], summary["down"]) == (1, 3, 1)  # degraded is not up
    assert summary["uptime_24h"] == 99.5
    assert summary["p95_1h"] == 19.1  # the failed check's 5000 ms is left out
    assert summary["recoveries_24h"] == 1
    assert summary["cpu_over"] is True and summary["mem_over"] is None
    assert summary_from({"services": []}, None, None, NOW)["recoveries_24h"] is None


def test_p95_and_recoveries_handle_empty_input():
    assert fleet_p95(EmbeddedStore(None, timedelta(days=1)), NOW) is None
    assert recoveries_since([], NOW) == 0


def test_entry_view_reads_whatever_an_entry_has():
    tz = ZoneInfo("Europe/Berlin")
    full = entry_view(
        {
            "id": "x1",
            "time": "2026-01-05T10:00:00+00:00",
            "service": "api",
            "trigger": "manual",
            "action": "http",
            "attempt": 2,
            "outcome": "action_failed",
            "error": "HTTP 500",
            "duration_s": 1.25,
            "exit_code": 3,
        },
        tz,
    )
    assert full == {
        "key": "x1",
        "time_text": "Jan 05 11:00:00",
        "time_iso": "2026-01-05T11:00:00+01:00",  # on hover: the same moment with its offset
        "service": "api",
        "trigger": "manual",
        "action": "http #2",
        "outcome": "action_failed",
        "detail": "HTTP 500 · 1.2 s · exit 3",
    }
    bare = entry_view({"service": "db"}, tz)
    assert bare["time_text"] == "—" and bare["outcome"] == "unknown" and bare["action"] == "—"


def test_csv_download_has_the_header_and_the_window_rows():
    store = EmbeddedStore(None, timedelta(days=8))
    for ago in (3 * 86400, 7200, 60):
        ts = NOW - timedelta(seconds=ago)
        store.append(ts, [ProbeResult(n, True, 10.0, 200, None, ts, "up") for n in ("a", "b")])
    sent = csv_download(store, None, "24h", NOW)
    text = sent["content"] if not sent.get("base64") else base64.b64decode(sent["content"]).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["ts", "service", "status", "latency_ms", "http_status", "error"]
    assert len(rows) == 1 + 4  # two sweeps of two services inside 24 h; the 3-day-old one is out
    assert sent["filename"] == export_filename(None, "24h", NOW)
    one = csv_download(store, "a", "7d", NOW)
    assert {r[1] for r in list(csv.reader(io.StringIO(one["content"])))[1:]} == {"a"}
    assert export_filename("a", "7d", NOW).startswith("health-history_a_7d_")


def test_times_are_shown_in_the_operators_zone():
    assert zone("Nowhere/Land") is UTC and zone(None) is UTC and zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    assert clock("2026-01-01T00:00:00+00:00", ZoneInfo("Asia/Tokyo")) == "09:00:00"
    assert clock("2026-01-01T00:00:00Z", UTC, with_date=True) == "Jan 01 00:00:00"
    assert clock(None, UTC) is None and clock("not a time", UTC) is None
    stamps = [datetime(2026, 1, 1, tzinfo=UTC)]
    assert local_ms(stamps, ZoneInfo("Asia/Tokyo"))[0] - local_ms(stamps, UTC)[0] == 9 * 3600 * 1000


def test_error_text_prefers_the_engines_message_and_reason():
    class Conflict(Exception):
        def __init__(self):
            super().__init__("raw")
            self.reason, self.message = "circuit_open", "circuit open: send force=true to try anyway"

    assert error_text(Conflict()) == "circuit open: send force=true to try anyway (circuit_open)"
    assert error_text(ValueError("bad")) == "bad"
