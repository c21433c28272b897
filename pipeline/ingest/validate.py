"""Validating one recognised sheet: canonical records, their identity, and every problem found."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipeline.core.issues import cell_problems, describe
from pipeline.core.schema import Dataset
from pipeline.ingest import fields as field_types
from pipeline.ingest.layout import SheetTable
from pipeline.thai.normalize import blank_mask, clean_text, match_key

RECORD_META = ["excel_row", "identity", "district_code", "subdistrict_code", "valid"]


def _required(values: dict[str, pd.Series], raw: pd.DataFrame, dataset: Dataset,
              absent: tuple[str, ...] = ()) -> pd.DataFrame:
    """Blank required (error) and recommended (warning) cells, field by field, as one problems frame.

    A recommended field whose column the sheet lacks is said once for the sheet (ingest), not on every row.
    """
    rows, keys, codes = [], [], []
    for form_field in dataset.fields:
        if form_field.required == "no" or (form_field.required == "warn" and form_field.key in absent):
            continue
        # Only cells without a value can be blank: test those alone (most cells have a value).
        missing = np.flatnonzero(values[form_field.key].isna().to_numpy())
        if form_field.key in raw:
            missing = missing[blank_mask(raw[form_field.key].to_numpy(dtype=object)[missing])]
        found = raw.index[missing]
        code = "required_missing" if form_field.required == "yes" else "recommended_missing"
        rows.append(found)
        keys += [form_field.key] * len(found)
        codes += [code] * len(found)
    if not keys:
        return cell_problems([], "", [])
    return cell_problems(np.concatenate(rows), keys, codes)


def _rule_person_identified(records: pd.DataFrame, context) -> pd.DataFrame:
    no_id = records["person_id"].isna()
    # The address of a village household is its หมู่ and ตำบล; the house number is optional on the form.
    missing = no_id & (records["first_name"].isna() | (records["birth_date"].isna() & records["age"].isna())
                       | records["moo"].isna() | records["subdistrict"].isna())
    return cell_problems(records.index[missing], "person_id", ["person_unidentified"] * int(missing.sum()))


def _rule_last_name_for_thai(records: pd.DataFrame, context) -> pd.DataFrame:
    # FORMS.md: required unless the nationality is not Thai; a blank nationality does not say that.
    missing = records["last_name"].isna() & (records["nationality"].isna() | (records["nationality"] == "ไทย"))
    return cell_problems(records.index[missing], "last_name", ["last_name_missing"] * int(missing.sum()))


def _rule_age_or_birth_date(records: pd.DataFrame, context) -> pd.DataFrame:
    both = records["birth_date"].notna() & records["age"].notna()
    frames = []
    if both.any():
        subset = records[both]
        on = subset["surveyed_on"].where(subset["surveyed_on"].notna(), context.submitted_on)
        computed = pd.Series([_age(b, d) for b, d in zip(subset["birth_date"], on)], index=subset.index)
        off = (computed - subset["age"].astype(int)).abs() > 1
        frames.append(cell_problems(subset.index[off], "age", ["age_birth_mismatch"] * int(off.sum()),
                                    computed[off].astype(str)))
    return pd.concat(frames) if frames else cell_problems([], "age", [])


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _rule_resolved_date_when_done(records: pd.DataFrame, context) -> pd.DataFrame:
    done = records["status"] == "ดำเนินการแล้ว"
    missing = done & records["resolved_on"].isna()
    both = records["resolved_on"].notna() & records["requested_on"].notna()
    before = both & (records["resolved_on"].where(both) < records["requested_on"].where(both)).fillna(False)
    return pd.concat([
        cell_problems(records.index[missing], "resolved_on", ["resolved_date_missing"] * int(missing.sum())),
        cell_problems(records.index[before], "resolved_on", ["resolved_before_requested"] * int(before.sum()),
                      records.loc[before, "requested_on"].map(field_types.thai_date)),
    ])


def _rule_coordinates_in_province(records: pd.DataFrame, context) -> pd.DataFrame:
    lat, lon = pd.to_numeric(records["lat"]), pd.to_numeric(records["lon"])
    half = lat.isna() != lon.isna()
    box = context.config.bounds
    both = lat.notna() & lon.notna()
    outside = both & ~(lat.between(box.lat_min, box.lat_max) & lon.between(box.lon_min, box.lon_max))
    shown = lat.astype(str) + ", " + lon.astype(str)
    return pd.concat([
        cell_problems(records.index[half], "lat", ["coordinates_incomplete"] * int(half.sum())),
        cell_problems(records.index[outside], "lat", ["coordinates_outside"] * int(outside.sum()),
                      context.config.province_name, shown[outside]),
    ])


RULES = {
    "person_identified": _rule_person_identified,
    "last_name_for_thai": _rule_last_name_for_thai,
    "age_or_birth_date": _rule_age_or_birth_date,
    "resolved_date_when_done": _rule_resolved_date_when_done,
    "coordinates_in_province": _rule_coordinates_in_province,
}


def identity_of(records: pd.DataFrame, dataset: Dataset) -> pd.Series:
    """The identity key of each record (FORMS.md): who or what the row is about."""
    if dataset.key == "unvaccinated":
        by_name = _joined("name:", [_keys(records["first_name"]), _keys(records["last_name"]),
                                    *(_text(records[k]) for k in ("birth_date", "age", "district_code",
                                                                  "subdistrict_code", "moo"))])
        by_id = _joined("id:", [_text(records["person_id"])])
        identity = np.where(records["person_id"].notna().to_numpy(), by_id, by_name)
    else:
        identity = _joined("", [_keys(records[key]) if key == "name" else
                                _text(records["district_code"] if key == "district" else records[key])
                                for key in dataset.identity])
    return pd.Series(identity, index=records.index, dtype=object)


def _joined(prefix: str, parts: list[np.ndarray]) -> np.ndarray:
    """Parts joined with '|' after the prefix (numpy object arrays: plain str, no pandas str dtype)."""
    joined = prefix + parts[0]
    for part in parts[1:]:
        joined = joined + "|" + part
    return joined


def _distinct_texts(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Row codes and the text of each distinct value, '' for missing values (code -1, the last entry)."""
    codes, uniques = pd.factorize(values.astype(object))
    return codes, [str(value) for value in uniques] + [""]


def _text(values: pd.Series) -> np.ndarray:
    """Each value as text, '' for missing, computed once per distinct value."""
    codes, texts = _distinct_texts(values)
    return np.array(texts, dtype=object)[codes]


def _keys(values: pd.Series) -> np.ndarray:
    """Each value's match key, computed once per distinct value."""
    codes, texts = _distinct_texts(values)
    return np.array([match_key(text) for text in texts], dtype=object)[codes]


def stated(raw: pd.DataFrame, not_stated: frozenset[str]) -> pd.DataFrame:
    """The cells with "not known" (ไม่ทราบ, -, N/A, ?) made blank: counted as not stated, never as a value."""
    columns, unknowns = {}, not_stated | {""}   # "": punctuation only
    for column in raw.columns:
        codes, distinct = pd.factorize(raw[column].astype(object), use_na_sentinel=True)
        unknown = np.array([isinstance(value, str) and value.strip() != "" and match_key(value) in unknowns
                            for value in distinct] + [False], dtype=bool)
        mask = unknown[codes]
        columns[column] = raw[column].mask(mask, None) if mask.any() else raw[column]
    return pd.DataFrame(columns, index=raw.index) if columns else raw


def validate_sheet(table: SheetTable, context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records (canonical values + identity + validity, index = Excel row) and the sheet's problems."""
    dataset = context.schema.datasets[table.dataset]
    raw = stated(table.cells.reindex(columns=list(dataset.keys)), context.schema.not_stated)
    values, problems = {}, []
    for form_field in dataset.fields:
        typed, found = field_types.type_column(raw[form_field.key], form_field, context)
        values[form_field.key] = typed
        problems.append(found)
    records = pd.DataFrame(values, index=raw.index)
    records["district_code"] = records["district"]
    if "subdistrict" in dataset.keys:
        codes, found = field_types.subdistricts(raw["subdistrict"], records["district_code"])
        records["subdistrict_code"] = codes
        records["subdistrict"] = clean_text(raw["subdistrict"]).replace("", None)
        problems.append(found)
    problems.append(_required(values, raw, dataset, table.missing_fields))
    for rule in dataset.rules:
        problems.append(RULES[rule](records, context))
    if context.folder_district is not None:
        other = records["district_code"].notna() & (records["district_code"] != context.folder_district)
        problems.append(cell_problems(records.index[other], "district", ["district_not_folder"] * int(other.sum())))
    problems = _locate(pd.concat(problems, ignore_index=True), table, raw, records, context)
    errors = problems.loc[problems["severity"] == "error", "excel_row"].unique()
    records["valid"] = ~records.index.isin(errors)
    records["identity"] = identity_of(records, dataset).where(records["valid"], None)
    records["excel_row"] = records.index
    return records, problems


def _locate(problems: pd.DataFrame, table: SheetTable, raw: pd.DataFrame, records: pd.DataFrame,
            context) -> pd.DataFrame:
    """Add the column as written, its letter and the cell's value as written, then the Thai message."""
    columns = {column.key: column for column in table.columns}
    dataset = context.schema.datasets[table.dataset]
    frame = problems.reset_index(drop=True)
    # Looked up once per distinct field (a handful), then taken to the rows by their codes.
    field_codes, keys = pd.factorize(frame["field"])
    headers = [dataset.field(key).header for key in keys]
    frame["column"] = _by_field(field_codes, [columns[key].header if key in columns else header
                                              for key, header in zip(keys, headers)], frame.index)
    frame["field_header"] = _by_field(field_codes, headers, frame.index)
    frame["column_letter"] = _by_field(field_codes, [columns[key].letter if key in columns else "" for key in keys],
                                       frame.index)
    rows = raw.index.get_indexer(frame["excel_row"])  # positions in raw and records (both indexed by Excel row)
    texts = _written_texts(raw, columns, keys, field_codes, rows)
    names = context.config.districts
    not_folder = (frame["code"] == "district_not_folder").to_numpy()
    if not_folder.any():  # the district the row names, by its name (NaN for an unknown code)
        texts[not_folder] = records["district_code"].iloc[rows[not_folder]].map(names).to_numpy()
    frame["value"] = pd.Series(texts, index=frame.index, dtype=str)
    frame["folder"] = names.get(context.folder_district, "") if context.folder_district else ""
    frame["dataset"] = table.dataset
    return describe(frame, context.schema)


def _by_field(field_codes: np.ndarray, per_field: list[str], index: pd.Index) -> pd.Series:
    """A text per row from a text per distinct field."""
    return pd.Series(np.array(per_field, dtype=object)[field_codes], index=index, dtype=str)


def _written_texts(raw: pd.DataFrame, columns: dict, keys, field_codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The clean text of each problem's cell ('' for fields the sheet does not have)."""
    cells = np.full(len(rows), None, dtype=object)
    for number, key in enumerate(keys):
        if key in columns:
            at = np.flatnonzero(field_codes == number)
            cells[at] = raw[key].to_numpy(dtype=object)[rows[at]]
    # One pass over all the cells (a cell's text does not depend on its column); None gives ''.
    # A copy: the caller writes into it, and pandas hands out read-only views.
    return clean_text(pd.Series(cells, dtype=object)).to_numpy(copy=True)
