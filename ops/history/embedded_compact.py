"""Trimming the embedded store's file: lines older than the retention go, without a long lock.

Every line starts with its fixed-width UTC stamp (ops/history/embedded_file.py), so old lines are
found by comparing text; the newer ones are copied to a temp file that replaces the original.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ops.append_file import AppendFile
from ops.history import embedded_file as hf
from ops.history.embedded_repair import tmp_path


def first_line_stamp(path: Path) -> str:
    """The stamp of the file's first line as text; "~" (after every stamp) when there is none."""
    try:
        with open(path, "rb") as handle:
            line = handle.readline()
    except OSError:
        return "~"
    return line[len(hf.TS_PREFIX) : len(hf.TS_PREFIX) + 27].decode("ascii", "replace") if line else "~"


def rewrite_from(path: Path, out: AppendFile, cutoff_text: str, offset: int, lock: threading.RLock) -> None:
    """Copy lines newer than the cutoff to a new file; only the lines appended meanwhile under `lock`."""
    tmp = tmp_path(path)
    with open(path, "rb") as source, open(tmp, "wb") as target:
        for line in iter(lambda: source.readline() if source.tell() < offset else b"", b""):
            stamp = line[len(hf.TS_PREFIX) : len(hf.TS_PREFIX) + len(cutoff_text)].decode("ascii", "replace")
            if stamp >= cutoff_text:
                target.write(line)
        with lock:  # lines appended while we copied go over too, then the swap
            source.seek(offset)
            target.write(source.read(max(0, out.offset - offset)))  # whole lines only
            target.flush()
            os.fsync(target.fileno())
            out.swap(tmp)
