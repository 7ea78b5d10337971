"""Host CPU, memory and disk use from psutil, compared with the configured thresholds."""

from __future__ import annotations

import logging
from pathlib import Path

import psutil

from config.settings import Thresholds

log = logging.getLogger(__name__)


def system_metrics(thresholds: Thresholds, disk_path: str | Path = "/") -> dict:
    """One reading. CPU % is the average since the previous call (psutil's non-blocking mode)."""
    cpu = psutil.cpu_percent(interval=None)
    memory = psutil.virtual_memory().percent
    try:
        disk = psutil.disk_usage(str(disk_path)).percent
    except OSError as exc:  # a vanished data dir must not break the snapshot
        log.warning("disk usage of %s: %s", disk_path, exc)
        disk = None
    return {
        "cpu_percent": cpu,
        "memory_percent": memory,
        "disk_percent": disk,
        "cpu_max": thresholds.cpu_max,
        "mem_max": thresholds.mem_max,
        "cpu_over": cpu > thresholds.cpu_max,
        "mem_over": memory > thresholds.mem_max,
    }
