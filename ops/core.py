"""The core object the three views (REST, WebSocket, Dash) share; none of them probes itself."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from config.settings import Settings
from ops.events import EventBus
from ops.history.open import open_delivery_log, open_recovery_log, open_recovery_state, open_store
from ops.history.protocol import HistoryStore
from ops.leader import Leadership, SoleLeader
from ops.live_relay import LiveRelay
from ops.monitor import Monitor
from ops.notify import Notifier
from ops.probes import Prober
from ops.recovery import RecoveryEngine

log = logging.getLogger(__name__)


def follower_text(leader: dict | None) -> str:
    """Why a follower runs no sweep, naming who does (the API's 409, the page's toast)."""
    who = f"the leader ({leader['id']})" if leader else "the leader (none known right now)"
    return f"this dashboard follows; {who} runs the sweeps"


class Core:
    """Settings, history, live state, event bus and recovery log of one running dashboard."""

    def __init__(
        self,
        settings: Settings,
        data_dir: str | Path,
        history_path: str | Path | None = None,
        demo=None,
    ) -> None:
        self.settings = settings
        self.demo = demo  # the embedded DemoFleet when started with --demo (its services can be restarted)
        self.data_dir = Path(data_dir)
        self.history_path = Path(history_path) if history_path else self.data_dir / "health_history.json"
        self.bus = EventBus()
        self.store: HistoryStore = open_store(settings, self.data_dir, self.history_path)
        self.prober = Prober()  # every outbound check, the monitor's and verification's alike
        self.monitor = Monitor(settings, self.store, self.bus, self.data_dir, prober=self.prober)
        self.recovery_log = open_recovery_log(settings, self.data_dir)  # shared with the history's database
        # Policy state (attempts, circuits, maintenance, switches): PostgreSQL's table, or state_path.
        self.recovery_state = open_recovery_state(settings, self.recovery_log)
        self.recovery = RecoveryEngine(
            settings,
            self.monitor,
            self.bus,
            self.recovery_log,
            demo=demo,
            state_path=self.data_dir / "recovery_state.json",
            prober=self.prober,
            shared=self.recovery_state,
        )
        # The path of one check result: Monitor._record applies it to the live state, stores it with
        # the status the overrides give (maintenance), publishes it on the bus, then calls each
        # listener: recovery first, notifications, then the Prometheus counters (dash_app/factory.py).
        self.monitor.status_overrides.append(self.recovery.status_override)
        self.monitor.view_extras.append(self.recovery.view_extra)
        self.monitor.result_listeners.append(self.recovery.on_result)
        # Then notifications: an append to the notifier's inbox; Apprise sends on its own threads.
        deliveries = open_delivery_log(settings, self.data_dir, self.recovery_log)  # shared like the recovery log
        self.notifier = Notifier(settings, self.bus, self.data_dir, delivery_log=deliveries)
        self.monitor.result_listeners.append(self.notifier.on_result)
        self._lead_or_follow(settings.storage.database_url)
        self.started_at = time.time()

    def _lead_or_follow(self, shared_url: str | None) -> None:
        """Several dashboards over one PostgreSQL (`shared_url`): one leader probes and recovers, the
        others show what it relays (ops/leader.py, ops/live_relay.py). Alone: always the leader."""
        self.relay = None
        if shared_url is None:
            self.leadership = SoleLeader()
            return
        self.leadership = Leadership(
            shared_url,
            self.settings.interval_s,
            on_gain=self._take_over,  # runs before is_leader turns true: nothing gated on it acts meanwhile
            on_ready=self.monitor.trigger_sweep,  # leading now: the first sweep at once
            on_loss=self._follow,
        )
        self.recovery_state.who = self.leadership.leader_id  # who wrote a row, for whoever reads the table
        self.monitor.leading = self.recovery.leading = self.notifier.leading = lambda: self.leadership.is_leader
        self.recovery.who_leads = self.leadership.leader
        self.relay = LiveRelay(shared_url, self.monitor, self.bus, self.leadership)

    def _take_over(self) -> None:
        """Leadership won, not yet published: the live state from the shared history, the old leader's
        attempts ended. No sweep, announcement or attempt of ours can run until this returns."""
        self.monitor.restore()
        self.recovery.take_over()  # attempts, backoff and circuits as the last leader left them
        self.notifier.take_over()  # incidents it announced are not announced again (queued before any result)
        self.recovery.interrupt_orphans("the leading dashboard was lost during the attempt")

    def _follow(self) -> None:
        """Leadership lost (probing has already stopped: the gates read is_leader): end our attempts."""
        self.recovery.cancel_running()

    def leader_status(self) -> dict:
        """Who probes, for GET /api/loop-status: {"leader": {"id", "since", "is_me"} or None, "role",
        "stale_leader": {"id", "heartbeat"} of a lock holder that stopped beating, or None}."""
        leadership = self.leadership
        return {"leader": leadership.leader(), "role": leadership.role(), "stale_leader": leadership.stale_leader()}

    def not_leading(self) -> dict | None:
        """None while this dashboard probes; else who does, for a 409 or a toast: {"reason", "leader"}."""
        if self.leadership.is_leader:
            return None
        return {"reason": "not_leader", "leader": self.leadership.leader()}

    def next_sweep(self) -> datetime | None:
        """When this dashboard's next sweep is due, or None on a follower (its idle loop's time means
        nothing: the clock then counts from the leader's last sweep plus the interval)."""
        return self.monitor.next_run if self.leadership.is_leader else None

    def start(self, run_loop: bool = True) -> None:
        """Load what was saved, make the first snapshot, and (normally) start the loop."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store.load()
        self.recovery_log.load()
        self.recovery.start()  # before the first snapshot, so it shows saved maintenance/circuits
        self.notifier.start()
        self.monitor.restore()
        if self.relay is not None:
            self.relay.start()
        self.leadership.start()  # a leader's first sweep waits for the loop (run_loop, or cli's start)
        if run_loop:
            self.monitor.start()

    def stop(self) -> None:
        """Stop recoveries and the loop, flush and close the history, release every listener."""
        self.recovery.stop()  # first: no attempt may start from the last sweep
        self.monitor.stop()
        self.leadership.stop()  # after the loop: the next leader starts once ours has ended
        if self.relay is not None:
            self.relay.stop()
        self.notifier.stop()  # after the loop: its last results are in the inbox (unsent ones are logged)
        self.prober.close()
        if self.recovery_state is not None:
            self.recovery_state.close()
        self.recovery_log.close()  # last of the three on its pool: held entries flushed, the pool closed
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
