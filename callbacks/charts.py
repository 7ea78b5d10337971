"""The service-details chart: latency over a window, failed checks, and a status timeline below it."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from callbacks.common import iso_local, local_ms, wall_ms
from layouts.common import STATUS_HEX, status_text
from ops.fleet import SEVERITY
from ops.history.rows import ChartPoint
from ops.stats import UPTIME_WINDOWS

WINDOWS: dict[str, timedelta] = dict(UPTIME_WINDOWS)  # "1h", "24h", "7d"
MAX_POINTS = 1000  # per trace: 7 days at 40 s would be 15 000 SVG points
# The timeline's statuses, worst first by the one severity order (ops/fleet.py), by which the store's
# chart_points also picks the worst status of a bucket.
TIMELINE = tuple(status for status in SEVERITY if status != "disabled")
GRID = "rgba(128,128,128,0.22)"


def window_span(window: str | None) -> timedelta:
    return WINDOWS.get(window or "1h", WINDOWS["1h"])


def chart_points(store, name: str, window: str | None, now: datetime) -> list[ChartPoint]:
    """The points of one service's chart: each check, or MAX_POINTS time buckets over a long window."""
    return store.chart_points(name, window_span(window), MAX_POINTS, now)


def iso_stamps(stamps: list[datetime], tz: tzinfo) -> list[str]:
    """Each moment as local ISO 8601 with its offset ("2026-12-02T18:17:55+09:00"), as iso_local writes it.

    The chart's x values are wall-clock numbers without a zone, so a hover label that says which zone
    it is in must carry the text itself."""
    return [iso_local(moment, tz) for moment in stamps]


def status_runs(stamps: list[int], statuses: list[str], end: int) -> list[tuple[str, int, int]]:
    """(status, start, end) for each run of equal statuses; the last run lasts until `end`."""
    runs: list[tuple[str, int, int]] = []
    for i, (stamp, status) in enumerate(zip(stamps, statuses, strict=True)):
        if runs and runs[-1][0] == status:
            continue
        if runs:
            runs[-1] = (runs[-1][0], runs[-1][1], stamp)
        runs.append((status, stamp, stamps[i]))
    if runs:
        runs[-1] = (runs[-1][0], runs[-1][1], max(end, runs[-1][1]))
    return runs


def _timeline_traces(runs: list[tuple[str, int, int]], iso_at: dict[int, str]) -> list[dict]:
    """One horizontal bar trace per status on the lower axis (a Gantt of the window); `iso_at` names
    each point's moment with its offset for the hover."""
    traces = []
    for status in TIMELINE:
        mine = [(start, stop) for s, start, stop in runs if s == status]
        if not mine:
            continue
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": status_text(status),
                "y": ["status"] * len(mine),
                "base": [start for start, _ in mine],
                "x": [max(stop - start, 1) for start, stop in mine],
                "marker": {"color": STATUS_HEX[status]},
                "xaxis": "x2",
                "yaxis": "y2",
                "customdata": [[status_text(status), iso_at.get(start, "")] for start, _ in mine],
                "hovertemplate": "%{customdata[0]} from %{customdata[1]}<extra></extra>",
                "showlegend": False,
            }
        )
    return traces


def with_gaps(x: list[int], columns: list[list], gap_ms: float, filler: list) -> tuple[list[int], list[list]]:
    """x and its columns with a break (x midway, `filler` values) wherever two points lie more than
    `gap_ms` apart: no line is drawn across time when nothing was measured (the dashboard was stopped)."""
    out_x: list[int] = []
    out = [[] for _ in columns]
    for i, stamp in enumerate(x):
        if i and stamp - x[i - 1] > gap_ms:
            out_x.append((stamp + x[i - 1]) // 2)
            for column, fill in zip(out, filler, strict=True):
                column.append(fill)
        out_x.append(stamp)
        for column, values in zip(out, columns, strict=True):
            column.append(values[i])
    return out_x, out


def window_anchor(span: timedelta, now: datetime, tz: tzinfo) -> dict:
    """An invisible trace at both ends of the window: autorange then spans the chosen 1 h / 24 h / 7 d
    even when the history is shorter, without an explicit range (which would beat the operator's zoom)."""
    end = wall_ms(now, tz)
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "window",
        "x": [end - int(span.total_seconds() * 1000), end],
        "y": [0, 0],
        "marker": {"opacity": 0, "size": 1},
        "hoverinfo": "skip",
        "showlegend": False,
    }


def detail_figure(
    name: str,
    points: list[ChartPoint],
    window: str,
    now: datetime,
    tz: tzinfo,
    sweep: int | None = None,
    interval_s: float = 40.0,
) -> dict:
    """Latency line, failed checks, status timeline; x zoomable with a range slider, zoom kept on updates."""
    span = window_span(window)
    moments = [p.ts for p in points]
    x = local_ms(moments, tz)
    stamps = iso_stamps(moments, tz)
    statuses = [p.status for p in points]
    latency = [None if p.latency_ms is None else round(p.latency_ms, 1) for p in points]
    failed_at = [i for i, p in enumerate(points) if p.failed]
    end = wall_ms(now, tz)
    # A bucket of the downsampled chart is one "interval" too: a gap is two of the larger missing.
    bucketed = any(p.checks > 1 for p in points)
    gap_ms = 2000 * max(interval_s, span.total_seconds() / MAX_POINTS if bucketed else 0)
    line_x, (line_y, line_status, line_iso) = with_gaps(x, [latency, statuses, stamps], gap_ms, [None, "pending", ""])
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers" if len(x) <= 300 else "lines",
            "name": "latency",
            "x": line_x,
            "y": line_y,
            "customdata": [[iso, status_text(s)] for iso, s in zip(line_iso, line_status, strict=True)],
            "line": {"color": "#0d6efd", "width": 1.5},
            "marker": {"size": 4, "color": [STATUS_HEX.get(s, "#6c757d") for s in line_status]},
            "connectgaps": False,
            "hovertemplate": "%{customdata[0]} · %{y:.1f} ms · %{customdata[1]}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "failed",
            "x": [x[i] for i in failed_at],
            "y": [0] * len(failed_at),
            "customdata": [[stamps[i], points[i].error or "failed"] for i in failed_at],
            "marker": {"symbol": "x", "size": 8, "color": STATUS_HEX["down"]},
            "cliponaxis": False,
            "hovertemplate": "%{customdata[0]} · FAILED · %{customdata[1]}<extra></extra>",
        },
        *_timeline_traces(status_runs(x, statuses, end), dict(zip(x, stamps, strict=True))),
        window_anchor(span, now, tz),
    ]
    return {
        "data": data,
        "layout": {
            "height": 380,
            "margin": {"l": 52, "r": 12, "t": 8, "b": 8},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"size": 11},
            "xaxis": {
                "type": "date",
                # No explicit range: a range that moves with every update would beat the user's zoom
                # (plotly keeps a zoom under the same uirevision only while the figure's value is unchanged).
                "autorange": True,
                "gridcolor": GRID,
                "rangeslider": {
                    "visible": True,
                    "thickness": 0.1,
                    "autorange": True,
                    "bgcolor": "rgba(0,0,0,0)",
                    "bordercolor": GRID,
                    "borderwidth": 1,
                },
            },
            # The status timeline sits on top, on its own x axis that follows the main one: the range
            # slider below then draws only the latency, not a wall of status bars.
            "xaxis2": {"type": "date", "matches": "x", "anchor": "y2", "showticklabels": False, "showgrid": False},
            "yaxis": {
                "domain": [0, 0.8],
                "title": {"text": "ms"},
                "rangemode": "tozero",
                "fixedrange": True,
                "gridcolor": GRID,
                "zeroline": False,
            },
            "yaxis2": {
                "domain": [0.87, 1],
                "anchor": "x2",
                "fixedrange": True,
                "showgrid": False,
            },
            "barmode": "overlay",
            "bargap": 0,
            "hovermode": "closest",
            "dragmode": "zoom",
            "showlegend": False,
            "modebar": {"bgcolor": "rgba(0,0,0,0)", "color": "#6c757d", "activecolor": "#0d6efd"},
            "uirevision": f"{name}|{window}",
            "meta": {"service": name, "window": window, "sweep": sweep},
        },
    }
