"""Native Excel charts in the province workbook: they exist, reference the 'กราฟ' sheet, and the cells they
reference hold the report's figures (openpyxl drops charts when it loads a workbook, so the chart XML is
read from the zip)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from pipeline.outputs import charts
from pipeline.week.history import week_label
from tests.scenarios.test_two_weeks import WEEK1, WEEK2

NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
SHEET = "กราฟ"


@pytest.fixture(scope="module")
def two_weeks(two_week_run):
    root, reports = two_week_run
    return root / "out" / WEEK2 / f"province_report_{WEEK2}.xlsx", reports


def read_charts(path: Path) -> list[dict]:
    """Every chart part: its title, kind, grouping and series references."""
    found = []
    with zipfile.ZipFile(path) as archive:
        names = sorted((n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)),
                       key=lambda n: int(re.search(r"\d+", n).group()))
        for name in names:
            root = ElementTree.fromstring(archive.read(name))
            plot = root.find(".//c:plotArea", NS)
            kind = next(child.tag.split("}")[1] for child in plot if child.tag.endswith("Chart"))
            title = "".join(t.text or "" for t in root.find(".//c:title", NS).iterfind(".//a:t", NS))
            grouping = plot.find(".//c:grouping", NS)
            direction = plot.find(".//c:barDir", NS)
            series = [{"name": s.find("c:tx//c:f", NS).text, "categories": s.find("c:cat//c:f", NS).text,
                       "values": s.find("c:val//c:f", NS).text} for s in plot.iterfind(".//c:ser", NS)]
            found.append({"title": title, "kind": kind, "grouping": grouping.get("val") if grouping is not None else "",
                          "direction": direction.get("val") if direction is not None else "", "series": series})
    return found


def resolve(book, reference: str) -> list:
    """The values of the cells a chart formula points at, e.g. 'กราฟ'!$B$5:$B$12."""
    sheet_name, cells = reference.rsplit("!", 1)
    sheet = book[sheet_name.strip("'")]
    low_col, low_row, high_col, high_row = range_boundaries(cells.replace("$", ""))
    return [sheet.cell(r, c).value for r in range(low_row, high_row + 1) for c in range(low_col, high_col + 1)]


def chart_data(path: Path) -> dict[str, dict]:
    """Chart title -> {categories, series name -> values}, read through the references."""
    book = openpyxl.load_workbook(path)
    data = {}
    for chart in read_charts(path):
        assert all(s["values"].split("!")[0].strip("'") == SHEET for s in chart["series"])
        categories = resolve(book, chart["series"][0]["categories"])
        data[chart["title"]] = {"chart": chart, "categories": categories,
                                "series": {resolve(book, s["name"])[0]: resolve(book, s["values"])
                                           for s in chart["series"]}}
    return data


def test_every_chart_is_a_native_chart_on_the_chart_sheet(two_weeks):
    path, _ = two_weeks
    found = read_charts(path)
    assert len(found) == 7
    kinds = {(c["kind"], c["direction"], c["grouping"]) for c in found}
    assert ("lineChart", "", "standard") in kinds and ("barChart", "col", "stacked") in kinds
    assert ("barChart", "bar", "stacked") in kinds
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        assert f'name="{SHEET}"' in workbook
        drawing = archive.read("xl/drawings/drawing1.xml").decode("utf-8")
        assert drawing.count("<c:chart ") == 7
    assert openpyxl.load_workbook(path).sheetnames[:2] == ["สรุป", SHEET]


def test_nationality_and_wanting_charts_reference_the_district_figures(two_weeks, schema):
    path, reports = two_weeks
    report = reports[WEEK2]
    data = chart_data(path)
    names = [d["name"] for d in report["districts"].values()]
    nationality = data["ผู้ยังไม่ได้รับวัคซีน แยกตามสัญชาติ รายอำเภอ (สะสม)"]
    assert nationality["categories"] == names
    assert nationality["series"]["สัญชาติไทย"] == [d["unvaccinated"]["thai"] for d in report["districts"].values()]
    assert nationality["series"]["ไม่ใช่สัญชาติไทย"] == [d["unvaccinated"]["non_thai"]
                                                          for d in report["districts"].values()]
    wanting = data["ความประสงค์รับวัคซีน รายอำเภอ (สะสม)"]["series"]
    assert wanting["ประสงค์รับวัคซีน"] == [d["unvaccinated"]["wants_vaccine"] for d in report["districts"].values()]
    assert wanting["ไม่ระบุ"] == [d["unvaccinated"]["wants_vaccine_unknown"] for d in report["districts"].values()]
    assert [a + b + c for a, b, c in zip(wanting["ประสงค์รับวัคซีน"], wanting["ไม่ประสงค์"], wanting["ไม่ระบุ"])] == \
        [d["unvaccinated"]["total"] for d in report["districts"].values()]
    assert [a + b + c for a, b, c in zip(*(nationality["series"][name] for name in
                                           ("สัญชาติไทย", "ไม่ใช่สัญชาติไทย", "ไม่ระบุ")))] == \
        [d["unvaccinated"]["total"] for d in report["districts"].values()]
    reasons = data["ผู้ยังไม่ได้รับวัคซีน แยกตามสาเหตุ ทั้งจังหวัด (สะสม)"]
    assert reasons["categories"] == [*schema.choice_values("reasons"), "ไม่ระบุ"]
    assert reasons["series"]["จำนวนคน"] == [report["totals"]["unvaccinated"]["by_reason"][r]
                                            for r in reasons["categories"]]


def test_facility_and_request_charts_add_up_to_the_report(two_weeks, schema):
    path, reports = two_weeks
    totals = reports[WEEK2]["totals"]
    data = chart_data(path)
    facilities = data["สถานที่ แยกตามประเภท และที่ไม่ได้ปรับปรุงข้อมูลเกิน 14 วัน"]
    assert facilities["categories"] == list(schema.choice_values("facility_types"))
    current, stale = facilities["series"]["ปรับปรุงภายใน 14 วัน"], facilities["series"]["ไม่ได้ปรับปรุงเกิน 14 วัน"]
    assert sum(stale) == totals["facilities"]["stale"] == 1
    assert [a + b for a, b in zip(current, stale)] == [totals["facilities"]["by_type"][t]
                                                        for t in schema.choice_values("facility_types")]
    requests = data["คำขอความช่วยเหลือ แยกตามประเภท ยังไม่แล้วเสร็จ / ดำเนินการแล้ว (สะสม)"]["series"]
    assert sum(requests["ยังไม่แล้วเสร็จ"]) == totals["help_requests"]["open"]
    assert [a + b for a, b in zip(requests["ยังไม่แล้วเสร็จ"], requests["ดำเนินการแล้ว"])] == \
        [totals["help_requests"]["by_type"][t] for t in schema.choice_values("request_types")]


def test_province_figures_week_by_week_since_the_first_report(two_weeks, config):
    path, reports = two_weeks
    weekly = chart_data(path)["ตัวเลขสะสมทั้งจังหวัด รายสัปดาห์ ตั้งแต่รายงานครั้งแรก"]
    import datetime as dt
    assert weekly["categories"] == [week_label(dt.date.fromisoformat(w), config.date_digits) for w in (WEEK1, WEEK2)]
    assert weekly["chart"]["kind"] == "lineChart"
    for name, key in (("อาสาสมัคร", ("volunteers", "total")), ("ผู้ยังไม่ได้รับวัคซีน", ("unvaccinated", "total")),
                      ("สถานที่", ("facilities", "total")), ("คำขอความช่วยเหลือ", ("help_requests", "total")),
                      ("คำขอที่ยังไม่แล้วเสร็จ", ("help_requests", "open"))):
        assert weekly["series"][name] == [reports[w]["totals"][key[0]][key[1]] for w in (WEEK1, WEEK2)], name
    timeliness = chart_data(path)["การส่งข้อมูลของอำเภอ รายสัปดาห์"]["series"]
    assert timeliness["ตรงเวลา"] == [reports[w]["totals"]["submission"]["on_time"] for w in (WEEK1, WEEK2)]
    assert timeliness["ไม่ส่ง"] == [reports[w]["totals"]["submission"]["missing"] for w in (WEEK1, WEEK2)]


def test_svg_charts_are_self_contained_and_escaped():
    chart = charts.Chart("x", "ทดสอบ <ชื่อ> & กราฟ", "อำเภอ", ["ก", "ข<"],
                         [charts.Series("หนึ่ง", [1, 2], charts.NAVY), charts.Series("สอง", [0, 3], charts.RED)], "column")
    text = charts.svg(chart)
    ElementTree.fromstring(text)                        # well-formed XML
    assert "&lt;ชื่อ&gt; &amp; กราฟ" in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "Sarabun" in text and "Noto Sans Thai" in text
    for kind in ("bar", "line"):
        ElementTree.fromstring(charts.svg(charts.Chart("y", "t", "c", ["a"], [charts.Series("s", [0], "#000")], kind)))
