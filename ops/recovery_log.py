"""The recovery log: one JSON line per attempt, kept across restarts."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

KEEP_IN_MEMORY = 5000


class RecoveryLog:
    """Append-only JSON-lines log; the newest entries are also kept in memory for the views."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path else None
        self._entries: deque[dict] = deque(maxlen=KEEP_IN_MEMORY)
        self._lock = threading.Lock()

    def load(self) -> int:
        """Read the file; unreadable lines are skipped and the original is kept aside."""
        if self.path is None or not self.path.exists():
            return 0
        bad = 0
        with open(self.path, "rb") as handle:
            for raw in handle:
                try:
                    entry = json.loads(raw)
                    if not isinstance(entry, dict):
                        raise ValueError("not an object")
                    self._entries.append(entry)
                except ValueError:
                    bad += 1
        if bad:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")
            os.replace(self.path, aside)
            log.warning("%s: %d unreadable line(s); original moved to %s", self.path, bad, aside)
            self._rewrite()
        return len(self._entries)

    def _rewrite(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(e, default=str) + "\n" for e in self._entries)
        os.replace(tmp, self.path)

    def append(self, entry: dict) -> None:
        with self._lock:
            self._entries.append(entry)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry, default=str) + "\n")

    def update(self, entry: dict) -> None:
        """Record a later state of an entry (same id): appended, newest wins when read."""
        self.append(entry)

    def recent(self, limit: int = 50, service: str | None = None) -> list[dict]:
        """Newest first, one line per entry id (its latest state)."""
        with self._lock:
            entries = list(self._entries)
        seen: set = set()
        out = []
        for entry in reversed(entries):
            key = entry.get("id")
            if key is not None and key in seen:
                continue
            seen.add(key)
            if service is None or entry.get("service") == service:
                out.append(entry)
                if len(out) >= limit:
                    break
        return out

    def clear(self) -> int:
        """Forget every entry, in memory and on disk; returns how many there were."""
        with self._lock:
            count = len({e.get("id") for e in self._entries})
            self._entries.clear()
            if self.path is not None and self.path.exists():
                self.path.write_text("", encoding="utf-8")
        return count
