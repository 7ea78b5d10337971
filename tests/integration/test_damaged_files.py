"""Hand-damaged state files never stop the start: a WARNING, the original kept aside, every good entry kept."""

from __future__ import annotations

import json
import logging
import signal
from datetime import UTC, datetime, timedelta

import pytest
import requests

from dash_app.factory import create_app
from ops.history.embedded_file import encode_sweep
from tests.integration.processes import AppProcess
from tests.support import http_service, make_settings, wait_for

NESTED = b"[" * 100_000 + b"\n"  # json.loads raises RecursionError here, not ValueError


def sweep(minutes_ago: int, service: str = "web") -> bytes:
    ts = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return encode_sweep(ts, [(service, "up", 12.5, 200, None)])


def entry(i: int, **fields) -> bytes:
    record = {"id": f"e{i}", "time": "2026-01-01T00:00:00+00:00", "service": "web", "outcome": "recovered"}
    return (json.dumps(record | fields) + "\n").encode()


@pytest.fixture
def start(tmp_path, http_server, caplog):
    """Build the whole app over tmp_path (as `python -m dash_app --data-dir` does), loop stopped."""
    apps = []

    def build():
        settings = make_settings([http_service("web", http_server), http_service("api", http_server)])
        with caplog.at_level(logging.WARNING):
            apps.append(create_app(settings, data_dir=tmp_path, start_monitor=False))
        return apps[-1]

    yield build
    for app in apps:
        app.stop()


def aside(tmp_path, name: str) -> bytes:
    copies = list(tmp_path.glob(f"{name}.corrupt-*"))
    assert len(copies) == 1, copies
    return copies[0].read_bytes()


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_history_with_a_deeply_nested_line_starts_keeping_every_good_row(tmp_path, start, caplog, where):
    good = [sweep(3), sweep(2), sweep(1)]
    lines = {"first": [NESTED, *good], "middle": [good[0], NESTED, *good[1:]], "last": [*good, NESTED]}[where]
    (tmp_path / "health_history.json").write_bytes(b"".join(lines))
    app = start()
    assert len(app.core.store) == 3
    assert "health_history.json has 1 unreadable line(s)" in caplog.text
    assert NESTED in aside(tmp_path, "health_history.json")
    kept = (tmp_path / "health_history.json").read_bytes().splitlines(keepends=True)
    assert kept == good


def test_history_rows_with_wrong_types_are_set_aside_and_good_rows_kept(tmp_path, start, caplog):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    bad = [
        f'{{"ts": "{now}", "rows": [["web", "u", "fast"]]}}',  # latency a string
        f'{{"ts": "{now}", "rows": [["web", "u", 1.0, true]]}}',  # http status a boolean
        f'{{"ts": "{now}", "rows": [["web", "u", 1.0, 200, ["no"]]]}}',  # error a list
        f'{{"ts": "{now}", "rows": [[["web"], "u"]]}}',  # service a list
        f'{{"ts": "{now}", "rows": [["web", "u", 1e400]]}}',  # latency overflows to inf
        f'{{"ts": "{now}", "rows": "up"}}',
        '{"ts": 5, "rows": []}',
        "[1, 2]",
    ]
    good = [sweep(2), sweep(1, "api")]
    (tmp_path / "health_history.json").write_bytes(good[0] + "\n".join(bad).encode() + b"\n" + good[1])
    app = start()
    assert len(app.core.store) == 2
    assert f"has {len(bad)} unreadable line(s)" in caplog.text
    assert all(line.encode() in aside(tmp_path, "health_history.json") for line in bad)
    health = app.server.test_client().get("/api/health").get_json()
    assert {s["name"]: s["status"] for s in health["services"]} == {"web": "up", "api": "up"}


def test_recovery_log_with_nested_and_wrong_typed_entries_starts_and_keeps_the_good_ones(tmp_path, start, caplog):
    bad = [
        NESTED,
        entry(100, id=["a", "list"]),  # unhashable: recent() raised TypeError on every page load
        entry(101, time=1700000000),
        entry(102, service={"name": "web"}),
        entry(103, outcome=["recovered"]),
        entry(104, attempt="2"),
        entry(105, duration_s="slow"),
        b'"just a string"\n',
        # Deep but under json's limit: it loads, then every serialiser of the log (the API) recursed.
        entry(106, output_tail=json.loads("[" * 900 + "]" * 900)),
        entry(107, anything_else=json.loads("[" * 900 + "]" * 900)),
    ]
    good = [entry(1), entry(2, outcome="still_down"), entry(3, service="api")]
    (tmp_path / "recovery_log.jsonl").write_bytes(good[0] + b"".join(bad) + b"".join(good[1:]))
    app = start()
    assert "recovery_log.jsonl: 10 unreadable line(s)" in caplog.text
    assert all(line in aside(tmp_path, "recovery_log.jsonl") for line in bad)
    assert [e["id"] for e in app.core.recovery_log.recent()] == ["e3", "e2", "e1"]
    logs = app.server.test_client().get("/api/logs").get_json()
    assert logs["count"] == 3
    assert app.server.test_client().get("/").status_code == 200  # the page renders the log panel
    assert (tmp_path / "recovery_log.jsonl").read_bytes() == b"".join(good)


def test_recovery_log_longer_than_memory_with_a_torn_line_keeps_every_entry(tmp_path, start, caplog):
    count = 6000  # more than KEEP_IN_MEMORY: the old rewrite from memory lost the oldest thousand
    good = b"".join(entry(i) for i in range(count))
    torn = entry(count)[:30]
    (tmp_path / "recovery_log.jsonl").write_bytes(good + torn)
    app = start()
    assert "1 unreadable line(s)" in caplog.text
    assert aside(tmp_path, "recovery_log.jsonl") == good + torn
    assert (tmp_path / "recovery_log.jsonl").read_bytes() == good
    app.core.recovery_log.append({"id": "new", "service": "web", "outcome": "recovered"})
    lines = (tmp_path / "recovery_log.jsonl").read_bytes().splitlines()
    assert len(lines) == count + 1 and json.loads(lines[-1])["id"] == "new"


def test_recovery_log_whose_last_line_lacks_its_newline_gets_the_next_entry_on_a_line_of_its_own(tmp_path, start):
    (tmp_path / "recovery_log.jsonl").write_bytes(entry(1) + entry(2).rstrip(b"\n"))
    app = start()
    app.core.recovery_log.append({"id": "new", "service": "web", "outcome": "recovered"})
    ids = [json.loads(line)["id"] for line in (tmp_path / "recovery_log.jsonl").read_bytes().splitlines()]
    assert ids == ["e1", "e2", "new"]


@pytest.mark.parametrize("until", ["soon", 1e308, -5, True, [1], {"t": 1}])
def test_recovery_state_with_a_bad_maintenance_end_keeps_the_good_services(tmp_path, start, caplog, until):
    soon = datetime.now(UTC).timestamp() + 3600
    state = {
        "services": {
            "web": {"maintenance": True, "maintenance_until": until},
            "api": {"maintenance": True, "maintenance_until": soon, "circuit_open": "yes"},
        }
    }
    (tmp_path / "recovery_state.json").write_text(json.dumps(state))
    app = start()
    assert "recovery state ignored in part" in caplog.text and "web.maintenance_until" in caplog.text
    assert "api.circuit_open" in caplog.text
    assert json.loads(aside(tmp_path, "recovery_state.json")) == state
    client = app.server.test_client()
    web = client.get("/api/services/web/recovery").get_json()
    api = client.get("/api/services/api/recovery").get_json()
    assert web["maintenance"] is True and web["maintenance_until"] is None  # on until switched off by hand
    assert api["maintenance"] is True and api["maintenance_until"].startswith(str(datetime.now(UTC).year))
    assert client.get("/api/health").status_code == 200 and client.get("/").status_code == 200


@pytest.mark.parametrize("text", ["[" * 100_000, '{"services": ["web"]}', '{"services": {"web": 5}}', "null"])
def test_unreadable_recovery_state_is_set_aside_with_a_warning(tmp_path, start, caplog, text):
    (tmp_path / "recovery_state.json").write_text(text)
    app = start()
    assert "recovery state ignored" in caplog.text
    assert aside(tmp_path, "recovery_state.json") == text.encode()
    assert app.server.test_client().get("/api/health").status_code == 200


def test_the_cli_starts_over_every_kind_of_damage_at_once(tmp_path, http_server):
    data = tmp_path / "data"
    data.mkdir()
    (data / "health_history.json").write_bytes(sweep(2) + NESTED + sweep(1))
    (data / "recovery_log.jsonl").write_bytes(entry(1) + NESTED + entry(2, id=[1]) + entry(3))
    (data / "recovery_state.json").write_text(
        '{"services": {"web": {"maintenance": true, "maintenance_until": 1e308}}}'
    )
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"services": [{"name": "web", "url": http_server.url()}], "interval_s": 0.3}))
    app = AppProcess("--config", str(config), "--data-dir", str(data))
    try:
        app.wait_ports()
        wait_for(lambda: requests.get(app.base + "/api/loop-status", timeout=2).json()["sweeps"] >= 1, message="sweep")
        assert requests.get(app.base + "/", timeout=5).status_code == 200
        assert requests.get(app.base + "/api/logs", timeout=5).json()["count"] == 2
        app.proc.send_signal(signal.SIGTERM)
        assert app.wait(10) == 0
    finally:
        app.kill()
    text = "\n".join(app.lines)
    assert "Traceback" not in text, text
    assert text.count(" WARNING ") >= 3, text
    for name in ("health_history.json", "recovery_log.jsonl", "recovery_state.json"):
        assert list(data.glob(f"{name}.corrupt-*")), name
    assert all(json.loads(line) for line in (data / "health_history.json").read_bytes().splitlines())
