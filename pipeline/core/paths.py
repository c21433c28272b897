"""Where every output of a week goes, named once: outputs/<week>/… (see README's Outputs)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STORE = "store.sqlite"
FEEDBACK = "feedback"
MINISTRY = "ministry"
SOURCES = "sources"   # Google Sheets snapshots, fetched into the week folder itself (not the staging one)
MADE_FROM = ".made-from.json"   # a run with nothing new since leaves the week as it is


@dataclass(frozen=True)
class WeekFiles:
    """The files of one week under a folder (the week's own, or the staging folder it is written into)."""

    folder: Path
    week: str   # the Friday, 2021-12-24

    @property
    def report_json(self) -> Path:
        return self.folder / "report.json"

    @property
    def manifest(self) -> Path:
        """inputs.json: SHA-256 of report.json and of every input file version it counted."""
        return self.folder / "inputs.json"

    @property
    def approval(self) -> Path:
        return self.folder / "approval.json"

    @property
    def issues_workbook(self) -> Path:
        return self.folder / f"issues_{self.week}.xlsx"

    @property
    def province_workbook(self) -> Path:
        return self.folder / f"province_report_{self.week}.xlsx"

    @property
    def html(self) -> Path:
        return self.folder / "index.html"

    @property
    def review_workbook(self) -> Path:
        return self.folder / f"possible_duplicates_{self.week}.xlsx"

    @property
    def ministry_workbook(self) -> Path:
        return self.folder / MINISTRY / f"ministry_report_{self.week}.xlsx"

    @property
    def ministry_text(self) -> Path:
        return self.folder / MINISTRY / f"summary_{self.week}.txt"

    @property
    def feedback(self) -> Path:
        return self.folder / FEEDBACK

    @property
    def sources(self) -> Path:
        return self.folder / SOURCES

    @property
    def made_from(self) -> Path:
        """What the week's outputs were made from (runtime/unchanged.py), written last by each complete run."""
        return self.folder / MADE_FROM

    def run_owned(self) -> tuple[str, ...]:
        """Names of the entries a weekly run writes itself (everything else in the folder is carried over)."""
        return tuple(path.relative_to(self.folder).parts[0] for path in (
            self.report_json, self.manifest, self.html, self.issues_workbook, self.province_workbook,
            self.review_workbook, self.ministry_workbook, self.feedback, self.made_from))


def week_files(outputs_dir: Path, week: str) -> WeekFiles:
    """The week's own folder under outputs/."""
    return WeekFiles(Path(outputs_dir) / week, week)


def national_files(outputs_dir: Path, week: str) -> tuple[Path, Path]:
    """The national roll-up's workbook and JSON."""
    return Path(outputs_dir) / f"national_{week}.xlsx", Path(outputs_dir) / f"national_{week}.json"
