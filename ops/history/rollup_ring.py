"""The rollups' storage: one numpy ring per grain (minutes, hours), `slots` buckets by `capacity` services.

Slot-major, so one sweep writes one contiguous row and untouched slots are never resident (np.zeros
pages are lazy); a slot holds bucket number `label[slot]`. See ops/history/rollup.py for the layout's
sizes and the retention the rings are sized for. Not thread-safe: the store's lock guards it.
"""

from __future__ import annotations

import numpy as np

from ops.fleet import severity

STATUSES = ("up", "degraded", "down", "pending", "maintenance")  # columns of the status counts
STATUS_INDEX = {name: i for i, name in enumerate(STATUSES)}
MAINTENANCE = STATUS_INDEX["maintenance"]  # not counted for uptime
WORST_FIRST = sorted(range(len(STATUSES)), key=lambda i: severity(STATUSES[i]))


class Ring:
    """One grain's buckets: `slots` time buckets by `capacity` services."""

    FIELDS = ("failed", "up", "answered", "latency_sum", "latency_min", "latency_max", "error")

    def __init__(self, grain: str, seconds: int, slots: int, capacity: int, sum_dtype: type) -> None:
        self.grain, self.seconds, self.slots = grain, seconds, slots
        self.sum_dtype = sum_dtype
        self.label = np.full(slots, -1, np.int64)
        self.closed = -1  # every bucket numbered <= closed is final
        self.current: int | None = None  # the open bucket
        self.floor = 0  # buckets below it were dropped by retention
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        shape = (self.slots, capacity)
        self.status = np.zeros((*shape, len(STATUSES)), np.uint16)
        self.failed, self.up, self.answered = (np.zeros(shape, np.uint16) for _ in range(3))
        self.latency_sum = np.zeros(shape, self.sum_dtype)
        self.latency_min, self.latency_max = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        self.error = np.zeros(shape, np.int32)

    def grow(self, capacity: int) -> None:
        """Room for more services; only held slots are copied (the rest stay unresident zeros)."""
        old = {name: getattr(self, name) for name in ("status", *self.FIELDS)}
        width = self.capacity
        self._allocate(capacity)
        for slot in np.flatnonzero(self.label >= 0):
            for name, array in old.items():
                getattr(self, name)[slot, :width] = array[slot]

    def slot_for(self, number: int) -> int:
        """The slot of bucket `number`, cleared if it held an older bucket."""
        slot = number % self.slots
        if self.label[slot] != number:
            self.status[slot] = 0
            for name in self.FIELDS:
                getattr(self, name)[slot] = 0
            self.label[slot] = number
        return slot

    def available_from(self) -> int:
        """The oldest bucket number the ring can still hold."""
        newest = int(self.label.max())
        return max(self.floor, newest - self.slots + 1) if newest >= 0 else 1 << 62

    def held(self, first: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """(numbers, slots) of the buckets first <= number < end that the ring holds, oldest first."""
        numbers = np.arange(max(first, end - self.slots, self.floor), end, dtype=np.int64)
        slots = numbers % self.slots
        keep = self.label[slots] == numbers
        return numbers[keep], slots[keep]

    def sums(self, slots: np.ndarray, col: int | slice) -> tuple[np.ndarray, ...]:
        """(status, failed, up, answered, latency_sum) summed over the slots, per service of `col`."""
        return tuple(
            getattr(self, name)[slots, col].sum(axis=0, dtype=np.float64 if name == "latency_sum" else np.int64)
            for name in ("status", "failed", "up", "answered", "latency_sum")
        )

    def drop_before(self, number: int) -> int:
        """Forget buckets numbered below `number`; how many service-buckets with checks went."""
        self.floor = max(self.floor, number)
        gone = np.flatnonzero((self.label >= 0) & (self.label < number))
        dropped = int(np.count_nonzero(self.status[gone].sum(axis=2))) if len(gone) else 0
        self.label[gone] = -1
        return dropped
