"""The details chart's hover labels name the moment in the viewer's zone with its offset (issue 10, item 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from callbacks.charts import detail_figure, iso_stamps
from callbacks.common import iso_local
from ops.history.rows import ChartPoint

NOW = datetime(2026, 3, 29, 0, 59, 50, tzinfo=UTC)  # Europe/Paris moves to summer time at 01:00 UTC
TOKYO = ZoneInfo("Asia/Tokyo")


def points_of(rows: list[tuple[int, str, float | None, str | None]]) -> list[ChartPoint]:
    """rows: (seconds before NOW, status, latency, error): each one check, as the store gives a short window."""
    return [
        ChartPoint(NOW - timedelta(seconds=ago), None if error else latency, status, int(bool(error)), 1, error)
        for ago, status, latency, error in rows
    ]


def test_iso_stamps_write_each_moment_as_iso_local_does():
    stamps = [datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC)]
    paris = ZoneInfo("Europe/Paris")
    assert iso_stamps(stamps, paris) == ["2026-03-29T01:59:59+01:00", "2026-03-29T03:00:01+02:00"]
    assert iso_stamps(stamps, paris) == [iso_local(t, paris) for t in stamps]
    assert iso_stamps(stamps, UTC) == ["2026-03-29T00:59:59+00:00", "2026-03-29T01:00:01+00:00"]
    assert iso_stamps([], UTC) == []


def test_every_hover_label_of_the_chart_carries_the_offset():
    points = points_of([(30, "up", 10.0, None), (20, "down", 1.0, "refused"), (10, "up", 12.0, None)])
    figure = detail_figure("svc", points, "1h", NOW, TOKYO)
    latency, failed, *timeline, _anchor = figure["data"]
    assert latency["customdata"][0] == ["2026-03-29T09:59:20+09:00", "UP"]
    assert latency["hovertemplate"].startswith("%{customdata[0]} · %{y:.1f} ms")
    assert failed["customdata"] == [["2026-03-29T09:59:30+09:00", "refused"]]
    assert "%{customdata[0]}" in failed["hovertemplate"]
    starts = {t["name"]: [c[1] for c in t["customdata"]] for t in timeline}
    assert starts == {
        "UP": ["2026-03-29T09:59:20+09:00", "2026-03-29T09:59:40+09:00"],
        "DOWN": ["2026-03-29T09:59:30+09:00"],
    }
    assert all(t["hovertemplate"] == "%{customdata[0]} from %{customdata[1]}<extra></extra>" for t in timeline)
