"""From the check that turns a service down to the webhook receiving the message (target: p95 < 1 s).

Run: .venv/bin/python bench/alert_latency.py
One process, all on loopback: a service stamps the moment it has answered the failing check
(failure_threshold is 1, so the threshold itself is not counted: that check *is* the one that turns
it down); Apprise's json:// posts to a webhook server of this script, which stamps the arrival.
Each trial is an outage (down, then recovered), so every one is a new incident. A second run puts a
hung neighbour in the same sweep: then a down waits for its sweep at most `group_wait_s`.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import ROOT, env_summary, percentile

from config import settings_from_dict
from ops.core import Core

sys.path.insert(0, str(ROOT))
from tests.notify_receivers import WebhookReceiver  # noqa: E402 - after the path is set

TRIALS = 40


class Service:
    """Answers 200 or 503 as told; stamps when it has answered a 503."""

    def __init__(self) -> None:
        self.failing = False
        self.failed_at: list[float] = []
        release = self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/hang":
                    release.wait(30)
                    return
                code = 503 if owner.failing else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.wfile.flush()
                if code == 503:
                    owner.failed_at.append(time.monotonic())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


def wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("no message")
        time.sleep(0.001)


def run(hung_neighbour: bool) -> tuple[list[float], list[float]]:
    service, hook = Service(), WebhookReceiver()
    os.environ["MC_BENCH_HOOK"] = hook.url()
    services = [{"name": "api", "url": service.base + "/", "timeout_s": 2, "failure_threshold": 1}]
    if hung_neighbour:
        services.append({"name": "hung", "url": service.base + "/hang", "timeout_s": 0.5})
    settings = settings_from_dict(
        {
            "services": services,
            "thresholds": {"cpu_max": 100, "mem_max": 100},
            "notifications": {
                "targets": {"hook": {"url_env": "MC_BENCH_HOOK"}},
                "routes": [{"targets": ["hook"], "services": ["api"]}],
                "reminders": {"after_s": None},
            },
        },
        "bench",
    )
    downs, ups = [], []
    with tempfile.TemporaryDirectory() as tmp:
        core = Core(settings, Path(tmp))
        core.start(run_loop=False)
        core.monitor.run_once()
        try:
            for _ in range(TRIALS):
                service.failing, sent = True, len(hook.messages)
                core.monitor.run_once()
                wait(lambda sent=sent: len(hook.messages) > sent)
                downs.append((hook.arrived[-1] - service.failed_at[-1]) * 1000)
                service.failing, sent = False, len(hook.messages)
                began = time.monotonic()
                core.monitor.run_once()
                wait(lambda sent=sent: len(hook.messages) > sent)
                ups.append((hook.arrived[-1] - began) * 1000)
        finally:
            core.stop()
            service.close()
            hook.close()
    return downs, ups


def line(label: str, values: list[float]) -> str:
    return (
        f"{label}, {len(values)} outages: p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f} ms, "
        f"max {max(values):.0f} ms"
    )


def main() -> None:
    logging.disable(logging.WARNING)  # "api is down" forty times says nothing here
    downs, ups = run(hung_neighbour=False)
    print(line("failing check answered -> down message at the webhook", downs))
    print(line("recovering sweep started -> recovered message at the webhook", ups))
    downs, _ = run(hung_neighbour=True)
    print(line("the same with a hung neighbour in the sweep (waits up to group_wait_s 0.5 s)", downs))
    print(f"({env_summary()})")


if __name__ == "__main__":
    main()
