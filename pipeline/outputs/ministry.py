"""The ministry report: the province's figures in the ministry form's order, the form's link and QR code (pre-filled
when the province configured the form's long link), form E."""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pandas as pd

from pipeline.core.atomic import atomic_path
from pipeline.core.paths import WeekFiles
from pipeline.core.config import Config
from pipeline.core.errors import ConfigError
from pipeline.core.ministry_settings import TOP_LEVEL, MinistrySettings
from pipeline.core.schema import load_schema
from pipeline.core.screen import display_width
from pipeline.core.wording import wording as load_wording
from pipeline.ingest.admin_roster import FIELDS
from pipeline.outputs import style
from pipeline.outputs.columns import LATER_KEYS
from pipeline.thai.dates import thai_date, thai_datetime
from pipeline.week.history import figure_label, incomplete_list, is_incomplete

if TYPE_CHECKING:   # for the annotation only: segno is imported where a QR code is made
    import segno

# figure (block, key) -> (the path of the not-stated count beside it inside the block, its note's wording)
NOT_STATED = load_schema().label("not_stated")
NOT_STATED_NOTES = {("unvaccinated", "thai"): (("nationality_unknown",), "nationality_unknown"),
                    ("unvaccinated", "non_thai"): (("nationality_unknown",), "nationality_unknown"),
                    ("unvaccinated", "wants_vaccine"): (("wants_vaccine_unknown",), "wants_vaccine_unknown"),
                    ("unvaccinated", "by_reason"): (("by_reason", NOT_STATED), "reason_unknown"),
                    ("facilities", "by_status"): (("by_status", NOT_STATED), "status_unknown")}
LINK_COLUMN = 7
QR_ROWS = 14         # rows a QR code covers at the sheet's row height, and a little space
LINKABLE = re.compile(r"[0-9A-Za-z._:+-]{1,40}")   # numbers and codes only: never Thai text in a link
EXCEL_URL_LIMIT = 2079
QR_PIXELS = 420      # at most; the code sits inside one column, so viewers keep it square


@cache
def wording() -> dict:
    """The ministry report's Thai wording (wording_ministry.yaml), read by libyaml as schema.load_yaml does:
    admin_roster reads it on import, so the pure-Python parser's ~20 ms came on every start."""
    return load_wording("ministry")


@dataclass(frozen=True)
class FormLink:
    """A link the ministry report gives: the form's own link, or one with this week's answers filled in."""

    url: str
    prefilled: bool


@dataclass(frozen=True)
class FigureRow:
    """One line of the ministry report: the question, its answer, and whether the link carries it."""

    number: int
    path: tuple[str, ...]
    block: str
    item: str
    value: object
    entry: str | None
    note: str = ""            # the not-stated count beside the figure, when there is one
    incomplete: bool = False  # depends on a column some district did not send: shown with the mark


def figure_value(report: dict, path: tuple[str, ...]):
    """The value of a figure path: a top-level report key or a figure of the province totals."""
    value = report if path[0] in TOP_LEVEL else report["totals"]
    for part in path:
        if isinstance(value, dict) and part not in value and part in LATER_KEYS:
            return 0     # a figure report.json gained later: an earlier week's report has none
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"config: ministry.fields: {'.'.join(path)} is not in report.json")
        value = value[part]
    return value


def _item_label(path: tuple[str, ...]) -> tuple[str, str]:
    words = wording()
    if path[0] in TOP_LEVEL:
        return "", words["top_level"][path[0]]
    item = words["figures"][path[1]]
    return words["blocks"][path[0]], f"{item} {path[2]}" if len(path) == 3 else item


def not_stated_note(report: dict, path: tuple[str, ...]) -> str:
    """The note beside a figure: how many did not state what it counts ('' when none or not such a figure),
    with the incomplete mark when that count is listed incomplete too."""
    if path[:2] not in NOT_STATED_NOTES:
        return ""
    inside, words = NOT_STATED_NOTES[path[:2]]
    count = report["totals"].get(path[0], {})
    for key in inside:
        count = count.get(key, 0) if isinstance(count, dict) else 0
    if not count:
        return ""
    marked = is_incomplete(incomplete_list(report["totals"]), (path[0], *inside))
    return wording()["notes"][words].format(count=f"{count:,}" + (load_schema().label("incomplete_mark") if marked else ""))


def figure_rows(report: dict, settings: MinistrySettings) -> list[FigureRow]:
    """The ministry report's lines, in the ministry form's order: each with its not-stated note (a map's
    once, on its first line) and whether it is incomplete."""
    rows, noted = [], set()
    listed = incomplete_list(report["totals"])
    for number, field in enumerate(settings.fields, start=1):
        block, item = _item_label(field.path)
        value = figure_value(report, field.path)
        note = "" if field.path[:2] in noted else not_stated_note(report, field.path)
        if len(field.path) == 3:
            noted.add(field.path[:2])
        incomplete = field.path[0] not in TOP_LEVEL and is_incomplete(listed, field.path)
        rows.append(FigureRow(number, field.path, block, field.label or item, value, field.entry, note, incomplete))
    return rows


def link_value(value) -> str | None:
    """A value as it goes into the link: whole numbers and short codes only, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if isinstance(value, str) and LINKABLE.fullmatch(text) else None


def prefilled_link(report: dict, settings: MinistrySettings) -> str:
    """The ministry form's link with this week's figures filled in ('' when no long form URL is configured)."""
    if not settings.form_prefill_url:
        return ""
    pairs = [(f.entry, link_value(figure_value(report, f.path))) for f in settings.fields if f.entry]
    return f"{settings.form_prefill_url}?{urlencode([('usp', 'pp_url'), *[(k, v) for k, v in pairs if v is not None]])}"


def weekly_link(report: dict, settings: MinistrySettings) -> FormLink | None:
    """The weekly form's link the report gives: pre-filled when the long URL is configured, else the form's link."""
    if settings.form_prefill_url:
        return FormLink(prefilled_link(report, settings), True)
    return FormLink(settings.form_link, False) if settings.form_link else None


def admin_link(admins: pd.DataFrame, problems: pd.DataFrame, settings: MinistrySettings) -> FormLink | None:
    """Form E's link: pre-filled with the one valid administrator when its long URL and entry ids are configured,
    else the form's link (None when there is none)."""
    if settings.admin_form_prefill_url and settings.admin_entries and len(admins) == 1 and problems.empty:
        admin = admins.iloc[0]
        pairs = [(entry, str(admin[key])) for key, entry in settings.admin_entries if str(admin.get(key, "") or "")]
        return FormLink(f"{settings.admin_form_prefill_url}?{urlencode([('usp', 'pp_url'), *pairs])}", True)
    return FormLink(settings.admin_form_link, False) if settings.admin_form_link else None


def in_link(row: FigureRow) -> bool:
    """Whether the pre-filled link carries this line."""
    return bool(row.entry) and link_value(row.value) is not None


def qr_code(link: str) -> segno.QRCode:
    """The link's QR code (error correction M, raised when the size allows)."""
    import segno   # loaded only when a form link is configured: it brings urllib and http with it
    return segno.make(link, error="m", micro=False)


def qr_png(link: str) -> bytes:
    """The link's QR code as a PNG, at most QR_PIXELS wide (2 pixels a module at least), quiet zone 4."""
    code = qr_code(link)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=max(2, QR_PIXELS // code.symbol_size(border=4)[0]), border=4)
    return buffer.getvalue()


def _shown(row: FigureRow, config: Config):
    if row.path == ("week",):
        return thai_date(dt.date.fromisoformat(row.value), config.date_digits)
    return row.value


def _figures_sheet(book, report: dict, rows: list[FigureRow], links: tuple[FormLink | None, FormLink | None],
                   config: Config) -> None:
    words, labels = wording(), wording()["labels"]
    sheet = book.add_worksheet(words["titles"]["figures_sheet"])
    title = words["titles"]["ministry_report"].format(province=report["province"])
    top = style._heading(sheet, book, config, title, report, LINK_COLUMN + 1)
    header = style.fmt(book, config, bold=True, bg_color=style.HEADER_FILL, border=1, align="center",
                       valign="vcenter", text_wrap=True)
    body, centred = style.fmt(book, config, border=1), style.fmt(book, config, border=1, align="center")
    number = style.fmt(book, config, border=1, num_format="#,##0")
    marked = style.fmt(book, config, border=1, num_format=style.mark_format(load_schema().label("incomplete_mark")),
                       font_color=style.MARK_FONT)
    right = style.fmt(book, config, border=1, align="right")
    for offset, name in enumerate(["number", "block", "item", "value", "in_link", "note"]):
        sheet.write_string(top, offset, labels[name], header)
    for index, row in enumerate(rows, start=top + 1):
        first_of_block = index == top + 1 or rows[index - top - 2].block != row.block
        sheet.write_number(index, 0, row.number, centred)
        sheet.write_string(index, 1, row.block if first_of_block else "", body)
        sheet.write_string(index, 2, row.item, body)
        shown = _shown(row, config)
        if isinstance(shown, int) and not isinstance(shown, bool):
            sheet.write_number(index, 3, shown, marked if row.incomplete else number)
        else:
            sheet.write_string(index, 3, style.text(shown), right)
        prefilled = links[0] is not None and links[0].prefilled
        sheet.write_string(index, 4, labels["in_link_yes" if in_link(row) and prefilled else "in_link_no"], centred)
        sheet.write_string(index, 5, row.note, body)
    if any(row.incomplete for row in rows):
        sheet.write_string(top + len(rows) + 1, 0, load_schema().label("incomplete_note"),
                           style.fmt(book, config, italic=True, font_color=style.MARK_FONT))
    for column, width in enumerate([7, 22, 38, 14, 10, 26, 3, QR_PIXELS / 7 + 2]):
        sheet.set_column(column, column, width)
    for index in range(top, top + max(len(rows), 2 * (QR_ROWS + 8)) + 1):   # explicit heights: QR codes keep their shape
        sheet.set_row(index, config.font_size * (2 if index == top else 1.5))
    sheet.freeze_panes(top + 1, 0)
    sheet.print_area(0, 0, top + len(rows) + 1, LINK_COLUMN)   # the link's text runs on to the right: not onto the page
    _link_block(book, sheet, top, links[0], wording()["links"]["weekly"], config)
    _link_block(book, sheet, top + QR_ROWS + 8, links[1], wording()["links"]["admin"], config)


def link_words(link: FormLink | None, words: dict) -> dict:
    """The wording of one link block: which link it gives (pre-filled or the form's own) and what to do with it."""
    kind = "missing" if link is None else "prefilled" if link.prefilled else "plain"
    return {key: words.get(f"{key}_{kind}", "") for key in ("title", "steps", "open", "text")}


def _link_block(book, sheet, top: int, link: FormLink | None, words: dict, config: Config) -> None:
    """A form's link at the right of the figures: its title saying which link it is, the steps, the link, its QR code."""
    labels, column, said = wording()["labels"], LINK_COLUMN, link_words(link, words)
    sheet.write_string(top, column, said["title"], style.fmt(book, config, bold=True))
    wrapped = style.fmt(book, config, text_wrap=True, valign="top")
    sheet.merge_range(top + 1, column, top + 3, column, said["steps"], wrapped)
    if link is None:
        return
    if len(link.url) <= EXCEL_URL_LIMIT:
        sheet.write_url(top + 4, column, link.url, style.fmt(book, config, bold=True, font_color="blue", underline=1),
                        string=said["open"])
    else:
        sheet.write_string(top + 4, column, labels["link_too_long"], wrapped)
    sheet.write_string(top + 5, column, link.url, style.fmt(book, config, font_size=9, font_color="#595959"))
    import segno   # only here, with a link (see qr_code)
    try:
        image = io.BytesIO(qr_png(link.url))
    except segno.DataOverflowError:   # over 2,331 characters: more questions than one QR code can carry
        sheet.write_string(top + 7, column, labels["qr_too_long"], wrapped)
        return
    sheet.insert_image(top + 7, column, "qr.png", {"image_data": image, "object_position": 3,
                                                   "description": link.url[:255]})


def write_ministry_workbook(path: Path, report: dict, rows: list[FigureRow], links: tuple[FormLink | None, FormLink | None],
                            admins: pd.DataFrame, problems: pd.DataFrame, config: Config) -> None:
    """The ministry workbook: the figures with the weekly form's and form E's links and QR codes, then form E."""
    book = style.new_workbook(path, config, created=style.week_cutoff(report, config))
    _figures_sheet(book, report, rows, links, config)
    write_admin_sheet(book, report, admins, problems, config)
    book.close()


def summary_text(report: dict, admins: pd.DataFrame, problems: pd.DataFrame, links: tuple[FormLink | None, FormLink | None],
                 config: Config, rows: list[FigureRow] = ()) -> str:
    """The plain-text message for Line or e-mail (templates_text/ministry_summary.txt.j2): the key figures, every
    figure in the ministry form's order (`rows`), and the forms' links saying which link each is."""
    import jinja2   # loaded when a summary is written, not by every command that imports this module
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates_text"),
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                     keep_trailing_newline=True, autoescape=False)
    environment.filters["number"] = lambda value: f"{value:,}"
    schema = load_schema()
    statuses = schema.wording["submission_status"]
    districts = report["districts"].values()
    totals, listed = report["totals"], incomplete_list(report["totals"])
    mark = schema.label("incomplete_mark")

    def marked(dotted: str) -> str:
        """The mark after a figure listed incomplete in the province totals."""
        return mark if is_incomplete(listed, tuple(dotted.split(".", 2))) else ""

    def unknown(dotted: str, words: str = "not_stated") -> str:
        """The note of a not-stated count (' (ไม่ระบุ N คน)' by default) when there is any, else ''."""
        block, key = dotted.split(".", 1)
        count = totals.get(block, {}).get(key, 0)
        return wording()["summary"][words].format(count=f"{count:,}{marked(dotted)}") if count else ""
    incomplete = [(d["name"], ", ".join(figure_label(tuple(p.split(".", 2))) for p in incomplete_list(d)))
                  for d in districts if incomplete_list(d)]
    return environment.get_template("ministry_summary.txt.j2").render(
        title=wording()["titles"]["ministry_report"].format(province=report["province"]),
        week=thai_date(dt.date.fromisoformat(report["week"]), config.date_digits),
        cutoff=thai_datetime(dt.datetime.fromisoformat(report["cutoff"]), config.date_digits),
        totals=totals, stale_days=report.get("stale_days", config.stale_days), mark=marked, unknown=unknown,
        reason_unknown=totals["unvaccinated"].get("by_reason", {}).get(NOT_STATED, 0),
        incomplete=incomplete, incomplete_note=schema.label("incomplete_note"),
        statuses=[(statuses[s], [d["name"] for d in districts if d["submission"]["status"] == s])
                  for s in ("on_time", "late", "unusable", "missing")],
        admin=admins.iloc[0].to_dict() if len(admins) == 1 else None,
        problems=problems["message"].tolist(), words=wording(),
        figures=[(row.number, " · ".join(filter(None, [row.block, row.item])), _text_value(row, config), row.note)
                 for row in rows],
        links=[(link, link_words(link, wording()["links"][kind])) for link, kind in zip(links, ("weekly", "admin"))])


def _text_value(row: FigureRow, config: Config) -> str:
    """A figure as the text summary shows it: numbers with separators and the incomplete mark, the week in Thai."""
    shown = _shown(row, config)
    if isinstance(shown, int) and not isinstance(shown, bool):
        return f"{shown:,}" + (load_schema().label("incomplete_mark") if row.incomplete else "")
    return str(shown)


def write_ministry(report: dict, admins: pd.DataFrame, problems: pd.DataFrame, week_dir: Path, config: Config,
                   settings: MinistrySettings) -> list[Path]:
    """Write week_dir/ministry/: the ministry workbook and the text summary; returns their paths."""
    files = WeekFiles(week_dir, report["week"])
    rows = figure_rows(report, settings)
    links = (weekly_link(report, settings), admin_link(admins, problems, settings))
    workbook, summary = files.ministry_workbook, files.ministry_text
    with atomic_path(workbook) as path:
        write_ministry_workbook(path, report, rows, links, admins, problems, config)
    with atomic_path(summary) as path:
        path.write_text(summary_text(report, admins, problems, links, config, rows), encoding="utf-8")
    return [workbook, summary]


def row_height(config: Config, *cells: tuple[str, float]) -> float:
    """Points for a row whose wrapped (text, column width) cells must show whole (viewers do not autofit)."""
    lines = max([math.ceil(display_width(style.text(text)) / max(width * 0.9, 1)) for text, width in cells] + [1])
    return config.font_size * (1.5 + 1.75 * (lines - 1))


def write_admin_sheet(book, report: dict, admins: pd.DataFrame, problems: pd.DataFrame, config: Config) -> None:
    """Form E as a sheet: the ministry's six fields in order, one column per admin, then what must be fixed."""
    titles, labels = wording()["titles"], wording()["labels"]
    sheet = book.add_worksheet(titles["admin_sheet"])
    count = max(len(admins), 1)
    top = style._heading(sheet, book, config, titles["admin_form"], report, 2 + count)
    header = style.fmt(book, config, bold=True, bg_color=style.HEADER_FILL, border=1, text_wrap=True)
    body, centred = style.fmt(book, config, border=1, text_wrap=True), style.fmt(book, config, border=1, align="center")
    names = [labels["admin_value"]] if count == 1 else [f"{labels['admin_value']} {i}" for i in range(1, count + 1)]
    for offset, name in enumerate([labels["number"], labels["field"], *names]):
        sheet.write_string(top, offset, name, header)
    sheet.set_row(top, config.font_size * 1.5)
    for index, (key, spec) in enumerate(wording()["admin_fields"].items(), start=1):
        values = [style.text(v) for v in admins[key]] if len(admins) else [""]
        sheet.write_number(top + index, 0, index, centred)
        sheet.write_string(top + index, 1, spec["header"], body)
        for offset, value in enumerate(values):
            sheet.write_string(top + index, 2 + offset, value, body)
        sheet.set_row(top + index, row_height(config, (spec["header"], 44), *[(v, 44) for v in values]))
    _problem_rows(book, sheet, top + len(FIELDS) + 2, problems, config)
    sheet.set_column(0, 0, 7)
    sheet.set_column(1, 1 + count, 44)
    sheet.freeze_panes(top + 1, 0)


def _problem_rows(book, sheet, row: int, problems: pd.DataFrame, config: Config) -> None:
    labels = wording()["labels"]
    sheet.set_row(row, config.font_size * 1.5)
    if problems.empty:
        sheet.write_string(row, 1, labels["no_problems"], style.fmt(book, config, bg_color="#C6EFCE"))
        return
    sheet.write_string(row, 1, labels["problems"], style.fmt(book, config, bold=True, font_color="#9C0006"))
    cell = style.fmt(book, config, border=1, text_wrap=True, bg_color="#FFC7CE")
    for index, problem_row in enumerate(problems.itertuples(index=False), start=row + 1):
        sheet.write_number(index, 0, index - row, style.fmt(book, config, border=1, align="center", bg_color="#FFC7CE"))
        sheet.write_string(index, 1, style.text(problem_row.header), cell)
        sheet.write_string(index, 2, style.text(problem_row.message), cell)
        sheet.set_row(index, row_height(config, (problem_row.message, 44)))
