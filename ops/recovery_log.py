"""The recovery log: one JSON line per attempt, kept across restarts."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

from ops.append_file import AppendFile, WriteHealth, describe

log = logging.getLogger(__name__)

KEEP_IN_MEMORY = 5000
MAX_HELD_BYTES = 2 << 20  # entries waiting for a full disk (they are in memory for the views regardless)
# Fields the views and the engine read, and the types they can handle (None is always fine).
TEXT_FIELDS = (
    "time", "service", "trigger", "action", "outcome", "reason", "reason_code", "finished", "error", "output_tail",
)  # fmt: skip
INT_FIELDS = ("attempt", "exit_code")
NUMBER_FIELDS = ("duration_s", "action_s", "time_to_healthy_s")


def entry_problem(entry) -> str | None:
    """Why a decoded line is no entry the views can show, or None if it is one."""
    if not isinstance(entry, dict):
        return "not an object"
    if entry.get("id") is not None and not _is_int(entry["id"]) and not isinstance(entry["id"], str):
        return "id"  # a list id is unhashable: recent() would raise on every page load
    for key in TEXT_FIELDS:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return key
    for key in INT_FIELDS:
        if entry.get(key) is not None and not _is_int(entry[key]):
            return key
    for key in NUMBER_FIELDS:
        if entry.get(key) is not None and not (_is_int(entry[key]) or isinstance(entry[key], float)):
            return key
    for key, value in entry.items():  # what we write is flat: a nested value would break every serialiser
        if isinstance(value, (list, dict)):
            return key
    return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_entry(raw: bytes) -> dict | None:
    """One line as an entry, or None if it is damaged (json.loads raises RecursionError on "[[[[...")."""
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return entry if entry_problem(entry) is None else None


class RecoveryLog:
    """Append-only JSON-lines log; the newest entries are also kept in memory for the views."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path else None
        self._entries: deque[dict] = deque(maxlen=KEEP_IN_MEMORY)
        self._lock = threading.Lock()
        health = WriteHealth("recovery log", log)
        self._out = AppendFile(self.path, health, MAX_HELD_BYTES, keep_open=False) if self.path else None

    def load(self) -> int:
        """Read the file; damaged lines go (with the whole original) to a `.corrupt-<ts>` copy."""
        if self.path is None:
            return 0
        bad = unterminated = 0
        try:
            with open(self.path, "rb") as handle:
                for raw in handle:
                    entry = parse_entry(raw)
                    if entry is None:
                        bad += 1 if raw.strip() else 0
                    else:
                        self._entries.append(entry)
                    unterminated = not raw.endswith(b"\n")
        except FileNotFoundError:
            pass
        except OSError as exc:  # unreadable (EIO, a file where a folder should be): start, say why
            log.warning("%s: cannot read the recovery log (%s); starting with what is in memory", self.path, exc)
            return len(self._entries)
        if bad:
            self._salvage(bad)
        elif unterminated:  # AppendFile.open ends it before the next entry, so that one is not glued on
            log.warning("%s: the last line had no newline; the next entry starts a new line", self.path)
        return len(self._entries)

    def _salvage(self, bad: int) -> None:
        """Rewrite the readable lines streamed from the file (memory keeps only the newest), original aside."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")
        try:
            kept = self._write_readable(tmp)
            try:
                os.link(self.path, aside)  # the original, whole; needs no free space
            except OSError:
                shutil.copy2(self.path, aside)
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if not aside.exists() or aside.stat().st_size != self.path.stat().st_size:
                aside.unlink(missing_ok=True)
            log.warning(
                "%s: %d unreadable line(s) left in place (%s); repaired at a later start", self.path, bad, describe(exc)
            )
            return
        log.warning(
            "%s: %d unreadable line(s); original moved to %s, %d readable entries kept", self.path, bad, aside, kept
        )

    def _write_readable(self, tmp: Path) -> int:
        kept = 0
        with open(self.path, "rb") as source, open(tmp, "wb") as target:
            for raw in source:
                if parse_entry(raw) is not None:
                    target.write(raw if raw.endswith(b"\n") else raw + b"\n")
                    kept += 1
            target.flush()
            os.fsync(target.fileno())
        return kept

    def append(self, entry: dict) -> None:
        """Keep the entry and write it. Never raises: the engine releases its running marker after this."""
        try:
            line = (json.dumps(entry, default=str) + "\n").encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            log.error("recovery log entry %s not written: %s", entry.get("id"), exc)
            line = None
        with self._lock:
            self._entries.append(entry)
            if self._out is not None and line is not None:
                self._out.append(line)  # on a full disk: held, one ERROR a minute, written when space frees

    def update(self, entry: dict) -> None:
        """Record a later state of an entry (same id): appended, newest wins when read."""
        self.append(entry)

    def storage_status(self) -> dict:
        """{"ok", "error", "since"}: whether entries reach the file."""
        return {"ok": True, "error": None, "since": None} if self._out is None else self._out.health.status()

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
            if self._out is not None:
                self._out.truncate()
        return count

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
