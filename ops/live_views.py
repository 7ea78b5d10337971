"""What the views are sent: each service's last view, encoded once, and the fleet rule kept current.

- A `result` message carries one view (and the fleet's overall/counts) the moment its check returns.
- At the end of a sweep (and on `republish`) one `sweep` message carries every top-level key of the
  snapshot (sweep, time, overall, counts, system, storage, ...) but only the service views that
  differ from the last one published for that service (by a result or an earlier sweep message).
- The full snapshot (type `snapshot`, every service) is kept as a dict and as JSON text for
  GET /api/health and for the first message a WebSocket client gets; its text is assembled from the
  views' cached texts, so a view is encoded once per change, not once per sweep, and kept until the
  next change, so a poller asking many times a sweep gets the same string object (dash_app/api.py
  keeps its bytes and their gzip by that identity).
"""

from __future__ import annotations

import threading
from datetime import datetime

from ops.events import EventBus, encode
from ops.fleet_tally import FleetTally
from ops.snapshot import build_snapshot


def _object_text(fields: dict, spliced: str, key: str = "services") -> str:
    """`fields` as a JSON object, in their order, with `spliced` (already JSON text) as the value of `key`."""
    names = list(fields)
    at = names.index(key)
    before = encode({k: fields[k] for k in names[:at]})[1:-1]  # each side encoded once, braces dropped
    after = encode({k: fields[k] for k in names[at + 1 :]})[1:-1]
    return "{" + ",".join(part for part in (before, f"{encode(key)}:{spliced}", after) if part) + "}"


def _older(view: dict, kept: dict) -> bool:
    """Whether `view` reports an earlier check than `kept` does (ISO times in UTC compare as text)."""
    return (view.get("last_checked") or "") < (kept.get("last_checked") or "")


class LiveViews:
    """Last views, their texts, the fleet tally, and the last full snapshot (dict and text)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._views: dict[str, dict] = {}
        self._texts: dict[str, str] = {}
        self._sent: dict[str, dict] = {}  # the view each service was last published with
        self._tally = FleetTally()
        self._snapshot: dict = {}
        self._snapshot_text = "{}"
        self._version = 0  # bumped by every change to a kept view or the snapshot
        self._current: tuple[int, str] = (-1, "")  # snapshot_text()'s last answer, and the version it was made at
        self._lock = threading.Lock()  # also keeps messages in the order of the state they carry

    def _keep(self, view: dict) -> str:
        """Remember `view` (reusing the text of an equal one); returns its JSON text.

        A view built before a newer check of its service was kept (a republish racing a sweep's
        result) is refused: the newer check stands, never an older one put back over it."""
        name = view["name"]
        old = self._views.get(name)
        if old is not None and (old is view or old == view or _older(view, old)):
            return self._texts[name]
        text = encode(view)
        self._views[name], self._texts[name] = view, text
        self._tally.put(view)
        self._version += 1
        return text

    def publish_result(self, view: dict) -> None:
        """One service's new view, at once, with the fleet summary it makes."""
        with self._lock:
            text = self._keep(view)
            self._sent[view["name"]] = self._views[view["name"]]
            fleet = self._tally.summary()
            self.bus.publish_text(_object_text({"type": "result", "service": None, **fleet}, text, key="service"))

    def publish_sweep(self, now: datetime, views: list[dict], system: dict, sweep: int, storage: dict) -> dict:
        """Keep the full snapshot of `views` (in order); publish the sweep delta; return the snapshot."""
        with self._lock:
            texts, changed = [], []
            for view in views:
                texts.append(self._keep(view))
                name = view["name"]
                kept = self._views[name]
                if self._sent.get(name) is not kept:
                    if self._sent.get(name) != kept:
                        changed.append(texts[-1])
                    self._sent[name] = kept
            snapshot = build_snapshot(
                now, [self._views[v["name"]] for v in views], system, sweep, storage, fleet=self._tally.summary()
            )
            delta = _object_text({**snapshot, "type": "sweep"}, "[" + ",".join(changed) + "]")
            self.bus.publish_text(delta)
            self._snapshot, self._snapshot_text = snapshot, _object_text(snapshot, "[" + ",".join(texts) + "]")
            self._version += 1  # new top-level fields (sweep, time, system, storage) even if no view changed
            return snapshot

    def snapshot(self) -> dict:
        with self._lock:
            return self._snapshot

    def snapshot_text(self) -> str:
        """The last snapshot with every service's latest view (results since that sweep included) and
        the fleet summary they make: what a new client or a poll must start from, since the next
        sweep message carries only views that changed since they were last published.

        Made once per change (under the lock that every change takes), so it is never older than the
        live views: a view or snapshot kept after it was made bumps the version and the next call
        builds it again."""
        with self._lock:
            if not self._snapshot:
                return self._snapshot_text
            version, text = self._current
            if version != self._version:
                names = [view["name"] for view in self._snapshot["services"]]
                texts = "[" + ",".join(self._texts[name] for name in names) + "]"
                text = _object_text({**self._snapshot, **self._tally.summary()}, texts)
                self._current = (self._version, text)
            return text
