"""The rollup files on a real disk: reload, a torn line, a damaged line, retention (ops/history/rollup_file.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from ops.history.rollup import Rollups
from ops.history.rollup_file import RollupFiles
from tests.unit.test_rollup import SERVICES, START, sweeps

SINCE, UNTIL = START - timedelta(hours=1), START + timedelta(hours=4)
STEP = timedelta(minutes=10)


def answers(rollups: Rollups) -> tuple:
    return (
        rollups.totals(None, SINCE, UNTIL),
        rollups.totals("db", START + timedelta(minutes=21), START + timedelta(hours=2, minutes=3)),
        rollups.percentiles(None, SINCE, UNTIL),
        [rollups.chart_buckets(name, SINCE, UNTIL, STEP) for name in SERVICES],
    )


def write(history, data) -> Rollups:
    """What the store does per sweep: add, then append the buckets that closed."""
    rollups, files = Rollups(), RollupFiles(history)
    files.load(rollups)
    for ts, rows in data:
        rollups.add(ts, rows)
        files.append(rollups)
    files.close()
    return rollups


def reload(history, data) -> Rollups:
    """What the store does at start: load the files, replay raw rows from replay_from()."""
    rollups, files = Rollups(), RollupFiles(history)
    files.load(rollups)
    replay = rollups.replay_from()
    for ts, rows in data:
        if replay is None or ts >= replay:
            rollups.add(ts, rows)
            files.append(rollups)
    files.close()
    return rollups


def test_a_reload_after_close_gives_the_same_answers(tmp_path):
    data, history = sweeps(), tmp_path / "history.jsonl"
    written = write(history, data)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.rollup-hours.jsonl",
        "history.rollup-minutes.jsonl",
    ]
    assert answers(reload(history, data)) == answers(written)
    assert answers(reload(history, data)) == answers(written)  # the replay appended nothing twice


def test_a_killed_writers_half_line_is_cut_and_kept_aside(tmp_path, caplog):
    data, history = sweeps(), tmp_path / "history.jsonl"
    expected = answers(write(history, data))
    hours = tmp_path / "history.rollup-hours.jsonl"
    last = hours.read_bytes().splitlines(keepends=True)[-1]
    with open(hours, "ab") as handle:
        handle.write(last[: len(last) // 2])  # a SIGKILL in the middle of os.write
    with caplog.at_level(logging.WARNING):
        assert answers(reload(history, data)) == expected
    assert "partial last line" in caplog.text
    (torn,) = tmp_path.glob("history.rollup-hours.jsonl.torn-*")
    assert torn.read_bytes() == last[: len(last) // 2]
    assert hours.read_bytes().endswith(b"\n")


def test_a_damaged_line_moves_the_original_aside_and_keeps_the_rest(tmp_path, caplog):
    data, history = sweeps(), tmp_path / "history.jsonl"
    written = write(history, data)
    minutes = tmp_path / "history.rollup-minutes.jsonl"
    lines = minutes.read_bytes().splitlines(keepends=True)
    original = b"".join(lines)
    victim = bytearray(lines[40])
    victim[len(victim) // 2] ^= 0x01  # one flipped bit inside the base64 columns: the crc says so
    lines[40] = bytes(victim)
    lines.insert(10, b'{"grain": "minute", "n": [[[[\n')
    minutes.write_bytes(b"".join(lines))
    with caplog.at_level(logging.WARNING):
        reloaded = reload(history, data)
    assert "2 unreadable line(s)" in caplog.text
    (aside,) = tmp_path.glob("history.rollup-minutes.jsonl.corrupt-*")
    assert aside.read_bytes() != original and len(aside.read_bytes()) > len(original)
    assert reloaded.totals(None, SINCE, UNTIL) == written.totals(None, SINCE, UNTIL)  # whole hours: intact
    edges = (START.replace(hour=10, minute=20, second=0), START.replace(hour=11, minute=0, second=0))  # minutes only
    lost = {
        name: written.totals(None, *edges)[name].checks - got.checks
        for name, got in reloaded.totals(None, *edges).items()
    }
    assert lost == dict.fromkeys(SERVICES, 6)  # the damaged minute's six sweeps, nothing else
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = reload(history, data)
    assert caplog.text == ""  # rewritten: the next start reads it cleanly
    assert answers(again) == answers(reloaded)


def test_an_unreadable_names_line_loses_its_buckets_not_the_file(tmp_path, caplog):
    data, history = sweeps(hours=1.5), tmp_path / "history.jsonl"
    write(history, data)
    hours = tmp_path / "history.rollup-hours.jsonl"
    hours.write_bytes(hours.read_bytes().replace(b'{"names"', b'{"nomes"', 1))
    with caplog.at_level(logging.WARNING):
        rollups = Rollups()
        RollupFiles(history).load(rollups)
    assert "unreadable line(s)" in caplog.text
    assert rollups.minutes.closed >= 0  # the other file is untouched


def test_retention_rewrites_the_file_and_a_reload_keeps_only_what_is_left(tmp_path):
    data, history = sweeps(hours=6), tmp_path / "history.jsonl"
    rollups, files = Rollups(minute_keep=timedelta(hours=1)), RollupFiles(history)
    files.load(rollups)
    for ts, rows in data:
        rollups.add(ts, rows)
        files.append(rollups)
    minutes = tmp_path / "history.rollup-minutes.jsonl"
    size = minutes.stat().st_size
    now = data[-1][0]
    rollups.retention(now, minute_keep=timedelta(hours=1), hour_keep=timedelta(hours=3))
    assert files.retention(rollups, timedelta(hours=1), timedelta(hours=3)) == ["minute", "hour"]
    assert minutes.stat().st_size < size / 3
    files.close()
    again = reload(history, data)
    window = (now - timedelta(hours=2, minutes=30), now + timedelta(seconds=1))
    assert again.totals(None, *window) == rollups.totals(None, *window)
    assert again.totals(None, START, START + timedelta(hours=2)) == {}  # hours ended before now - 3 h
