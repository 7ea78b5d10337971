"""Latency buckets shared by every store's rollups, so percentiles over long windows merge.

A rollup keeps, per service and per minute or hour, how many answered checks fell in each bucket.
Buckets grow geometrically by RATIO, so a percentile read from them is within one bucket's width
(±5 % of the value) of the exact one, whatever the latency. The same edges are used by the
embedded store (ops/history/rollup.py) and the PostgreSQL store (an int[] per aggregate row).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RATIO = 1.1
FIRST_EDGE_MS = 0.1
# Upper edges: bucket i holds FIRST_EDGE_MS * RATIO**(i-1) < ms <= FIRST_EDGE_MS * RATIO**i; bucket 0
# holds everything up to 0.1 ms, the last one everything above ~10 minutes.
LATENCY_EDGES_MS: tuple[float, ...] = tuple(FIRST_EDGE_MS * RATIO**i for i in range(171))
BUCKETS = len(LATENCY_EDGES_MS) + 1


def bucket_index(ms: float) -> int:
    """The bucket an answered latency falls in."""
    if ms <= FIRST_EDGE_MS:
        return 0
    i = math.ceil(math.log(ms / FIRST_EDGE_MS, RATIO) - 1e-9)
    return min(max(i, 1), BUCKETS - 1)


def bucket_value(i: int) -> float:
    """The value a percentile reads for bucket i: its geometric middle (its edge for the end ones)."""
    if i <= 0:
        return FIRST_EDGE_MS
    if i >= BUCKETS - 1:
        return LATENCY_EDGES_MS[-1]
    return math.sqrt(LATENCY_EDGES_MS[i - 1] * LATENCY_EDGES_MS[i])


def percentile_from_counts(counts: Sequence[int] | dict[int, int], q: float) -> float | None:
    """The q-th percentile (0..100) of the values counted per bucket; None when there are none.

    `counts` is dense (index = bucket) or sparse ({bucket: count}). Rank as numpy's "lower" method
    would pick it, then the bucket's middle: within one bucket of numpy's linear percentile."""
    items = sorted(counts.items()) if isinstance(counts, dict) else [(i, c) for i, c in enumerate(counts) if c]
    total = sum(c for _, c in items)
    if total == 0:
        return None
    rank = math.floor((total - 1) * q / 100.0)
    seen = 0
    for i, count in items:
        seen += count
        if seen > rank:
            return round(bucket_value(i), 1)
    return round(bucket_value(items[-1][0]), 1)  # pragma: no cover - rank < total always
