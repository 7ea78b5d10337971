"""GET /api/notifications, POST /api/notifications/test, the Prometheus counters, and the one rule that
matters most: a target's URL (tokens, passwords) never shows in the API, the logs, the page or the files."""

from __future__ import annotations

import logging

import pytest
import requests

from dash_app.factory import create_app
from tests.notify_receivers import SmtpReceiver, WebhookReceiver
from tests.support import Behaviour, LoopbackHTTP, free_port, make_settings, wait_for

pytestmark = pytest.mark.timeout(30)

HOOK_SECRET = "hook-t0ken-8d1e77"
DEAD_SECRET = "dead-t0ken-51ab09"
KEY = "k" * 24 + "-notify"


@pytest.fixture
def receivers(monkeypatch):
    hook, smtp, web = WebhookReceiver(), SmtpReceiver(password="mail-pa55-3c2f"), LoopbackHTTP()
    monkeypatch.setenv("MC_HOOK_URL", hook.url(HOOK_SECRET))
    monkeypatch.setenv("MC_MAIL_URL", smtp.url())
    monkeypatch.setenv("MC_DEAD_URL", f"json://127.0.0.1:{free_port()}/hook/{DEAD_SECRET}")
    yield hook, smtp, web
    for receiver in (hook, smtp, web):
        receiver.close()


def start(tmp_path, web, **top):
    notifications = {
        "public_url": "http://127.0.0.1:9993/",
        "targets": {
            "hook": {"url_env": "MC_HOOK_URL"},
            "mail": {"url_env": "MC_MAIL_URL", "min_interval_s": 0},
            "dead": {"url_env": "MC_DEAD_URL"},
        },
        "routes": [{"targets": ["hook", "mail", "dead"]}],
        "delivery": {"max_attempts": 2, "backoff_s": 0.1, "timeout_s": 2},
    }
    services = [{"name": "web", "url": web.url("/"), "timeout_s": 1, "failure_threshold": 1}]
    settings = make_settings(services, thresholds={"cpu_max": 100, "mem_max": 100}, notifications=notifications, **top)
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    app.serve("127.0.0.1", 0, 0)
    app.base = f"http://127.0.0.1:{app.http.port}"
    return app


@pytest.fixture
def app(tmp_path, receivers):
    made = start(tmp_path, receivers[2])
    yield made
    made.stop()


def test_the_test_endpoint_sends_to_one_target_and_says_how_it_went(app, receivers):
    hook = receivers[0]
    answer = requests.post(app.base + "/api/notifications/test", json={"target": "hook", "wait_s": 5}, timeout=10)
    assert answer.status_code == 200 and answer.json()["outcome"] == "sent" and answer.json()["test"] is True
    assert hook.titles() == ["[TEST] Mission Control notification test"]
    failed = requests.post(app.base + "/api/notifications/test", json={"target": "dead", "wait_s": 5}, timeout=10)
    assert failed.status_code == 200 and failed.json()["outcome"] == "gave_up" and failed.json()["error"]
    queued = requests.post(app.base + "/api/notifications/test", json={"target": "mail"}, timeout=10)
    assert queued.status_code == 202 and queued.json()["outcome"] == "queued"
    wait_for(lambda: receivers[1].messages, message="the test e-mail")
    for body, code in (({"target": "nope"}, 404), ({}, 400), ({"target": "hook", "wait_s": 99}, 400)):
        bad = requests.post(app.base + "/api/notifications/test", json=body, timeout=10)
        assert bad.status_code == code and set(bad.json()) == {"error", "detail"}
    overview = requests.get(app.base + "/api/notifications", timeout=5).json()
    assert [t["name"] for t in overview["targets"]] == ["hook", "mail", "dead"]
    assert [t["kind"] for t in overview["targets"]] == ["json", "mailto", "json"]
    assert {e["outcome"] for e in overview["entries"]} >= {"sent", "gave_up"}


def test_sends_are_counted_by_target_and_outcome_for_prometheus(app, receivers):
    requests.post(app.base + "/api/notifications/test", json={"target": "hook", "wait_s": 5}, timeout=10)
    requests.post(app.base + "/api/notifications/test", json={"target": "dead", "wait_s": 5}, timeout=10)
    text = requests.get(app.base + "/metrics", timeout=5).text
    assert 'mission_control_notifications_total{outcome="sent",target="hook"} 1.0' in text
    assert 'mission_control_notifications_total{outcome="gave_up",target="dead"} 1.0' in text


def test_a_secret_url_never_appears_in_the_api_the_logs_the_page_or_the_files(app, receivers, caplog, tmp_path):
    hook, smtp, web = receivers
    caplog.set_level(logging.DEBUG)  # Apprise and urllib3 name URLs in their DEBUG lines
    web.routes["/"] = Behaviour(status=500)
    app.core.monitor.run_once()
    requests.post(app.base + "/api/notifications/test", json={"target": "dead", "wait_s": 5}, timeout=10)
    wait_for(lambda: hook.messages and smtp.messages, message="the down message")
    wait_for(
        lambda: any(e["outcome"] == "gave_up" and not e["test"] for e in app.core.notifier.overview()["entries"]),
        message="the dead target's failure",
    )
    secrets = [HOOK_SECRET, DEAD_SECRET, smtp.password]
    seen = {
        "api": requests.get(app.base + "/api/notifications?limit=100", timeout=5).text,
        "openapi": requests.get(app.base + "/api/openapi.json", timeout=5).text,
        "metrics": requests.get(app.base + "/metrics", timeout=5).text,
        "page": requests.get(app.base + "/", timeout=5).text,
        "layout": requests.get(app.base + "/_dash-layout", timeout=5).text,
        "logs": caplog.text,
        "files": "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()),
    }
    assert "A Connection error occurred sending JSON notification" in seen["logs"]  # Apprise did log, masked
    for where, text in seen.items():
        for secret in secrets:
            assert secret not in text, f"a target's secret is in the {where}"


def test_the_test_endpoint_needs_the_key_like_every_other_change(tmp_path, receivers):
    app = start(tmp_path, receivers[2], auth={"api_key": KEY})
    try:
        url = app.base + "/api/notifications/test"
        assert requests.post(url, json={"target": "hook"}, timeout=5).status_code == 401
        answer = requests.post(url, json={"target": "hook"}, headers={"X-API-Key": KEY}, timeout=5)
        assert answer.status_code == 202
    finally:
        app.stop()


def panel_refresh(app) -> dict:
    """The page's notifications panel refresh, as its 3 s interval sends it; the answer's outputs."""
    outputs = [("mc-notify-body", "children"), ("mc-notify-target", "options"), ("mc-notify-target", "value"),
               ("mc-notify-refresh", "disabled")]  # fmt: skip
    body = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": "mc-notify-refresh", "property": "n_intervals", "value": 1},
            {"id": "mc-tick", "property": "data", "value": None},
        ],  # fmt: skip
        "state": [{"id": "mc-notify-target", "property": "value", "value": None}],
        "changedPropIds": ["mc-notify-refresh.n_intervals"],
    }
    answer = requests.post(app.base + "/_dash-update-component", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]


def test_the_panel_polls_its_log_only_when_there_are_targets_to_deliver_to(tmp_path, receivers):
    """Without targets nothing is ever delivered (the panel says so): an open page stops asking every 3 s."""
    app = start(tmp_path, receivers[2])
    try:
        assert panel_refresh(app)["mc-notify-refresh"]["disabled"] is False
    finally:
        app.stop()
    services = [{"name": "web", "url": receivers[2].url("/"), "timeout_s": 1}]
    quiet = create_app(make_settings(services), data_dir=tmp_path / "quiet", start_monitor=False)
    quiet.serve("127.0.0.1", 0, 0)
    quiet.base = f"http://127.0.0.1:{quiet.http.port}"
    try:
        answer = panel_refresh(quiet)
        assert answer["mc-notify-refresh"]["disabled"] is True
        assert "not configured" in str(answer["mc-notify-body"]["children"])
    finally:
        quiet.stop()
