"""The sparkline column: the last checks of every visible row, drawn as ONE plotly figure.

One figure for all rows paints ~0.4 s sooner than a graph per row, and two traces (a line with gaps
between rows, markers only where they say something) redraw in ~10 ms where 50 traces with 3000
markers took ~100 ms.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pandas as pd

from callbacks.common import local_ms
from layouts.common import STATUS_HEX, fmt_ms, status_text
from layouts.table import ROW_HEIGHT

SPARK_POINTS = 60  # checks per sparkline
LINE_COLOUR = "#0d6efd"


def spark_since(interval_s: float, now: datetime, points: int = SPARK_POINTS) -> datetime:
    """How far back the last `points` checks can be (generous, so one late sweep does not cut them)."""
    return now - timedelta(seconds=max(interval_s, 0.2) * points * 3 + 60)


def spark_points(frame: pd.DataFrame, points: int = SPARK_POINTS) -> pd.DataFrame:
    """The last `points` checks of every service in `frame` (oldest first)."""
    if frame.empty:
        return frame
    return frame.groupby("service", observed=True, sort=False).tail(points)


def _hover_text(latency: pd.Series, statuses: list[str]) -> list[str]:
    return [
        f"{fmt_ms(None if pd.isna(v) else float(v))} · {status_text(s)}" for v, s in zip(latency, statuses, strict=True)
    ]


def spark_traces(points: pd.DataFrame, order: list[str], tz: tzinfo) -> list[dict]:
    """Two traces for all rows: a line (row i in band [i, i+1] of a reversed y axis, scaled to its own max
    latency, rows split by gaps) and markers only where they say something: each row's latest check and
    every check that was not "up". Markers on all 3000 points would cost ~90 ms per redraw; lines ~10 ms."""
    position = {name: i for i, name in enumerate(order)}
    frame = points[points["service"].isin(order)] if len(points) else points
    line = {"x": [], "y": [], "text": []}
    dots = {"x": [], "y": [], "text": [], "colour": []}
    if len(frame):
        frame = frame.assign(_row=frame["service"].astype(str).map(position)).sort_values("_row", kind="stable")
        row = frame["_row"].tolist()
        latency = frame["latency_ms"].astype("float64")
        top = latency.groupby(frame["_row"]).transform("max").where(lambda v: v > 0, 1.0).fillna(1.0)
        bands = (frame["_row"] + 0.85 - 0.7 * latency.fillna(0.0) / top).round(4).tolist()
        statuses = frame["status"].astype(str).tolist()
        hover = _hover_text(latency, statuses)
        stamps = local_ms(frame["ts"], tz)
        last = len(bands) - 1
        for k, band in enumerate(bands):
            if k and row[k] != row[k - 1]:  # a gap between two rows' lines
                for key in line:
                    line[key].append(None)
            line["x"].append(stamps[k])
            line["y"].append(band)
            line["text"].append(hover[k])
            if statuses[k] != "up" or k == last or row[k] != row[k + 1]:
                dots["x"].append(stamps[k])
                dots["y"].append(band)
                dots["text"].append(hover[k])
                dots["colour"].append(STATUS_HEX.get(statuses[k], "#6c757d"))
    hovertemplate = "%{x|%H:%M:%S} · %{text}<extra></extra>"
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "x": line["x"],
            "y": line["y"],
            "text": line["text"],
            "connectgaps": False,
            "line": {"color": LINE_COLOUR, "width": 1.5},
            "hovertemplate": hovertemplate,
            "showlegend": False,
            "name": "latency",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": dots["x"],
            "y": dots["y"],
            "text": dots["text"],
            "marker": {"size": 5, "color": dots["colour"]},
            "hovertemplate": hovertemplate,
            "showlegend": False,
            "name": "checks",
        },
    ]


def sparkline_figure(points: pd.DataFrame, order: list[str], tz: tzinfo, sweep: int | None = None) -> dict:
    """The figure beside the table: one band per visible row, in row order (meta.order)."""
    count = len(order)
    return {
        "data": spark_traces(points, order, tz),
        "layout": {
            "height": max(count, 1) * ROW_HEIGHT,
            "margin": {"l": 8, "r": 8, "t": 0, "b": 0, "pad": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"type": "date", "visible": False, "fixedrange": True},
            "yaxis": {"range": [max(count, 1), 0], "visible": False, "fixedrange": True},
            "hovermode": "closest",
            "hoverdistance": 12,
            "dragmode": False,
            "showlegend": False,
            "hoverlabel": {"font": {"size": 12}, "namelength": 0},
            "meta": {"sweep": sweep, "order": order},
        },
    }


def spark_key(snapshot: dict, order: list[str], tz: tzinfo) -> dict:
    """What the sparkline figure depends on: a new snapshot (the history grew), the row order, the zone."""
    return {"time": snapshot.get("time"), "tz": str(tz), "order": order}
