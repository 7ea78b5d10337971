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
HEARTBEATS = 25  # blocks in each row's heartbeat strip (the last checks, newest on the right)
LINE_COLOUR = "#0d6efd"
# Inside a row's band [i, i+1] (y grows downwards): the latency line on top, the heartbeat strip below.
LINE_TOP, LINE_BOTTOM, BEAT_Y = 0.1, 0.62, 0.83
# Status by shape as well as colour: a string of failures reads without colour.
BLOCK_HALF = 0.3  # half a block's width, in slots
STATUS_ORDER = ("up", "degraded", "down", "pending", "maintenance", "disabled")
BEAT_SYMBOL = {
    "up": "square",  # drawn as a plain block (_up_blocks); every other status has its own symbol
    "degraded": "diamond",
    "down": "x",
    "pending": "circle-open",
    "maintenance": "square-open",
}


def spark_since(interval_s: float, now: datetime, points: int = SPARK_POINTS) -> datetime:
    """How far back the last `points` checks can be (generous, so one late sweep does not cut them)."""
    return now - timedelta(seconds=max(interval_s, 0.2) * points * 3 + 60)


def spark_points(frame: pd.DataFrame, points: int = SPARK_POINTS) -> pd.DataFrame:
    """The last `points` checks of every service in `frame` (oldest first)."""
    if frame.empty:
        return frame
    return frame.groupby("service", observed=True, sort=False).tail(points)


def _hover_text(latency: pd.Series, statuses: list[str], errors: list) -> list[str]:
    """ "12.3 ms · UP", or for a failed check (it has no latency) "DOWN · connection refused"."""
    return [
        f"{status_text(s)} · {e}" if e else f"{fmt_ms(None if pd.isna(v) else float(v))} · {status_text(s)}"
        for v, s, e in zip(latency, statuses, errors, strict=True)
    ]


def _errors(frame: pd.DataFrame) -> list:
    return [None if pd.isna(e) else str(e) for e in frame["error"]]


def _line_and_dots(frame: pd.DataFrame, tz: tzinfo, interval_s: float) -> tuple[dict, dict]:
    """The latency line (row i in band [i+LINE_TOP, i+LINE_BOTTOM], scaled to the row's own max latency)
    and markers only where they say something: each row's latest check and every check that was not up.

    The line breaks between rows, at every failed check (no latency to draw) and at gaps longer than
    two intervals (the dashboard was stopped: nothing was measured there)."""
    line = {"x": [], "y": [], "text": []}
    dots = {"x": [], "y": [], "text": [], "colour": []}
    row = frame["_row"].tolist()
    errors = _errors(frame)
    latency = frame["latency_ms"].astype("float64").where(frame["error"].isna())
    top = latency.groupby(frame["_row"]).transform("max").where(lambda v: v > 0, 1.0).fillna(1.0)
    span = LINE_BOTTOM - LINE_TOP
    scaled = (frame["_row"] + LINE_BOTTOM - span * latency / top).round(4).tolist()
    bands = [None if b != b else b for b in scaled]  # NaN (a failed check) -> None: a break in the line
    floor = (frame["_row"] + LINE_BOTTOM).tolist()
    gaps = (frame["ts"].diff() > pd.Timedelta(seconds=2 * max(interval_s, 0.1))).tolist()
    statuses = frame["status"].astype(str).tolist()
    hover = _hover_text(latency, statuses, errors)
    stamps = local_ms(frame["ts"], tz)
    last = len(bands) - 1
    for k, band in enumerate(bands):
        if k and (row[k] != row[k - 1] or gaps[k]):  # a new row's line, or a time gap: no line across
            for key in line:
                line[key].append(None)
        line["x"].append(stamps[k])
        line["y"].append(band)  # None for a failed check: the line breaks there
        line["text"].append(hover[k])
        if statuses[k] != "up" or k == last or row[k] != row[k + 1]:
            dots["x"].append(stamps[k])
            dots["y"].append(floor[k] if band is None else band)
            dots["text"].append(hover[k])
            dots["colour"].append(STATUS_HEX.get(statuses[k], "#6c757d"))
    return line, dots


def _heartbeats(frame: pd.DataFrame, tz: tzinfo, count: int) -> dict:
    """One block per recent check, newest on the right, on its own index axis (x2): status by colour and
    by shape, so a string of failures reads without colour; hover says time, status and error."""
    beats = frame.groupby("_row", sort=False).tail(count)
    if beats.empty:
        return {"x": [], "y": [], "text": [], "status": []}
    rows = beats["_row"]
    slot = beats.groupby("_row", sort=False).cumcount() + (count - rows.map(rows.value_counts()))
    statuses = beats["status"].astype(str).tolist()
    times = beats["ts"].dt.tz_convert(tz).dt.strftime("%H:%M:%S").tolist()
    text = [
        f"{t} · {status_text(s)}" + (f" · {e}" if e else "")
        for t, s, e in zip(times, statuses, _errors(beats), strict=True)
    ]
    return {"x": slot.tolist(), "y": (rows + BEAT_Y).tolist(), "text": text, "status": statuses}


def _beat_traces(beats: dict) -> list[dict]:
    """The strip as one trace per status (uniform colour and symbol): per-point style arrays made
    plotly draw the 1250 blocks of 50 rows ~3x slower."""
    traces = []
    for status in STATUS_ORDER:
        picked = [i for i, s in enumerate(beats["status"]) if s == status]
        if not picked:
            continue
        colour = STATUS_HEX.get(status, "#6c757d")
        if status == "up":  # the common case: every block in one cheap path (a thick segment each)
            traces.append(
                _up_blocks(
                    [beats["x"][i] for i in picked],
                    [beats["y"][i] for i in picked],
                    [beats["text"][i] for i in picked],
                    colour,
                )
            )
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [beats["x"][i] for i in picked],
                "y": [beats["y"][i] for i in picked],
                "text": [beats["text"][i] for i in picked],
                "xaxis": "x2",
                "marker": {
                    "size": 6,
                    "color": colour,
                    "symbol": BEAT_SYMBOL.get(status, "circle-open"),
                    "line": {"width": 1.5, "color": colour},
                },
                "hovertemplate": "%{text}<extra></extra>",
                "showlegend": False,
                "name": f"heartbeat {status}",
            }
        )
    return traces


def _up_blocks(xs: list, ys: list, texts: list, colour: str) -> dict:
    """Up checks as one thick line per run of neighbouring up checks, all rows in one trace.

    A separate segment per block cost ~100 ms per draw of 50 rows (1250 markers ~150 ms); a run is one
    subpath, and assets/mission_control.js dashes it into one block per slot (SVG restarts a dash
    pattern at each subpath, so the blocks line up with the slots). Hover works on every check."""
    x, y, text = [], [], []
    for k, (slot, band, label) in enumerate(zip(xs, ys, texts, strict=True)):
        joined = k and ys[k - 1] == band and xs[k - 1] == slot - 1
        if k and not joined:  # close the previous run, start a new one
            x += [xs[k - 1] + BLOCK_HALF, None]
            y += [ys[k - 1], None]
            text += [texts[k - 1], None]
        if not joined:
            x.append(slot - BLOCK_HALF)
            y.append(band)
            text.append(label)
        x.append(slot)
        y.append(band)
        text.append(label)
    if xs:
        x.append(xs[-1] + BLOCK_HALF)
        y.append(ys[-1])
        text.append(texts[-1])
    return {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "text": text,
        "xaxis": "x2",
        "connectgaps": False,
        "line": {"color": colour, "width": 6},
        "hovertemplate": "%{text}<extra></extra>",
        "showlegend": False,
        "name": "heartbeat up",
    }


def spark_traces(points: pd.DataFrame, order: list[str], tz: tzinfo, interval_s: float = 40.0) -> list[dict]:
    """Traces for all rows: the latency line, the markers that say something, then the heartbeat strip
    (one trace per status). Markers on all 3000 line points would cost ~90 ms per redraw; lines ~10 ms."""
    position = {name: i for i, name in enumerate(order)}
    frame = points[points["service"].isin(order)] if len(points) else points
    line = {"x": [], "y": [], "text": []}
    dots = {"x": [], "y": [], "text": [], "colour": []}
    beats = {"x": [], "y": [], "text": [], "status": []}
    if len(frame):
        frame = frame.assign(_row=frame["service"].astype(str).map(position)).sort_values("_row", kind="stable")
        line, dots = _line_and_dots(frame, tz, interval_s)
        beats = _heartbeats(frame, tz, HEARTBEATS)
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
        *_beat_traces(beats),
    ]


def sparkline_figure(
    points: pd.DataFrame, order: list[str], tz: tzinfo, sweep: int | None = None, interval_s: float = 40.0
) -> dict:
    """The figure beside the table: one band per visible row, in row order (meta.order)."""
    count = len(order)
    return {
        "data": spark_traces(points, order, tz, interval_s),
        "layout": {
            "height": max(count, 1) * ROW_HEIGHT,
            "margin": {"l": 8, "r": 8, "t": 0, "b": 0, "pad": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"type": "date", "visible": False, "fixedrange": True},
            "xaxis2": {
                "overlaying": "x",
                "range": [-0.7, HEARTBEATS - 0.3],
                "visible": False,
                "fixedrange": True,
            },
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
