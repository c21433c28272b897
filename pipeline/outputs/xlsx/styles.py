"""Styles and shared strings of a district's package, with the feedback's own appended (existing numbers unchanged)."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from pipeline.outputs.feedback.book import FILLS
from pipeline.outputs.xlsx.package import (SHARED_STRINGS_TYPE, ContentTypes, Unpatchable, Workbook, add_relationship,
                                           free_name, in_main_namespace, with_attributes)

FILL_COLOURS = {severity: "FF" + colour for severity, colour in FILLS.items()}   # ARGB, opaque
STYLE_SECTIONS = {"numFmts": b"numFmt", "fonts": b"font", "fills": b"fill", "borders": b"border", "cellXfs": b"xf"}


@dataclass
class Styles:
    """The district's styles part and what is appended to it (the summary's formats and the marked clones)."""

    xml: bytes
    district_formats: list[bytes]
    appended_formats: list[bytes] = field(default_factory=list)
    clones: dict[tuple[int, str], int] = field(default_factory=dict)
    fill_ids: dict[str, int] = field(default_factory=dict)

    def marked(self, style: int, severity: str) -> int:
        """The index of a copy of cell format `style` filled for `severity` (made once)."""
        if (style, severity) not in self.clones:
            if style >= len(self.district_formats):
                raise Unpatchable(f"cell format {style} does not exist")
            self.clones[(style, severity)] = len(self.district_formats) + len(self.appended_formats)
            self.appended_formats.append(_with_fill(self.district_formats[style], self.fill_ids[severity]))
        return self.clones[(style, severity)]


def _section(xml: bytes, name: str) -> re.Match | None:
    return re.search(rb"<" + name.encode() + rb"\b([^>]*?)(?:/>|>(.*?)</" + name.encode() + rb">)", xml, re.DOTALL)


def children(xml: bytes, name: str) -> list[bytes]:
    """The child elements of a styles section, as written."""
    found = _section(xml, name)
    if found is None or not found.group(2):
        return []
    tag = STYLE_SECTIONS[name]
    element = rb"<" + tag + rb"\b[^>]*?/>|<" + tag + rb"\b[^>]*?>.*?</" + tag + rb">"
    return re.findall(element, found.group(2), re.DOTALL)


def _with_fill(format_xml: bytes, fill_id: int) -> bytes:
    return with_attributes(format_xml, fillId=fill_id, applyFill=1)


def merged_styles(district: bytes, extra: bytes) -> Styles:
    """The district's styles with the marks book's formats appended (renumbered) and the two mark fills."""
    in_main_namespace(district, b"styleSheet")
    for name in ("fonts", "fills", "borders", "cellXfs"):
        if _section(district, name) is None:
            raise Unpatchable(f"styles without {name}")
    counts = {name: len(children(district, name)) for name in STYLE_SECTIONS}
    used_ids = [int(i) for i in re.findall(rb'numFmtId="(\d+)"', b"".join(children(district, "numFmts")))]
    next_format = max([163, *used_ids]) + 1
    format_ids = {}
    for number_format in children(extra, "numFmts"):
        old = int(re.search(rb'numFmtId="(\d+)"', number_format).group(1))
        format_ids[old] = next_format
        next_format += 1
    appended = {name: list(children(extra, name)) for name in ("numFmts", "fonts", "fills", "borders")}
    appended["numFmts"] = [with_attributes(f, numFmtId=format_ids[int(re.search(rb'numFmtId="(\d+)"', f).group(1))])
                           for f in appended["numFmts"]]
    fill_ids = {}
    for severity, colour in FILL_COLOURS.items():
        fill_ids[severity] = counts["fills"] + len(appended["fills"])
        appended["fills"].append(b'<fill><patternFill patternType="solid"><fgColor rgb="' + colour.encode() +
                                 b'"/><bgColor indexed="64"/></patternFill></fill>')
    formats = []
    for cell_format in children(extra, "cellXfs"):
        number = int(re.search(rb'numFmtId="(\d+)"', cell_format).group(1))
        formats.append(with_attributes(
            cell_format, numFmtId=format_ids.get(number, number),
            fontId=counts["fonts"] + int(re.search(rb'fontId="(\d+)"', cell_format).group(1)),
            fillId=counts["fills"] + int(re.search(rb'fillId="(\d+)"', cell_format).group(1)),
            borderId=counts["borders"] + int(re.search(rb'borderId="(\d+)"', cell_format).group(1)), xfId=0))
    xml = district
    for name in ("numFmts", "fonts", "fills", "borders"):
        xml = _appended(xml, name, appended[name])
    return Styles(xml, children(district, "cellXfs"), formats, fill_ids=fill_ids)


def _appended(xml: bytes, name: str, elements: list[bytes]) -> bytes:
    """A styles section with elements added at its end and its count updated (created when missing)."""
    if not elements:
        return xml
    found = _section(xml, name)
    count = len(children(xml, name)) + len(elements)
    if found is None:   # only numFmts may be missing: it is the first section of the styles part
        opening = re.search(rb"<styleSheet\b[^>]*>", xml)
        section = b"<" + name.encode() + b' count="' + str(count).encode() + b'">' + b"".join(elements)
        return xml[:opening.end()] + section + b"</" + name.encode() + b">" + xml[opening.end():]
    body = (found.group(2) or b"") + b"".join(elements)
    start = with_attributes(b"<" + name.encode() + found.group(1) + b">", count=count)
    return xml[:found.start()] + start + body + b"</" + name.encode() + b">" + xml[found.end():]


def styles_xml(styles: Styles) -> bytes:
    """The styles part with every appended cell format."""
    return _appended(styles.xml, "cellXfs", styles.appended_formats)


def merge_strings(parts: dict[str, bytes], types: ContentTypes, book: Workbook, extra: bytes) -> int:
    """Append the marks book's shared strings to the district's (made when missing); return the index of the first."""
    added = re.search(rb"<sst\b[^>]*>(.*)</sst>", extra, re.DOTALL)
    items = added.group(1) if added else b""
    if not items:
        return 0
    unique = len(re.findall(rb"<si[\s/>]", items))
    references = re.search(rb'<sst\b[^>]*?\scount="(\d+)"', extra)
    if book.shared_strings is None:
        book.shared_strings = free_name(parts, "xl/sharedStrings.xml")
        parts[book.shared_strings] = extra
        types.added["/" + book.shared_strings] = SHARED_STRINGS_TYPE
        add_relationship(parts, book.relationships, "sharedStrings",
                          posixpath.relpath(book.shared_strings, posixpath.dirname(book.path)))
        return 0
    xml = parts[book.shared_strings]
    in_main_namespace(xml, b"sst")
    opening = re.search(rb"<sst\b([^>]*?)(/?)>", xml)
    offset = len(re.findall(rb"<si[\s/>]", xml))
    attributes = {"uniqueCount": offset + unique}
    total = re.search(rb'\bcount="(\d+)"', opening.group(1))
    if total:
        attributes["count"] = int(total.group(1)) + (int(references.group(1)) if references else unique)
    start = with_attributes(b"<sst" + opening.group(1) + b">", **attributes)
    if opening.group(2):   # <sst .../>: no strings yet
        parts[book.shared_strings] = xml[:opening.start()] + start + items + b"</sst>" + xml[opening.end():]
    else:
        closing = xml.rindex(b"</sst>")
        parts[book.shared_strings] = xml[:opening.start()] + start + xml[opening.end():closing] + items + xml[closing:]
    return offset
