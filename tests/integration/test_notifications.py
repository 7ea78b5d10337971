"""Notifications end to end: real receivers on loopback (Apprise's json:// into an HTTP server of the
test, mailto:// into a real aiosmtpd SMTP server), the monitor driven sweep by sweep."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from ops.core import Core
from tests.notify_receivers import SmtpReceiver, WebhookReceiver
from tests.support import Behaviour, LoopbackHTTP, free_port, make_settings, wait_for

pytestmark = pytest.mark.timeout(30)

HOOK_SECRET = "hook-t0ken-4f9a2c"
QUIET_HOST = {"cpu_max": 100, "mem_max": 100}  # this machine's CPU must not send `system` messages


@pytest.fixture
def hook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp():
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def web():
    server = LoopbackHTTP()
    yield server
    server.close()


@pytest.fixture
def rig(tmp_path, monkeypatch, hook):
    """make(services, **notifications) -> a started Core (loop stopped: the test runs the sweeps)."""
    cores = []
    monkeypatch.setenv("MC_HOOK_URL", hook.url(HOOK_SECRET))

    def make(services, targets=None, routes=None, top=None, **notifications):
        config = {
            "public_url": "https://mc.example.net/",
            "targets": targets or {"hook": {"url_env": "MC_HOOK_URL"}},
            "routes": routes or [{"targets": list(targets or {"hook": 0})}],
            "reminders": {"after_s": None},
            "delivery": {"backoff_s": 0.2, "timeout_s": 2},
            **notifications,
        }
        settings = make_settings(services, thresholds=QUIET_HOST, notifications=config, **(top or {}))
        core = Core(settings, tmp_path / f"data{len(cores)}")
        cores.append(core)
        core.start(run_loop=False)
        return core

    yield make
    for core in cores:
        core.stop()


def web_service(web: LoopbackHTTP, name: str = "web", **extra) -> dict:
    return {"name": name, "url": web.url("/"), "timeout_s": 1.0, "failure_threshold": 1, **extra}


def settle(seconds: float = 0.5) -> None:
    """Give the delivery threads a moment to send anything more (what must NOT arrive)."""
    time.sleep(seconds)


def test_one_down_message_per_outage_however_many_checks_fail(rig, hook, smtp, web, monkeypatch):
    monkeypatch.setenv("MC_MAIL_URL", smtp.url())
    targets = {"hook": {"url_env": "MC_HOOK_URL"}, "mail": {"url_env": "MC_MAIL_URL", "min_interval_s": 0}}
    core = rig([web_service(web, tags=["core"])], targets=targets, routes=[{"targets": ["hook", "mail"]}])
    core.monitor.run_once()  # up: nothing to say
    web.routes["/"] = Behaviour(status=503)
    for _ in range(6):
        core.monitor.run_once()
    wait_for(lambda: hook.messages and smtp.messages, message="the down message at both receivers")
    settle()
    assert hook.titles() == ["[DOWN] web is down"] and smtp.subjects() == ["[DOWN] web is down"]
    text = hook.messages[0]["message"]
    assert "Service: web" in text and "Status: down" in text and "HTTP 503" in text
    assert re.search(r"Since: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)
    assert "Dashboard: https://mc.example.net/?service=web" in text
    assert hook.messages[0]["type"] == "failure"
    mail = smtp.messages[0]
    assert mail["To"] == "ops@example.com" and "Service: web" in mail.get_body(("plain",)).get_content()


def test_recovered_says_how_long_the_outage_lasted(rig, hook, web):
    core = rig([web_service(web)])
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    wait_for(lambda: hook.messages, message="the down message")
    time.sleep(1.2)
    web.routes["/"] = Behaviour()
    core.monitor.run_once()
    core.monitor.run_once()
    wait_for(lambda: len(hook.messages) == 2, message="the recovered message")
    settle(0.3)
    assert hook.titles() == ["[DOWN] web is down", "[RECOVERED] web is up again"]
    text = hook.messages[1]["message"]
    lasted = int(re.search(r"Outage lasted: (\d+) s", text)[1])
    assert 1 <= lasted <= 3
    assert "Recovered by: no recovery ran: it came back by itself" in text
    assert hook.messages[1]["type"] == "success"
    # the incident is closed: a new outage is a new incident with its own down message
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    wait_for(lambda: len(hook.messages) == 3, message="the second outage's down message")
    incidents = [e["incident"] for e in core.notifier.overview()["entries"] if e["event"] == "down"]
    assert len(set(incidents)) == 2


def test_five_services_falling_in_one_sweep_make_one_grouped_message(rig, hook):
    dead = free_port()
    services = [
        {"name": f"node{i}", "type": "tcp", "port": dead, "timeout_s": 1, "failure_threshold": 1} for i in range(5)
    ]
    core = rig(services)
    core.monitor.run_once()
    core.monitor.run_once()
    wait_for(lambda: hook.messages, message="the grouped message")
    settle()
    assert len(hook.messages) == 1
    title, text = hook.messages[0]["title"], hook.messages[0]["message"]
    assert title.startswith("[DOWN] 5 services are down: ")
    assert all(f"- node{i}: connection refused" in text for i in range(5))


def test_reminders_come_on_the_configured_schedule_while_the_outage_lasts(rig, hook, web):
    core = rig([web_service(web)], reminders={"after_s": 0.6, "every_s": 0.8})
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    wait_for(lambda: len(hook.messages) >= 3, timeout=5, message="the down message and two reminders")
    web.routes["/"] = Behaviour()
    core.monitor.run_once()  # recovered: no reminder after this
    wait_for(lambda: hook.titles()[-1] == "[RECOVERED] web is up again", message="the recovered message")
    settle(1.0)
    titles = hook.titles()
    assert titles[:3] == ["[DOWN] web is down", "[REMINDER] web is down", "[REMINDER] web is down"]
    assert titles[3:] == ["[RECOVERED] web is up again"]
    first, second = hook.arrived[1] - hook.arrived[0], hook.arrived[2] - hook.arrived[1]
    assert 0.5 <= first <= 1.3 and 0.7 <= second <= 1.5, (first, second)
    assert "Down for:" in hook.messages[1]["message"]


def test_maintenance_silences_a_service(rig, hook, web):
    core = rig([web_service(web)])
    core.recovery.set_maintenance("web", True)
    web.routes["/"] = Behaviour(status=500)
    for _ in range(4):
        core.monitor.run_once()
    settle()
    assert hook.messages == []
    core.recovery.set_maintenance("web", False)  # still down once maintenance ends: now it is news
    core.monitor.run_once()
    wait_for(lambda: hook.messages, message="the down message after maintenance")
    assert hook.titles() == ["[DOWN] web is down"]


def test_a_receiver_that_is_down_then_up_gets_the_message_after_a_retry(rig, hook, web):
    core = rig([web_service(web)])
    hook.mode = "fail"
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    wait_for(lambda: hook.attempts >= 1, message="a first, failed, try")
    hook.mode = "ok"
    wait_for(lambda: hook.messages, timeout=5, message="the message after a retry")
    assert hook.titles() == ["[DOWN] web is down"]
    entry = wait_for(lambda: [e for e in core.notifier.overview()["entries"] if e["outcome"] == "sent"])[0]
    assert entry["attempt"] >= 2
    outcomes = {(c["target"], c["outcome"]) for c in core.notifier.overview()["counts"]}
    assert ("hook", "retrying") in outcomes and ("hook", "sent") in outcomes


def test_a_hanging_receiver_never_delays_a_sweep_nor_another_target(rig, hook, smtp, web, monkeypatch):
    monkeypatch.setenv("MC_MAIL_URL", smtp.url())
    targets = {"hook": {"url_env": "MC_HOOK_URL"}, "mail": {"url_env": "MC_MAIL_URL", "min_interval_s": 0}}
    core = rig([web_service(web)], targets=targets, routes=[{"targets": ["hook", "mail"]}])
    hook.mode = "hang"
    durations = []
    for n in range(8):
        web.routes["/"] = Behaviour(status=500 if n % 2 == 0 else 200)  # down, up, down ...: news every sweep
        began = time.monotonic()
        core.monitor.run_once()
        durations.append(time.monotonic() - began)
    assert max(durations) < 1.0, durations  # waiting on the hung receiver would take its 2 s timeout
    wait_for(lambda: len(smtp.messages) >= 8, timeout=10, message="every message by e-mail meanwhile")
    assert hook.messages == [] and hook.attempts >= 1


def test_recovery_failed_and_needs_attention_say_what_was_tried(rig, hook, web):
    recovery = {"action": "http", "url": web.url("/restart"), "timeout_s": 2, "restart_failures": 1}
    # LoopbackHTTP answers only GET: the restart webhook's POST gets 501, the action's reason
    core = rig(
        [web_service(web, recovery=recovery)],
        top={"recovery": {"cooldown_s": 0, "max_attempts": 1, "verify_timeout_s": 0.5, "verify_interval_s": 0.1}},
    )
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    wait_for(lambda: len(hook.messages) >= 3, timeout=8, message="down, recovery_failed, needs_attention")
    titles = hook.titles()
    assert titles[0] == "[DOWN] web is down"
    assert "[RECOVERY FAILED] web recovery failed" in titles
    assert "[NEEDS ATTENTION] web needs attention: automatic recovery stopped" in titles
    failed = hook.messages[titles.index("[RECOVERY FAILED] web recovery failed")]["message"]
    assert "Reason: webhook answered HTTP 501" in failed
    assert "Recovery tried: attempt 1 (auto http): action_failed" in failed


def test_disk_trouble_is_one_message_and_its_end_another(rig, hook, web):
    core = rig([web_service(web)])
    problem = {"ok": False, "error": "history is not being saved: disk full", "since": "2026-01-01T00:00:00+00:00"}
    for _ in range(3):
        core.bus.publish({"type": "sweep", "system": {}, "storage": problem, "services": []})
    wait_for(lambda: hook.messages, message="the disk message")
    core.bus.publish(
        {"type": "sweep", "system": {}, "storage": {"ok": True, "error": None, "since": None}, "services": []}
    )
    wait_for(lambda: len(hook.messages) == 2, message="the resolved message")
    assert hook.titles() == ["[DISK] history is not being saved: disk full", "[RESOLVED] history is being saved again"]


def down_result(core: Core, name: str, reason: str = "boom") -> None:
    """Feed the notifier one failed check of `name`, as the monitor does."""
    now = datetime.now(UTC)
    state = SimpleNamespace(status="down", last_error=reason, last_change=now)
    core.notifier.on_result(name, state, SimpleNamespace(error=reason, status="down", ts=now))


def open_incidents(core: Core) -> list[str]:
    return [i["service"] for i in core.notifier.overview()["incidents"]]


def test_downs_still_waiting_when_leadership_ends_are_dropped_and_left_to_the_next_leader(rig, hook, web, monkeypatch):
    core = rig([web_service(web)], group_wait_s=30)
    recorded: list[tuple] = []
    monkeypatch.setattr(core.notifier.log, "incident_opened", lambda *args: recorded.append(args))
    leading = {"now": True}
    core.notifier.leading = lambda: leading["now"]
    settle()  # the start-up snapshot passes first (a sweep's end flushes the downs)
    down_result(core, "web")
    wait_for(lambda: open_incidents(core) == ["web"], message="the incident, its down waiting to be grouped")
    leading["now"] = False
    wait_for(lambda: open_incidents(core) == [], message="the unsent down dropped with the leadership")
    settle(0.3)
    assert hook.messages == [] and recorded == []  # never announced, never in the shared log: not adopted
    # Leading again, the outage is a new incident of ours: announced once, and recorded as it is queued.
    leading["now"] = True
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    wait_for(lambda: hook.messages, message="the down message")
    settle(0.3)
    assert hook.titles() == ["[DOWN] web is down"] and [r[0] for r in recorded] == ["web"]


def test_a_take_over_adopts_shared_incidents_before_leading_and_never_announces_them_again(rig, hook, web, monkeypatch):
    core = rig([web_service(web)])
    record = {"service": "web", "id": "feed1234", "since": datetime.now(UTC), "reason": "boom"}
    monkeypatch.setattr(core.notifier.log, "open_incidents", lambda: [record])
    leading = {"now": False}
    core.notifier.leading = lambda: leading["now"]
    core.notifier.take_over()  # during the take-over: this process does not lead yet
    wait_for(lambda: open_incidents(core) == ["web"], message="the shared incident adopted")
    leading["now"] = True
    web.routes["/"] = Behaviour(status=500)
    core.monitor.run_once()
    settle()
    assert hook.messages == []  # the last leader announced it
    assert [i["id"] for i in core.notifier.overview()["incidents"]] == ["feed1234"]
