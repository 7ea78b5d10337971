"""Take the README's screenshots: the demo fleet in headless Chromium, light and dark, plus the details.

    .venv/bin/python docs/take_screenshots.py [--warmup 45]

Runs `python -m dash_app --demo` (1 s sweeps, so the sparklines fill up), asks for one manual
recovery through the API so the recovery log has an entry, and writes docs/dashboard-light.png,
docs/dashboard-dark.png, docs/dashboard-details.png, docs/dashboard-phone.png (375 px) and
docs/dashboard-outage.png (a demo service killed, taken while its row is DOWN: the toast, the
favicon and the heartbeat strip).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).absolute().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
URL_RE = re.compile(r"dashboard and API on (http://[\d.]+:\d+/)")


def start_demo(data_dir: str) -> tuple[subprocess.Popen, str]:
    argv = [
        sys.executable,
        "-m",
        "dash_app",
        "--demo",
        "--port",
        "0",
        "--ws-port",
        "0",
        "--interval",
        "1",
        "--data-dir",
        data_dir,
    ]
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError(f"the demo exited ({proc.wait()})")
        if match := URL_RE.search(line):
            return proc, match.group(1)
    raise RuntimeError("the demo did not start")


def recover(url: str, service: str) -> None:
    body = json.dumps({"service": service}).encode()
    request = urllib.request.Request(url + "api/recovery", body, {"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError as exc:  # the picture is still worth taking without a log entry
        print(f"recovery request failed: {exc}", file=sys.stderr)


def kill_demo_service(demo: subprocess.Popen, name: str) -> bool:
    """SIGKILL the demo fleet's process for `name` (a child of our demo process): an outage to show."""
    for child in Path("/proc").glob("[0-9]*"):
        try:
            status = (child / "status").read_text()
            argv = (child / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), "")
        if parent == str(demo.pid) and b"ops.demo_service" in argv and name.encode() in argv:
            os.kill(int(child.name), signal.SIGKILL)
            return True
    return False


def shoot_outage(browser, url: str, demo: subprocess.Popen, path: Path) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#mc-table-body svg.mc-spark .mc-beat")
    page.wait_for_timeout(1500)
    if kill_demo_service(demo, "bytebot-desktop"):
        # The moment the row is DOWN and its toast is up. The demo's automatic recovery brings the
        # service back within a second, sooner than a screenshot is taken on a busy machine, so the
        # page then stops reading the socket (messages are only held back: the picture is a state
        # the page really was in, with the server's callbacks of that moment settled).
        down = (
            "document.querySelector(\"#mc-table-body tr[data-service='bytebot-desktop']\")?.dataset.status === 'down'"
            " && document.querySelectorAll('#mc-toasts .toast').length >= 1"
        )
        hold = "(() => { const ws = mcLive.ws; if (ws) { window.mcHeld = []; ws.onmessage = e => mcHeld.push(e); } })()"
        deadline = time.monotonic() + 30
        while not page.evaluate(f"({down}) && ({hold} || true)"):
            if time.monotonic() > deadline:
                break
            page.wait_for_timeout(20)
        page.wait_for_timeout(500)  # the header and cards (server callbacks) catch up with the row
    page.screenshot(path=str(path))
    context.close()
    print(f"wrote {path.relative_to(ROOT)}")


def shoot(browser, url: str, scheme: str, path: Path, details: str | None = None, width: int = 1440) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 800 else 812}, color_scheme=scheme)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#mc-table-body svg.mc-spark .mc-beat")
    deadline = time.monotonic() + 30
    while not page.evaluate("!!(window.mcLive && window.mcLive.state === 'live')") and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # (not wait_for_function: it evaluates with eval(), which the CSP refuses)
    # A toast of the demo's own flaky checks ("llm-proxy is UP") would cover a corner of the page:
    # wait for it to go (they last 10 s); the outage picture is the one with toasts.
    deadline = time.monotonic() + 12
    while page.evaluate("document.querySelectorAll('#mc-toasts .toast').length") and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    if details:
        page.locator(f"#mc-table-body tr[data-service='{details}'] td").nth(2).click()
        page.wait_for_selector("#mc-details-chart .scatterlayer .trace")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(path))
    else:
        page.wait_for_timeout(1200)
        page.mouse.move(5, 890 if width > 800 else 800)
        viewport = 900 if width > 800 else 812
        bottom = page.evaluate("document.querySelector('main').getBoundingClientRect().bottom")
        if bottom + 8 > viewport:  # end at the last card that fits whole, not halfway through the next one
            cards = "Array.from(document.querySelectorAll('main .card')).map(c => c.getBoundingClientRect().bottom)"
            bottom = page.evaluate(f"Math.max(0, ...{cards}.filter(b => b + 8 <= {viewport}))") or viewport
        height = min(viewport, bottom + 8)
        page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": width, "height": height})
    context.close()
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=float, default=45.0, help="seconds of sweeps before the pictures")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mc-shots-") as tmp:
        proc, url = start_demo(tmp)
        try:
            time.sleep(args.warmup)
            recover(url, "bytebot-agent")
            time.sleep(6)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                shoot(browser, url, "light", DOCS / "dashboard-light.png")
                shoot(browser, url, "dark", DOCS / "dashboard-dark.png")
                shoot(browser, url, "light", DOCS / "dashboard-details.png", details="bytebot-agent")
                shoot(browser, url, "dark", DOCS / "dashboard-phone.png", width=375)
                shoot_outage(browser, url, proc, DOCS / "dashboard-outage.png")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
