"""The windows the dashboard's uptime and latency figures cover, and what uptime counts.

Every history store computes them by these rules (ops/history/protocol.py: `uptime`, `percentiles`,
`tallies`); ops/figures.py keeps them up to date check by check.
"""

from __future__ import annotations

from datetime import timedelta

UPTIME_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
LATENCY_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
# Uptime is the share of checks that passed (degraded ones did: they answered correctly). A failure
# below failure_threshold still counts: thresholds decide the status shown, not what happened, or a
# service failing two checks in three would show 100 %. Maintenance (announced downtime) is left out.
NOT_COUNTED = ("maintenance",)
