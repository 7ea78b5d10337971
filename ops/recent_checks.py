"""How many of the last checks the page's sparklines and heartbeat strips show, and how far back they lie.

The browser draws them itself (assets/22_mc_sparks.js) from the store's `spark_points` and appends
each live result, so the server sends them once per row it shows, not on every update.
"""

from __future__ import annotations

from datetime import datetime, timedelta

SPARK_POINTS = 30  # checks per row: each has one slot, its point on the line and its block in the strip
MAX_POINTS = 500


def spark_since(interval_s: float, now: datetime, points: int = SPARK_POINTS) -> datetime:
    """How far back the last `points` checks can be (generous, so one late sweep does not cut them)."""
    return now - timedelta(seconds=max(interval_s, 0.2) * points * 3 + 60)
