"""District submission templates, generated from the schema: headers, notes, drop-downs, formats, instructions."""
from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path


from pipeline.core.config import Config, load_config
from pipeline.core.errors import ConfigError
from pipeline.core.schema import Dataset, Field, Schema, load_schema
from pipeline.core.wording import wording
from pipeline.ingest.fields import thai_date
from pipeline.ingest.layout import column_letter
from pipeline.outputs.style import HEADER_FILL, fmt, new_workbook, recording_start
from pipeline.thai import gazetteer

INSTRUCTIONS_SHEET = "คำชี้แจง"
LISTS_SHEET = "lists"
TEMPLATE_ROWS = 500               # data rows pre-formatted and validated below the header
INLINE_LIST_LIMIT = 255           # Excel's limit on a list typed into the validation itself
REQUIRED_FILL = "#F8CBAD"
OPEN_LIST_TYPES = {"nationality"}  # values outside the list are accepted (fields.py)
NUMBER_VALIDATION = {"whole": "integer", "decimal": "decimal"}
UNBOUNDED = 10**9                 # the bound of a number validation where the schema sets none
# Buddhist-era display; a date Excel stored with the year 2564 itself (typed on a Gregorian
# machine) is shown as typed instead of as 3107. The first section applies from 1 Jan 2400.
BE_YEAR_SERIAL = (dt.date(2400, 1, 1) - dt.date(1899, 12, 30)).days
DATE_FORMAT = f"[>={BE_YEAR_SERIAL}]d/m/yyyy;[$-107041E]d/m/yyyy"


def load_wording() -> dict:
    """The templates' Thai wording (core/wording/templates.yaml)."""
    return wording("templates")


@dataclass(frozen=True)
class Scope:
    """Whom one template is for: its file, its districts and subdistricts, its inbox folder."""

    file_name: str
    label: str
    folder: str
    districts: tuple[str, ...]
    subdistricts: tuple[str, ...]


def district_scope(code: str, config: Config) -> Scope:
    """The template of one district: only its own name and its own subdistricts."""
    name = config.districts[code]
    return Scope(f"แบบฟอร์ม_{code}_{name}.xlsx", load_wording()["district_scope"].format(name=name, code=code),
                 f"{code} {name}", (name,), tuple(gazetteer.subdistricts_of(code).values()))


def province_scope(config: Config) -> Scope:
    """The generic template: every district of the province and all their subdistricts."""
    wording = load_wording()
    first_code, first_name = next(iter(config.districts.items()))
    subdistricts = (name for code in config.districts for name in gazetteer.subdistricts_of(code).values())
    return Scope(f"แบบฟอร์ม_จังหวัด{config.province_name}.xlsx", wording["province_scope"],
                 wording["province_folder"].format(example=f"{first_code} {first_name}"),
                 tuple(config.districts.values()), tuple(dict.fromkeys(subdistricts)))


def allowed_values(form_field: Field, scope: Scope, schema: Schema) -> tuple[str, ...]:
    """The drop-down values of a column, or () when it has none."""
    if form_field.choices:
        return schema.choice_values(form_field.choices)
    return {"district": scope.districts, "subdistrict": scope.subdistricts}.get(form_field.type, ())


def range_text(form_field: Field) -> str:
    """'ตั้งแต่ 1 ถึง 40', 'ตั้งแต่ 0 ขึ้นไป', … or '' when the field has no bounds."""
    low, high = form_field.minimum, form_field.maximum
    key = {(True, True): "between", (True, False): "at_least", (False, True): "at_most"}.get(
        (low is not None, high is not None))
    return load_wording()["range"][key].format(minimum=f"{low or 0:g}", maximum=f"{high or 0:g}") if key else ""


def field_rules(form_field: Field, scope: Scope, schema: Schema, config: Config) -> list[str]:
    """Every rule of a column, in Thai, derived from its schema field."""
    wording = load_wording()
    rules = [wording["required"][form_field.required], wording["types"][form_field.type], range_text(form_field)]
    if form_field.not_before:  # names a date of the configuration (recording_start)
        rules.append(wording["not_before"].format(date=thai_date(getattr(config, form_field.not_before))))
    if form_field.not_future:
        rules.append(wording["not_future"])
    values = allowed_values(form_field, scope, schema)
    if values:
        rules.append(wording["choices"].format(values=" · ".join(values)))
    return [rule for rule in rules if rule]


def cell_format(form_field: Field) -> dict:
    """Number format of a data column: dates as dates, numbers as numbers, everything else as text."""
    if form_field.type == "date":
        return {"num_format": DATE_FORMAT, "align": "center"}
    return {"align": "center"} if form_field.type in NUMBER_VALIDATION else {"num_format": "@"}


def template_fields(dataset: Dataset) -> list[Field]:
    """The columns printed on the form, in schema order."""
    return [form_field for form_field in dataset.fields if form_field.in_template]


class ListSheet:
    """The hidden sheet holding drop-down lists too long to be typed into a validation."""

    def __init__(self, sheet) -> None:
        self.sheet, self.ranges = sheet, {}

    def source(self, name: str, values: tuple[str, ...]):
        """A validation source: the values themselves when short, else a range of this sheet."""
        if len(",".join(values)) <= INLINE_LIST_LIMIT and not any("," in value for value in values):
            return list(values)
        if values not in self.ranges:
            column = len(self.ranges)
            self.sheet.write_string(0, column, name)
            for row, value in enumerate(values, start=1):
                self.sheet.write_string(row, column, value)
            letter = column_letter(column)
            self.ranges[values] = f"={LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
        return self.ranges[values]


def validation(form_field: Field, scope: Scope, schema: Schema, lists: ListSheet) -> dict | None:
    """The data validation of a column: a drop-down, a number range, or None."""
    wording, values = load_wording(), allowed_values(form_field, scope, schema)
    messages = wording["validation"]
    if values:
        open_list = form_field.type in OPEN_LIST_TYPES
        return {"validate": "list", "source": lists.source(form_field.header, values),
                "error_type": "information" if open_list else "stop", "error_title": messages["list_title"],
                "error_message": messages["open_list_message" if open_list else "list_message"]}
    if form_field.type not in NUMBER_VALIDATION:
        return None
    low = -UNBOUNDED if form_field.minimum is None else form_field.minimum
    high = UNBOUNDED if form_field.maximum is None else form_field.maximum
    message = messages["number_message"].format(kind=wording["types"][form_field.type], range=range_text(form_field))
    return {"validate": NUMBER_VALIDATION[form_field.type], "criteria": "between", "minimum": low, "maximum": high,
            "error_title": messages["number_title"], "error_message": message.strip()}


def data_sheet(book, sheet, dataset: Dataset, scope: Scope, schema: Schema, config: Config, lists: ListSheet) -> None:
    """One form sheet: header row with notes, widths, formats, validations, frozen header."""
    header_formats = {level: fmt(book, config, bold=True, border=1, text_wrap=True, align="center",
                                 valign="vcenter", bg_color=REQUIRED_FILL if level == "yes" else HEADER_FILL)
                      for level in ("yes", "warn", "no")}
    for column, form_field in enumerate(template_fields(dataset)):
        body = fmt(book, config, **cell_format(form_field))
        sheet.write_string(0, column, form_field.header, header_formats[form_field.required])
        lines = [form_field.header, *field_rules(form_field, scope, schema, config)]
        height = 30 + 22 * sum(math.ceil(max(len(line), 1) / 34) for line in lines)  # about 34 characters a line
        sheet.write_comment(0, column, "\n".join(lines), {"author": "Jitasa.care", "font_name": config.font,
                                                          "font_size": config.font_size - 2, "width": 300,
                                                          "height": height})
        sheet.set_column(column, column, form_field.width, body)
        for row in range(1, TEMPLATE_ROWS + 1):
            sheet.write_blank(row, column, None, body)
        rule = validation(form_field, scope, schema, lists)
        if rule:
            sheet.data_validation(1, column, TEMPLATE_ROWS, column, rule)
    sheet.set_default_row(config.font_size * 1.6)
    sheet.set_row(0, config.font_size * 3.2)
    sheet.freeze_panes(1, 0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _wrapped_height(text: str, width: int, config: Config) -> float:
    """A row height that fits wrapped Thai text (marks above and below the line take no width)."""
    visible = sum(1 for character in text if unicodedata.category(character) != "Mn")
    return config.font_size * 1.6 * max(1, math.ceil(visible / (width * 0.85)))


def _how_to(book, sheet, scope: Scope, config: Config) -> int:
    """Title, deadline and the numbered filling rules; the next free row."""
    wording, deadline = load_wording(), config.district_deadline.strftime("%H.%M")
    heading, bold, wrapped = (fmt(book, config, bold=True, font_size=config.font_size + 4),
                              fmt(book, config, bold=True), fmt(book, config, text_wrap=True))
    sheet.write_string(0, 0, wording["title"].format(scope=scope.label, province=config.province_name), heading)
    sheet.set_row(0, config.font_size * 2.2)
    sheet.write_string(1, 0, wording["subtitle"].format(deadline=deadline, start=thai_date(config.recording_start)))
    sheet.write_string(3, 0, wording["how_to_heading"], bold)
    for row, text in enumerate(wording["how_to"], start=4):
        line = f"{row - 3}. {text.format(folder=scope.folder, deadline=deadline)}"
        sheet.merge_range(row, 0, row, 1, line, wrapped)
        sheet.set_row(row, _wrapped_height(line, 121, config))
    return 4 + len(wording["how_to"])


def _form_table(book, sheet, row: int, dataset: Dataset, scope: Scope, schema: Schema, config: Config) -> int:
    """One form: its title, a row per column with its rules, then the rules of whole rows; the next free row."""
    wording, bold, wrapped = load_wording(), fmt(book, config, bold=True), fmt(book, config, text_wrap=True)
    title = wording["sheet_heading"].format(title=dataset.title, description=dataset.description)
    sheet.write_string(row, 0, title, bold)
    sheet.write_row(row + 1, 0, [wording["column_heading"], wording["rule_heading"]],
                    fmt(book, config, bold=True, bg_color=HEADER_FILL, border=1))
    cells = fmt(book, config, text_wrap=True, border=1)
    row += 2
    for form_field in template_fields(dataset):
        rules = " · ".join(field_rules(form_field, scope, schema, config))
        sheet.write_row(row, 0, [form_field.header, rules], cells)
        sheet.set_row(row, _wrapped_height(rules, 95, config))
        row += 1
    notes = [wording["rules"][rule].format(province=config.province_name)
             for rule in dataset.rules if rule in wording["rules"]]
    if notes:
        sheet.write_string(row, 0, wording["rows_heading"], bold)
    for note in notes:
        sheet.write_string(row, 1, note, wrapped)
        row += 1
    return row + 1


def instructions_sheet(book, sheet, scope: Scope, schema: Schema, config: Config) -> None:
    """คำชี้แจง: how to fill the workbook, then every column of every form and its rules (closed lists spelled out)."""
    sheet.set_default_row(config.font_size * 1.6)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 95)
    row = _how_to(book, sheet, scope, config) + 1
    for dataset in schema.datasets.values():
        row = _form_table(book, sheet, row, dataset, scope, schema, config)
    sheet.set_portrait()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


def write_template(path: Path, scope: Scope, schema: Schema, config: Config) -> Path:
    """One submission workbook: คำชี้แจง, the form sheets in schema order, the hidden lists."""
    book = new_workbook(path, config, created=recording_start(config))   # not the run's time: git stays clean
    instructions = book.add_worksheet(INSTRUCTIONS_SHEET)
    forms = {key: book.add_worksheet(dataset.title) for key, dataset in schema.datasets.items()}
    lists = ListSheet(book.add_worksheet(LISTS_SHEET))
    lists.sheet.hide()
    instructions_sheet(book, instructions, scope, schema, config)
    for key, sheet in forms.items():
        data_sheet(book, sheet, schema.datasets[key], scope, schema, config, lists)
    instructions.activate()
    book.close()
    return path


def build_templates(target_dir: Path, config: Config, schema: Schema) -> list[Path]:
    """Write one template per district of the province and one generic template; return their paths."""
    target_dir.mkdir(parents=True, exist_ok=True)
    scopes = [district_scope(code, config) for code in config.districts] + [province_scope(config)]
    return [write_template(target_dir / scope.file_name, scope, schema, config) for scope in scopes]


def main(argv: list[str] | None = None) -> int:
    """python -m pipeline templates --config config.yaml --outputs templates/"""
    parser = argparse.ArgumentParser(prog="python -m pipeline templates", description="district submission templates")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--outputs", type=Path, default=Path("templates"))
    arguments = parser.parse_args(argv)
    try:
        config = load_config(arguments.config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in build_templates(arguments.outputs, config, load_schema()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
