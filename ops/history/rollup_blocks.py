"""A closed bucket of every service as one Block, and the Rollups' side of the file (rollup_file.py).

`closed_blocks` hands each closed bucket out once for the file to append; `block` encodes one bucket
(its errors as a local table); `put` decodes one back into the rings (a file's service order may
differ from ours). A mixin of Rollups (ops/history/rollup.py): it works on that class's rings and tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ops.history.buckets import BUCKETS
from ops.history.rollup_ring import Ring


@dataclass
class Block:
    """One closed bucket of every service: the unit the file stores and `put` loads."""

    grain: str  # "minute" or "hour"
    start: int  # bucket number: minutes or hours since the epoch
    services: list[str]  # row i of every array is services[i]
    status: np.ndarray  # (n, len(STATUSES)) uint16
    failed: np.ndarray  # (n,) uint16, as are up and answered
    up: np.ndarray
    answered: np.ndarray
    latency_sum: np.ndarray  # (n,) float64
    latency_min: np.ndarray  # (n,) float32, 0 where nothing answered; as is latency_max
    latency_max: np.ndarray
    errors: list[str]  # the texts `error` points into
    error: np.ndarray  # (n,) int32: 0 for none, else 1 + index into errors
    hist: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # hours: offsets(n+1), bucket u8, count u16


class RollupBlocks:
    """Rollups' encoding of closed buckets as Blocks and decoding of Blocks back into the rings."""

    def closed_blocks(self) -> list[Block]:
        """Every bucket closed since the last call, oldest first (each handed out once)."""
        closed, self._closed = self._closed, []
        return [self.block(ring.grain, number) for ring, number in closed]

    def block(self, grain: str, number: int) -> Block | None:
        """The bucket `number` of `grain` for every service, or None if it is not held."""
        ring = self.minutes if grain == "minute" else self.hours
        slot = number % ring.slots
        if ring.label[slot] != number:
            return None
        n = len(self.services)
        raw = ring.error[slot, :n]
        used = np.unique(raw[raw > 0])
        local = np.zeros(len(self.errors) + 1, np.int32)
        local[used] = np.arange(1, len(used) + 1)
        return Block(
            grain, number, list(self.services), ring.status[slot, :n].copy(),
            ring.failed[slot, :n].copy(), ring.up[slot, :n].copy(), ring.answered[slot, :n].copy(),
            ring.latency_sum[slot, :n].astype(np.float64), ring.latency_min[slot, :n].copy(),
            ring.latency_max[slot, :n].copy(), [self.errors[i - 1] for i in used], local[raw],
            self.hists.get(number) if grain == "hour" else None,
        )  # fmt: skip

    def put(self, block: Block) -> bool:
        """Load a closed bucket (from the file); False if the ring holds a newer one in its slot."""
        ring = self.minutes if block.grain == "minute" else self.hours
        if block.start < ring.floor or ring.label[block.start % ring.slots] > block.start:
            return False
        if self._put_names[0] is not block.services:  # the file's blocks share one list per names line
            names = block.services
            self._put_names = (names, np.fromiter((self._service(x) for x in names), np.int64, len(names)))
        idx = self._put_names[1]
        slot = ring.slot_for(block.start)
        ring.status[slot, idx] = block.status
        for name in Ring.FIELDS[:-1]:
            getattr(ring, name)[slot, idx] = getattr(block, name)
        table = np.array([0] + [1 + self._error(text) for text in block.errors], np.int32)
        ring.error[slot, idx] = table[block.error]
        ring.closed = max(ring.closed, block.start)
        if block.hist is not None:
            self._put_hist(block.start, idx, block.hist)
        return True

    def _put_hist(self, hour: int, idx: np.ndarray, hist: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        offsets, buckets, counts = hist
        if np.array_equal(idx, np.arange(len(idx))):  # the file's order is ours (the usual case)
            self.hists[hour] = hist
        else:
            dense = np.zeros((len(self.services), BUCKETS), np.uint16)
            dense[np.repeat(idx, np.diff(offsets)), buckets] = counts
            svc, bucket = np.nonzero(dense)
            sizes = np.bincount(svc, minlength=len(self.services))
            self.hists[hour] = (
                np.concatenate(([0], np.cumsum(sizes))).astype(np.int32),
                bucket.astype(np.uint8),
                dense[svc, bucket],
            )
        self.fleet_hists[hour] = np.bincount(buckets, weights=counts, minlength=BUCKETS).astype(np.uint32)
