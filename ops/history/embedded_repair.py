"""Reading the embedded store's file at start-up, and repairing what a crash or a hand left behind.

A torn last line (a kill mid-write) is cut off; a file with unreadable lines, or in the original
dashboard's format, is rewritten with its readable rows and the original kept aside; an unreadable
file is moved aside. Nothing is lost, and a full disk never stops the start.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ops.append_file import describe
from ops.history import embedded_file as hf
from ops.history.embedded_frame import check_rows, concat_frames, frame_from_columns, legacy_columns

log = logging.getLogger(__name__)


def read_history(path: Path, consume: Callable[[pd.DataFrame], None]) -> None:
    """Hand the rows of the file at `path` to `consume` a chunk at a time, in file order (a week at
    1,000 services never sits in memory whole), and repair the file where it needs it."""
    legacy, report = _read(path, consume)
    if report.bad_lines or report.legacy:
        _salvage_or_keep(path, legacy, report)
    elif report.torn_tail:
        _drop_torn_tail(path, report.good_bytes)


def write_tmp(path: Path, frame: pd.DataFrame) -> Path:
    """The frame as a complete history file next to `path` (fsynced), for an os.replace over it."""
    tmp = tmp_path(path)
    with open(tmp, "wb") as handle:
        for ts, group in frame.groupby("ts", sort=True, observed=True):
            rows = [(r.service, r.status, r.latency_ms, r.http_status, r.error) for r in check_rows(group)]
            handle.write(hf.encode_sweep(ts.to_pydatetime(), rows))
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def tmp_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _read(path: Path, consume: Callable[[pd.DataFrame], None]) -> tuple[pd.DataFrame | None, hf.ReadReport]:
    """(the rows of a legacy file, to be rewritten, or None; what was found)."""
    report = hf.ReadReport()
    try:
        with open(path, "rb") as handle:
            legacy = hf.legacy_records(handle)
            if legacy is not None:
                report.legacy = True  # rewritten in today's format; the original is kept aside
                frame = concat_frames([frame_from_columns(legacy_columns(legacy))])
                consume(frame)
                return frame, report
            for columns in hf.read_lines(handle, report):
                consume(frame_from_columns(columns))
            return None, report
    except FileNotFoundError:
        return None, report
    except OSError as exc:
        log.warning("%s: cannot read history (%s); moving it aside", path, exc)
        _move_aside(path)
        return None, report


def _salvage_or_keep(path: Path, legacy: pd.DataFrame | None, report: hf.ReadReport) -> None:
    """Salvage; on a full disk keep the file as it is (lines stay lines), or move a legacy one aside."""
    try:
        _salvage(path, legacy, report)
        return
    except OSError as exc:
        tmp_path(path).unlink(missing_ok=True)
        why = describe(exc)
    if report.legacy:  # new lines cannot go after a JSON array: keep it whole, start a new file
        aside = _move_aside(path)
        log.warning("%s: cannot convert the old format (%s): kept whole at %s", path, why, aside)
        return
    log.warning("%s: %d unreadable line(s) left in place (%s); repaired at a later start", path, report.bad_lines, why)
    if report.torn_tail:
        _drop_torn_tail(path, report.good_bytes)


def _salvage(path: Path, legacy: pd.DataFrame | None, report: hf.ReadReport) -> None:
    """Keep the original aside, rewrite the readable rows: warn loudly, lose nothing."""
    # The replacement first, then a copy aside, then the swap:
    tmp = write_tmp(path, legacy) if legacy is not None else _copy_readable(path)
    aside = _aside_path(path, "corrupt")  # a kill at any step leaves a loadable file and the original
    try:
        os.link(path, aside)  # needs no free space
    except OSError:
        try:
            shutil.copy2(path, aside)
        except OSError:
            aside.unlink(missing_ok=True)
            raise
    os.replace(tmp, path)
    why = "is in the original dashboard's format" if report.legacy else f"has {report.bad_lines} unreadable line(s)"
    log.warning("%s %s: original moved to %s, the readable rows kept", path, why, aside)


def _copy_readable(path: Path) -> Path:
    """The lines of the file that decode, copied as they are, fsynced, beside it (a torn tail left out)."""
    tmp = tmp_path(path)
    with open(path, "rb") as source, open(tmp, "wb") as target:
        for raw in source:
            if not raw.endswith(b"\n"):
                break  # a torn last line
            try:
                hf.Columns().add_line(json.loads(raw))
            except hf.DECODE_ERRORS:
                continue
            target.write(raw)
        target.flush()
        os.fsync(target.fileno())
    return tmp


def _drop_torn_tail(path: Path, good_bytes: int) -> None:
    """A crash mid-write left a partial last line: keep it aside, cut the file after the last good one."""
    aside = _aside_path(path, "torn")
    with open(path, "r+b") as handle:
        handle.seek(good_bytes)
        try:
            aside.write_bytes(handle.read())
            kept = f"kept in {aside}"
        except OSError as exc:  # a full disk: the piece is unreadable anyway, and appends need the cut
            aside.unlink(missing_ok=True)
            kept = f"no copy kept ({describe(exc)})"
        handle.truncate(good_bytes)
    log.warning("%s: dropped a partial last line (the process stopped mid-write); %s", path, kept)


def _aside_path(path: Path, kind: str) -> Path:
    return path.with_name(f"{path.name}.{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")


def _move_aside(path: Path) -> Path:
    aside = _aside_path(path, "corrupt")
    os.replace(path, aside)
    return aside
