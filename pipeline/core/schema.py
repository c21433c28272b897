"""The district forms (schema.yaml) and their Thai wording, loaded once."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipeline.core.wording import load_yaml, problems, wording as base_wording
from pipeline.thai.normalize import match_key

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Choice:
    """One canonical value of a closed list and the spellings that mean it."""

    value: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeaderRules:
    """What a hint may add to a header cell, and the columns that are no field (match keys)."""

    not_fields: frozenset[str] = frozenset()
    format_letters: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    notes: frozenset[str] = frozenset()
    others: tuple[str, ...] = ()          # other parties a header may name
    negations: tuple[str, ...] = ()       # words that turn a closed-list value into its opposite


@dataclass(frozen=True)
class Field:
    """One column of a district form."""

    key: str
    header: str
    type: str
    required: str  # "yes", "warn" or "no"
    aliases: tuple[str, ...] = ()
    choices: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    not_before: str | None = None
    not_future: bool = False
    width: int = 14
    in_template: bool = True

    @property
    def header_keys(self) -> tuple[str, ...]:
        """Match keys of the printed header and every alias."""
        return tuple(dict.fromkeys(match_key(name) for name in (self.header, *self.aliases)))


@dataclass(frozen=True)
class Dataset:
    """One district form: a sheet of the submission workbook or one CSV file."""

    key: str
    title: str
    description: str
    sheet_aliases: tuple[str, ...]
    identity: tuple[str, ...]
    fields: tuple[Field, ...]
    rules: tuple[str, ...] = ()
    newest_by: str | None = None
    reported: dict[str, tuple[str, ...]] = field(default_factory=dict)   # field -> report.json paths counting it
    subject_words: tuple[str, ...] = ()   # match keys of words naming whom or what a row is about

    def field(self, key: str) -> Field:
        """The field with this key."""
        return next(f for f in self.fields if f.key == key)

    @property
    def keys(self) -> tuple[str, ...]:
        """Canonical column names in form order."""
        return tuple(f.key for f in self.fields)

    @property
    def sheet_keys(self) -> tuple[str, ...]:
        """Match keys of the sheet title and its aliases."""
        return tuple(dict.fromkeys(match_key(n) for n in (self.title, *self.sheet_aliases)))


@dataclass(frozen=True)
class Schema:
    """All district forms, their closed lists and the wording."""

    datasets: dict[str, Dataset]
    choices: dict[str, tuple[Choice, ...]]
    totals_markers: tuple[str, ...]
    not_stated: frozenset[str] = frozenset()   # match keys of what a clerk types for "not known"
    headers: HeaderRules = field(default_factory=HeaderRules)
    wording: dict = field(repr=False, default_factory=dict)

    def choice_values(self, list_name: str) -> tuple[str, ...]:
        """Canonical values of a closed list, in declared order."""
        return tuple(c.value for c in self.choices[list_name])

    def choice_lookup(self, list_name: str) -> dict[str, str]:
        """Match key of every spelling -> canonical value."""
        lookup: dict[str, str] = {}
        for choice in self.choices[list_name]:
            for spelling in (choice.value, *choice.variants):
                lookup.setdefault(match_key(str(spelling)), choice.value)
        return lookup

    def problem(self, code: str) -> dict:
        """Severity and Thai message template of a problem code."""
        return self.wording["problems"][code]

    def label(self, name: str, **values) -> str:
        """A Thai label for reports, with placeholders filled."""
        return self.wording["labels"][name].format(**values)


_REQUIRED = {True: "yes", False: "no", "warn": "warn"}


def _field(raw: dict) -> Field:
    return Field(
        key=raw["key"], header=raw["header"], type=raw["type"],
        required=_REQUIRED[raw.get("required", False)],
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        choices=raw.get("choices"), minimum=raw.get("min"), maximum=raw.get("max"),
        not_before=raw.get("not_before"), not_future=bool(raw.get("not_future", False)),
        width=int(raw.get("width", 14)), in_template=bool(raw.get("template", True)),
    )


def _dataset(key: str, raw: dict) -> Dataset:
    return Dataset(
        key=key, title=raw["title"], description=raw.get("description", raw["title"]),
        sheet_aliases=tuple(str(a) for a in raw.get("sheet_aliases", ())),
        identity=tuple(raw["identity"]), fields=tuple(_field(f) for f in raw["fields"]),
        rules=tuple(raw.get("rules", ())), newest_by=raw.get("newest_by"),
        reported={name: tuple(paths) for name, paths in raw.get("reported", {}).items()},
        subject_words=_keys(raw.get("subject_words", ())),
    )


def _keys(words) -> tuple[str, ...]:
    return tuple(dict.fromkeys(match_key(str(word)) for word in words))


def _header_rules(raw: dict) -> HeaderRules:
    return HeaderRules(
        not_fields=frozenset(_keys(raw.get("not_fields", ()))),
        format_letters=frozenset(match_key(str(raw.get("format_letters", "")))),
        units=frozenset(_keys(raw.get("units", ()))), notes=frozenset(_keys(raw.get("notes", ()))),
        others=_keys(raw.get("others", ())),
        negations=tuple(str(word).casefold() for word in raw.get("negations", ())),
    )


@cache
def load_schema(directory: Path = PACKAGE_DIR) -> Schema:
    """Read schema.yaml and the wording (cached: they do not change during a run)."""
    raw = load_yaml(directory / "schema.yaml")
    wording = {**base_wording(), "problems": problems()}   # Google Sheets problems among them
    choices = {
        name: tuple(Choice(str(c["value"]), tuple(str(v) for v in c.get("variants", ()))) for c in values)
        for name, values in raw["choices"].items()
    }
    return Schema(
        datasets={key: _dataset(key, value) for key, value in raw["datasets"].items()},
        choices=choices,
        totals_markers=tuple(str(m) for m in raw.get("totals_markers", ())),
        not_stated=frozenset(match_key(str(m)) for m in raw.get("not_stated", ())),
        headers=_header_rules(raw.get("headers", {})),
        wording=wording,
    )
