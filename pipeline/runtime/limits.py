"""Limits for parsing untrusted files: sizes, cells, rows, memory and time (config.yaml `limits:`)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from pipeline.core.config import Limits


@dataclass(frozen=True)
class ReadLimits:
    max_file_bytes: int = 50 * 1024**2
    max_uncompressed_bytes: int = 1024**3
    max_compression_ratio: float = 200.0
    max_cells: int = 20_000_000
    max_rows_per_sheet: int = 1_100_000
    memory_bytes: int = 4 * 1024**3
    seconds: float = 120.0


def limits_of(limits: Limits) -> ReadLimits:
    """Parser limits from config.yaml's `limits:`."""
    return ReadLimits(max_file_bytes=int(limits.max_file_megabytes * 1024**2), max_cells=limits.max_cells,
                      max_rows_per_sheet=limits.max_rows_per_sheet,
                      memory_bytes=int(limits.parser_memory_megabytes * 1024**2), seconds=limits.parser_seconds)


def address_space_bytes() -> int:
    """This process's virtual memory size: what a forked child inherits before it allocates anything."""
    try:
        with open('/proc/self/statm', 'rb') as handle:
            return int(handle.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return 0
