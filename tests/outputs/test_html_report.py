"""outputs/<week>/index.html: every number printed equals report.json; rendered headless when Chromium is here."""
from __future__ import annotations

import json
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.run import run_weekly
from pipeline.week.history import flat_figures
from tests.conftest import PROJECT
from tests.scenarios.test_two_weeks import WEEK2

CHROMIUM = Path("/usr/bin/chromium")
FONT_STACK = "'TH Sarabun New', 'Sarabun', 'Laksaman', 'Noto Sans Thai', sans-serif"


class Figures(HTMLParser):
    """Collects (data-figure path, printed text) of every element that carries a figure."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple, str]] = []
        self.stack: list[tuple | None] = []
        self.texts: dict[int, list[str]] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name):
                self.external.append(attributes[name])
        path = attributes.get("data-figure")
        self.stack.append(tuple(json.loads(path)) if path else None)
        if path:
            self.texts[len(self.stack)] = []

    def handle_endtag(self, tag):
        if not self.stack:
            return
        path = self.stack.pop()
        if path is not None:
            self.found.append((path, "".join(self.texts.pop(len(self.stack) + 1)).strip()))

    def handle_data(self, data):
        for depth in self.texts:
            self.texts[depth].append(data)


def printed_figures(html: str) -> list[tuple[tuple, str]]:
    parser = Figures()
    parser.feed(html)
    return parser.found


def value_at(report: dict, path: tuple):
    value = report
    for key in path:
        value = value[key]
    return value


def as_number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def week_two(two_week_run):
    root, reports = two_week_run
    return root, root / "out" / WEEK2, reports[WEEK2]


def check_figures(html: str, report: dict) -> set[tuple]:
    """Every printed figure equals report.json; returns the paths printed."""
    found = printed_figures(html)
    assert found
    for path, text in found:
        assert as_number(text) == value_at(report, path), (path, text)
    return {path for path, _ in found}


def test_every_printed_figure_equals_report_json(week_two):
    _, week_dir, report = week_two
    html = (week_dir / "index.html").read_text(encoding="utf-8")
    printed = check_figures(html, report)
    # And every numeric figure of report.json is on the page (this_week.total repeats "new"; the count of
    # districts is the header of the submission table).
    for (scope, path), value in flat_figures(report).items():
        if not isinstance(value, int) or path[1:] == ("this_week", "total") or path == ("submission", "districts"):
            continue
        where = ("totals", *path) if scope == "totals" else ("districts", scope, *path)
        assert where in printed, where
    assert ("totals", "unvaccinated", "total") in printed and ("totals", "volunteers", "total") in printed


def test_page_is_self_contained_thai_and_printable(week_two):
    _, week_dir, _ = week_two
    html = (week_dir / "index.html").read_text(encoding="utf-8")
    parser = Figures()
    parser.feed(html)
    assert parser.external == []                                  # no links, scripts, images or fonts fetched
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "@import" not in html and "url(" not in html
    assert FONT_STACK in html and '<html lang="th">' in html
    assert "@page" in html and "size: A4" in html and "@media print" in html
    assert html.count("<svg ") == 7 and 'data-chart="province_weeks"' in html


def test_rerun_writes_the_same_page(week_two):
    root, week_dir, _ = week_two
    before = (week_dir / "index.html").read_bytes()
    run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", WEEK2, progress=lambda message: None)
    assert (week_dir / "index.html").read_bytes() == before


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, raw pixels) of an 8-bit, non-interlaced RGB(A) or grey PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, compressed = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (0, 2, 4, 6)
        elif kind == b"IDAT":
            compressed += body
    step = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw, stride = zlib.decompress(compressed), width * step
    previous, rows = bytearray(stride), []
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - step] if i >= step else 0
                b, c = previous[i], previous[i - step] if i >= step else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, step, b"".join(rows)


def chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               *arguments]
    return subprocess.run(command, capture_output=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium "
                                                   "(apt-get install chromium to render the page headless)")
def test_page_renders_headless_and_its_dom_holds_the_report_totals(week_two, tmp_path):
    _, week_dir, report = week_two
    page = (week_dir / "index.html").resolve().as_uri()
    screenshot = tmp_path / "page.png"
    done = chromium(f"--screenshot={screenshot}", "--window-size=1240,1754", page, profile=tmp_path / "profile")
    assert screenshot.exists(), done.stderr.decode(errors="replace")[-2000:]
    width, height, step, pixels = decode_png(screenshot.read_bytes())
    assert (width, height) == (1240, 1754)
    # Not blank: the grey levels vary, and a good share of the page is not background white.
    grey = [sum(pixels[i:i + min(step, 3)]) // min(step, 3) for i in range(0, len(pixels), step * 7)]
    mean = sum(grey) / len(grey)
    variance = sum((g - mean) ** 2 for g in grey) / len(grey)
    assert variance > 300, variance
    assert sum(g < 200 for g in grey) / len(grey) > 0.03
    dom = chromium("--dump-dom", page, profile=tmp_path / "profile").stdout.decode("utf-8")
    printed = check_figures(dom, report)
    for block in ("volunteers", "unvaccinated", "facilities", "help_requests"):
        assert ("totals", block, "total") in printed
    assert dom.count("<svg") == 7
