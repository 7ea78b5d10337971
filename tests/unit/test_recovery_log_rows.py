"""Each recovery-log row says why on one line, with the whole reason on hover."""

from __future__ import annotations

from datetime import UTC

from callbacks.recovery import REASON_CHARS, log_views
from layouts.recovery import entry_list

STDERR = "Stopping bytebot-agent\nError response from daemon: No such container: bytebot-agent\n"


class FakeLog:
    def __init__(self, entries: list[dict]) -> None:
        self.entries = entries

    def recent(self, limit: int = 20, service: str | None = None) -> list[dict]:
        return [e for e in self.entries if service in (None, e.get("service"))][:limit]


class FakeCore:
    def __init__(self, *entries: dict) -> None:
        self.recovery_log = FakeLog([{"id": f"e{n}", "service": "bytebot-agent", **e} for n, e in enumerate(entries)])


def row(entry: dict) -> dict:
    return log_views(FakeCore(entry), UTC)[0]


def detail_cells(component) -> list:
    """The detail <div> of every row of a rendered entry list."""
    found = []

    def walk(node) -> None:
        if "mc-log-detail" in (getattr(node, "className", None) or ""):
            found.append(node)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str):
                walk(child)

    walk(component)
    return found


def test_a_failed_command_shows_its_last_stderr_line_and_the_exit_code_once():
    view = row(
        {"outcome": "action_failed", "error": "exit code 1", "exit_code": 1, "duration_s": 0.21, "output_tail": STDERR}
    )
    assert view["detail"] == "exit code 1 · Error response from daemon: No such container: bytebot-agent · 0.2 s"
    assert view["detail_title"] == f"exit code 1\n{STDERR.strip()}\n0.2 s"


def test_webhook_docker_and_verification_reasons_reach_the_row():
    webhook = row({"outcome": "action_failed", "error": "webhook answered HTTP 503", "output_tail": "<h1>busy</h1>"})
    assert webhook["detail"] == "webhook answered HTTP 503 · <h1>busy</h1>"
    docker = row({"outcome": "action_failed", "error": "Docker engine not reachable: no socket", "duration_s": 0})
    assert docker["detail"] == "Docker engine not reachable: no socket · 0.0 s"
    still = row({"outcome": "still_down", "duration_s": 60.4, "output_tail": "restarted container bytebot-agent"})
    assert still["detail"] == "still down after verification · 60.4 s"
    assert "restarted container bytebot-agent" in still["detail_title"]  # what the action said, on hover
    timed_out = row({"outcome": "timed_out", "error": "timed out after 5s; process group killed", "output_tail": "w"})
    assert timed_out["detail"] == "timed out after 5s; process group killed · w"
    skipped = row({"outcome": "skipped", "reason": "circuit open: 3 attempts in 1 h", "duration_s": 0.0})
    assert skipped["detail"].startswith("circuit open: 3 attempts in 1 h")


def test_a_recovery_shows_its_duration_and_no_output_in_the_line():
    view = row({"outcome": "recovered", "duration_s": 4.9, "output_tail": "restarted demo service x: pid 1 -> 2"})
    assert view["detail"] == "4.9 s"
    assert view["detail_title"] == "restarted demo service x: pid 1 -> 2\n4.9 s"


def test_a_long_reason_is_cut_to_one_line_and_kept_whole_in_the_title():
    body = "upstream said: " + "x" * 400
    view = row({"outcome": "action_failed", "error": "webhook answered HTTP 500", "output_tail": body, "forced": True})
    short, _, facts = view["detail"].rpartition(" · ")
    assert facts == "forced" and short.startswith("webhook answered HTTP 500 · upstream said: xxx")
    assert short.endswith("…") and len(short) == REASON_CHARS
    assert body in view["detail_title"] and "\n" not in view["detail"]


def texts(node) -> list[str]:
    return [child.children for child in node.children]


def test_the_log_table_keeps_the_facts_whole_and_the_whole_reason_in_the_title():
    core = FakeCore(
        {"outcome": "action_failed", "error": "exit code 2", "exit_code": 2, "output_tail": STDERR, "duration_s": 3},
        {"outcome": "recovered", "duration_s": 1.0},
        {"outcome": "still_down"},
    )
    views = log_views(core, UTC)
    failed, recovered, still = detail_cells(entry_list(views))
    assert texts(failed) == ["exit code 2 · Error response from daemon: No such container: bytebot-agent", "· 3.0 s"]
    assert failed.title == f"exit code 2\n{STDERR.strip()}\n3.0 s"
    reason, facts = failed.children
    assert "text-truncate" in reason.className and "text-nowrap" in facts.className  # the reason gives way first
    assert texts(recovered) == ["1.0 s"] and recovered.title == "1.0 s"
    assert texts(still) == ["still down after verification"]
    assert [" ".join(texts(cell)) for cell in (failed, recovered, still)] == [v["detail"] for v in views]


def test_the_details_drawer_lists_the_same_rows_without_the_service_column():
    views = log_views(FakeCore({"outcome": "skipped", "reason": "circuit_open"}), UTC)
    (cell,) = detail_cells(entry_list(views, show_service=False))
    assert texts(cell) == ["circuit_open"] and cell.title == "circuit_open"
