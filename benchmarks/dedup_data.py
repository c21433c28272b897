"""Labelled synthetic form-B records for measuring deduplication (no real person: names are random
combinations of common Thai name parts, IDs random with valid check digits).

    records, truth = generate(10_000, seed=1)   # truth: entity number per record, indexed like records

People live in households in villages (หมู่) of subdistricts of districts; a village's families
share a few surnames, first names follow a skewed frequency, so namesakes occur naturally. Each
person is listed once or more (by a village head and a health volunteer, again next week, by a
second district); every listing goes through a noisy 'surveyor' (typos, titles, IDs left out or
mistyped, house numbers and village numbers written differently, age instead of birth date).
Hard negatives are added on purpose: namesakes in the same village, twins, fathers and sons with
the same first name.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

_GIVEN_MALE = (
    "สมชาย สมศักดิ์ สมปอง สมบัติ สมพงษ์ สมหมาย สมควร สมนึก บุญมี บุญช่วย บุญเรือง บุญส่ง บุญธรรม ประเสริฐ "
    "ประสิทธิ์ ประยุทธ ประพันธ์ วิชัย วิทยา วีระ วีรพงษ์ สุนทร สุริยา สุรศักดิ์ สุวิทย์ ทองดี ทองสุข ทองคำ อรุณ "
    "ณัฐพล ณัฐวุฒิ ธนากร ธนพล ธีรพงษ์ ธีรวัฒน์ กิตติพงษ์ กิตติศักดิ์ อนุชา อนุวัฒน์ คำปัน คำแสน คำมูล ชัยวัฒน์ "
    "ชัยณรงค์ มานพ มานิตย์ สมาน ศักดิ์ชัย พงษ์ศักดิ์ เกรียงไกร ปิยะ ปิยะพงษ์ จักรพันธ์ จิรายุ ภานุวัฒน์ "
    "วรวุฒิ ศุภชัย เอกชัย อภิชาติ นพดล นิพนธ์ ไพโรจน์ ไพศาล เฉลิม เสถียร ถวิล สงัด แสวง อินสม อินทร "
    "ดวงดี บุญยืน ตุ้ย หน่อ แก้ว ปัน อ้าย สิงห์คำ"
).split()
_GIVEN_FEMALE = (
    "สมศรี สมหญิง สมพร สมจิตร สมใจ มาลี มาลัย นงลักษณ์ นงเยาว์ สุภาพ วันเพ็ญ พิมพ์ใจ กัญญา ศรีนวล บัวผัน "
    "ดวงใจ ดวงเดือน สุดารัตน์ จันทร์เพ็ญ จันทร์ฉาย อำไพ คำแปง คำปุ้น บุญศรี บุญเรียม รัชนี ศิริพร ศิริวรรณ อรทัย "
    "ปราณี นิภา สายสุนีย์ เพ็ญศรี ทองใบ ทองสุก จิราพร วิไลวรรณ กาญจนา ลำดวน บุษบา พรทิพย์ พรรณี ประไพ "
    "ประภา อุไร อัมพร เยาวลักษณ์ ยุพิน ละเอียด ลำใย สมปอง แสงเดือน บัวคำ บัวลอย ฝนทิพย์ กนกวรรณ ณัฐธิดา "
    "ธิดารัตน์ ปิยะนุช วาสนา สุกัญญา สุนันทา อรุณี เกศินี ชนิดา ดารุณี จุฑามาศ ผ่องศรี คำมอน แสงจันทร์ "
    "จันทร์ตา บัวไข นวล ศรีไพร"
).split()
_SURNAME_HEADS = (
    "ศรี บุญ แก้ว ทอง คำ อินทร์ จันทร์ ใจ สุข วงศ์ ชัย มณี เรือน ปัญญา พรหม ธรรม สิทธิ ยอด เงิน นาค ดวง "
    "เพชร สาย พันธ์ มูล ปิน ขัน กัน ไชย สุวรรณ รัตน เทพ ฟอง หอม อุ่น ยะ ตา ทา นันท จิต มหา วัง ดอน เมือง"
).split()
_SURNAME_TAILS = (
    "มา ดี สุข วงศ์ ศรี เรือง ทอง ใจ ชัย กุล ประเสริฐ แก้ว คำ มูล ยืน วิชัย มงคล สวัสดิ์ ธรรม ทา ตา เมือง "
    "ใหญ่ น้อย งาม พันธุ์ ทิพย์ รักษ์ สกุล เจริญ ปัญญา อินทร์ บุตร ศักดิ์ สิทธิ์ วัฒน์ เลิศ โชติ กิจ ผล เขียว"
).split()
_FOREIGN_SYLLABLES = "อ่อง มิน จ่อ ซอ ทุน เมียะ ขิ่น ซู นันดา ติน หม่อง ยุ วิน ลวิน เต็ง เส่ง มู ตู ยะ เอ คำ สี".split()
_NON_THAI = ("เมียนมา", "ลาว", "กัมพูชา")

# Thai-aware slips: letters people confuse, vowel length, tone marks, small signs.
_SIMILAR = {"ด": "ต", "ต": "ด", "บ": "ป", "ป": "บ", "ศ": "สษ", "ษ": "ศส", "ส": "ศษ", "ข": "ค", "ค": "ข",
            "ช": "ซ", "ซ": "ช", "ท": "ธ", "ธ": "ท", "น": "ณ", "ณ": "น", "ล": "ร", "ร": "ล", "พ": "ภ",
            "ภ": "พ", "ย": "ญ", "ญ": "ย", "ผ": "พ", "ฟ": "ฝ"}
_LENGTH = {"ะ": "า", "า": "ะ", "ิ": "ี", "ี": "ิ", "ุ": "ู", "ู": "ุ", "ึ": "ื", "ื": "ึ", "ั": "า"}
_TONES = "่้๊๋"
_CONSONANTS = "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮ"
_TITLE_VARIANTS = {"นาย": ("นาย",), "นาง": ("นาง",), "นางสาว": ("น.ส.", "นส.", "น. ส."),
                   "ด.ช.": ("เด็กชาย", "ดช."), "ด.ญ.": ("เด็กหญิง", "ดญ."),
                   "ว่าที่ร.ต.": ("ว่าที่ ร.ต.",), "ส.อ.": ("ส.อ",), "ร.ต.อ.": ("ร.ต.อ",)}


@dataclass(frozen=True)
class Rates:
    """How often each kind of noise and hard negative occurs (per record unless said otherwise)."""

    extra_copies: tuple[float, ...] = (0.70, 0.21, 0.07, 0.02)  # P(0, 1, 2, 3 extra listings) per person
    first_typo: float = 0.12
    last_typo: float = 0.12
    two_typos: float = 0.25       # of typo'd names, share with two slips
    title_blank: float = 0.15
    title_glued: float = 0.07
    title_in_name: float = 0.04
    title_variant: float = 0.10
    title_swapped: float = 0.03   # นาง <-> นางสาว
    name_spacing: float = 0.03
    id_listed: float = 0.6
    id_typo: float = 0.05         # of listed IDs: one digit wrong, check digit broken
    age_only: float = 0.20
    birth_and_age: float = 0.05
    birth_typo: float = 0.02
    sex_blank: float = 0.05
    phone_listed: float = 0.6
    house_thai_digits: float = 0.10
    house_spaced: float = 0.08
    house_prefixed: float = 0.05
    house_blank: float = 0.04
    house_main_only: float = 0.03
    moo_thai_digits: float = 0.08
    other_village: float = 0.06   # of extra listings: reported where the person works or stays
    twins: float = 0.015          # per household
    father_son: float = 0.01      # per household
    namesakes: float = 0.02       # per person: another person of the same name in the village
    non_thai: float = 0.05        # per person


def check_digits(first12: np.ndarray) -> np.ndarray:
    """Check digits of rows of 12 ID digits (uint8 array n x 12)."""
    weights = np.arange(13, 1, -1)
    return (11 - (first12.astype(np.int64) * weights).sum(axis=1) % 11) % 10


def _names(rng: np.random.Generator, pool: list[str], count: int, skew: float = 1.1) -> np.ndarray:
    ranks = np.arange(1, len(pool) + 1, dtype=float) ** -skew
    return np.asarray(pool, dtype=object)[rng.choice(len(pool), size=count, p=ranks / ranks.sum())]


def _surname_pool(rng: np.random.Generator, count: int) -> list[str]:
    heads, tails = np.asarray(_SURNAME_HEADS), np.asarray(_SURNAME_TAILS)
    two = {h + t for h in heads for t in tails if h != t}
    three = {a + b + c for a, b, c in zip(rng.choice(heads, count), rng.choice(heads, count), rng.choice(tails, count))
             if a != b}
    return sorted(two | three)


_GIVEN_PARTS = {  # (heads, tails) of compound given names, for the long tail of rarer names
    True: ("สม บุญ ประ วิ สุ ทอง คำ กิตติ อนุ ธน ณัฐ ชัย ศักดิ์ พงษ์ วีร ธีร จักร ภานุ วร ศุภ เอก อภิ นพ ไพ อิน แสง ศรี".split(),
           "ชาย ศักดิ์ ปอง บัติ พงษ์ หมาย ควร นึก มี ช่วย เรือง ส่ง ธรรม ชัย วัฒน์ พล กร วุฒิ ยุทธ ดี สุข รัตน์ ณรงค์ ศิลป์ "
           "เดช เกียรติ".split()),
    False: ("สม ศรี มา นง วัน พิมพ์ กัญ ดวง จันทร์ บุญ ศิริ อร ปรา นิ สาย เพ็ญ ทอง จิรา วิไล กาญ พร ประ อุ อัม ยุ บัว "
            "กนก ธิดา ปิยะ สุ".split(),
            "ศรี หญิง พร จิตร ใจ ลี ลัย ลักษณ์ เยาว์ เพ็ญ ญา นวล ผัน เดือน รัตน์ ฉาย ไพ ทิพย์ วรรณ ณี นุช นันทา ภา ดา".split()),
}


def _given_pool(male: bool) -> list[str]:
    """Common names first (most frequent), then compounds of name parts (rarer)."""
    base = _GIVEN_MALE if male else _GIVEN_FEMALE
    heads, tails = _GIVEN_PARTS[male]
    return list(base) + sorted({h + t for h in heads for t in tails if h != t} - set(base))


def typo(text: str, rng: np.random.Generator) -> str:
    """One Thai-aware or keyboard slip in a name."""
    if len(text) < 2:
        return text + rng.choice(list(_CONSONANTS))
    kind = rng.choice(["similar", "length", "tone", "sign", "delete", "insert", "replace", "swap"],
                      p=[0.22, 0.14, 0.16, 0.08, 0.12, 0.1, 0.1, 0.08])
    chars = list(text)
    spots = {"similar": [i for i, c in enumerate(chars) if c in _SIMILAR],
             "length": [i for i, c in enumerate(chars) if c in _LENGTH],
             "tone": [i for i, c in enumerate(chars) if c in _TONES or c in _CONSONANTS]}
    if kind in spots and spots[kind]:
        i = int(rng.choice(spots[kind]))
        if kind == "similar":
            chars[i] = rng.choice(list(_SIMILAR[chars[i]]))
        elif kind == "length":
            chars[i] = _LENGTH[chars[i]]
        elif chars[i] in _TONES:  # another tone mark, or none
            chars[i] = rng.choice([t for t in _TONES if t != chars[i]] + [""])
        else:
            chars.insert(i + 1, rng.choice(list(_TONES[:2])))
    elif kind == "sign" and ("็" in chars or "์" in chars):
        chars = [c for c in chars if c not in "็์"]
    else:
        i = int(rng.integers(1, len(chars)))
        if kind == "delete":
            del chars[i]
        elif kind == "insert":
            chars.insert(i, rng.choice(list(_CONSONANTS)))
        elif kind == "swap" and i < len(chars) - 1:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = rng.choice(list(_CONSONANTS))
    result = "".join(chars)
    return result if result != text else text + rng.choice(list(_CONSONANTS))


def _geography(rng: np.random.Generator, villages: int) -> pd.DataFrame:
    """Villages in subdistricts in districts in provinces (synthetic DOPA-shaped codes)."""
    rows, district_count = [], 0
    while len(rows) < villages:
        province = 50 + district_count // 12
        district = f"{province}{district_count % 12 + 1:02d}"
        for sub in range(1, int(rng.integers(6, 13)) + 1):
            for moo in range(1, int(rng.integers(6, 16)) + 1):
                rows.append((district, f"{district}{sub:02d}", moo))
        district_count += 1
    frame = pd.DataFrame(rows[:villages], columns=["district_code", "subdistrict_code", "moo"])
    frame["weight"] = rng.lognormal(0, 0.5, len(frame))
    return frame


def _phones(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random Thai mobile numbers '0[689]XXXXXXXX'."""
    return np.char.add(np.char.add("0", rng.choice(["6", "8", "9"], count)),
                       np.char.zfill(rng.integers(0, 10**8, count).astype(str), 8)).astype(object)


def _people(rng: np.random.Generator, n_people: int, rates: Rates, ref: dt.date) -> pd.DataFrame:
    """The truth: one row per person, in households in villages."""
    villages = _geography(rng, max(3, n_people // 110))
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=n_people, p=[0.15, 0.25, 0.25, 0.2, 0.1, 0.05])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_people) + 1]
    households = len(sizes)
    village = rng.choice(len(villages), size=households, p=villages["weight"] / villages["weight"].sum())
    surnames = _surname_pool(rng, 4000)
    global_rank = np.arange(1, len(surnames) + 1) ** -0.6
    village_pool = rng.choice(len(surnames), size=(len(villages), 24), p=global_rank / global_rank.sum())
    family = village_pool[village, np.minimum(rng.geometric(0.18, households) - 1, 23)]
    house = rng.integers(1, 320, households).astype(str)
    sub = rng.random(households) < 0.25
    house[sub] = np.char.add(np.char.add(house[sub], "/"), rng.integers(1, 9, int(sub.sum())).astype(str))
    phone = _phones(rng, households)
    hh = np.repeat(np.arange(households), sizes)[:n_people]
    role = np.arange(n_people) - np.repeat(np.cumsum(sizes) - sizes, sizes)[:n_people]
    sex = np.where(role == 0, rng.random(n_people) < 0.55, np.where(role == 1, rng.random(n_people) < 0.2,
                                                                     rng.random(n_people) < 0.5))
    age = np.where(role <= 1, rng.integers(22, 92, n_people), rng.integers(1, 40, n_people))
    people = pd.DataFrame({"household": hh, "village": village[hh], "male": sex, "age": age})
    people["surname"] = np.asarray(surnames, dtype=object)[family[hh]]
    spouse_keeps = (role == 1) & (rng.random(n_people) < 0.3)
    people.loc[spouse_keeps, "surname"] = np.asarray(surnames, dtype=object)[
        village_pool[people.loc[spouse_keeps, "village"], rng.integers(0, 24, int(spouse_keeps.sum()))]]
    people["house"] = house[hh]
    people["house_phone"] = phone[hh]
    people["twin_of"] = -1
    people = _hard_negatives(rng, people, rates)
    return _identities(rng, people, villages, rates, ref)


def _hard_negatives(rng: np.random.Generator, people: pd.DataFrame, rates: Rates) -> pd.DataFrame:
    """Twins, fathers and sons of the same first name, namesakes in the same village (names later)."""
    households = people.drop_duplicates("household")
    twins = people[people["age"] < 40].drop_duplicates("household")
    twins = twins[rng.random(len(twins)) < rates.twins * len(households) / max(len(twins), 1)].copy()
    twins["twin_of"] = twins.index
    twins["male"] = rng.random(len(twins)) < 0.5
    fathers = people[people["male"] & (people["age"] >= 45)].drop_duplicates("household")
    fathers = fathers[rng.random(len(fathers)) < rates.father_son * len(households) / max(len(fathers), 1)]
    sons = fathers.assign(age=fathers["age"] - rng.integers(20, 36, len(fathers)), son_of=fathers.index)
    namesakes = people[rng.random(len(people)) < rates.namesakes].copy()
    namesakes["namesake_of"] = namesakes.index
    namesakes["household"] = -1 - np.arange(len(namesakes))  # another household of the same village
    namesakes["age"] = rng.integers(18, 90, len(namesakes))
    namesakes["house"] = rng.integers(1, 320, len(namesakes)).astype(str)
    namesakes["house_phone"] = _phones(rng, len(namesakes))
    return pd.concat([people, twins, sons, namesakes], ignore_index=False).reset_index(names="copied_from")


def _identities(rng: np.random.Generator, people: pd.DataFrame, villages: pd.DataFrame, rates: Rates,
                ref: dt.date) -> pd.DataFrame:
    n = len(people)
    frame = people.reset_index(drop=True)
    thai = rng.random(n) >= rates.non_thai
    male = frame["male"].to_numpy()
    first = np.where(male, _names(rng, _given_pool(True), n, skew=0.9), _names(rng, _given_pool(False), n, skew=0.9))
    foreign = ["".join(rng.choice(_FOREIGN_SYLLABLES, int(rng.integers(1, 3)))) for _ in range((~thai).sum())]
    first[~thai] = foreign
    # Sons and namesakes take the first name of the person they were copied from; twins another one.
    source = frame["copied_from"].to_numpy()
    same_name = frame.get("son_of", pd.Series(np.nan, index=frame.index)).notna().to_numpy() \
        | frame.get("namesake_of", pd.Series(np.nan, index=frame.index)).notna().to_numpy()
    position = pd.Series(np.arange(n), index=source).groupby(level=0).first()
    origin = position.reindex(source).to_numpy()
    first[same_name] = first[origin[same_name]]
    thai[same_name] = thai[origin[same_name]]
    frame["last"] = np.where(thai | (rng.random(n) < 0.4), frame["surname"], "")
    frame["nationality"] = np.where(thai, "ไทย", rng.choice(_NON_THAI, n))
    born = ref.toordinal() - frame["age"].to_numpy(dtype=np.int64) * 365 - rng.integers(0, 365, n)
    twin = frame["twin_of"].to_numpy() >= 0
    born[twin] = born[origin[twin]]
    for _ in range(3):  # twins are not given the same first name
        clash = twin & (first == first[origin])
        first[clash] = np.where(male[clash], _names(rng, _GIVEN_MALE, int(clash.sum())),
                                _names(rng, _GIVEN_FEMALE, int(clash.sum())))
    frame["first"] = first
    frame["birth"] = pd.to_datetime(born - dt.date(1970, 1, 1).toordinal(), unit="D").strftime("%Y-%m-%d")
    frame["age"] = (ref.toordinal() - born) // 365.25
    geo = villages.iloc[frame["village"].to_numpy()]
    for column in ("district_code", "subdistrict_code", "moo"):
        frame[column] = geo[column].to_numpy()
    frame["phone"] = np.where(rng.random(n) < 0.5, frame["house_phone"], _phones(rng, n))
    frame.loc[rng.random(n) < 0.3, "phone"] = None
    frame["person_id"], frame["id_kind"] = _person_ids(rng, frame, thai)
    frame["title"] = _titles(rng, frame)
    return frame


def _person_ids(rng: np.random.Generator, frame: pd.DataFrame, thai: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    digits = rng.integers(0, 10, size=(n, 12), dtype=np.int64)
    digits[:, 0] = np.where(thai, np.where(frame["age"] < 38, 1, 3), rng.choice([0, 6, 7], n))
    office = np.array([[int(c) for c in code[:4]] for code in frame["district_code"]], dtype=np.int64)
    digits[:, 1:5] = np.where(thai[:, None], office, digits[:, 1:5])  # registration office: the district
    ids = ["".join(map(str, row)) + str(check) for row, check in zip(digits.tolist(), check_digits(digits))]
    ids = np.asarray(ids, dtype=object)
    kinds = np.where(thai, "thai", "non_thai").astype(object)
    document = ~thai & (rng.random(n) < 0.3)
    ids[document] = [f"M{rng.integers(10**7, 10**8)}" for _ in range(int(document.sum()))]
    kinds[document] = "document"
    repeated = pd.Series(ids).duplicated(keep="first").to_numpy()  # rare clashes: that person has none
    ids[repeated], kinds[repeated] = None, None
    return ids, kinds


def _titles(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    age, male = frame["age"].to_numpy(), frame["male"].to_numpy()
    married = rng.random(len(frame)) < np.where(age >= 25, 0.75, 0.1)
    titles = np.where(age < 15, np.where(male, "ด.ช.", "ด.ญ."),
                      np.where(male, "นาย", np.where(married, "นาง", "นางสาว"))).astype(object)
    ranked = (age >= 25) & (rng.random(len(frame)) < 0.01)
    titles[ranked] = rng.choice(["ว่าที่ร.ต.", "ส.อ.", "ร.ต.อ."], int(ranked.sum()))
    return titles


def _thai_digits(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


def _listings(rng: np.random.Generator, people: pd.DataFrame, rates: Rates) -> pd.DataFrame:
    """One row per listing of a person: the person's true values, where and when listed."""
    extra = rng.choice(len(rates.extra_copies), size=len(people), p=np.asarray(rates.extra_copies))
    rows = people.loc[people.index.repeat(extra + 1)].copy()
    rows["copy"] = rows.groupby(level=0).cumcount()
    rows["entity"] = rows.index
    # A listing from elsewhere: the village and house of another person of the same province.
    moved = (rows["copy"] > 0).to_numpy() & (rng.random(len(rows)) < rates.other_village)
    province = people["district_code"].str.slice(0, 2).to_numpy()
    order = np.argsort(province, kind="stable")
    names, starts, sizes = np.unique(province[order], return_index=True, return_counts=True)
    where = np.searchsorted(names, rows["district_code"].str.slice(0, 2).to_numpy()[moved])
    others = people.iloc[order[starts[where] + (rng.random(len(where)) * sizes[where]).astype(int)]]
    for column in ("district_code", "subdistrict_code", "moo", "house"):
        rows.loc[moved, column] = others[column].to_numpy()
    return rows.reset_index(drop=True)


def _with_title(rng, titles, names, rates: Rates) -> tuple[np.ndarray, np.ndarray]:
    n = len(titles)
    titles, names = titles.copy(), names.copy()
    pick = rng.random(n)
    variant = pick < rates.title_variant
    titles[variant] = [rng.choice(_TITLE_VARIANTS.get(t, (t,))) for t in titles[variant]]
    swapped = (pick >= rates.title_variant) & (pick < rates.title_variant + rates.title_swapped)
    titles[swapped] = [{"นาง": "นางสาว", "นางสาว": "นาง"}.get(t, t) for t in titles[swapped]]
    place = rng.random(n)
    glued = place < rates.title_glued
    spaced = (place >= rates.title_glued) & (place < rates.title_glued + rates.title_in_name)
    names[glued] = titles[glued] + names[glued]
    names[spaced] = titles[spaced] + " " + names[spaced]
    blank = glued | spaced | (rng.random(n) < rates.title_blank)
    titles[blank] = None
    return titles, names


def _noisy_names(rng, names: np.ndarray, rate: float, rates: Rates, spacing: float) -> np.ndarray:
    names = names.copy()
    hit = np.flatnonzero((rng.random(len(names)) < rate) & (names != ""))
    for i in hit:
        names[i] = typo(names[i], rng)
        if rng.random() < rates.two_typos:
            names[i] = typo(names[i], rng)
    spaced = np.flatnonzero((rng.random(len(names)) < spacing) & (np.char.str_len(names.astype(str)) > 3))
    for i in spaced:
        cut = int(rng.integers(2, len(names[i]) - 1))
        names[i] = names[i][:cut] + rng.choice([" ", "\u200b", "  "]) + names[i][cut:]
    return names


def _render(rng: np.random.Generator, rows: pd.DataFrame, rates: Rates, ref: dt.date) -> pd.DataFrame:
    """What a surveyor writes for each listing."""
    n = len(rows)
    first = _noisy_names(rng, rows["first"].to_numpy(dtype=object), rates.first_typo, rates, rates.name_spacing)
    last = _noisy_names(rng, rows["last"].to_numpy(dtype=object), rates.last_typo, rates, rates.name_spacing / 3)
    title, first = _with_title(rng, rows["title"].to_numpy(dtype=object), first, rates)
    ids = rows["person_id"].to_numpy(dtype=object).copy()
    kinds = rows["id_kind"].to_numpy(dtype=object).copy()
    listed = rng.random(n) < rates.id_listed
    ids[~listed], kinds[~listed] = None, None
    thirteen = np.flatnonzero(listed & (kinds != "document") & pd.notna(ids) & (rng.random(n) < rates.id_typo))
    for i in thirteen:
        digits = list(ids[i])
        spot = int(rng.integers(1, 12))
        digits[spot] = str((int(digits[spot]) + int(rng.integers(1, 10))) % 10)
        ids[i], kinds[i] = "".join(digits), None  # the parser gives no kind to a broken ID
    surveyed = pd.Timestamp(ref) - pd.to_timedelta(rng.integers(0, 28, n), unit="D")
    born = pd.to_datetime(rows["birth"]).to_numpy()
    age = ((surveyed - born).days // 365.25).astype(int)
    births = rows["birth"].to_numpy(dtype=object).copy()
    slip = np.flatnonzero(rng.random(n) < rates.birth_typo)
    for i in slip:
        y, m, d = births[i].split("-")
        births[i] = f"{y}-{d}-{m}" if int(d) <= 12 and d != m else f"{y}-{m}-{int(d) % 28 + 1:02d}"
    form = rng.random(n)
    age_only = form < rates.age_only
    both = (form >= rates.age_only) & (form < rates.age_only + rates.birth_and_age)
    births[age_only] = None
    ages = np.where(age_only | both, age, -1).astype(object)
    ages[ages == -1] = None
    sex = np.where(rows["male"], "ชาย", "หญิง").astype(object)
    sex[rng.random(n) < rates.sex_blank] = None
    phone = rows["phone"].to_numpy(dtype=object).copy()
    phone[rng.random(n) >= rates.phone_listed] = None
    return pd.DataFrame({
        "person_id": ids, "id_kind": kinds, "title": title, "first_name": first,
        "last_name": np.where(last == "", None, last), "sex": sex, "birth_date": births, "age": ages,
        "house_no": _house_numbers(rng, rows["house"].to_numpy(dtype=object), rates),
        "moo": _moo(rng, rows["moo"].to_numpy(), rates),
        "subdistrict_code": rows["subdistrict_code"].to_numpy(), "district_code": rows["district_code"].to_numpy(),
        "phone": phone, "nationality": rows["nationality"].to_numpy(),
        "surveyed_on": pd.DatetimeIndex(surveyed).strftime("%Y-%m-%d"),
    })


def _house_numbers(rng, houses: np.ndarray, rates: Rates) -> np.ndarray:
    houses = houses.copy()
    pick = rng.random(len(houses))
    edges = np.cumsum([rates.house_thai_digits, rates.house_spaced, rates.house_prefixed, rates.house_blank,
                       rates.house_main_only])
    kind = np.searchsorted(edges, pick, side="right")
    for i in np.flatnonzero(kind < len(edges)):
        text = houses[i]
        houses[i] = (_thai_digits(text), text.replace("/", " / "), "บ้านเลขที่ " + text, None,
                     text.split("/")[0])[kind[i]]
    return houses


def _moo(rng, moo: np.ndarray, rates: Rates) -> np.ndarray:
    values = moo.astype(object)
    thai = np.flatnonzero(rng.random(len(moo)) < rates.moo_thai_digits)
    values[thai] = [_thai_digits(str(v)) for v in values[thai]]
    return values


def hard_negative_pairs(people: pd.DataFrame) -> pd.DataFrame:
    """(entity, other, kind): the hard negatives made on purpose, as pairs of entity numbers."""
    kinds = np.select([people["twin_of"].to_numpy() >= 0, people.get("son_of", pd.Series(np.nan, index=people.index))
                       .notna().to_numpy(), people.get("namesake_of", pd.Series(np.nan, index=people.index))
                       .notna().to_numpy()], ["twins", "father_son", "namesakes"], "")
    made = kinds != ""
    return pd.DataFrame({"entity": people.index[made], "other": people["copied_from"].to_numpy()[made],
                         "kind": kinds[made]})


def generate(n_records: int, seed: int = 0, rates: Rates = Rates(), reference: dt.date = dt.date(2021, 12, 24),
             with_hard_negatives: bool = False):
    """(records with the columns link_people takes, entity number per record); row order shuffled.

    with_hard_negatives: also the pairs of entities made as hard negatives (hard_negative_pairs).
    """
    rng = np.random.default_rng(seed)
    mean_copies = float(np.dot(np.arange(len(rates.extra_copies)) + 1, rates.extra_copies))
    people = _people(rng, max(2, int(n_records / mean_copies / (1 + rates.namesakes + rates.twins / 3))), rates,
                     reference)
    rows = _listings(rng, people, rates)
    rows = rows.iloc[rng.permutation(len(rows))[:n_records]].reset_index(drop=True)
    records = _render(rng, rows, rates, reference)
    records.insert(0, "record_key", [f"s{seed}|B|{i + 2:07d}" for i in range(len(records))])
    truth = pd.Series(rows["entity"].to_numpy(), index=records.index, name="entity")
    return (records, truth, hard_negative_pairs(people)) if with_hard_negatives else (records, truth)
