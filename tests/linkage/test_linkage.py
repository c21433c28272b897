"""Fuzzy deduplication of people: ID rules, fuzzy links, hard negatives, decisions, stability, measured quality."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_dedup import quality
from benchmarks.dedup_data import check_digits, generate
from pipeline.linkage.engine import LinkResult, LinkSettings, link_people

COLUMNS = ["record_key", "person_id", "id_kind", "title", "first_name", "last_name", "sex", "birth_date", "age",
           "house_no", "moo", "subdistrict_code", "district_code", "phone", "nationality"]


def thai_id(body: str) -> str:
    """A valid 13-digit ID from 12 digits."""
    digits = np.array([[int(c) for c in body]])
    return body + str(int(check_digits(digits)[0]))


def person(key: str, **values) -> dict:
    row = {"record_key": key, "person_id": None, "id_kind": None, "title": "นาย", "first_name": "สมชาย",
           "last_name": "ใจดี", "sex": "ชาย", "birth_date": "1960-05-01", "age": None, "house_no": "12/3", "moo": 4,
           "subdistrict_code": "540101", "district_code": "5401", "phone": None, "nationality": "ไทย"}
    return row | values


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


def together(result: LinkResult, records: pd.DataFrame, a: str, b: str) -> bool:
    cluster = result.cluster.set_axis(records["record_key"])
    return cluster[a] == cluster[b]


ID_A, ID_B = thai_id("354010000001"), thai_id("354010000002")


def test_identical_valid_ids_always_link():
    records = frame(person("a", person_id=ID_A), person("b", person_id=ID_A, first_name="มาลี", last_name="ศรีสุข",
                                                         birth_date="1990-01-01", house_no="99", moo=7))
    result = link_people(records)
    assert together(result, records, "a", "b")
    assert result.links[["record_key_a", "record_key_b", "score", "rule"]].values.tolist() == [["a", "b", 1.0, "id"]]


def test_typo_name_same_birth_date_same_house_links():
    records = frame(person("a", first_name="สมศักดิ์", last_name="บุญมา"),
                    person("b", title=None, first_name="นายสมศักดิ", last_name="บุญมาา", house_no="๑๒/๓", moo="๔"),
                    person("c", first_name="สมสักดิ์", last_name="ปุญมา", title="นาย", house_no="12 / 3"))
    result = link_people(records)
    assert result.cluster.nunique() == 1
    assert set(result.links["rule"]) == {"score"} and (result.links["score"] >= LinkSettings().merge_threshold).all()


def test_broken_check_digit_is_no_id_but_still_links_by_score():
    broken = ID_A[:12] + str((int(ID_A[12]) + 1) % 10)
    records = frame(person("a", person_id=ID_A), person("b", person_id=broken, age=61, birth_date=None))
    result = link_people(records)
    assert together(result, records, "a", "b")
    assert result.links["rule"].tolist() == ["score"]


def test_different_valid_ids_never_merge_even_through_a_third_record():
    records = frame(person("a", person_id=ID_A), person("b", person_id=ID_B),
                    person("c"), person("d", first_name="สมชาย ", house_no="12/3"))
    result = link_people(records)
    assert not together(result, records, "a", "b")
    assert together(result, records, "c", "d")
    assert result.counts["refused_links"] >= 1
    assert "conflict" in set(result.review["rule"])  # the refused pair goes to a person


@pytest.mark.parametrize("other", [
    # namesake in the same village: other birth date, other house
    {"birth_date": "1975-02-11", "house_no": "87"},
    # twin: same surname, house and birth date, another first name
    {"first_name": "สมศรี", "title": "นาง", "sex": "หญิง"},
    {"first_name": "วีระ"},
    # father and son of the same name: another birth year, same house
    {"birth_date": "1988-09-30"},
    {"birth_date": None, "age": 33},
])
def test_hard_negatives_stay_apart(other):
    records = frame(person("a"), person("b", **other))
    assert not together(link_people(records), records, "a", "b")


def test_decisions_same_and_different_are_honoured():
    records = frame(person("a"), person("b", house_no="12/3", first_name="สมชาย"),
                    person("c", first_name="ประเสริฐ", last_name="แก้วมูล", birth_date="1941-03-03", house_no="77"))
    assert together(link_people(records), records, "a", "b")
    decisions = pd.DataFrame({"record_key_a": ["b", "a", "x"], "record_key_b": ["a", "c", "y"],
                              "decision": ["different", "same", "same"]})
    result = link_people(records, decisions)
    assert not together(result, records, "a", "b")
    assert together(result, records, "a", "c")
    assert ("a", "c", "decision") in set(zip(result.links["record_key_a"], result.links["record_key_b"],
                                             result.links["rule"]))
    assert result.counts["decisions_unknown_records"] == 1
    assert not ((result.review["record_key_a"] == "a") & (result.review["record_key_b"] == "b")).any()


def test_decision_different_beats_an_identical_id_and_same_cannot_join_two_ids():
    records = frame(person("a", person_id=ID_A), person("b", person_id=ID_A), person("c", person_id=ID_B))
    decisions = pd.DataFrame({"record_key_a": ["a", "a"], "record_key_b": ["b", "c"], "decision": ["different", "same"]})
    result = link_people(records, decisions)
    assert not together(result, records, "a", "b")
    assert not together(result, records, "a", "c")


def test_clusters_are_stable_under_row_order_and_index():
    records, _ = generate(1500, seed=3)
    first = link_people(records).cluster
    shuffled = records.sample(frac=1, random_state=1).set_axis(np.arange(len(records))[::-1] + 1000)
    second = link_people(shuffled).cluster
    assert (second.set_axis(shuffled["record_key"]).sort_index()
            == first.set_axis(records["record_key"]).sort_index()).all()
    assert first.index.equals(records.index)
    assert (first <= records["record_key"]).all()  # the smallest record key of the cluster


def test_input_is_not_modified_and_outputs_have_their_columns():
    records, _ = generate(800, seed=4)
    before = records.copy(deep=True)
    result = link_people(records)
    pd.testing.assert_frame_equal(records, before)
    assert list(result.links.columns) == ["record_key_a", "record_key_b", "score", "rule"]
    assert {"record_key_a", "record_key_b", "score", "rule", "first_name_a", "first_name_b", "birth_date_a",
            "house_no_b", "cluster_a", "cluster_b"} <= set(result.review.columns)
    settings = LinkSettings()
    assert result.review["score"].between(settings.review_threshold, 1).all()
    assert result.counts["records"] == len(records) == result.counts["clusters"] + result.counts["duplicates"]


def test_empty_frame_and_missing_optional_columns():
    result = link_people(pd.DataFrame(columns=COLUMNS))
    assert result.cluster.empty and result.links.empty and result.review.empty
    minimal = pd.DataFrame({"record_key": ["a", "b"], "first_name": ["สมชาย", "สมชาย"], "last_name": ["ใจดี", "ใจดี"],
                            "birth_date": ["1960-05-01", "1960-05-01"], "moo": [4, 4],
                            "subdistrict_code": ["540101"] * 2, "district_code": ["5401"] * 2})
    assert link_people(minimal).cluster.tolist() == ["a", "a"]
    with pytest.raises(ValueError):
        link_people(minimal.assign(record_key="a"))


def test_generated_records_meet_the_targets_quickly():
    records, truth = generate(4000, seed=99)
    started = time.perf_counter()
    result = link_people(records)
    assert time.perf_counter() - started < 10
    measured = quality(result.cluster, truth)
    assert measured["precision"] >= 0.99 and measured["recall"] >= 0.97, measured
