"""The delivery log: one JSON line per send and per outcome, bounded, damaged lines set aside.

It is the recovery log's file (ops/recovery_log.py: AppendFile writes that never raise, a full disk
held in memory, damaged lines salvaged with the original kept as `.corrupt-<ts>`), plus a bound:
once the file holds twice `keep` lines it is rewritten with the newest `keep` (temp file + replace).
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from pathlib import Path

from ops.append_file import AppendFile, WriteHealth
from ops.recovery_log import MAX_HELD_BYTES, RecoveryLog

log = logging.getLogger(__name__)


class DeliveryLog(RecoveryLog):
    """Newest entries in memory for the API and the page; the file never grows past 2 x `keep` lines."""

    def __init__(self, path: str | os.PathLike[str] | None, keep: int = 5000) -> None:
        super().__init__(path)
        self.keep = keep
        self._entries = deque(maxlen=keep)
        self._lines = 0
        if self.path is not None:
            self._out = AppendFile(self.path, WriteHealth("notification delivery log", log), MAX_HELD_BYTES, False)

    def load(self) -> int:
        count = super().load()
        self._lines = count
        return count

    def append(self, entry: dict) -> None:
        super().append(entry)
        self._lines += 1
        if self._out is not None and self._lines >= 2 * self.keep and self._out.health.ok:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the file with what memory keeps (the newest `keep` lines)."""
        with self._lock:
            entries = list(self._entries)
            tmp = Path(str(self.path) + ".tmp")
            try:
                with open(tmp, "w", encoding="utf-8") as handle:
                    for entry in entries:
                        handle.write(json.dumps(entry, default=str) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                self._out.swap(tmp)
                self._lines = len(entries)
            except OSError as exc:  # a full disk: keep appending to the long file; try again later
                tmp.unlink(missing_ok=True)
                log.warning("%s: cannot trim the delivery log: %s", self.path, exc)
                self._lines = self.keep  # not at once on the next line

    # A dashboard alone has no successor to tell: the incidents it announced live in its memory.
    def incident_opened(self, service: str, incident_id: str, since, reason: str) -> None:
        pass

    def incident_reminded(self, service: str, incident_id: str, reminders: int) -> None:
        pass

    def incident_closed(self, service: str, incident_id: str) -> None:
        pass

    def open_incidents(self) -> list[dict] | None:
        return None
