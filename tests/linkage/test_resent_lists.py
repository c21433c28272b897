"""A list resent every week as a new file: its copies link through the first, and who is whom stays the same."""
from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.dedup_data import generate
from pipeline.linkage.people import copy_of, link_unvaccinated
from tests.linkage.test_linkage import ID_A, frame, person


def _weeks(rows: pd.DataFrame, count: int) -> pd.DataFrame:
    """The same rows sent in `count` weekly files (one version each), as the week's linker receives them."""
    weeks = [rows.assign(version_id=f"{week:02d}" + "0" * 30, sheet="ผู้ยังไม่ได้รับวัคซีน",
                         excel_row=np.arange(2, len(rows) + 2), valid=True, identity="")
             for week in range(1, count + 1)]
    return pd.concat(weeks, ignore_index=True).drop(columns="record_key")


def _partition(identities: pd.Series) -> set[frozenset]:
    return {frozenset(group.index) for _, group in identities.groupby(identities)}


def test_copies_point_to_their_first_and_a_changed_field_is_no_copy():
    rows = frame(person("a", person_id=ID_A), person("b"))
    records = _weeks(rows, 3).assign(record_key=lambda f: f["version_id"].str[:2] + "|" + f["excel_row"].astype(str))
    records.loc[5, "house_no"] = "12/4"   # week 3's b moved house: compared by the linker, not a copy
    first = copy_of(records)
    keys = records["record_key"].tolist()
    assert [keys[i] for i in first] == ["01|2", "01|3", "01|2", "01|3", "01|2", "03|3"]


def test_a_season_of_resent_lists_links_into_the_people_of_one_list():
    records = generate(1_500, seed=3)[0]
    one_week, _ = link_unvaccinated(_weeks(records, 1), None)
    season, _ = link_unvaccinated(_weeks(records, 6), None)
    rows = len(records)
    assert len(season) == 6 * rows
    for week in range(6):   # each week's copy of a row is the same person as in week 1
        assert (season["identity"].iloc[week * rows:(week + 1) * rows].to_numpy()
                == season["identity"].iloc[:rows].to_numpy()).all()
    assert _partition(season["identity"].iloc[:rows].reset_index(drop=True)) == _partition(one_week["identity"])


def test_the_linker_sees_each_distinct_record_once():
    """Thirty weeks of a two-row list: the linker is given the two first rows, and everyone is one of them."""
    rows = frame(person("a", person_id=ID_A), person("b", last_name="ใจดีย์"))
    season, links = link_unvaccinated(_weeks(rows, 30), None)
    assert len(links.cluster) == 2
    assert set(season["identity"]) == {"person:" + cluster for cluster in links.cluster}


def test_answers_naming_copies_of_one_pair_are_one_answer_and_the_latest_stands():
    from pipeline.linkage.people import _decisions_on_firsts
    keys = np.array(["01|2", "01|3", "02|2", "02|3"], dtype=object)
    first = np.array([0, 1, 0, 1])   # week 2's rows are copies of week 1's
    answers = pd.DataFrame({"record_key_a": ["01|2", "02|3"], "record_key_b": ["01|3", "02|2"],
                            "decision": ["same", "different"]})   # oldest first, as decisions_in_force gives them
    named = _decisions_on_firsts(answers, keys, first)
    assert named[["record_key_a", "record_key_b", "decision"]].values.tolist() == [["01|2", "01|3", "different"]]
