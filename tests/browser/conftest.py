"""Browser tests: the real app in-process, loopback test services, Debian's Chromium driven by Playwright.

Playwright (pinned in requirements-test.txt) drives /usr/bin/chromium; it never downloads a browser.
Without Playwright or Chromium the run fails at once with what is missing: never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INTERVAL_S = 0.5
DEADLINE_S = 15.0


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-test.txt)"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing (make browser)"
    return None


def pytest_collection_modifyitems(config, items):
    if not any("tests/browser" in str(item.fspath) for item in items):
        return
    reason = _missing()
    if reason is not None:
        raise pytest.UsageError(f"browser tests cannot run: {reason} (`make test` installs both)")


def wait_for(
    predicate: Callable[[], object], timeout: float = DEADLINE_S, what: str = "condition", page=None
) -> object:
    """Poll until predicate() is truthy; fail with `what` after the deadline.

    Pass the page when the predicate reads what its event handlers record: Playwright's sync API only
    delivers events while it runs, so the wait must sleep inside Playwright, not in time.sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        if page is not None:
            page.wait_for_timeout(50)
        else:
            time.sleep(0.05)


class TestService:
    """A loopback HTTP service that can be stopped and started again on the same port.

    GET answers "ok" after `delay_s`; POST /restart (the recovery action) is counted.
    """

    __test__ = False  # not a test class

    def __init__(self, name: str, delay_s: float = 0.0) -> None:
        self.name = name
        self.delay_s = delay_s
        self.restarts = 0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self.start()

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                time.sleep(service.delay_s)
                self._answer(200, b"ok")

            def do_POST(self) -> None:  # noqa: N802
                if self.path.startswith("/restart"):
                    service.restarts += 1
                self._answer(200, b"restarted")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def start(self) -> None:
        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None


@dataclass
class Dashboard:
    """One running app with its services; `url` is the page."""

    app: object
    services: dict[str, TestService]
    url: str
    ws_port: int
    data_dir: str
    extra: dict = field(default_factory=dict)

    @property
    def core(self):
        return self.app.core


def service_config(service: TestService, **extra) -> dict:
    config = {
        "name": service.name,
        "port": service.port,
        "health_endpoint": "/health",
        "timeout_s": 1,
        "failure_threshold": 1,
        "recovery": {"action": "http", "url": f"http://127.0.0.1:{service.port}/restart", "auto": False},
    }
    config.update(extra)
    return config


@pytest.fixture
def dashboard(tmp_path):
    """alpha, beta (fast) and gamma-slow (~120 ms) checked every 0.5 s; the app serves on free ports.

    beta has no recovery action; the others restart through a webhook.
    """
    services = {name: TestService(name, delay) for name, delay in (("alpha", 0), ("beta", 0), ("gamma-slow", 0.12))}
    configs = [
        service_config(services["alpha"], tags=["core"]),
        service_config(services["beta"], recovery={"action": "none"}),  # nothing to run
        service_config(services["gamma-slow"], degraded_latency_ms=1000),
    ]
    yield from serve_dashboard(tmp_path, services, configs)


def serve_dashboard(tmp_path, services: dict[str, TestService], configs: list[dict]):
    """Yield a Dashboard of `configs` checked every INTERVAL_S, after two sweeps; stop it and `services` after."""
    from config import settings_from_dict
    from dash_app.factory import create_app

    settings = settings_from_dict({"services": configs, "interval_s": INTERVAL_S}, "browser test")
    app = create_app(settings, data_dir=tmp_path, start_monitor=True)
    app.serve("127.0.0.1", 0, 0)
    try:
        wait_for(lambda: app.core.monitor.snapshot().get("sweep", 0) >= 2, what="two sweeps")
        yield Dashboard(app, services, f"http://127.0.0.1:{app.http.port}/", app.ws.port, str(tmp_path))
    finally:
        app.stop()
        for service in services.values():
            service.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageRecord:
    """What a page did: console messages, page errors, every URL it asked for (HTTP and WebSocket)."""

    console: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    urls: list = field(default_factory=list)

    def console_errors(self) -> list[str]:
        return [m for kind, m in self.console if kind == "error"] + self.errors

    def hosts(self) -> set[str]:
        return {urlsplit(u).netloc for u in self.urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")}


def open_page(browser, url: str, width: int = 1400, height: int = 1000, color_scheme: str = "light"):
    """A fresh context (no cache, no storage) and a page that records what it does."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=color_scheme, accept_downloads=True
    )
    page = context.new_page()
    record = PageRecord()
    page.on("console", lambda m: record.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: record.errors.append(str(e)))
    page.on("request", lambda r: record.urls.append(r.url))
    page.on("websocket", lambda ws: record.urls.append(ws.url))
    page.set_default_timeout(DEADLINE_S * 1000)
    page.goto(url)
    wait_live(page)
    return context, page, record


def wait_js(page, expression: str, timeout: float = DEADLINE_S, what: str | None = None):
    """Poll a JS expression with page.evaluate: page.wait_for_function evaluates strings with eval(),
    which the page's Content-Security-Policy (rightly) refuses."""
    return wait_for(lambda: page.evaluate(expression), timeout, what or expression, page)


# Live, and the rows drawn from the socket's first snapshot (the layout carries none).
LIVE_JS = "!!(window.mcLive && window.mcLive.state === 'live' && document.querySelector('#mc-table-body tr'))"


def wait_live(page, timeout: float = DEADLINE_S) -> None:
    wait_js(page, LIVE_JS, timeout, "the live connection and the rows")


@pytest.fixture
def page(browser, dashboard):
    context, page, record = open_page(browser, dashboard.url)
    page.record = record
    yield page
    context.close()


def row(page, name: str):
    return page.locator(f"#mc-table-body tr[data-service='{name}']")


def table_sweep(page) -> int:
    """The sweep the table shows (every row carries it)."""
    value = page.evaluate("(document.querySelector('#mc-table-body tr.mc-row') || {}).dataset?.sweep")
    return int(value or 0)


def wait_for_table_sweep(page, after: int, timeout: float = DEADLINE_S) -> int:
    return wait_for(lambda: table_sweep(page) > after and table_sweep(page), timeout, f"a sweep after #{after}", page)
