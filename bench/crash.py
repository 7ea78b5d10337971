"""Crash: SIGKILL the app at random moments while it writes history and the recovery log; restart each time.

Run: .venv/bin/python bench/crash.py [--kills 100] [--max-minutes 10] [--seed 5]
(target: every restart loads cleanly, i.e. no *.corrupt-* file, no traceback, every complete sweep on disk
loaded; at most the sweep in flight is lost per kill)

20 services at a 0.5 s interval: 16 answer within 10-400 ms, 4 refuse connections and are "recovered" by `/bin/true`
at every failure (threshold 1, no cooldown), so history lines and recovery-log lines are written
several times a second. A WebSocket client records every result the app pushed before the kill;
what it saw that is not on disk afterwards is what the kill lost.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
import websocket
from common import AppProcess, LatencyServerProcess, env_summary

from ops.history.embedded_file import TS_FORMAT

HEALTHY, FAILING = 16, 4
INTERVAL_S = 0.5
LOADED_RE = re.compile(r"history: (\d+) rows loaded")
FAST_POLICY = {
    "cooldown_s": 0,
    "backoff_max_s": 0,
    "max_attempts": 100,
    "window_s": 1,
    "verify_timeout_s": 0.2,
    "verify_interval_s": 0.05,
    "healthy_reset_s": 0,
    "max_concurrent": FAILING,
}


def fleet(server: LatencyServerProcess, closed_port: int) -> dict:
    # Answers spread over 10-400 ms: a sweep lasts most of the interval, so kills land mid-sweep.
    services = [{"name": f"ok-{i:02d}", "url": server.url(f"/d/{10 + i * 26}"), "timeout_s": 1} for i in range(HEALTHY)]
    recovery = {"action": "command", "command": [shutil.which("true") or "/bin/true"], "restart_failures": 1}
    for i in range(FAILING):
        services.append(
            {"name": f"bad-{i}", "type": "tcp", "port": closed_port, "timeout_s": 0.5, "recovery": recovery}
        )
    return {"services": services, "interval_s": INTERVAL_S, "recovery": FAST_POLICY}


class Watcher(threading.Thread):
    """A WebSocket client keeping (service, check time) of every result pushed to it."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=5)
        self.seen: set[tuple[str, datetime]] = set()

    def run(self) -> None:
        try:
            while True:
                message = json.loads(self.ws.recv())
                if message.get("type") == "result" and message["service"].get("last_checked"):
                    view = message["service"]
                    self.seen.add((view["name"], datetime.fromisoformat(view["last_checked"])))
        except (OSError, ValueError, websocket.WebSocketException):
            pass  # the app was killed


def on_disk(history: Path) -> tuple[set[tuple[str, datetime]], int, bool]:
    """Checks in complete lines of the history file, their count, and whether a torn tail follows."""
    checks: set[tuple[str, datetime]] = set()
    rows, torn = 0, False
    data = history.read_bytes() if history.exists() else b""
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            torn = True
            break
        sweep = json.loads(line)
        ts = datetime.strptime(sweep["ts"], TS_FORMAT).replace(tzinfo=UTC)
        checks.update((row[0], ts) for row in sweep["rows"])
        rows += len(sweep["rows"])
    return checks, rows, torn


def recovery_lines(path: Path) -> tuple[int, int]:
    """Lines of the recovery log (each must parse) and attempts left "running" by a kill."""
    latest: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    for line in lines:
        entry = json.loads(line)  # raises on a torn or corrupt line: the benchmark fails loudly
        latest[entry["id"]] = entry["outcome"]
    return len(lines), sum(1 for outcome in latest.values() if outcome == "running")


def problems(app: AppProcess, data: Path) -> list[str]:
    """A traceback or a load warning on the app's stderr, or a file moved aside as corrupt."""
    text = "".join(app.lines)
    found = [f"stderr: {word}" for word in ("Traceback", "unreadable", "corrupt") if word in text]
    found += [f"file: {p.name}" for p in data.glob("*.corrupt-*")]
    return found


def start_and_check(config: dict, data: Path, expected_rows: int, expected_ids: int) -> tuple[AppProcess, list[str]]:
    """Start the app; it must load every complete sweep and every recovery-log entry."""
    app = AppProcess(config, data)
    found = []
    loaded = next((int(m[1]) for m in map(LOADED_RE.search, app.lines) if m), None)
    if loaded != expected_rows:
        found.append(f"history: loaded {loaded} rows, {expected_rows} on disk")
    logs = requests.get(f"http://127.0.0.1:{app.port}/api/logs?limit=5000", timeout=10).json()
    if min(expected_ids, 5000) > logs["count"]:
        found.append(f"recovery log: API shows {logs['count']} entries, {expected_ids} on disk")
    return app, found


def distinct_ids(path: Path) -> int:
    return len({json.loads(line)["id"] for line in path.read_text().splitlines()}) if path.exists() else 0


def run(kills: int, max_minutes: float, seed: int, data: Path) -> None:
    rng = random.Random(seed)
    server = LatencyServerProcess()
    closed = socket_port()
    config = fleet(server, closed)
    history, rlog = data / "health_history.json", data / "recovery_log.jsonl"
    lost, torn, failures, done, older = [], 0, [], 0, 0
    began = time.monotonic()
    deadline = began + max_minutes * 60
    app = None
    try:
        while done < kills and time.monotonic() < deadline:
            app, found = start_and_check(config, data, on_disk(history)[1], distinct_ids(rlog))
            failures += [f"restart {done}: {f}" for f in found]
            watcher = Watcher(app.ws_port)
            watcher.start()
            time.sleep(rng.uniform(0.05, 2.5))
            app.proc.kill()  # SIGKILL, by PID
            app.proc.wait(10)
            watcher.join(5)
            failures += [f"run {done}: {f}" for f in problems(app, data)]  # its whole stderr, start-up included
            checks, _, tail = on_disk(history)
            missing = watcher.seen - checks
            lost.append(len(missing))
            # Only the sweep in flight may be lost: a missing check from a sweep already on disk is a bug.
            newest = max((ts for _, ts in checks), default=None)
            older += sum(1 for _, ts in missing if newest is not None and ts <= newest)
            torn += tail
            done += 1
        app, found = start_and_check(config, data, on_disk(history)[1], distinct_ids(rlog))
        app.stop()
        failures += [f"final restart: {f}" for f in found + problems(app, data)]
    finally:
        if app is not None:
            app.stop()
        server.close()
    print(f"crash: {done} SIGKILLs in {(time.monotonic() - began) / 60:.1f} min", end="")
    report(done, lost, older, torn, failures, history, rlog, data)


def socket_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def report(done, lost, older, torn, failures, history, rlog, data) -> None:
    lines, running = recovery_lines(rlog)
    sweeps = len(history.read_bytes().splitlines())
    print(" at random moments (0.05-2.5 s after start-up), each followed by a restart and checks")
    print(
        f"  history: {sweeps} sweep lines on disk; torn last line after {torn} kills (cut off at restart as designed)"
    )
    print(f"  recovery log: {lines} lines, every one valid JSON; {running} attempts left 'running' by a kill")
    print(
        f"  checks pushed on the WebSocket but not on disk, per kill: max {max(lost)}, "
        f"mean {sum(lost) / len(lost):.1f}, kills losing any {sum(1 for n in lost if n)} "
        f"(services per sweep: {HEALTHY + FAILING}); from sweeps already on disk: {older}"
    )
    print(
        f"  .corrupt-* files: {len(list(data.glob('*.corrupt-*')))}; .torn-* files: {len(list(data.glob('*.torn-*')))}"
    )
    print(f"  restarts with a problem: {len(failures)}")
    for failure in failures[:20]:
        print(f"    {failure}")
    print(f"({env_summary()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--max-minutes", type=float, default=15.0, help="stop killing after this long")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mc-crash-") as tmp:
        run(args.kills, args.max_minutes, args.seed, Path(tmp))


if __name__ == "__main__":
    main()
