"""The ministry block of config.yaml: the weekly report form, its questions in order, and form E.

Parsed once with the rest of the configuration (core.config); the outputs read it as typed fields.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.schema import Schema, load_schema
from pipeline.core.wording import wording

TOP_LEVEL = ("week", "province_code", "province")
# The figures of each report.json totals block the ministry report carries by default (FORMS.md §4),
# in order; "by_x:list" expands to one figure per value of that closed list.
DEFAULT_FIGURES = {
    "volunteers": ("new", "total", "by_type:volunteer_types"),
    "unvaccinated": ("new", "total", "thai", "non_thai", "wants_vaccine", "by_reason:reasons"),
    "facilities": ("total", "stale", "by_type:facility_types", "by_status:facility_statuses"),
    "help_requests": ("new", "total", "open", "by_type:request_types", "by_status:request_statuses"),
    "submission": ("on_time", "late", "unusable", "missing", "files", "rows_read", "accepted", "updated", "rejected",
                   "duplicates"),
}
# Not-stated counts are not questions of the ministry's form: shown as a note beside the figure they complete
# (NOT_STATED_NOTES), and linkable when a form asks for them.
EXTRA_FIGURES = {"unvaccinated": ("nationality_unknown", "wants_vaccine_unknown"), "facilities": ("new",),
                 "submission": ("districts", "skipped")}
FORM_URL = re.compile(r"https://docs\.google\.com/forms/(?:u/\d+/)?d/(?:e/)?[A-Za-z0-9_-]{10,}/viewform")
SHORT_URL = re.compile(r"https://forms\.gle/[A-Za-z0-9_-]{6,}")
# The links the ministry's letter publishes: the weekly report form and form E (the provincial administrator).
# A forms.gle link cannot carry pre-filled answers and cannot be expanded offline: only a form's long viewform
# URL, when a province configures it (form_prefill_url), is made into a pre-filled link.
WEEKLY_FORM_LINK = "https://forms.gle/kCMNWIKxQWEw3CPMA"
ADMIN_FORM_LINK = "https://forms.gle/ox2ZCB5ZtMkCRUBo7"
ENTRY = re.compile(r"(?:entry\.)?(\d{1,12})")


@dataclass(frozen=True)
class MinistryField:
    """One question of the ministry's form: which figure answers it, and its entry id in the form."""

    path: tuple[str, ...]
    entry: str | None = None    # "entry.123456789", or None: shown in the report, not put in the link
    label: str | None = None    # the form's own wording of the question, when configured


@dataclass(frozen=True)
class MinistrySettings:
    """The ministry block of config.yaml."""

    form_prefill_url: str | None            # the weekly form's long viewform URL: only then a pre-filled link
    fields: tuple[MinistryField, ...]
    admin_roster: str | None = None         # form E workbook, relative to the inputs folder
    admin_inline: tuple[dict, ...] | None = None
    form_link: str | None = WEEKLY_FORM_LINK          # shown and made into the QR code when not pre-filled
    admin_form_link: str | None = ADMIN_FORM_LINK
    admin_form_prefill_url: str | None = None
    admin_entries: tuple[tuple[str, str], ...] = ()   # form E field -> entry id, for its pre-filled link


def figure_paths(schema: Schema, extra: bool = False) -> list[tuple[str, ...]]:
    """Every totals figure the ministry report can carry, in the FORMS.md §4 order."""
    paths = []
    for block, keys in DEFAULT_FIGURES.items():
        for key in (*keys, *(EXTRA_FIGURES.get(block, ()) if extra else ())):
            by_key, _, list_name = key.partition(":")
            values = schema.choice_values(list_name) if list_name else (None,)
            paths += [(block, by_key, value) if value else (block, by_key) for value in values]
    return paths


def _path(value) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(part) for part in value)
    text = str(value).strip()
    return (text,) if text in TOP_LEVEL else tuple(text.split(".", 2))


def _entry(value, where: str) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    found = ENTRY.fullmatch(str(value).strip())
    if not found:
        raise ConfigError(f"config: {where}.entry must be a Google Forms entry id like entry.123456789, not {value!r}")
    return f"entry.{found[1]}"


def _field(raw, index: int, known: set) -> MinistryField:
    where = f"ministry.fields[{index}]"
    raw = raw if isinstance(raw, dict) else {"figure": raw}
    if "figure" not in raw:
        raise ConfigError(f"config: {where} needs a figure, e.g. volunteers.total")
    path, entry = _path(raw["figure"]), _entry(raw.get("entry"), where)
    if path not in known:
        raise ConfigError(f"config: {where}: {'.'.join(path)} is not a figure of report.json")
    if path == ("province",) and entry:
        raise ConfigError(f"config: {where}: the province name is Thai text; link province_code instead")
    return MinistryField(path, entry, str(raw["label"]) if raw.get("label") else None)


def _fields(raw, schema: Schema) -> tuple[MinistryField, ...]:
    known = {(name,) for name in TOP_LEVEL} | set(figure_paths(schema, extra=True))
    if raw is None:
        return tuple(MinistryField(path) for path in [("week",), ("province_code",), *figure_paths(schema)])
    if not isinstance(raw, list) or not raw:
        raise ConfigError("config: ministry.fields must be a list of figures in the ministry form's order")
    fields = tuple(_field(item, index, known) for index, item in enumerate(raw))
    entries = [f.entry for f in fields if f.entry]
    if len(entries) != len(set(entries)):
        raise ConfigError("config: ministry.fields: an entry id is used twice")
    return fields


def _form_url(value, key: str) -> str | None:
    """A form's long answer link (for pre-filled links), checked; None when not given."""
    if value is None or str(value).strip() == "":
        return None
    url = str(value).strip().split("?")[0]
    if not FORM_URL.fullmatch(url):
        raise ConfigError(f"config: ministry.{key} must be the form's answer link, "
                          "https://docs.google.com/forms/d/e/<id>/viewform (not its edit link nor a forms.gle link)")
    return url


def _form_link(block: dict, key: str, default: str) -> str | None:
    """The link shown for a form: the letter's by default, None when set empty (no link at all)."""
    if key not in block:
        return default
    value = "" if block[key] is None else str(block[key]).strip()
    if value and not (SHORT_URL.fullmatch(value) or FORM_URL.fullmatch(value.split("?")[0])):
        raise ConfigError(f"config: ministry.{key} must be the form's link, https://forms.gle/<id> "
                          "or https://docs.google.com/forms/d/e/<id>/viewform")
    return value or None


def _prefill_url(block: dict, key: str, old_key: str | None = None) -> str | None:
    """The long viewform URL a pre-filled link is made from; the old key `form_url` still read as it."""
    if old_key and block.get(old_key) and block.get(key):
        raise ConfigError(f"config: ministry.{old_key} is the old name of ministry.{key}: give one, not both")
    return _form_url(block.get(key) or (block.get(old_key) if old_key else None), key)


def _admin_entries(value) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    allowed = tuple(wording("ministry")["admin_fields"])
    if not isinstance(value, dict) or not set(value) <= set(allowed):
        raise ConfigError(f"config: ministry.admin_form_entries maps the form E fields {', '.join(allowed)} "
                          "to entry ids")
    entries = tuple((key, _entry(value[key], f"ministry.admin_form_entries.{key}")) for key in allowed if key in value)
    return tuple((key, entry) for key, entry in entries if entry)


def _inline_admins(value) -> tuple[dict, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    allowed = tuple(wording("ministry")["admin_fields"])
    if not all(isinstance(item, dict) and set(item) <= set(allowed) for item in items):
        raise ConfigError(f"config: ministry.admin takes the form E fields {', '.join(allowed)}")
    return tuple({key: "" if item.get(key) is None else str(item[key]) for key in allowed} for item in items)


def ministry_config(raw: dict) -> MinistrySettings:
    """Check the ministry block of a parsed config.yaml (the whole mapping) and build the settings."""
    block = raw.get("ministry") or {}
    if not isinstance(block, dict):
        raise ConfigError("config: ministry must be a mapping")
    if block.get("admin_roster") and block.get("admin") is not None:
        raise ConfigError("config: ministry.admin_roster and ministry.admin: give one, not both")
    roster = str(block["admin_roster"]).strip() if block.get("admin_roster") else None
    if roster and (Path(roster).is_absolute() or ".." in Path(roster).parts):
        raise ConfigError("config: ministry.admin_roster is a file name inside the inputs folder")
    return MinistrySettings(_prefill_url(block, "form_prefill_url", "form_url"), _fields(block.get("fields"), load_schema()),
                            roster, _inline_admins(block.get("admin")),
                            _form_link(block, "form_link", WEEKLY_FORM_LINK),
                            _form_link(block, "admin_form_link", ADMIN_FORM_LINK),
                            _prefill_url(block, "admin_form_prefill_url"), _admin_entries(block.get("admin_form_entries")))
