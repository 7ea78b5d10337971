"""`python -m ops.bytebot_health`: one sweep without the server; exit 0 only when all are up.

Usable as a Docker HEALTHCHECK or from cron. Thresholds are not applied here: one sweep is one
look, so a service counts as up when this check of it succeeded (degraded, i.e. slow, counts too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime

from config import ConfigError, load_settings
from config.settings import ServiceSettings
from ops.probes import Prober, ProbeResult, timeout_text

GRACE_S = 1.0  # the command ends at most this long after the slowest service's timeout


def sweep(services: list[ServiceSettings]) -> list[ProbeResult]:
    """Check all services at once (one daemon thread each), results in config order.

    Every check ends by its own deadline; the join below is a second fence, and daemon threads
    mean nothing left running can hold the process open after it answers.
    """
    prober, ts = Prober(), datetime.now(UTC)
    results: dict[int, ProbeResult] = {}

    def run(index: int, service: ServiceSettings) -> None:
        results[index] = prober.check(service, ts)

    threads = [threading.Thread(target=run, args=(i, s), daemon=True) for i, s in enumerate(services)]
    for thread in threads:
        thread.start()
    end = time.monotonic() + max((s.timeout_s for s in services), default=0) + GRACE_S
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return [
        results.get(i) or ProbeResult(s.name, False, None, None, f"{timeout_text(s.timeout_s)} (no answer)", ts)
        for i, s in enumerate(services)
    ]


def status_of(service: ServiceSettings, result: ProbeResult) -> str:
    if not result.ok:
        return "down"
    slow = service.degraded_latency_ms is not None and (result.latency_ms or 0) > service.degraded_latency_ms
    return "degraded" if slow else "up"


def table(services: list[ServiceSettings], results: list[ProbeResult]) -> str:
    lines = [f"{'SERVICE':<20} {'STATUS':<9} {'LATENCY':>9}  {'TARGET':<40} ERROR"]
    for service, result in zip(services, results, strict=True):
        latency = "-" if result.latency_ms is None else f"{result.latency_ms:.1f}ms"
        status = status_of(service, result)
        lines.append(f"{service.name:<20} {status:<9} {latency:>9}  {service.target:<40} {result.error or ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bytebot_health", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (env HEALTH_CONFIG_PATH; default config/health_config.json)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config or os.environ.get("HEALTH_CONFIG_PATH") or None)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    services = [s for s in settings.services if s.enabled]
    results = sweep(services)
    healthy = all(status_of(s, r) != "down" for s, r in zip(services, results, strict=True))
    if args.json:
        out = [{**r.as_dict(), "status": status_of(s, r)} for s, r in zip(services, results, strict=True)]
        print(json.dumps({"healthy": healthy, "services": out}, indent=2))
    else:
        print(table(services, results))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
