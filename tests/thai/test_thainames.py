"""Thai name normalisation for matching: titles, spacing, marks, digits, the sound key."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.thai import names as thainames
from pipeline.thai.normalize import clean_text


def split(name: str) -> tuple:
    row = thainames.split_titles(pd.Series([name])).iloc[0]
    return row["title"], row["sex"], row["name"]


@pytest.mark.parametrize("written, expected", [
    ("นายสมชาย", ("นาย", "ชาย", "สมชาย")),
    ("นาย สมชาย", ("นาย", "ชาย", "สมชาย")),
    ("นาย.สมชาย", ("นาย", "ชาย", "สมชาย")),
    ("นางสาวสมศรี", ("นางสาว", "หญิง", "สมศรี")),
    ("นาง สาว สมศรี", ("นางสาว", "หญิง", "สมศรี")),
    ("น.ส.สมศรี", ("น.ส.", "หญิง", "สมศรี")),
    ("น. ส. สมศรี", ("น.ส.", "หญิง", "สมศรี")),
    ("นส.สมศรี", ("น.ส.", "หญิง", "สมศรี")),
    ("นสสมศรี", ("น.ส.", "หญิง", "สมศรี")),
    ("นางมาลี", ("นาง", "หญิง", "มาลี")),
    ("ด.ช.ณัฐพล", ("ด.ช.", "ชาย", "ณัฐพล")),
    ("เด็กหญิงดวงใจ", ("เด็กหญิง", "หญิง", "ดวงใจ")),
    ("ด.ญ. ดวงใจ", ("ด.ญ.", "หญิง", "ดวงใจ")),
    ("ร.ต.อ.สมศักดิ์", ("ร.ต.อ.", None, "สมศักดิ์")),
    ("ร.ต.อ.หญิง มาลี", ("ร.ต.อ.หญิง", "หญิง", "มาลี")),
    ("ว่าที่ร.ต.สมศักดิ์", ("ว่าที่ร.ต.", None, "สมศักดิ์")),
    ("ว่าที่ ร.ต. สมศักดิ์", ("ว่าที่ร.ต.", None, "สมศักดิ์")),
    ("จ.ส.อ.วีระ", ("จ.ส.อ.", None, "วีระ")),
    ("พระมหาสมชาย", ("พระมหา", "ชาย", "สมชาย")),
    ("Mr. John", ("mr.", "ชาย", "John")),
    ("Mrs Jane", ("mrs.", "หญิง", "Jane")),
    ("Miss Jane", ("miss", "หญิง", "Jane")),
])
def test_titles_are_split_off(written, expected):
    assert split(written) == expected


@pytest.mark.parametrize("name", ["ดรุณี", "คุณากร", "นางนวล", "นาย", "สมชาย", "Missy", "พระสมชาย"])
def test_names_that_only_look_like_titles_are_kept(name):
    assert split(name) == (None, None, name)


def test_title_column_variants_are_canonical():
    titles = thainames.canonical_titles(pd.Series(["น. ส.", "นางสาว", "นส", "Mrs", "ด.ช", "เด็กชาย", None, "xyz"]))
    assert titles["title"].tolist() == ["น.ส.", "นางสาว", "น.ส.", "mrs.", "ด.ช.", "เด็กชาย", None, "xyz"]
    assert titles["sex"].tolist() == ["หญิง", "หญิง", "หญิง", "หญิง", "ชาย", "ชาย", None, None]


def test_name_keys_ignore_titles_spaces_zero_width_and_mark_order():
    written = pd.Series(["นาย สมชาย", "สม ชาย", "สม\u200bชาย", "\u00a0สมชาย ", "สมชาย", "SomChai", "somchai"])
    keys = thainames.name_keys(written)
    assert keys.tolist()[:5] == ["สมชาย"] * 5
    assert keys[5] == keys[6] == "somchai"
    # a tone mark typed before the vowel, a doubled tone mark, เเ typed as two เ, decomposed sara am
    assert thainames.name_keys(pd.Series(["ว่ิบัติ", "ปุ้้น", "เเสง", "คํา"])).tolist() == ["วิ่บัติ", "ปุ้น", "แสง", "คำ"]


def test_name_keys_keep_index_and_blanks():
    keys = thainames.name_keys(pd.Series(["สมชาย", None, "", float("nan")], index=[5, 6, 7, 8]))
    assert keys.index.tolist() == [5, 6, 7, 8]
    assert keys.tolist() == ["สมชาย", "", "", ""]


@pytest.mark.parametrize("one, other", [
    ("ศรีสุข", "สรีสุข"), ("ศักดิ์ชัย", "สักดิ์ชัย"), ("ดวงใจ", "ตวงใจ"), ("บุญมา", "ปุญมา"),
    ("มานพ", "มะนพ"), ("สุนทร", "สูนทร"), ("สมศักดิ์", "สมศักดิ"), ("เพ็ญศรี", "เพญศรี"),
    ("บุญช่วย", "บุญช้วย"), ("ไชยวงค์", "ใชยวงค์"), ("ลำดวน", "รำดวน"), ("ณัฐพล", "นัฐพล"),
])
def test_sound_key_absorbs_thai_slips(one, other):
    assert thainames.sound_key(one) == thainames.sound_key(other)


@pytest.mark.parametrize("one, other", [("สมชาย", "สมศรี"), ("มาลี", "มาลัย"), ("บุญมี", "บุญมา"), ("วิชัย", "วีระ")])
def test_sound_key_keeps_different_names_apart(one, other):
    assert thainames.sound_key(one) != thainames.sound_key(other)


def test_sound_keys_series_and_first_consonant():
    sounds = thainames.sound_keys(pd.Series(["เพ็ญศรี", "แก้ว", None]))
    assert sounds.tolist() == [thainames.sound_key("เพ็ญศรี"), thainames.sound_key("แก้ว"), ""]
    assert thainames.first_consonant(thainames.sound_key("เพ็ญศรี")) == "พ"
    assert thainames.first_consonant(thainames.sound_key("ภัทรา")) == "พ"


def test_house_numbers_written_differently_agree():
    houses = thainames.house_keys(pd.Series(["12/3", "๑๒/๓", "12 / 3", "บ้านเลขที่ 12/3 ม.4", "12-3", "เลขที่ ๑๒/๓"]))
    assert houses["house"].tolist() == ["12/3"] * 6
    assert houses["house_main"].tolist() == ["12"] * 6
    blank = thainames.house_keys(pd.Series(["-", None, "ไม่มี", 45, "45ก"]))
    assert blank["house"].tolist() == [None, None, None, "45", "45ก"]


def test_village_numbers_read_thai_digits():
    moo = thainames.village_numbers(pd.Series([3, "๓", "ม.3", "หมู่ ๑๒", None, 3.0]))
    assert moo.tolist()[:4] == [3, 3, 3, 12]
    assert pd.isna(moo[4]) and moo[5] == 3


def test_only_text_that_needs_it_skips_clean_text():
    """_clean_all skips clean_text for text it judges clean: that text must indeed be unchanged by it."""
    rng = np.random.default_rng(0)
    alphabet = [chr(c) for c in range(0x0E01, 0x0E5C)] + list("ab1 .-/") + ["\u200b", "\u00a0", "\ufeff"]
    texts = ["".join(rng.choice(alphabet, rng.integers(1, 8))) for _ in range(20000)]
    cleaned = clean_text(pd.Series(texts))
    assert [t for t, c in zip(texts, cleaned) if t != c and not thainames._SUSPECT.search(t)] == []
