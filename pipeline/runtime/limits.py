"""Limits for parsing untrusted files: sizes, cells, rows, memory and time (config.yaml `limits:`)."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ReadLimits:
    max_file_bytes: int = 50 * 1024**2
    max_uncompressed_bytes: int = 1024**3
    max_compression_ratio: float = 200.0
    max_cells: int = 20_000_000
    max_rows_per_sheet: int = 1_100_000
    memory_bytes: int = 4 * 1024**3
    seconds: float = 120.0


def limits_of(settings: dict) -> ReadLimits:
    """Parser limits from the `limits:` section of config.yaml (defaults for what it leaves out)."""
    return ReadLimits(
        max_file_bytes=int(settings.get("max_file_megabytes", 50) * 1024**2),
        max_cells=int(settings.get("max_cells", 20_000_000)),
        max_rows_per_sheet=int(settings.get("max_rows_per_sheet", 1_100_000)),
        memory_bytes=int(settings.get("parser_memory_megabytes", 4096) * 1024**2),
        seconds=float(settings.get("parser_seconds", 120)),
    )


def address_space_bytes() -> int:
    """This process's virtual memory size: what a forked child inherits before it allocates anything."""
    try:
        with open('/proc/self/statm', 'rb') as handle:
            return int(handle.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return 0
