"""The parts of an .xlsx package, read and written as bytes: content types, relationships, the workbook's sheets.

Edits are made on the XML text itself, never by re-serialising a parsed tree: a tree would rename the
prefixes that mc:Ignorable names and Excel would then repair the file. Anything the edits do not expect
raises Unpatchable.
"""
from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.parsers import expat

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SPREADSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml."
WORKSHEET_TYPE = SPREADSHEET_TYPE + "worksheet+xml"
SHARED_STRINGS_TYPE = SPREADSHEET_TYPE + "sharedStrings+xml"
COMMENTS_TYPE = SPREADSHEET_TYPE + "comments+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
ENTRY_TIME = (1980, 1, 1, 0, 0, 0)   # the zip entries' time Excel and xlsxwriter write
# The parts a plain workbook of data is made of; a package with any other part is rebuilt instead.
KEPT_TYPES = {SPREADSHEET_TYPE + "sheet.main+xml", WORKSHEET_TYPE, SPREADSHEET_TYPE + "styles+xml",
              SHARED_STRINGS_TYPE, SPREADSHEET_TYPE + "table+xml", SPREADSHEET_TYPE + "printerSettings",
              "application/vnd.openxmlformats-officedocument.theme+xml",
              "application/vnd.openxmlformats-package.core-properties+xml",
              "application/vnd.openxmlformats-officedocument.extended-properties+xml",
              "application/vnd.openxmlformats-officedocument.custom-properties+xml",
              "application/vnd.openxmlformats-package.relationships+xml",
              COMMENTS_TYPE, VML_TYPE}   # notes: merged with ours, their drawing checked to hold nothing else
FORMULA = re.compile(rb"<f[\s>/]")
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")   # in XML 1.0


def quoted(value: str) -> str:
    """An XML attribute value in double quotes, escaped (html.escape also covers what XML needs; what XML 1.0
    forbids, never in a name we write, is left out rather than break the part)."""
    return '"' + html.escape(FORBIDDEN.sub("", value), quote=True) + '"'


class Unpatchable(Exception):
    """This package is not one we mark in place: the copy is rebuilt from the parsed cells instead."""


def read_package(data: bytes) -> dict[str, bytes]:
    """Every part of a zip package by name, in the order stored."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def write_package(parts: dict[str, bytes]) -> bytes:
    """A zip package of the parts, content types first."""
    buffer = io.BytesIO()
    # The fastest deflate: a copy is written once and opened once, its size matters less than the run's time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in sorted(parts, key=lambda name: name != "[Content_Types].xml"):
            # Every entry at Excel's fixed time, not the run's clock: the same parts make the same bytes.
            entry = zipfile.ZipInfo(name, ENTRY_TIME)
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, parts[name], zipfile.ZIP_DEFLATED, 1)
    return buffer.getvalue()


@dataclass
class Workbook:
    """Where a package keeps its workbook, sheets (name -> part, in tab order), styles and strings."""

    path: str
    sheets: dict[str, str]
    styles: str
    shared_strings: str | None
    relationships: str


@dataclass
class ContentTypes:
    """[Content_Types].xml read: defaults by extension, overrides by part; and the overrides to add."""

    defaults: dict[str, str]
    overrides: dict[str, str]
    added: dict[str, str] = field(default_factory=dict)

    def of(self, part: str) -> str:
        """The content type of a part."""
        return self.overrides.get("/" + part) or self.defaults.get(part.rsplit(".", 1)[-1].lower(), "")


def parse_xml(data: bytes) -> ElementTree.Element:
    """A part parsed for reading (Unpatchable when it is not well-formed)."""
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise Unpatchable(f"XML: {error}") from None


def check_well_formed(data: bytes) -> None:
    """Unpatchable unless the part is well-formed XML with its prefixes bound (parsed without building a tree)."""
    try:
        expat.ParserCreate(namespace_separator=" ").Parse(data, True)
    except expat.ExpatError as error:
        raise Unpatchable(f"XML: {error}") from None


def content_types(parts: dict[str, bytes]) -> ContentTypes:
    """The package's [Content_Types].xml, read."""
    if "[Content_Types].xml" not in parts:
        raise Unpatchable("no content types")
    root = parse_xml(parts["[Content_Types].xml"])
    defaults = root.iter(f"{{{CONTENT_TYPES}}}Default")
    overrides = root.iter(f"{{{CONTENT_TYPES}}}Override")
    return ContentTypes({e.get("Extension", "").lower(): e.get("ContentType", "") for e in defaults},
                        {e.get("PartName", ""): e.get("ContentType", "") for e in overrides})


def check_parts(parts: dict[str, bytes], types: ContentTypes) -> None:
    """Unpatchable unless every part is plain data or notes: no macros, drawings, formulas or links out."""
    for name, data in parts.items():
        if name == "[Content_Types].xml":
            continue
        if types.of(name) not in KEPT_TYPES:
            raise Unpatchable(f"part {name} ({types.of(name) or 'unknown'})")
        if name.endswith(".rels") and b'TargetMode="External"' in data:
            raise Unpatchable(f"external link in {name}")
        if types.of(name) == WORKSHEET_TYPE and FORMULA.search(data):
            raise Unpatchable(f"formula in {name}")


def relationships(parts: dict[str, bytes], source: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The relationships part of a part, and its relationships: id -> (type, target part path)."""
    folder, name = posixpath.split(source)
    path = posixpath.join(folder, "_rels", name + ".rels")
    if path not in parts:
        return path, {}
    found = {}
    for element in parse_xml(parts[path]).iter(f"{{{PACKAGE_RELATIONSHIPS}}}Relationship"):
        target = element.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[element.get("Id", "")] = (element.get("Type", "").rsplit("/", 1)[-1], resolved)
    return path, found


def workbook_of(parts: dict[str, bytes]) -> Workbook:
    """Where the package keeps its workbook, sheets, styles and strings (Unpatchable if it is not plain)."""
    _, root = relationships(parts, "")
    main = [target for kind, target in root.values() if kind == "officeDocument"]
    if len(main) != 1 or main[0] not in parts:
        raise Unpatchable("no workbook part")
    path = main[0]
    in_main_namespace(parts[path], b"workbook")
    relationships_path, links = relationships(parts, path)
    sheets = {}
    for element in parse_xml(parts[path]).iter(f"{{{MAIN}}}sheet"):
        kind, target = links.get(element.get(f"{{{RELATIONSHIPS}}}id", ""), ("", ""))
        if kind != "worksheet" or target not in parts:
            raise Unpatchable(f"sheet {element.get('name')!r} is not a worksheet part")
        sheets[element.get("name", "")] = target
    by_kind = {kind: target for kind, target in links.values()}
    if "styles" not in by_kind or by_kind["styles"] not in parts or not sheets:
        raise Unpatchable("no styles or no sheets")
    return Workbook(path, sheets, by_kind["styles"], by_kind.get("sharedStrings"), relationships_path)


def in_main_namespace(xml: bytes, root: bytes) -> None:
    """Unpatchable unless the part's root element is `root` in SpreadsheetML's namespace, without a prefix
    (the byte-level edits look for unprefixed element names)."""
    if not re.search(rb"<" + root + rb'\b[^>]*\bxmlns="' + MAIN.encode() + b'"', xml[:4096]):
        raise Unpatchable(f"{root.decode()} is not in the main namespace without a prefix")


def with_attributes(element: bytes, **values) -> bytes:
    """An element's start tag with attributes set (replaced or added)."""
    end = element.index(b">")
    start, rest = element[:end], element[end:]
    closing = start.endswith(b"/")
    start = start[:-1] if closing else start
    for name, value in values.items():
        pattern = re.compile(rb"\s" + name.encode() + rb"""=(?:"[^"]*"|'[^']*')""")
        start = pattern.sub(b"", start)
        start += b" " + name.encode() + b'="' + str(value).encode() + b'"'
    return start + (b"/" if closing else b"") + rest


def free_name(parts: dict[str, bytes], wanted: str) -> str:
    """A part name not taken in the package (a number added before the extension when needed)."""
    stem, extension = posixpath.splitext(wanted)
    name, number = wanted, 1
    while name in parts:
        number += 1
        name = f"{stem}{number}{extension}"
    return name


def add_relationship(parts: dict[str, bytes], path: str, kind: str, target: str) -> str:
    """Add a relationship to a relationships part (made when missing); return its new id."""
    xml = parts.get(path) or (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="'
                              + PACKAGE_RELATIONSHIPS.encode() + b'"></Relationships>')
    taken = set(re.findall(rb'\bId="([^"]*)"', xml))
    number = 1
    while f"rIdFeedback{number}".encode() in taken:
        number += 1
    identifier = f"rIdFeedback{number}"
    element = (f'<Relationship Id="{identifier}" Type="{RELATIONSHIPS}/{kind}" Target={quoted(target)}/>').encode()
    if re.search(rb"<Relationships\b[^>]*/>", xml):
        xml = re.sub(rb"(<Relationships\b[^>]*)/>", lambda m: m.group(1) + b">" + element + b"</Relationships>", xml)
    else:
        closing = xml.rindex(b"</Relationships>")
        xml = xml[:closing] + element + xml[closing:]
    parts[path] = xml
    return identifier


def with_relationship_prefix(xml: bytes, root: bytes) -> bytes:
    """A part whose root element declares the r: prefix for relationships (added when missing)."""
    opening = re.search(rb"<" + root + rb"\b[^>]*>", xml)
    declared = re.search(rb"""\bxmlns:r=["']([^"']*)["']""", opening.group(0))
    if declared and declared.group(1) != RELATIONSHIPS.encode():
        raise Unpatchable("the r: prefix means something else here")
    if declared:
        return xml
    end = opening.end() - (2 if opening.group(0).endswith(b"/>") else 1)
    return xml[:end] + b' xmlns:r="' + RELATIONSHIPS.encode() + b'"' + xml[end:]


def content_types_xml(xml: bytes, types: ContentTypes) -> bytes:
    """[Content_Types].xml with the overrides of the parts added."""
    added = [f"<Override PartName={quoted(name)} ContentType=\"{kind}\"/>" for name, kind in types.added.items()]
    closing = xml.rindex(b"</Types>")
    return xml[:closing] + "".join(added).encode() + xml[closing:]
