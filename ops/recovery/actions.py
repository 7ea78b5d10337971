"""Recovery actions: a base class and one subclass per kind; the engine decides when to run them."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from config.settings import ServiceSettings
from ops.deadline import Watchdog
from ops.http_fetch import fetch
from ops.probes import describe

log = logging.getLogger(__name__)

OK, FAILED, TIMED_OUT = "ok", "failed", "timed_out"
TAIL_CHARS = 2000  # what an entry keeps of an action's output: enough to read the error


@dataclass(frozen=True)
class ActionContext:
    """What one attempt is about: the action may pass it on (env vars, webhook body)."""

    service: ServiceSettings
    trigger: str  # "auto" | "manual"
    attempt: int
    entry_id: str


@dataclass(frozen=True)
class ActionResult:
    """How an action ended; the engine turns it into the entry's outcome."""

    outcome: str  # OK | FAILED | TIMED_OUT
    exit_code: int | None = None
    output_tail: str | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)


def tail(text: str | None) -> str | None:
    """The last TAIL_CHARS characters of some output, or None when there was none."""
    if not text:
        return None
    return text[-TAIL_CHARS:]


class RecoveryAction:
    """One way of bringing a service back. Subclasses implement `run`; it may block for timeout_s."""

    kind = "none"

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    def run(self, ctx: ActionContext) -> ActionResult:
        raise NotImplementedError

    def execute(self, ctx: ActionContext) -> ActionResult:
        """`run`, but a bug or an unexpected error becomes a failed result, never an exception."""
        try:
            return self.run(ctx)
        except Exception as exc:  # noqa: BLE001 - an action must never kill the worker thread
            log.exception("%s action for %s crashed", self.kind, ctx.service.name)
            return ActionResult(FAILED, error=f"{type(exc).__name__}: {exc}"[:500])

    def cancel(self) -> None:
        """Stop what `run` is doing (shutdown); only actions that can be stopped override this."""

    def describe(self) -> str:
        return self.kind


class HttpAction(RecoveryAction):
    """POST a JSON body naming the service to a webhook (new connection, hard deadline); 2xx = done."""

    kind = "http"

    def __init__(self, url: str, timeout_s: float, watchdog: Watchdog | None = None) -> None:
        super().__init__(timeout_s)
        self.url = url
        self.watchdog = watchdog or Watchdog()  # ends the call at timeout_s even if the webhook drips

    def run(self, ctx: ActionContext) -> ActionResult:
        body = {
            "service": ctx.service.name,
            "target": ctx.service.target,
            "trigger": ctx.trigger,
            "attempt": ctx.attempt,
            "id": ctx.entry_id,
        }
        deadline = time.monotonic() + self.timeout_s
        try:
            reply = fetch(
                self.url,
                deadline,
                self.watchdog,
                method="POST",
                body=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                read_limit=TAIL_CHARS * 4,
            )
        except Exception as exc:  # noqa: BLE001 - every way a webhook can fail is a failed action
            if time.monotonic() >= deadline:
                return ActionResult(TIMED_OUT, error=f"webhook did not answer within {self.timeout_s:g}s")
            return ActionResult(FAILED, error=f"webhook unreachable: {describe(exc, self.timeout_s)}")
        code, text = reply.status, reply.body.decode("utf-8", errors="replace")
        extra = {"http_status": code}
        if 200 <= code < 300:
            return ActionResult(OK, output_tail=tail(text), extra=extra)
        return ActionResult(FAILED, output_tail=tail(text), error=f"webhook answered HTTP {code}", extra=extra)

    def describe(self) -> str:
        return f"http POST {self.url}"


class DemoAction(RecoveryAction):
    """Stop and start the demo fleet's process for this service (same port, new PID)."""

    kind = "demo"

    def __init__(self, fleet, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self.fleet = fleet

    def run(self, ctx: ActionContext) -> ActionResult:
        if self.fleet is None:
            return ActionResult(FAILED, error="no demo fleet is running (start with --demo)")
        name = ctx.service.name
        old = self.fleet.pid(name)
        try:
            self.fleet.restart_service(name)
        except TimeoutError as exc:
            return ActionResult(TIMED_OUT, error=str(exc))
        new = self.fleet.pid(name)
        return ActionResult(OK, output_tail=f"restarted demo service {name}: pid {old} -> {new}", extra={"pid": new})
