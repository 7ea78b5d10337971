"""Read-side helpers over the history frame: sweeps for the API, CSV for export."""

from __future__ import annotations

import io

import pandas as pd

CSV_COLUMNS = ["ts", "service", "status", "latency_ms", "http_status", "error"]


def last_sweeps(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """The rows of the last `limit` sweeps (all rows when limit is None)."""
    if limit is None or frame.empty:
        return frame
    stamps = frame["ts"].drop_duplicates()
    return frame[frame["ts"] >= stamps.iloc[-limit:].iloc[0]] if len(stamps) > limit else frame


def _plain(value: object) -> object:
    return None if pd.isna(value) else value


def answered_latency(frame: pd.DataFrame) -> pd.Series:
    """latency_ms with NaN for failed checks: a failed check has no latency (a refused connection
    "takes" 0.7 ms), its error says what happened. The history file keeps what the probe measured."""
    return frame["latency_ms"].where(frame["error"].isna())


def sweeps_as_records(frame: pd.DataFrame) -> list[dict]:
    """[{"ts", "results": [{service, status, latency_ms, http_status, error}]}], oldest first;
    latency_ms is null for a failed check."""
    out: list[dict] = []
    current_ts, results = None, []
    rows = frame[CSV_COLUMNS].assign(latency_ms=answered_latency(frame))
    for ts, service, status, latency, http_status, error in rows.itertuples(index=False):
        if ts != current_ts:
            if current_ts is not None:
                out.append({"ts": current_ts.isoformat(), "results": results})
            current_ts, results = ts, []
        http_status = _plain(http_status)
        results.append(
            {
                "service": service,
                "status": status,
                "latency_ms": _plain(latency),
                "http_status": None if http_status is None else int(http_status),
                "error": _plain(error),
            }
        )
    if current_ts is not None:
        out.append({"ts": current_ts.isoformat(), "results": results})
    return out


def history_csv(frame: pd.DataFrame) -> str:
    """CSV text with a header row and one line per check (a failed one with an empty latency_ms)."""
    out = frame[CSV_COLUMNS].copy()
    out["latency_ms"] = answered_latency(out)
    out["ts"] = out["ts"].map(lambda t: t.isoformat())
    out["http_status"] = out["http_status"].astype("Int64")
    buffer = io.StringIO()
    out.to_csv(buffer, index=False)
    return buffer.getvalue()
