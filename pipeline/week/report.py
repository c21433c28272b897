"""The week from committed state: figures per district, the submission table, and the week's problems."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from pipeline.core import weeks
from pipeline.core.config import Config
from pipeline.core.issues import describe, empty_issues, finish, registered
from pipeline.core.schema import Schema
from pipeline.linkage import people
from pipeline.week import counted
from pipeline.week import figures
from pipeline.week import submission

BLOCKS = ["volunteers", "unvaccinated", "facilities", "help_requests"]


@dataclass(frozen=True)
class WeekResult:
    """Everything the outputs of a week are written from."""

    report: dict
    accounting: pd.DataFrame     # per file version and sheet, this week
    issues: pd.DataFrame         # the week's problems (this week's files, and the run's notes)
    duplicates: pd.DataFrame     # this week's duplicate rows and the record each repeats
    entities: dict[str, pd.DataFrame]
    window: figures.Window
    review: pd.DataFrame = field(default_factory=pd.DataFrame)   # possible duplicate people to confirm


def prepared_versions(versions: pd.DataFrame) -> pd.DataFrame:
    """Versions with submission times as aware timestamps."""
    frame = versions.copy()
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    return frame


def listed(duplicates: pd.DataFrame, window: figures.Window) -> pd.DataFrame:
    """The week's repeated rows, marked `listed` when worth a line: a repeat of a record sent this week, not of
    its own file's earlier version (a full resend repeats last week's rows: normal, counted, not listed)."""
    resent = (duplicates["first_source_file"] == duplicates["source_file"]) \
        & (duplicates["first_version_id"] != duplicates["version_id"])
    return duplicates.assign(listed=(window.contains(duplicates["first_submitted_at"]) & ~resent).to_numpy(dtype=bool))


def _duplicate_issues(duplicates: pd.DataFrame, window: figures.Window, schema: Schema) -> pd.DataFrame:
    """A warning for each listed repeat (see `listed`).

    The province's list names the row repeated, wherever it is; a district's feedback never shows another
    district's file, sheet or row (feedback.masked_issues).
    """
    same_week = duplicates[duplicates["listed"]]
    if same_week.empty:
        return empty_issues()
    labels = schema.wording["labels"]
    frame = pd.DataFrame({
        "source_file": same_week["source_file"], "district_folder": same_week["district_folder"],
        "sheet": same_week["sheet"], "dataset": same_week["dataset"], "excel_row": same_week["excel_row"],
        "code": registered("duplicate_row"), "column_letter": "", "column": "", "value": "",
        "reference": [labels["row_reference"].format(file=f, sheet=s, row=int(r)) for f, s, r in zip(
            same_week["first_source_file"], same_week["first_sheet"], same_week["first_excel_row"])],
    })
    return describe(frame, schema)


def _update_issues(updates: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """An info row for each row of the week that changed a record its folder sent before: what changed."""
    if updates.empty:
        return empty_issues()
    frame = pd.DataFrame({
        "source_file": updates["source_file"], "district_folder": updates["district_folder"],
        "sheet": updates["sheet"], "dataset": updates["dataset"], "excel_row": updates["excel_row"],
        "code": registered("row_updated"), "column_letter": "", "column": "", "value": "", "detail": updates["changes"],
    })
    return describe(frame, schema)


def _week_updates(occurrence: pd.DataFrame, this_week: pd.Series, dataset: str, schema: Schema) -> pd.DataFrame:
    """This week's update rows of one dataset, with their changes as text."""
    rows = occurrence.index[occurrence["is_update"].to_numpy() & this_week.to_numpy()]
    if not len(rows):
        return occurrence.iloc[:0].assign(changes=pd.Series(dtype=object))
    return occurrence.loc[rows].assign(changes=figures.changes(occurrence, rows, _update_fields(schema, dataset)))


def _update_fields(schema: Schema, dataset: str) -> list[tuple[str, str]]:
    """(column, header) of the values that make a repeated row an update: every form field, places by their codes."""
    swapped = {"district": "district_code", "subdistrict": "subdistrict_code"}
    return [(swapped.get(f.key, f.key), f.header) for f in schema.datasets[dataset].fields]


def compared_columns(schema: Schema, dataset: str) -> tuple[str, ...]:
    """The values that make a repeated row an update (see _update_fields)."""
    return tuple(column for column, _ in _update_fields(schema, dataset))


def _note_issues(notes: list[dict], schema: Schema, window: figures.Window) -> pd.DataFrame:
    if not notes:
        return empty_issues()
    frame = pd.DataFrame(notes)
    frame = frame[window.contains(pd.to_datetime(frame["submitted_at"], utc=True))
                  | frame["code"].eq("folder_unknown")]
    if frame.empty:
        return empty_issues()
    explained = frame.get("problem", pd.Series("", index=frame.index)).map(
        lambda code: schema.wording["file_problems"].get(code, "") if isinstance(code, str) else "")
    given = frame.get("detail", pd.Series("", index=frame.index)).fillna("")
    frame["detail"] = explained.where(explained != "", given)
    return describe(frame.drop(columns=["submitted_at", "problem"], errors="ignore"), schema)


def build_week(state: dict[str, pd.DataFrame], notes: list[dict], config: Config, schema: Schema,
               week: dt.date) -> WeekResult:
    """Compute the week's report from the store's state up to the cut-off (pure)."""
    window = figures.window_of(week, config)
    versions = prepared_versions(state["versions"])
    # Every version by the cut-off tells which rows are new, updated or repeated; only each file's newest
    # version (and nothing of a removed file) is counted in the figures.
    counted_ids = set(versions.loc[counted.counted_versions(versions, state.get("removals"), window.cutoff),
                                   "version_id"])
    live = counted.live_versions(versions, state.get("removals"), window.cutoff,
                                 lambda moment: weeks.cutoff_of(weeks.week_of(moment, config), config))
    arrivals = submission.week_versions(versions, window)   # every version of the week: who sent when
    this_week = arrivals[live.reindex(arrivals.index).to_numpy(dtype=bool)]
    live_ids = set(versions.loc[live.to_numpy(dtype=bool), "version_id"])
    blocks, entity_tables, occurrence_tables, update_tables = {}, {}, [], []
    review = pd.DataFrame()
    for dataset in BLOCKS:
        records = figures.with_versions(state[dataset][state[dataset]["version_id"].isin(live_ids)], versions)
        if dataset == "unvaccinated":  # the same person reported twice, however written, counts once
            answers = people.decisions_in_force(state.get("link_decisions"), window.cutoff)
            records, links = people.link_unvaccinated(records, answers)
            review = people.review_pairs(links, records, answers)
        occurrence = figures.occurrences(records, compared_columns(schema, dataset)).assign(dataset=dataset)
        in_count = occurrence["version_id"].isin(counted_ids)
        entity_tables[dataset] = figures.entities(occurrence[in_count], schema.datasets[dataset].newest_by,
                                                  figures.first_submitted(occurrence))
        blocks[dataset] = figures.dataset_blocks(entity_tables[dataset], dataset, window, schema, config)
        occurrence_tables.append(occurrence.drop(columns="previous_row"))
        update_tables.append(_week_updates(occurrence, occurrence["version_id"].isin(this_week["version_id"]),
                                           dataset, schema))
    occurrences = pd.concat(occurrence_tables, ignore_index=True)
    accounting = submission.sheet_accounting(this_week, state["sheets"], occurrences)
    accounting["counted"] = accounting["version_id"].isin(counted_ids)   # False: replaced or withdrawn since
    submissions = submission.district_submissions(accounting, arrivals, window, config)
    repeats = ~occurrences["is_first"] & ~occurrences["is_update"]
    duplicates = listed(occurrences[repeats & occurrences["version_id"].isin(this_week["version_id"])], window)
    stored = state["issues"][state["issues"]["version_id"].isin(this_week["version_id"])]
    updates = pd.concat(update_tables, ignore_index=True)
    issues = finish(pd.concat([stored, _duplicate_issues(duplicates, window, schema), _update_issues(updates, schema),
                               _note_issues(notes, schema, window)], ignore_index=True))
    week_sheets = state["sheets"][state["sheets"]["version_id"].isin(set(this_week["version_id"]) & counted_ids)]
    incomplete = figures.incomplete_paths(week_sheets, versions, schema, list(config.districts))
    report = _report(config, window, blocks, submissions, incomplete)
    return WeekResult(report, accounting, issues, duplicates, entity_tables, window, review)


def _report(config: Config, window: figures.Window, blocks: dict, submissions: dict,
            incomplete: dict[str, list[str]]) -> dict:
    districts = {
        code: {"name": name, "submission": submissions[code],
               **{dataset: blocks[dataset][code] for dataset in BLOCKS}, "incomplete": incomplete[code]}
        for code, name in config.districts.items()
    }
    totals = {dataset: figures.add_blocks([d[dataset] for d in districts.values()]) for dataset in BLOCKS}
    totals["submission"] = submission.submission_totals(submissions)
    totals["incomplete"] = sorted({path for paths in incomplete.values() for path in paths})
    return {
        "province": config.province_name, "province_code": config.province_code,
        "week": window.week.isoformat(), "cutoff": window.cutoff.isoformat(),
        "opening": window.opening.isoformat() if window.opening else None,
        "district_deadline": window.deadline.isoformat(), "stale_days": config.stale_days,
        "districts": districts, "totals": totals,
    }
