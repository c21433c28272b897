"""outputs/<week>/index.html: the week's report as one self-contained page (jinja2), printable on A4.

The page carries the same figures as report.json and the province workbook: each number is printed in
an element whose `data-figure` attribute is its path in report.json (a JSON list, since closed-list
values such as "อสม." contain dots), so anyone can check the page against the report. Charts are
inline SVG drawn by pipeline/charts.py; nothing is fetched from elsewhere.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipeline.core.config import Config
from pipeline.core.schema import Schema
from pipeline.outputs import charts as chart_module
from pipeline.outputs.columns import LATER_KEYS, figure_columns, figure_value, scoped_path
from pipeline.thai.dates import thai_datetime
from pipeline.week.approval import shown_value
from pipeline.week.checks import files_text
from pipeline.week.history import incomplete_list, is_incomplete, wording, week_label
from pipeline.week.report import BLOCKS, WeekResult

TEMPLATES = Path(__file__).resolve().parent / "templates_html"


@cache
def environment() -> jinja2.Environment:
    """The template environment: autoescaped, strict about undefined names."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["number"] = lambda value: f"{value:,.0f}" if isinstance(value, (int, float)) else value
    env.filters["path"] = lambda path: json.dumps(list(path), ensure_ascii=False)
    env.filters["percent"] = lambda value: f"{value * 100:.0f}%"
    return env


def figure_rows(dataset: str, schema: Schema, stale_days: int) -> list[tuple[str, tuple[str, ...]]]:
    """(label, path inside the block) of a dataset's figures, in the workbook's column order."""
    return figure_columns(dataset, schema, stale_days)


def _get(block: dict, path: tuple[str, ...]):
    return figure_value(block, path)


def _figure_table(report: dict, dataset: str, scope: str, schema: Schema, config: Config) -> dict:
    """A transposed figures table: one row per figure, one column per district and the province total;
    a cell listed incomplete is marked."""
    scopes = [("districts", code) for code in report["districts"]] + [("totals",)]
    rows = []
    for label, path in figure_rows(dataset, schema, config.stale_days):
        path = scoped_path(path, "total" if scope == "total" else "this_week")
        cells = []
        for where in scopes:
            block = report["districts"][where[1]] if where[0] == "districts" else report["totals"]
            cells.append({"value": _get(block[dataset], path), "path": (*where, dataset, *path),
                          "incomplete": is_incomplete(incomplete_list(block), (dataset, *path))})
        rows.append({"label": label, "cells": cells})
    return {"rows": rows, "marked": any(cell["incomplete"] for row in rows for cell in row["cells"])}


def _headline(report: dict, config: Config) -> list[dict]:
    words = wording()["html"]
    totals = report["totals"]
    items = [("volunteers", ("volunteers", "total")), ("volunteers_new", ("volunteers", "new")),
             ("unvaccinated", ("unvaccinated", "total")), ("unvaccinated_new", ("unvaccinated", "new")),
             ("wants_vaccine", ("unvaccinated", "wants_vaccine")),
             ("wants_vaccine_unknown", ("unvaccinated", "wants_vaccine_unknown")),
             ("nationality_unknown", ("unvaccinated", "nationality_unknown")), ("facilities", ("facilities", "total")),
             ("facilities_stale", ("facilities", "stale")), ("help_requests", ("help_requests", "total")),
             ("help_open", ("help_requests", "open")), ("districts_on_time", ("submission", "on_time")),
             ("districts_late", ("submission", "late")), ("districts_unusable", ("submission", "unusable")),
             ("districts_missing", ("submission", "missing"))]
    listed = incomplete_list(totals)
    # A key an older report lacks is left out rather than shown as a figure report.json does not hold.
    return [{"label": words[key].format(days=config.stale_days), "value": _get(totals, path),
             "path": ("totals", *path), "incomplete": is_incomplete(listed, path)}
            for key, path in items if path[-1] not in LATER_KEYS or path[-1] in totals.get(path[0], {})]


def _submission(report: dict, schema: Schema, config: Config) -> dict:
    counts = ["files", "rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
    rows = []
    for code, district in report["districts"].items():
        block = district["submission"]
        last = block.get("last_submitted")
        rows.append({"code": code, "name": district["name"], "status": block["status"],
                     "status_text": schema.wording["submission_status"][block["status"]],
                     "last": thai_datetime(dt.datetime.fromisoformat(last), config.date_digits) if last else "-",
                     "cells": [{"value": block.get(c, 0), "path": ("districts", code, "submission", c)}
                               for c in counts]})
    total = [{"value": report["totals"]["submission"].get(c, 0), "path": ("totals", "submission", c)} for c in counts]
    return {"headers": [schema.label(c) for c in ["district", "status", "last_submitted", *counts]],
            "rows": rows, "total": total}


def _timeliness(dashboard, config: Config) -> dict | None:
    matrix = dashboard.timeliness
    if matrix is None:
        return None
    short = wording()["status_short"]
    week_rates = matrix.week_rates()
    rows = [{"week": week_label(week, config.date_digits),
             "cells": [{"status": matrix.statuses.loc[code, week], "text": short[matrix.statuses.loc[code, week]]}
                       for code in matrix.statuses.index],
             "rate": week_rates.loc[week, "on_time"]} for week in matrix.weeks]
    rates = matrix.district_rates()
    return {"districts": [matrix.names.get(code, code) for code in matrix.statuses.index], "rows": rows,
            "on_time": [rates.loc[code, "on_time"] for code in matrix.statuses.index],
            "sent": [rates.loc[code, "sent"] for code in matrix.statuses.index]}


def _checks(dashboard, config: Config) -> list[dict]:
    words = wording()["checks"]
    return [{"district": config.districts.get(item.district, item.district), "label": item.label,
             "previous": item.previous, "current": item.current, "change": item.change,
             "usual": f"{item.usual:,.1f}", "range": words["range"].format(low=f"{item.low:,.0f}",
                                                                           high=f"{item.high:,.0f}"),
             "score": f"{item.score:.1f}",
             "files": files_text(item.files)}
            for item in dashboard.checks.itertuples(index=False)]


def _approval(dashboard, config: Config, schema: Schema) -> dict:
    status = dashboard.approval
    words = wording()["approval"]
    return {"line": status.line(), "approved": status.approved, "changed": status.changed,
            "files": [{"kind": words["kinds"][f.kind], "file": f.source_file,
                       "district": config.districts.get(f.district, f.district),
                       "submitted": shown_value(("last_submitted",), f.submitted_at, config, schema),
                       "sha": f.sha256[:16]} for f in status.files],
            "figures": [{"district": f.scope_name, "label": f.label,
                         "approved": shown_value(f.path, f.approved, config, schema),
                         "current": shown_value(f.path, f.current, config, schema)} for f in status.figures]}


def render_week(result: WeekResult, dashboard, week_charts: list, config: Config, schema: Schema) -> str:
    """The week's HTML page."""
    from pipeline.week.checks import SETTINGS
    report = result.report
    words = wording()
    cutoff = dt.datetime.fromisoformat(report["cutoff"])
    datasets = [{"title": schema.datasets[d].title,
                 "cumulative": _figure_table(report, d, "total", schema, config),
                 "new": _figure_table(report, d, "new", schema, config)} for d in BLOCKS]
    context = {
        "words": words, "report": report,
        "title": words["html"]["title"].format(province=config.province_name),
        "week_line": words["html"]["week_line"].format(cutoff=thai_datetime(cutoff, config.date_digits)),
        "notices": dashboard.summary_notices(),
        "headline": _headline(report, config),
        "charts": [{"key": chart.key, "svg": Markup(chart_module.svg(chart))} for chart in week_charts],
        "wide": chart_module.WIDE,
        "district_names": [d["name"] for d in report["districts"].values()],
        "province_total": schema.label("province_total"),
        "mark": schema.label("incomplete_mark"), "incomplete_note": schema.label("incomplete_note"),
        "datasets": datasets,
        "submission": _submission(report, schema, config),
        "timeliness": _timeliness(dashboard, config),
        "checks": _checks(dashboard, config),
        "checks_state": ("too_early" if dashboard.history_weeks < SETTINGS.min_history
                         else "none" if dashboard.checks.empty else "found"),
        "checks_method": words["checks"]["method"].format(
            history=SETTINGS.max_history, threshold=SETTINGS.threshold, floor_abs=f"{SETTINGS.floor_abs:g}",
            floor_pct=f"{SETTINGS.floor_rel * 100:g}"),
        "min_history": SETTINGS.min_history,
        "approval": _approval(dashboard, config, schema),
        "font_stack": Markup(chart_module.FONT_STACK),   # our constant, inside <style> (no entities there)
    }
    return environment().get_template("report.html.j2").render(**context)
