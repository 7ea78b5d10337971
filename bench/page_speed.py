"""Page speed of the dashboard in headless Chromium: cold paint of the table with sparklines, live updates.

    .venv/bin/python bench/page_speed.py [--services 50] [--days 7] [--runs 5] [--updates 10] [--tab-cpu-s 30]

Builds a fleet of loopback HTTP services (one threaded server, a path per service and latency),
writes `--days` of history for them at a 40 s interval, runs `python -m dash_app` on it as a
subprocess, then opens the page in Debian's Chromium (Playwright, never a downloaded browser):

- paint: from navigation start to the first frame in which the rows (all up to 150, else those on
  screen: the table draws only those) and their sparklines and heartbeat strips are drawn, in a
  fresh browser context (empty cache) each run;
- live update: from the moment a sweep's message reaches the page over the WebSocket to the frame
  in which the rows show that sweep;
- result → painted: from a check's result message to the end of the animation frame that patched
  its row, badge and sparkline (the page's own figure, `mcLive.stats.resultPaint`);
- CPU with one live tab open: the app process and all of Chromium's processes, % of one core;
- bytes before paint: every response that ended before the paint (Resource Timing), as sent on the
  wire (transferSize: compressed body + headers), as encoded body and as decoded (uncompressed) body.
Targets (issue 3): paint < 1500 ms, live update < 300 ms. Exits 1 if a median misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).absolute().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from common import LatencyServer  # noqa: E402 - the bench fleet's one loopback server

from ops.history.embedded_file import encode_sweep  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAINT_TARGET_MS, UPDATE_TARGET_MS, RESULT_TARGET_MS = 1500, 300, 100
URL_RE = re.compile(r"dashboard and API on (http://[\d.]+:\d+/)")

# Bytes of the document and every resource whose response ended before the paint frame.
BYTES_BEFORE_PAINT = """
(() => {
  const sum = {transferred: 0, encoded: 0, decoded: 0, responses: 0};
  for (const e of performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))) {
    if (e.responseEnd > window.__painted) continue;
    sum.transferred += e.transferSize; sum.encoded += e.encodedBodySize; sum.decoded += e.decodedBodySize;
    sum.responses += 1;
  }
  return sum;
})()
"""

# Polls every animation frame from the very start of the page; records the first frame in which the
# table shows its rows (all of them up to 150; beyond, the ones the screen holds: the table draws only
# those) and every drawn row on screen has its sparkline and heartbeat strip.
PAINT_PROBE = """
(() => {
  const want = %d;
  const check = () => {
    const rows = [...document.querySelectorAll('#mc-table-body tr.mc-row')];
    const enough = want > 150 ? rows.length >= 15 : rows.length >= want;
    const below = r => r.getBoundingClientRect().top > innerHeight;
    const drawn = rows.every(r => r.querySelector('svg.mc-spark .mc-beat') || below(r));
    if (enough && drawn) { window.__painted = performance.now(); return; }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""

# Per frame: which sweep the rows show; the first frame showing sweep s is when update s was applied
# (each result's sparkline point is drawn with its row: there is no separate figure to wait for).
UPDATE_PROBE = """
(() => {
  window.__applied = {};
  const loop = () => {
    const row = document.querySelector('#mc-table-body tr.mc-row');
    const rows = row && Number(row.getAttribute('data-sweep'));
    if (rows && !(rows in window.__applied)) window.__applied[rows] = performance.now();
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})();
"""


def fleet(count: int, port: int, closed_port: int) -> list[dict]:
    """Mostly healthy services, a few slow (degraded) and two on a closed port (down)."""
    rng = random.Random(3)  # synthetic bench input
    services = []
    for i in range(count):
        service = {
            "name": f"svc-{i:02d}",
            "health_endpoint": f"/d/{rng.randint(2, 60)}",
            "port": port,
            "degraded_latency_ms": 300,
            "timeout_s": 2,
        }
        if i % 17 == 5:
            service["health_endpoint"] = "/d/320"
        if i in (7, 31):
            service["port"] = closed_port
        services.append(service)
    return services


def write_history(path: Path, names: list[str], days: float, interval_s: float = 40.0) -> int:
    """`days` of sweeps at `interval_s`, ~1 % failed checks, latencies 3-150 ms."""
    rng = random.Random(1)
    now = datetime.now(UTC)
    sweeps = int(days * 86400 / interval_s)
    with open(path, "wb") as handle:
        for n in range(sweeps):
            ts = now - timedelta(seconds=(sweeps - n) * interval_s)
            rows = [
                (name, "down", 2000.0, None, "timeout after 2s")
                if rng.random() < 0.01
                else (name, "up", round(rng.uniform(3, 150), 1), 200, None)
                for name in names
            ]
            handle.write(encode_sweep(ts, rows))
    return sweeps * len(names)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(config: Path, data_dir: Path, interval: float) -> tuple[subprocess.Popen, str]:
    argv = [
        sys.executable,
        "-m",
        "dash_app",
        "--config",
        str(config),
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        "--ws-port",
        "0",
        "--interval",
        str(interval),
    ]
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    url = None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError(f"the app exited ({proc.wait()}) before it listened")
        match = URL_RE.search(line)
        url = url or (match.group(1) if match else None)
        if url and "monitoring" in line:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # keep draining
            return proc, url
    raise RuntimeError("the app did not start within 120 s")


def wait_js(page, expression: str, timeout: float = 30.0) -> None:
    """Poll with page.evaluate (wait_for_function uses eval(), which the page's CSP refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {expression} after {timeout:g} s")
        page.wait_for_timeout(10)


def paint_runs(browser, url: str, count: int, runs: int) -> list[dict]:
    results = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.add_init_script(PAINT_PROBE % count)
        page.goto(url)
        wait_js(page, "window.__painted !== undefined")
        fcp = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
        results.append({"painted": page.evaluate("window.__painted"), "fcp": fcp, **page.evaluate(BYTES_BEFORE_PAINT)})
        context.close()
    return results


def update_runs(browser, url: str, count: int, updates: int, interval: float) -> tuple[list[float], list[float]]:
    """(sweep message -> rows show it, per sweep; result message -> its row patched, per result)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.add_init_script(PAINT_PROBE % count)
    page.goto(url)
    wait_js(page, "window.__painted !== undefined && !!window.mcLive && window.mcLive.state === 'live'")
    page.evaluate(UPDATE_PROBE)
    deadline = time.monotonic() + (updates + 3) * interval + 30
    delays: dict[int, float] = {}
    while len(delays) < updates and time.monotonic() < deadline:
        time.sleep(interval / 2)
        received = page.evaluate("window.mcLive.stats.snapshots")
        applied = page.evaluate("window.__applied")
        for sweep, at in received.items():
            if sweep in applied and int(sweep) not in delays:
                delays[int(sweep)] = applied[sweep] - at
    result_paint = page.evaluate("window.mcLive.stats.resultPaint")
    context.close()
    return [delays[k] for k in sorted(delays)][:updates], result_paint


def cpu_seconds(processes: list) -> float:
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def app_cpu_alone(app_pid: int, seconds: float) -> float:
    """% of one core used by the app with no page open (its probing, history and figures)."""
    app = psutil.Process(app_pid)
    before, began = cpu_seconds([app]), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds([app]) - before) / (time.monotonic() - began)


def tab_cpu(browser, url: str, count: int, app_pid: int, seconds: float) -> tuple[float, float]:
    """% of one core used by the app and by Chromium (all its processes) with one live tab open."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.add_init_script(PAINT_PROBE % count)
    page.goto(url)
    wait_js(page, "window.__painted !== undefined && !!window.mcLive && window.mcLive.state === 'live'")
    page.wait_for_timeout(3000)  # settle: plotly fetched ahead, first callbacks done
    app = psutil.Process(app_pid)
    chromium = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]
    app_before, chromium_before, began = cpu_seconds([app]), cpu_seconds(chromium), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    elapsed = time.monotonic() - began
    app_pct = 100 * (cpu_seconds([app]) - app_before) / elapsed
    chromium_pct = 100 * (cpu_seconds(chromium) - chromium_before) / elapsed
    context.close()
    return app_pct, chromium_pct


def summary(label: str, values: list[float], target: float | None = None) -> str:
    line = (
        f"{label}: median {statistics.median(values):.0f} ms, min {min(values):.0f}, max {max(values):.0f}"
        f" (n={len(values)})"
    )
    if target is not None:
        line += f"  target < {target} ms: {'OK' if statistics.median(values) < target else 'MISSED'}"
    return line


def bytes_summary(paints: list[dict]) -> str:
    """Median bytes before paint: on the wire (headers included), encoded body, decoded body."""
    mb = {key: statistics.median(r[key] for r in paints) / 1e6 for key in ("transferred", "encoded", "decoded")}
    return (
        f"bytes before paint: {mb['transferred']:.2f} MB transferred ({mb['encoded']:.2f} MB encoded bodies,"
        f" {mb['decoded']:.2f} MB decoded) in {statistics.median(r['responses'] for r in paints):.0f} responses"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0, help="sweep interval of the app under test (s)")
    parser.add_argument("--tab-cpu-s", type=float, default=30.0, help="window for the CPU with a tab open (s)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    server = LatencyServer()
    with tempfile.TemporaryDirectory(prefix="mc-page-speed-") as tmp:
        tmp_path = Path(tmp)
        services = fleet(args.services, server.port, closed_port())
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"services": services, "interval_s": args.interval, "max_concurrency": 64}))
        began = time.monotonic()
        rows = write_history(tmp_path / "health_history.json", [s["name"] for s in services], args.days)
        print(
            f"history: {rows:,} rows ({args.services} services, {args.days:g} days at 40 s) "
            f"written in {time.monotonic() - began:.1f} s"
        )
        proc, url = start_app(config, tmp_path, args.interval)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                paint_runs(browser, url, args.services, 1)  # warm the server's first-request setup
                paints = paint_runs(browser, url, args.services, args.runs)
                updates, result_paint = update_runs(browser, url, args.services, args.updates, args.interval)
                app_cpu, chromium_cpu = tab_cpu(browser, url, args.services, proc.pid, args.tab_cpu_s)
                no_tab_cpu = app_cpu_alone(proc.pid, args.tab_cpu_s)
                browser.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            server.close()
    print(f"chromium {CHROMIUM}, {args.services} services, {args.days:g} days of history")
    print("load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(summary("first contentful paint", [r["fcp"] for r in paints if r["fcp"]]))
    print(summary("table + sparklines painted", [r["painted"] for r in paints], PAINT_TARGET_MS))
    print(summary("live update applied", updates, UPDATE_TARGET_MS))
    if result_paint:
        p95 = statistics.quantiles(result_paint, n=20)[-1] if len(result_paint) >= 20 else max(result_paint)
        print(summary("result -> its row painted", result_paint, RESULT_TARGET_MS) + f", p95 {p95:.0f} ms")
    print(bytes_summary(paints))
    print(
        f"CPU with one live tab open ({args.services} services every {args.interval:g} s, {args.tab_cpu_s:g} s):"
        f" app {app_cpu:.1f} % ({no_tab_cpu:.1f} % with no tab), Chromium {chromium_cpu:.1f} % of one core"
    )
    ok = statistics.median(r["painted"] for r in paints) < PAINT_TARGET_MS
    ok = ok and bool(updates) and statistics.median(updates) < UPDATE_TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
