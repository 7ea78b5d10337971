"""The core object the three views (REST, WebSocket, Dash) share; none of them probes itself."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from config.settings import Settings
from ops.events import EventBus
from ops.monitor import Monitor
from ops.notify import Notifier
from ops.probes import Prober
from ops.recovery import RecoveryEngine
from ops.recovery_log import RecoveryLog
from ops.store import HistoryStore

log = logging.getLogger(__name__)


class Core:
    """Settings, history, live state, event bus and recovery log of one running dashboard."""

    def __init__(
        self, settings: Settings, data_dir: str | Path, history_path: str | Path | None = None, demo=None
    ) -> None:
        self.settings = settings
        self.demo = demo  # the embedded DemoFleet when started with --demo (its services can be restarted)
        self.data_dir = Path(data_dir)
        self.history_path = Path(history_path) if history_path else self.data_dir / "health_history.json"
        self.bus = EventBus()
        self.store = HistoryStore(self.history_path, timedelta(days=settings.retention_days))
        self.prober = Prober()  # every outbound check, the monitor's and verification's alike
        self.monitor = Monitor(settings, self.store, self.bus, self.data_dir, prober=self.prober)
        log_path = settings.recovery.log_path or self.data_dir / "recovery_log.jsonl"
        self.recovery_log = RecoveryLog(log_path)
        self.recovery = RecoveryEngine(
            settings,
            self.monitor,
            self.bus,
            self.recovery_log,
            demo=demo,
            state_path=self.data_dir / "recovery_state.json",
            prober=self.prober,
        )
        # The path of one check result: Monitor._record applies it to the live state, stores it with
        # the status the overrides give (maintenance), publishes it on the bus, then calls each
        # listener: recovery first, notifications, then the Prometheus counters (dash_app/factory.py).
        self.monitor.status_overrides.append(self.recovery.status_override)
        self.monitor.view_extras.append(self.recovery.view_extra)
        self.monitor.result_listeners.append(self.recovery.on_result)
        # Then notifications: an append to the notifier's inbox; Apprise sends on its own threads.
        self.notifier = Notifier(settings, self.bus, self.data_dir)
        self.monitor.result_listeners.append(self.notifier.on_result)
        self.started_at = time.time()

    def start(self, run_loop: bool = True) -> None:
        """Load what was saved, make the first snapshot, and (normally) start the loop."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store.load()
        self.recovery_log.load()
        self.recovery.start()  # before the first snapshot, so it shows saved maintenance/circuits
        self.notifier.start()
        self.monitor.restore()
        if run_loop:
            self.monitor.start()

    def stop(self) -> None:
        """Stop recoveries and the loop, flush and close the history, release every listener."""
        self.recovery.stop()  # first: no attempt may start from the last sweep
        self.monitor.stop()
        self.notifier.stop()  # after the loop: its last results are in the inbox (unsent ones are logged)
        self.prober.close()
        self.store.close()
        self.bus.close()

    def service_names(self) -> list[str]:
        return [s.name for s in self.settings.services]

    def metrics(self) -> dict:
        """Counters and figures for GET /api/metrics."""
        monitor = self.monitor
        sweeps = list(monitor.sweep_ms)
        snapshot = monitor.snapshot()
        return {
            "uptime_s": round(time.time() - self.started_at, 1),
            "checks": monitor.checks,
            "failures": monitor.failures,
            "sweeps": monitor.loop_status()["sweeps"],  # sweep_ms keeps only the last 1000
            "sweep_ms": {
                "last": round(sweeps[-1], 1) if sweeps else None,
                "avg": round(sum(sweeps) / len(sweeps), 1) if sweeps else None,
                "max": round(max(sweeps), 1) if sweeps else None,
            },
            "history_rows": len(self.store),
            "latency": {s["name"]: s["latency"] for s in snapshot.get("services", [])},
            "recoveries": len(self.recovery_log.recent(limit=10_000)),
            "websocket_clients": len(self.bus),
            "system": snapshot.get("system", {}),
        }
