"""A change to any module of a stage package, however deep, makes earlier weeks and stored readings recomputed."""
from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.core import digest
from pipeline.run import READING_PACKAGES, fingerprint


def test_a_change_deep_in_a_subpackage_changes_the_code_digest(tmp_path, monkeypatch, config):
    copy = tmp_path / "pipeline"
    shutil.copytree(digest.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digest, "PACKAGE_ROOT", copy)
    week_before = digest.files_digest(digest.source_files())
    reading_before = fingerprint(config)
    marks = copy / "outputs" / "xlsx" / "marks.py"      # outputs: earlier weeks' reports, not stored readings
    marks.write_text(marks.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert digest.files_digest(digest.source_files()) != week_before
    assert fingerprint(config) == reading_before
    layout = copy / "ingest" / "layout.py"              # a stage a stored reading depends on
    layout.write_text(layout.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert fingerprint(config) != reading_before
    assert {"thai", "core", "sources", "ingest"} <= set(READING_PACKAGES)


def test_the_synthetic_generator_is_no_part_of_the_digest():
    assert not [path for path in digest.source_files() if "synthetic" in Path(path).parts]
    assert any(path.name == "schema.yaml" for path in digest.source_files())
    assert any(path.suffix == ".csv" for path in digest.source_files(("thai",)))
