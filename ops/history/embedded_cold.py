"""Raw rows older than the embedded store's memory, read back from its file a chunk at a time.

The file's lines are in time order and start with a fixed-width stamp (ops/history/embedded_file.py),
so the first line at or after a moment is found by bisecting byte offsets: an export or a query
reaching back past what memory holds reads only the lines it needs. The open handle keeps reading the
file it opened even if a compaction swaps a new one in meanwhile (os.replace leaves the inode).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import takewhile
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ops.history import embedded_file as hf
from ops.history.embedded_frame import frame_from_columns

STAMP = slice(len(hf.TS_PREFIX), len(hf.TS_PREFIX) + 27)
CHUNK_ROWS = 100_000


def _stamp_at(handle: BinaryIO, offset: int) -> tuple[int, str] | None:
    """(start, stamp) of the first whole line starting after `offset` (at it when offset is 0)."""
    handle.seek(offset)
    if offset:
        handle.readline()  # the rest of a line begun before
    start = handle.tell()
    line = handle.readline()
    if not line.endswith(b"\n"):
        return None
    return start, line[STAMP].decode("ascii", "replace")


def seek_stamp(handle: BinaryIO, stamp: str, size: int) -> int:
    """Byte offset of the first line whose stamp is >= `stamp` (lines in time order)."""
    low, high = 0, size  # the answer lies in [low, high]
    while high - low > 4096:
        mid = (low + high) // 2
        found = _stamp_at(handle, mid)
        if found is None or found[1] >= stamp:
            high = mid
        else:
            low = found[0] + 1
    handle.seek(low)
    if low:
        handle.readline()
    while True:  # the last few KiB line by line
        start = handle.tell()
        line = handle.readline()
        if not line.endswith(b"\n") or line[STAMP].decode("ascii", "replace") >= stamp:
            return start


def file_frames(path: Path, since: datetime, until: datetime, service: str | None = None) -> Iterator[pd.DataFrame]:
    """Frames of the file's rows with since <= ts < until (of one service), oldest first."""
    first, end = pd.Timestamp(since), pd.Timestamp(until)
    end_text = hf.format_ts(until)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below, a missing file is no rows
    except OSError:
        return
    with handle:
        size = handle.seek(0, 2)
        handle.seek(seek_stamp(handle, hf.format_ts(since), size))
        lines = iter(handle.readline, b"")
        before_end = takewhile(lambda line: line[STAMP].decode("ascii", "replace") < end_text, lines)
        for columns in hf.read_lines(before_end, hf.ReadReport(), CHUNK_ROWS):
            frame = frame_from_columns(columns)
            keep = (frame["ts"] >= first) & (frame["ts"] < end)
            if service is not None:
                keep &= frame["service"] == service
            if keep.any():
                yield frame[keep].reset_index(drop=True)
