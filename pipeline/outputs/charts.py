"""The week's charts: their data (from the report, the week's entities and the weekly history), drawn
twice from the same numbers: as native Excel charts referencing cells of the 'กราฟ' sheet (so they
stay live in Excel and LibreOffice), and as inline SVG for the HTML page.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from html import escape

import pandas as pd

from pipeline.core.config import Config
from pipeline.core.schema import Schema
from pipeline.outputs import style
from pipeline.week import figures
from pipeline.week.history import Timeliness, wording, week_label

FONT_STACK = "'TH Sarabun New', 'Sarabun', 'Laksaman', 'Noto Sans Thai', sans-serif"
NAVY, ORANGE, GREEN, GREY, GOLD, BLUE, RED = "#1F4E79", "#ED7D31", "#70AD47", "#A5A5A5", "#FFC000", "#5B9BD5", "#C00000"
PURPLE, LIGHT_GREY = "#7030A0", "#D9D9D9"   # unusable submissions; counts not stated
CHART_COLUMN = 8            # charts start in column I, beside their data in A:G
CHART_SIZE = (760, 360)     # pixels
CHART_ROWS = 12             # rows a chart covers at the report's default row height
BLOCKS_PER_PAGE = 2         # printed: two charts (with their tables) per A4 landscape page


@dataclass(frozen=True)
class Series:
    """One series of a chart: its name, one value per category, its colour."""

    name: str
    values: list[float]
    colour: str


@dataclass(frozen=True)
class Chart:
    """A chart's data: categories (rows of its table) and series (columns), and how to draw it."""

    key: str
    title: str
    category_title: str
    categories: list[str]
    series: list[Series]
    kind: str               # column | bar | line
    stacked: bool = True


def build_charts(report: dict, entities: dict[str, pd.DataFrame], window: figures.Window,
                 reports: dict[dt.date, dict], timeliness: Timeliness | None, config: Config,
                 schema: Schema) -> list[Chart]:
    """Every chart of the week, from the week's report, its entities and the weekly history."""
    words = wording()["charts"]
    districts = report["districts"]
    names = [d["name"] for d in districts.values()]
    totals = report["totals"]
    days = config.stale_days
    unvaccinated = [d["unvaccinated"] for d in districts.values()]
    facility_types = schema.choice_values("facility_types")
    # Stale facilities and open requests per type, by the report's own rule (figures.dataset_blocks).
    stale = figures.flag_by_value(entities.get("facilities", pd.DataFrame()), "facilities", "stale",
                                  "facility_type", facility_types, window, config)
    request_types = schema.choice_values("request_types")
    open_requests = figures.flag_by_value(entities.get("help_requests", pd.DataFrame()), "help_requests", "open",
                                          "request_type", request_types, window, config)
    # Not stated is its own category (a blank is never counted as no); reports made before it read 0.
    reasons = [*schema.choice_values("reasons"), schema.label("not_stated")]
    nationality_unknown = [b.get("nationality_unknown", 0) for b in unvaccinated]
    wants_unknown = [b.get("wants_vaccine_unknown", 0) for b in unvaccinated]
    charts = [
        Chart("unvaccinated_nationality", words["unvaccinated_nationality"], words["district"], names,
              [Series(words["thai"], [b["thai"] for b in unvaccinated], NAVY),
               Series(words["non_thai"], [b["non_thai"] for b in unvaccinated], ORANGE),
               Series(words["not_stated"], nationality_unknown, LIGHT_GREY)], "column"),
        Chart("unvaccinated_reason", words["unvaccinated_reason"], words["reason"], reasons,
              [Series(words["people"], [totals["unvaccinated"]["by_reason"].get(r, 0) for r in reasons], NAVY)],
              "bar", stacked=False),
        Chart("wants_vaccine", words["wants_vaccine"], words["district"], names,
              [Series(words["wants"], [b["wants_vaccine"] for b in unvaccinated], GREEN),
               Series(words["not_wants"], [b["total"] - b["wants_vaccine"] - unknown
                                           for b, unknown in zip(unvaccinated, wants_unknown)], GREY),
               Series(words["not_stated"], wants_unknown, LIGHT_GREY)], "column"),
        Chart("facilities_type", words["facilities_type"].format(days=days), words["facility_type"],
              list(facility_types),
              [Series(words["current"].format(days=days),
                      [totals["facilities"]["by_type"].get(t, 0) - s for t, s in zip(facility_types, stale)], BLUE),
               Series(words["stale"].format(days=days), stale, RED)], "bar"),
        Chart("requests_type", words["requests_type"], words["request_type"], list(request_types),
              [Series(words["open"], open_requests, ORANGE),
               Series(words["done"], [totals["help_requests"]["by_type"].get(t, 0) - o
                                      for t, o in zip(request_types, open_requests)], GREEN)], "bar"),
    ]
    ordered = sorted({**reports, window.week: report}.items())  # the week's own report is this run's
    history = [r["totals"] for _, r in ordered]
    labels = [week_label(w, config.date_digits) for w, _ in ordered]
    charts.insert(0, Chart("province_weeks", words["province_weeks"], words["week"], labels, [
        Series(words["volunteers"], [t["volunteers"]["total"] for t in history], GREEN),
        Series(words["unvaccinated"], [t["unvaccinated"]["total"] for t in history], NAVY),
        Series(words["wants"], [t["unvaccinated"]["wants_vaccine"] for t in history], BLUE),
        Series(words["facilities"], [t["facilities"]["total"] for t in history], GOLD),
        Series(words["help_requests"], [t["help_requests"]["total"] for t in history], ORANGE),
        Series(words["help_open"], [t["help_requests"]["open"] for t in history], RED),
    ], "line", stacked=False))
    if timeliness is not None:
        counts = timeliness.week_counts()
        status = wording()["status_short"]
        charts.append(Chart("timeliness_weeks", words["timeliness_weeks"], words["week"],
                            [week_label(w, config.date_digits) for w in timeliness.weeks],
                            [Series(status["on_time"], counts["on_time"].tolist(), GREEN),
                             Series(status["late"], counts["late"].tolist(), GOLD),
                             Series(status["unusable"], counts["unusable"].tolist(), PURPLE),
                             Series(status["missing"], counts["missing"].tolist(), RED)], "column"))
    return charts


# ---------------------------------------------------------------- Excel: the 'กราฟ' sheet

def _font(config: Config, size: int, **extra) -> dict:
    return {"name": config.font, "size": size, **extra}


def excel_chart(book, sheet_name: str, chart: Chart, first_row: int, config: Config):
    """A native chart whose series reference the chart's table (header at first_row, data below)."""
    subtype = {"subtype": "stacked"} if chart.stacked and chart.kind != "line" else {}
    excel = book.add_chart({"type": chart.kind, **subtype})
    last_row = first_row + len(chart.categories)
    for offset, series in enumerate(chart.series, start=1):
        options = {"name": [sheet_name, first_row, offset],
                   "categories": [sheet_name, first_row + 1, 0, last_row, 0],
                   "values": [sheet_name, first_row + 1, offset, last_row, offset]}
        if chart.kind == "line":
            options |= {"line": {"color": series.colour, "width": 2.25},
                        "marker": {"type": "circle", "size": 6, "fill": {"color": series.colour},
                                   "border": {"color": series.colour}}}
        else:
            options |= {"fill": {"color": series.colour}, "border": {"color": "#FFFFFF"}, "gap": 60}
            if not chart.stacked:
                options["data_labels"] = {"value": True, "font": _font(config, 11)}
        excel.add_series(options)
    excel.set_title({"name": chart.title, "name_font": _font(config, 14, bold=True)})
    category_axis = {"num_font": _font(config, 11), "name": chart.category_title, "name_font": _font(config, 11)}
    value_axis = {"num_font": _font(config, 11), "min": 0, "major_gridlines": {"visible": True,
                                                                            "line": {"color": "#D9D9D9"}}}
    if chart.kind == "bar":
        category_axis["reverse"] = True          # the first category at the top, as in the table
        excel.set_x_axis(value_axis)
        excel.set_y_axis(category_axis)
    else:
        excel.set_x_axis(category_axis)
        excel.set_y_axis(value_axis)
    excel.set_legend({"position": "bottom", "font": _font(config, 11)} if len(chart.series) > 1 else {"none": True})
    excel.set_size({"width": CHART_SIZE[0], "height": CHART_SIZE[1]})
    excel.set_chartarea({"border": {"color": "#BFBFBF"}})
    return excel


def chart_sheet(book, charts: list[Chart], report: dict, config: Config, title: str) -> None:
    """The 'กราฟ' sheet: each chart's table in A:G and the live chart beside it."""
    name = wording()["sheets"]["charts"]
    sheet = book.add_worksheet(name)
    row = style.heading(sheet, book, config, title, report, CHART_COLUMN + 10)
    sheet.write_string(row - 1, 0, wording()["charts"]["note"], style.fmt(book, config, italic=True,
                                                                           font_color="#595959"))
    caption = style.fmt(book, config, bold=True, font_size=config.font_size + 2)
    header = style.fmt(book, config, bold=True, bg_color=style.HEADER_FILL, border=1, text_wrap=True,
                       align="center", valign="vcenter")
    body, number = style.fmt(book, config, border=1), style.fmt(book, config, border=1, num_format="#,##0")
    breaks = []
    for index, chart in enumerate(charts):
        if index and index % BLOCKS_PER_PAGE == 0:
            breaks.append(row)
        sheet.write_string(row, 0, chart.title, caption)
        first = row + 1
        sheet.write_string(first, 0, chart.category_title, header)
        for offset, series in enumerate(chart.series, start=1):
            sheet.write_string(first, offset, series.name, header)
        sheet.set_row(first, config.font_size * 3)
        for index, category in enumerate(chart.categories, start=1):
            sheet.write_string(first + index, 0, category, body)
            for offset, series in enumerate(chart.series, start=1):
                sheet.write_number(first + index, offset, series.values[index - 1], number)
        sheet.insert_chart(row, CHART_COLUMN, excel_chart(book, name, chart, first, config),
                           {"x_offset": 8, "y_offset": 4, "object_position": 3})
        row += max(len(chart.categories) + 4, CHART_ROWS + 2)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, CHART_COLUMN - 1, 12)
    sheet.set_h_pagebreaks(breaks)
    sheet.print_area(0, 0, row, CHART_COLUMN + 12)


# ---------------------------------------------------------------- SVG for the HTML page

def _nice_step(span: float, intervals: int = 5) -> float:
    raw = max(span, 1) / intervals
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * power >= raw:
            step = multiple * power
            return max(step, 1.0)
    return 10 * power


def _number(value: float) -> str:
    return f"{value:,.0f}"


def _text(x: float, y: float, content: str, size: int = 14, anchor: str = "start", **attributes) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{escape(str(value))}"' for key, value in attributes.items())
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{escape(content)}</text>")


def _tooltip(category: str, series: Series, value: float) -> str:
    """The hover text of one drawn value: category, series and figure."""
    return f"<title>{escape(category)} · {escape(series.name)}: {_number(value)}</title>"


def _segment(x: float, y: float, width: float, height: float, category: str, series: Series, value: float) -> str:
    """One bar or bar segment in its series' colour, with its hover text."""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{series.colour}">'
            f"{_tooltip(category, series, value)}</rect>")


def _legend(chart: Chart, width: int, y: float) -> list[str]:
    if len(chart.series) < 2:
        return []
    parts, x = [], 20.0
    for series in chart.series:
        parts.append(f'<rect x="{x:.1f}" y="{y - 11:.1f}" width="14" height="14" fill="{series.colour}"/>')
        parts.append(_text(x + 20, y, series.name, 15))
        x += 34 + 9 * len(series.name)
    return parts


WIDE = ("province_weeks",)   # drawn across the page; the others two by two


def svg(chart: Chart, width: int | None = None) -> str:
    """The chart as inline SVG (no external resources), labelled in Thai."""
    width = width or (1000 if chart.key in WIDE else 760)
    count = len(chart.categories)
    if chart.kind == "bar":
        body, height = _svg_bars(chart, width)
    else:
        height = 330
        body = _svg_columns(chart, width, height) if chart.kind == "column" else _svg_lines(chart, width, height)
    legend = _legend(chart, width, height - 12)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart.key}" viewBox="0 0 {width} '
            f'{height}" width="100%" role="img" aria-label="{escape(chart.title)}" font-family="{escape(FONT_STACK)}">'
            f"<title>{escape(chart.title)}</title>"
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>'
            + _text(width / 2, 24, chart.title, 18, "middle", font_weight="bold")
            + "".join(body) + "".join(legend) + f"<desc>{count} categories</desc></svg>")


def _scale(chart: Chart) -> tuple[float, float]:
    """(top of the value axis, tick step)."""
    if chart.stacked and chart.kind != "line":
        peak = max((sum(values) for values in zip(*(s.values for s in chart.series))), default=0)
    else:
        peak = max((max(s.values, default=0) for s in chart.series), default=0)
    step = _nice_step(peak)
    return max(step * math.ceil(peak / step), step), step


def _gridlines(peak: float, step: float, left: float, right: float, top: float, plot_h: float) -> list[str]:
    """Horizontal gridlines with their values on the left, from 0 to the scale's peak."""
    parts, tick = [], 0.0
    while tick <= peak + 1e-9:
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#D9D9D9"/>')
        parts.append(_text(left - 6, y + 5, _number(tick), 13, "end", fill="#404040"))
        tick += step
    return parts


def _svg_columns(chart: Chart, width: int, height: int) -> list[str]:
    left, right, top, bottom = 64, 16, 44, 80
    plot_w, plot_h = width - left - right, height - top - bottom
    peak, step = _scale(chart)
    parts = _gridlines(peak, step, left, width - right, top, plot_h)
    count = max(len(chart.categories), 1)
    band = plot_w / count
    bar = band * 0.62
    label_every = max(1, math.ceil(count / 14))
    for index, category in enumerate(chart.categories):
        x = left + index * band + (band - bar) / 2
        base = top + plot_h
        for series in chart.series:
            value = series.values[index]
            h = plot_h * value / peak
            parts.append(_segment(x, base - h, bar, h, category, series, value))
            base -= h
        total = sum(series.values[index] for series in chart.series)
        parts.append(_text(x + bar / 2, base - 4, _number(total), 13, "middle", fill="#262626"))
        if index % label_every == 0:
            parts.append(_text(x + bar / 2, top + plot_h + 20, category, 14, "middle"))
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#595959"/>')
    return parts


def _svg_bars(chart: Chart, width: int) -> tuple[list[str], int]:
    left, right, top, row = 250, 60, 44, 30
    count = len(chart.categories)
    legend = 34 if len(chart.series) > 1 else 8
    height = top + row * count + 28 + legend
    plot_w = width - left - right
    peak, step = _scale(chart)
    parts = []
    tick = 0.0
    while tick <= peak + 1e-9:
        x = left + plot_w * tick / peak
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + row * count}" stroke="#D9D9D9"/>')
        parts.append(_text(x, top + row * count + 18, _number(tick), 13, "middle", fill="#404040"))
        tick += step
    for index, category in enumerate(chart.categories):
        y = top + index * row + row * 0.18
        x = float(left)
        parts.append(_text(left - 8, y + row * 0.5, category, 14, "end"))
        for series in chart.series:
            value = series.values[index]
            w = plot_w * value / peak
            parts.append(_segment(x, y, w, row * 0.64, category, series, value))
            x += w
        total = sum(series.values[index] for series in chart.series)
        parts.append(_text(x + 6, y + row * 0.5, _number(total), 13, fill="#262626"))
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + row * count}" stroke="#595959"/>')
    return parts, height


def _svg_lines(chart: Chart, width: int, height: int) -> list[str]:
    left, right, top, bottom = 64, 56, 44, 80
    plot_w, plot_h = width - left - right, height - top - bottom
    peak, step = _scale(chart)
    parts = _gridlines(peak, step, left, width - right, top, plot_h)
    count = len(chart.categories)
    gap = plot_w / max(count - 1, 1)
    x_of = (lambda i: left + plot_w / 2) if count == 1 else (lambda i: left + i * gap)  # noqa: E731
    label_every = max(1, math.ceil(count / 10))
    for index, category in enumerate(chart.categories):
        if (count - 1 - index) % label_every == 0:       # the latest week always labelled
            parts.append(_text(x_of(index), top + plot_h + 20, category, 13, "middle"))
    for series in chart.series:
        points = [(x_of(i), top + plot_h - plot_h * v / peak) for i, v in enumerate(series.values)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{series.colour}" stroke-width="2.5"/>')
        for (x, y), category, value in zip(points, chart.categories, series.values):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{series.colour}">'
                         f"{_tooltip(category, series, value)}</circle>")
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#595959"/>')
    return parts
