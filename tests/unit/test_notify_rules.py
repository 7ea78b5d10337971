"""Notification rules without threads or sockets: config errors, routing, quiet hours, incidents, the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from config import ConfigError, settings_from_dict
from config.notifications import QuietHours, Reminders, RouteSettings
from ops.notify.delivery import mask, secret_parts
from ops.notify.delivery_log import DeliveryLog
from ops.notify.incidents import IncidentBook
from ops.notify.messages import Event
from ops.notify.routing import in_quiet_hours, route

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERVICES = [{"name": "api", "type": "tcp", "port": 1, "tags": ["core"]}, {"name": "web", "type": "tcp", "port": 2}]


def config(notifications: dict) -> object:
    return settings_from_dict({"services": SERVICES, "notifications": notifications}, "cfg.json")


def test_a_target_whose_variable_is_unset_is_an_error_naming_file_and_field(monkeypatch):
    monkeypatch.delenv("MC_NOPE", raising=False)
    with pytest.raises(ConfigError, match=r"cfg.json: notifications.targets.ops.url_env: environment variable MC_NOPE"):
        config({"targets": {"ops": {"url_env": "MC_NOPE"}}})


def test_routes_must_name_known_targets_and_services(monkeypatch):
    monkeypatch.setenv("MC_URL", "json://127.0.0.1:1/x")
    with pytest.raises(ConfigError, match=r"notifications: .*routes\[0\].targets: 'pager' is not one of the targets"):
        config({"targets": {"ops": {"url_env": "MC_URL"}}, "routes": [{"targets": ["pager"]}]})
    with pytest.raises(ConfigError, match=r"routes\[0\].services: 'nope' is not a configured service"):
        config({"targets": {"ops": {"url_env": "MC_URL"}}, "routes": [{"targets": ["ops"], "services": ["nope"]}]})
    with pytest.raises(ConfigError, match=r"notifications.routes\[0\].events\[0\]: Input should be .down."):
        config({"targets": {"ops": {"url_env": "MC_URL"}}, "routes": [{"targets": ["ops"], "events": ["boom"]}]})


def test_the_config_never_echoes_the_url(monkeypatch):
    monkeypatch.setenv("MC_URL", "not-a-url-but-s3cret")
    with pytest.raises(ConfigError) as caught:
        config({"targets": {"ops": {"url_env": "MC_URL"}}})
    assert "s3cret" not in str(caught.value) and "MC_URL" in str(caught.value)


def event(kind="down", service="api", tags=("core",)) -> Event:
    return Event(kind, service, "down", "connection refused", T0, T0, tags)


def test_routes_pick_services_by_name_or_tag_and_events_by_kind():
    routes = (
        RouteSettings(targets=("pager",), tags=("core",), events=("down", "needs_attention")),
        RouteSettings(targets=("chat",), services=("web",)),
        RouteSettings(targets=("mail",)),  # everything but degraded (the default events)
    )
    assert route(event(), routes, T0) == (["pager", "mail"], [])
    assert route(event(service="web", tags=()), routes, T0) == (["chat", "mail"], [])
    assert route(event("degraded"), routes, T0) == ([], [])
    assert route(event("disk", service=None, tags=()), routes, T0) == (["chat", "mail"], [])


def test_quiet_hours_hold_back_all_but_the_allowed_events_and_may_span_midnight():
    quiet = QuietHours(start="22:00", end="07:00", timezone="Europe/Berlin")
    assert in_quiet_hours(quiet, datetime(2026, 3, 1, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    assert in_quiet_hours(quiet, datetime(2026, 3, 1, 5, 0, tzinfo=UTC))  # 06:00
    assert not in_quiet_hours(quiet, datetime(2026, 3, 1, 6, 0, tzinfo=UTC))  # 07:00: over
    routes = (RouteSettings(targets=("chat",), quiet_hours=quiet),)
    night = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    assert route(Event("down", "api", "down", "x", night, night), routes, night) == ([], ["chat"])
    assert route(Event("needs_attention", "api", "down", "x", night, night), routes, night) == (["chat"], [])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_incident_per_outage_with_reminders_on_schedule_then_recovered_with_its_length():
    clock = Clock()
    book = IncidentBook(Reminders(after_s=1800, every_s=4 * 3600), clock)
    [down] = book.observe("api", "down", False, T0, "refused", T0)
    assert down.kind == "down" and down.incident
    assert book.observe("api", "down", False, T0, "refused", T0 + timedelta(seconds=40)) == []
    clock.now = 1799
    assert book.due_reminders(T0) == []
    clock.now = 1800
    assert [e.reminder for e in book.due_reminders(T0)] == [1]
    clock.now = 1800 + 4 * 3600 - 1
    assert book.due_reminders(T0) == []
    clock.now = 1800 + 4 * 3600
    assert [e.reminder for e in book.due_reminders(T0)] == [2]
    book.recovery({"service": "api", "outcome": "running", "attempt": 1}, T0)
    book.recovery({"service": "api", "outcome": "recovered", "attempt": 1, "trigger": "auto", "action": "docker"}, T0)
    [up] = book.observe("api", "up", False, T0, None, T0 + timedelta(minutes=5))
    assert up.kind == "recovered" and up.facts["duration_s"] == 300 and up.incident == down.incident
    assert up.facts["recovered_by"].startswith("recovery attempt 1 (auto docker)")
    assert book.due_reminders(T0) == [] and book.next_due() is None


def test_host_problems_are_one_message_each_and_one_when_they_end():
    book = IncidentBook(Reminders(), Clock())
    hot = {"cpu_over": True, "cpu_percent": 97.0, "cpu_max": 90.0}
    assert [e.reason for e in book.host_state(hot, {"ok": True}, T0)] == ["CPU at 97% (over 90.0%)"]
    assert book.host_state(hot, {"ok": True}, T0) == []
    [cool] = book.host_state({}, {"ok": True}, T0)
    assert cool.resolved and cool.kind == "system"


def test_every_piece_of_a_url_that_may_be_a_token_is_masked():
    url = "mailto://user:pa55word@smtp.example.com:587?from=a@example.com&to=b@example.com&mode=starttls"
    text = f"failed: {url} and again pa55word at smtp.example.com"
    masked = mask(text, secret_parts(url))
    assert "pa55word" not in masked and "smtp.example.com" not in masked and url not in masked
    assert mask("tgram://123456:AAbbCC/987", secret_parts("tgram://123456:AAbbCC/987")) == "***"


def test_the_delivery_log_stays_bounded_and_sets_damaged_lines_aside(tmp_path):
    path = tmp_path / "notifications_log.jsonl"
    path.write_text('{"id": "a", "outcome": "sent"}\nnot json\n{"id": "b", "outcome": "sent"}\n')
    log = DeliveryLog(path, keep=10)
    assert log.load() == 2
    assert [e["id"] for e in log.recent()] == ["b", "a"]
    assert list(tmp_path.glob("notifications_log.jsonl.corrupt-*"))
    for n in range(40):
        log.append({"id": f"n{n}", "outcome": "sent"})
    lines = path.read_text().splitlines()
    assert len(lines) < 20 and json.loads(lines[-1])["id"] == "n39"


def test_the_readme_examples_are_valid_config_and_urls_apprise_understands(monkeypatch):
    import re
    from pathlib import Path

    import apprise

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Notifications", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```json\n(.*?)```\n```sh\nexport (\w+)='([^']+)'", section, re.S)
    assert len(examples) == 3
    for block, name, url in examples:
        monkeypatch.setenv(name, url)
        settings = settings_from_dict({"services": SERVICES, **json.loads("{" + block + "}")}, "README")
        assert settings.notifications.targets and apprise.Apprise.instantiate(url) is not None, url


def test_recovery_entries_become_recovery_failed_needs_attention_and_flapping():
    book = IncidentBook(Reminders(after_s=None), Clock())
    book.observe("api", "down", False, T0, "refused", T0)
    failed = {"service": "api", "outcome": "action_failed", "attempt": 1, "trigger": "auto", "action": "docker"}
    [event] = book.recovery(failed | {"error": "No such container: api"}, T0)
    assert event.kind == "recovery_failed" and event.reason == "No such container: api"
    assert event.facts["tried"] == ["attempt 1 (auto docker): action_failed: No such container: api"]
    kinds = [e.kind for e in book.recovery(failed | {"attempt": 2, "circuit_open": True}, T0)]
    assert kinds == ["recovery_failed", "needs_attention"]
    assert [e.kind for e in book.recovery({"service": "api", "outcome": "recovered", "flapping": True}, T0)] == [
        "flapping"
    ]
    book.observe("api", "down", True, T0, "refused", T0)  # maintenance: nothing about it is sent
    assert book.recovery(failed, T0) == []
