"""Reading one header cell as a form field: as written, without what a hint adds, or by clear similarity.

The words a hint may hold and the other parties a header may name are declared in schema.yaml
(`headers:`); this module only applies them. Whether the column's cells fit the field is decided by
the caller, which has the cells.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.core.schema import Dataset, Schema
from pipeline.thai.normalize import match_key

EXACT, STRIPPED, SIMILAR = "exact", "stripped", "similar"   # how a header was read, best first
LEVELS = (EXACT, STRIPPED, SIMILAR)
SIMILAR_SCORE = 80       # rapidfuzz ratio (0-100) of the header to the field's nearest spelling
CLEAR_MARGIN = 10        # ... and this much above the next field's
PRINTED_PREFIX = 5       # a printed header this long may begin a longer wording of it
SHORTEST_SIMILAR = 3     # keys shorter than this (ต, อ, ม, id) are read only as written
# Leading numbering: '1.', '๑.', '3)', '(2)', '15 ' before the header's words.
NUMBERING = re.compile(r"^\s*(?:[(\[]\s*[0-9๐-๙]{1,3}\s*[)\]]|[0-9๐-๙]{1,3}(?:\s*[.)\]:]+|\s+))\s*")
BRACKET = re.compile(r"[(\[{（［]([^()\[\]{}（）［］]*)[)\]}）］]")
WORD_SPLIT = re.compile(r"[\s,;/|]+")


@dataclass(frozen=True)
class HeaderMatch:
    """The field a header cell was read as, and how."""

    field: str
    how: str            # EXACT, STRIPPED or SIMILAR
    score: float = 100.0


class HeaderReader:
    """Reads the header cells of one form (results kept per text: templates repeat across files)."""

    def __init__(self, schema: Schema, dataset: Dataset):
        self.rules = schema.headers
        self.dataset = dataset
        self.index: dict[str, str] = {}
        for form_field in dataset.fields:
            for key in form_field.header_keys:
                self.index.setdefault(key, form_field.key)
        self.spellings = {f.key: f.header_keys for f in dataset.fields}
        self.similar_spellings = {key: [s for s in spellings if len(s) >= SHORTEST_SIMILAR]
                                  for key, spellings in self.spellings.items()}
        # A bracket listing a closed list's values ('เพศ (ชาย/หญิง)') is a choice note.
        self.choice_keys = {f.key: frozenset(schema.choice_lookup(f.choices)) if f.choices else frozenset()
                            for f in dataset.fields}
        self._read: dict[tuple[str, bool], HeaderMatch | None] = {}

    def is_not_field(self, text: str) -> bool:
        """A row-number or remarks column (ลำดับ, หมายเหตุ), with or without its numbering and hints."""
        body = NUMBERING.sub("", text, count=1)
        return match_key(text) in self.rules.not_fields or match_key(BRACKET.sub(" ", body)) in self.rules.not_fields

    def read(self, text: str, similar: bool = True) -> HeaderMatch | None:
        """The field this header names, or None; `similar=False` tries only the first two ways."""
        if len(self._read) > 1 << 14:
            self._read.clear()
        cached = (text, similar)
        if cached not in self._read:
            self._read[cached] = self._match(text, similar)
        return self._read[cached]

    def _match(self, text: str, similar: bool) -> HeaderMatch | None:
        key = match_key(text)
        if not key or key in self.rules.not_fields:
            return None
        if key in self.index:
            return HeaderMatch(self.index[key], EXACT)
        body = NUMBERING.sub("", text, count=1).strip().rstrip(":").strip()
        brackets = BRACKET.findall(body)
        remainder = BRACKET.sub(" ", body)
        found = self.index.get(match_key(remainder))
        if found and all(self._is_hint(bracket, found) for bracket in brackets):
            return HeaderMatch(found, STRIPPED)
        found = self.index.get(match_key(body))   # numbering only: '1. อายุ (ปี)'
        if found:
            return HeaderMatch(found, STRIPPED)
        return self._similar(key, remainder, brackets) if similar else None

    def _is_hint(self, bracket: str, field_key: str) -> bool:
        """A bracket adds only a format, a number, a unit, a note, the field's own name or the row's subject."""
        key = match_key(bracket)
        if not key:
            return True
        if self._names_other_party(key, field_key):
            return False
        if key in self.spellings[field_key] or key in self.rules.notes or key in self.rules.units:
            return True
        if len(key) >= SHORTEST_SIMILAR and any(fuzz.ratio(key, spelling) >= SIMILAR_SCORE
                                                for spelling in self.similar_spellings[field_key]):
            return True   # the field's English name, spelt a little differently
        return all(self._is_hint_word(match_key(word), field_key) for word in WORD_SPLIT.split(bracket))

    def _is_hint_word(self, key: str, field_key: str) -> bool:
        return (not key or key.isdigit() or set(key) <= self.rules.format_letters or key in self.rules.units
                or key in self.rules.notes or key in self.dataset.subject_words or key in self.choice_keys[field_key])

    def _names_other_party(self, key: str, field_key: str) -> bool:
        """The text names someone other than the row's subject, and the field's own spellings do not."""
        for other in self.rules.others:
            if other in key and other not in self.dataset.subject_words \
                    and not any(other in spelling for spelling in self.spellings[field_key]):
                return True
        return False

    def _similar(self, key: str, remainder: str, brackets: list[str]) -> HeaderMatch | None:
        """The one field clearly most similar to the header (hints left out), naming no other party."""
        scores = []
        for field_key, spellings in self.similar_spellings.items():
            if not spellings or self._names_other_party(key, field_key):
                continue
            kept = " ".join([remainder, *(b for b in brackets if not self._is_hint(b, field_key))])
            text_key = match_key(kept)
            if len(text_key) < SHORTEST_SIMILAR:
                continue
            score = max(fuzz.ratio(text_key, spelling) for spelling in spellings)
            scores.append((max(score, _said_at_length(text_key, self.spellings[field_key][0])), field_key))
        if not scores:
            return None
        scores.sort(reverse=True)
        best, field_key = scores[0]
        second = scores[1][0] if len(scores) > 1 else 0.0
        if best >= SIMILAR_SCORE and best - second >= CLEAR_MARGIN:
            return HeaderMatch(field_key, SIMILAR, best)
        return None


def _said_at_length(key: str, printed: str) -> float:
    """A high score when the field's printed header begins the header and is half of it or more, else 0."""
    # 'ชื่อสถานที่ให้บริการ' is ชื่อสถานที่ said at length. Only the printed header, never a short alias:
    # 'วันที่เกิด' begins with the alias วันที่ (of the survey date) but is the birth date.
    if len(printed) >= PRINTED_PREFIX and key.startswith(printed) and len(printed) * 2 >= len(key):
        return 80 + 20 * len(printed) / len(key)
    return 0.0


_READERS: dict[int, tuple[Dataset, HeaderReader]] = {}


def reader(schema: Schema, dataset: Dataset) -> HeaderReader:
    """The header reader of a form (one per loaded form; the form is kept so its id stays its own)."""
    entry = _READERS.get(id(dataset))
    if entry is None or entry[0] is not dataset:
        entry = _READERS[id(dataset)] = (dataset, HeaderReader(schema, dataset))
    return entry[1]
