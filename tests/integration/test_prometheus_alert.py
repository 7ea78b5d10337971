"""The README's alert rule, run by Debian's `promtool test rules` over series from a live /metrics."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.processes import ROOT
from tests.support import Behaviour, http_service, make_settings

RULES_BLOCK = re.compile(r"```yaml\n(groups:\n.*?)```", re.S)


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:  # a failure, never a skip: make setup-test installs it
        pytest.fail("promtool not found (Debian package `prometheus`; make setup-test installs it)")
    return path


def readme_rules() -> str:
    return RULES_BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))[1]


def scrape(base: str) -> str:
    answer = requests.get(base + "/metrics", timeout=10)
    assert answer.status_code == 200
    return answer.text


def input_series(text: str) -> list[dict]:
    """Every mission_control sample of a scrape as a series held at its value for 10 minutes."""
    series = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("mission_control_") and math.isfinite(sample.value):
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                series.append({"series": f"{sample.name}{{{labels}}}", "values": f"{sample.value!r}+0x10"})
    return series


def run_rule_test(tmp_path, rules: str, series: list[dict], expected: list[dict]) -> subprocess.CompletedProcess:
    import json

    (tmp_path / "rules.yml").write_text(rules, encoding="utf-8")
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [{"eval_time": "5m", "alertname": "ServiceDown", "exp_alerts": expected}],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(json.dumps(test), encoding="utf-8")  # JSON is YAML
    return subprocess.run(
        [promtool(), "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def app(running_app):
    for _ in range(3):  # db (a closed port) is down after its third failure
        running_app.core.monitor.run_once()
    return running_app


DOWN_DB = [{"exp_labels": {"service": "db", "status": "down"}}]


def test_readme_alert_fires_for_a_down_service(app, tmp_path):
    result = run_rule_test(tmp_path, readme_rules(), input_series(scrape(app.base)), DOWN_DB)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_alert_is_silent_in_maintenance(app, tmp_path):
    app.core.recovery.set_maintenance("db", True)
    result = run_rule_test(tmp_path, readme_rules(), input_series(scrape(app.base)), [])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alert_without_on_service_never_fires(app, tmp_path):
    """Guards the test itself: the README's old rule (no `on(service)`) fails it."""
    old = readme_rules().replace(" and on(service) ", " and ")
    assert old != readme_rules()
    result = run_rule_test(tmp_path, old, input_series(scrape(app.base)), DOWN_DB)
    assert result.returncode != 0


def test_no_created_series_and_failed_checks_stay_out_of_the_latency_histogram(tmp_path, http_server):
    from dash_app.factory import create_app

    http_server.routes["/broken"] = Behaviour(status=500, body=b"boom")
    services = [http_service("web", http_server), http_service("broken", http_server, "/broken")]
    mc = create_app(make_settings(services), data_dir=tmp_path, start_monitor=False)
    try:
        mc.serve("127.0.0.1", 0, 0)
        mc.core.monitor.run_once()
        mc.core.monitor.run_once()
        text = scrape(f"http://127.0.0.1:{mc.http.port}")
    finally:
        mc.stop()
    assert "_created" not in text
    assert 'mission_control_check_latency_seconds_count{service="web"} 2.0' in text
    assert 'mission_control_check_latency_seconds_count{service="broken"} 0.0' in text
    assert 'mission_control_check_failures_total{service="broken"} 2.0' in text
    assert "Latency of successful checks" in text
