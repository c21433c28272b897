"""Hashes of the package's own files: what a stored reading or a cached earlier week depends on."""
from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".py", ".yaml", ".csv", ".j2")


def source_files(packages: tuple[str, ...] | None = None) -> list[Path]:
    """The code, forms, wording and data of the given stage packages (all but the synthetic generator when None)."""
    roots = [PACKAGE_ROOT / package for package in packages] if packages else [PACKAGE_ROOT]
    return sorted(path for root in roots for path in root.rglob("*")
                  if path.suffix in SUFFIXES and "__pycache__" not in path.parts
                  and "synthetic" not in path.relative_to(PACKAGE_ROOT).parts)


def files_digest(paths: list[Path]) -> str:
    """One SHA-256 over the files' places in the package and their bytes."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
