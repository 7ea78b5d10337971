"""The history store: round trip, crash damage, corrupt files moved aside, retention, size on disk."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from ops.history.embedded import EmbeddedStore
from ops.history.embedded_file import encode_sweep
from ops.probes import ProbeResult

NAMES = ["bytebot-desktop", "bytebot-agent", "bytebot-ui", "postgres", "llm-proxy"]


def results(ts, ok=True):
    return [
        ProbeResult(
            name, ok, 12.34 + i, 200 if ok else None, None if ok else "connection refused", ts, "up" if ok else "down"
        )
        for i, name in enumerate(NAMES)
    ]


def open_store(path, days=7):
    store = EmbeddedStore(path, timedelta(days=days))
    store.load()
    return store


def test_round_trip_survives_a_restart(tmp_path):
    path = tmp_path / "h.json"
    store = open_store(path)
    now = datetime.now(UTC)
    store.append(now - timedelta(seconds=40), results(now - timedelta(seconds=40)))
    store.append(now, results(now, ok=False))
    store.close()
    again = open_store(path)
    frame = again.frame()
    assert len(frame) == 10
    assert list(frame["status"].astype(str)[-5:]) == ["down"] * 5
    assert frame["latency_ms"].iloc[0] == pytest.approx(12.3)
    assert frame["error"].iloc[-1] == "connection refused"
    assert len(again.frame(service="postgres")) == 2
    assert len(again.frame(since=now - timedelta(seconds=1))) == 5


def test_partial_last_line_from_a_crash_is_dropped(tmp_path, caplog):
    path = tmp_path / "h.json"
    store = open_store(path)
    now = datetime.now(UTC)
    store.append(now, results(now))
    store.close()
    with open(path, "ab") as handle:
        handle.write(encode_sweep(now, [("postgres", "up", 1.0, None, None)])[:25])
    with caplog.at_level(logging.WARNING):
        again = open_store(path)
    assert len(again.frame()) == 5 and "partial last line" in caplog.text
    again.append(now + timedelta(seconds=1), results(now))  # appends land on a clean line boundary
    again.close()
    assert len(open_store(path).frame()) == 10


def test_corrupt_file_is_moved_aside_with_a_warning_and_readable_rows_kept(tmp_path, caplog):
    path = tmp_path / "h.json"
    now = datetime.now(UTC)
    good = encode_sweep(now, [("postgres", "up", 1.0, None, None)])
    path.write_bytes(good + b"{not json\n" + good)
    with caplog.at_level(logging.WARNING):
        store = open_store(path)
    assert len(store.frame()) == 2
    aside = list(tmp_path.glob("h.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == good + b"{not json\n" + good  # nothing lost
    assert "unreadable" in caplog.text and str(aside[0]) in caplog.text
    store.close()
    assert len(open_store(path).frame()) == 2  # the rewritten file is clean


def test_garbage_file_never_crashes_and_is_kept_aside(tmp_path):
    path = tmp_path / "h.json"
    path.write_bytes(b"\x00\xff garbage \x89PNG\n\n")
    store = open_store(path)
    assert len(store.frame()) == 0
    assert len(list(tmp_path.glob("h.json.corrupt-*"))) == 1


def test_original_dashboards_json_array_is_converted(tmp_path):
    path = tmp_path / "h.json"
    now = datetime.now(UTC).isoformat()
    path.write_text(json.dumps([{"timestamp": now, "service": "postgres", "status": "healthy", "response_time": 3}]))
    store = open_store(path)
    frame = store.frame()
    assert list(frame["status"].astype(str)) == ["up"] and frame["latency_ms"].iloc[0] == 3
    assert len(list(tmp_path.glob("h.json.corrupt-*"))) == 1


def test_retention_drops_old_rows_in_memory_and_on_disk(tmp_path):
    path = tmp_path / "h.json"
    store = open_store(path, days=1)
    now = datetime.now(UTC)
    store.append(now - timedelta(days=2), results(now - timedelta(days=2)))
    store.append(now, results(now))
    store.compact()  # the first append may already have started one in the background; either way:
    assert len(store.frame()) == 5
    store.append(now + timedelta(seconds=1), results(now))  # appends after compaction still land
    store.close()
    assert len(path.read_text().splitlines()) == 2
    assert len(open_store(path, days=1).frame()) == 10


def test_old_rows_are_not_loaded(tmp_path):
    path = tmp_path / "h.json"
    now = datetime.now(UTC)
    path.write_bytes(encode_sweep(now - timedelta(days=9), [("postgres", "up", 1.0, None, None)]))
    assert len(open_store(path, days=7).frame()) == 0


def test_ten_services_for_a_day_stay_under_one_megabyte():
    now = datetime.now(UTC)
    names = NAMES + [f"{n}-2" for n in NAMES]
    rows = [(n, "up", 123.4, 200, None) for n in names]
    per_day = len(encode_sweep(now, rows)) * (86400 // 40)
    assert per_day < 1_000_000, per_day


def test_a_store_without_a_file_works_in_memory():
    store = EmbeddedStore(None, timedelta(days=1))
    store.load()
    now = datetime.now(UTC)
    store.append(now, results(now))
    assert len(store.frame()) == 5
    store.close()


def test_a_torn_rollup_line_is_cut_on_reload_and_the_long_windows_keep_their_answers(tmp_path, caplog):
    path = tmp_path / "h.json"
    store = EmbeddedStore(path, timedelta(hours=1), timedelta(days=30))
    store.load()
    now = datetime.now(UTC)
    for i in range(20):  # ten minutes: minute buckets close and reach the rollup file
        ts = now - timedelta(seconds=30 * (20 - i))
        store.append(ts, results(ts, ok=i % 4 != 0))
    month = {"30d": timedelta(days=30)}
    before = store.uptime(month, now)
    store.close()
    minutes = tmp_path / "h.rollup-minutes.jsonl"
    assert minutes.stat().st_size > 0
    with open(minutes, "ab") as handle:
        handle.write(b'{"grain":"minute","start":"2026-')  # a kill mid-write
    with caplog.at_level(logging.WARNING):
        again = EmbeddedStore(path, timedelta(hours=1), timedelta(days=30))
        again.load()
    assert "partial last line" in caplog.text and len(list(tmp_path.glob("h.rollup-minutes.jsonl.torn-*"))) == 1
    assert again.uptime(month, now) == before and before["postgres"]["30d"] == 75.0
    again.close()
