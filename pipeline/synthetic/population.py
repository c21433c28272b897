"""Canonical synthetic records (the truth), one entity at a time, versioned by week."""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from stdnum.th import pin

from pipeline.synthetic import forms, names

Window = Callable[[dt.date], tuple[dt.date, dt.date]]

# Rows each district's list grows by per week: (fewest, most). Facilities are listed once, in
# the first week, and grow by at most one a week afterwards.
DEFAULT_SIZES = {"volunteers": (8, 15), "unvaccinated": (12, 25), "facilities": (3, 6), "help_requests": (5, 10)}
VOLUNTEER_TYPE_WEIGHTS = (0.05, 0.2, 0.4, 0.1, 0.08, 0.07, 0.1)
REASON_WEIGHTS = (0.3, 0.15, 0.05, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05)
FACILITY_TYPE_WEIGHTS = (0.2, 0.25, 0.1, 0.1, 0.15, 0.05, 0.15)
REQUEST_TYPE_WEIGHTS = (0.25, 0.2, 0.25, 0.15, 0.1, 0.05)
DISTRICT_CENTRES = {  # rough centre of each Phrae district, for facility coordinates
    "5401": (18.14, 100.14), "5402": (18.34, 100.32), "5403": (18.07, 99.83), "5404": (18.05, 100.10),
    "5405": (17.98, 100.05), "5406": (18.47, 100.18), "5407": (17.90, 99.62), "5408": (18.28, 100.17),
}


def standard_window(week: dt.date) -> tuple[dt.date, dt.date]:
    """Days a week's new records are dated: from the previous Friday (the first week: 1 Dec 2021) to Thursday."""
    first = forms.RECORDING_START if week <= forms.FIRST_REPORT else week - dt.timedelta(days=7)
    return first, week - dt.timedelta(days=1)


@dataclass
class Entity:
    """One volunteer, person, facility or request, as its home district's list holds it week by week."""

    dataset: str
    serial: int
    home: str  # district code of the folder whose list holds it
    week: dt.date  # the week its first version is due
    versions: list[tuple[dt.date, dict]]  # (week from which this version is current, canonical record)
    raw: dict = field(default_factory=dict)  # cell text the district writes instead of the canonical value
    warnings: tuple[str, ...] = ()  # warning codes every row of it raises (because of `raw`)
    retracted: dt.date | None = None  # the week its district took it out of its list (listed by mistake)

    def version_at(self, week: dt.date) -> dict | None:
        """The record as the home list shows it in a week (None before it exists)."""
        current = None
        for since, record in self.versions:
            if since <= week:
                current = record
        return current

    def updated_between(self, after: dt.date | None, until: dt.date) -> bool:
        """Whether a later version (an update, not the first) became current in (after, until]."""
        return any((after is None or since > after) and since <= until for since, _ in self.versions[1:])


@dataclass
class Population:
    """All entities of an inbox, per dataset, and the weeks they span."""

    weeks: list[dt.date]
    entities: dict[str, list[Entity]]

    def of(self, dataset: str, home: str) -> list[Entity]:
        """Entities of one dataset held by one district's list."""
        return [e for e in self.entities[dataset] if e.home == home]

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every version of every entity as canonical DataFrames (one per dataset)."""
        frames = {}
        for dataset, entities in self.entities.items():
            rows = [{"serial": e.serial, "home": e.home, "week": e.week, "since": since, **record}
                    for e in entities for since, record in e.versions]
            frames[dataset] = pd.DataFrame(rows)
        return frames


class Factory:
    """Draws realistic canonical records from one numpy Generator."""

    def __init__(self, rng: np.random.Generator, window: Window = standard_window, *,
                 not_stated_rate: float = 0.0, stale_rate: float = 0.0):
        self.rng = rng
        self.window = window
        self.not_stated_rate = not_stated_rate  # people with a blank nationality, wish or reason; facilities' status
        self.stale_rate = stale_rate  # facilities last updated before recording started
        self.used_phones: set[str] = set()
        self.used_ids: set[str] = set()
        self.used_keys: set[tuple] = set()
        self.serials = itertools.count(1)
        self.districts = forms.province_districts()

    # -- small draws -------------------------------------------------------------------------
    def pick(self, options: Sequence, weights: Sequence[float] | None = None):
        """One element, optionally weighted."""
        if weights is None:
            return options[int(self.rng.integers(len(options)))]
        weights = np.asarray(weights, dtype=float)
        return options[int(self.rng.choice(len(options), p=weights / weights.sum()))]

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return bool(self.rng.random() < probability)

    def day_between(self, first: dt.date, last: dt.date) -> dt.date:
        """A uniformly drawn day in [first, last]."""
        return first + dt.timedelta(days=int(self.rng.integers((last - first).days + 1)))

    def day_in(self, week: dt.date, not_before: dt.date | None = None) -> dt.date:
        """A day inside a week's window, not before a given day."""
        first, last = self.window(week)
        return self.day_between(max(first, not_before or first), last)

    def digits(self, count: int) -> str:
        """A string of random decimal digits."""
        return "".join(str(d) for d in self.rng.integers(0, 10, count))

    def mobile(self) -> str:
        """A fresh Thai mobile number (0 + 9 digits, 06/08/09)."""
        while True:
            number = self.pick(("06", "08", "09")) + self.pick("123456789") + self.digits(7)
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def landline(self) -> str:
        """A Phrae landline (054 + 6 digits)."""
        return "054" + self.pick("56") + self.digits(5)

    def person_id(self, first_digits: str = "1123345") -> str:
        """A fresh 13-digit ID with a valid check digit, starting with one of the given digits."""
        while True:
            body = self.pick(first_digits) + self.digits(11)
            number = body + pin.calc_check_digit(body)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def passport(self) -> str:
        """A passport-like document number such as MA1234567."""
        while True:
            number = self.pick(("MA", "MB", "MC", "PA", "LA", "NA")) + self.digits(7)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def place(self, district: str) -> dict:
        """A random subdistrict of a district, as codes and Thai names."""
        area = self.districts[district]
        code = self.pick(sorted(area.subdistricts))
        return {"subdistrict": code, "subdistrict_name": area.subdistricts[code],
                "district": district, "district_name": area.name}

    def thai_person(self, birth_date: dt.date | None = None) -> dict:
        """Title, given name, surname and sex of a random Thai person."""
        sex = self.pick(("ชาย", "หญิง"))
        child = birth_date is not None and (forms.RECORDING_START - birth_date).days < 15 * 365
        if sex == "ชาย":
            title = "เด็กชาย" if child else "นาย"
            given = self.pick(names.MALE_GIVEN)
        else:
            title = "เด็กหญิง" if child else self.pick(("นาง", "นางสาว"))
            given = self.pick(names.FEMALE_GIVEN)
        return {"title": title, "first_name": given, "last_name": self.pick(names.SURNAMES), "sex": sex}

    # -- entities ------------------------------------------------------------------------------
    def entity(self, dataset: str, home: str, week: dt.date, versions: list[tuple[dt.date, dict]]) -> Entity:
        """Wrap versions into an Entity with a fresh serial number."""
        return Entity(dataset, next(self.serials), home, week, versions)

    def volunteer(self, home: str, district: str, week: dt.date) -> Entity:
        """A data volunteer registered during the week."""
        place = self.place(district)
        person = self.thai_person()
        organisation = self.pick(names.VOLUNTEER_ORGANISATIONS).format(
            district=place["district_name"], subdistrict=place["subdistrict_name"])
        record = {
            "title": person["title"] if self.chance(0.8) else None,
            "first_name": person["first_name"], "last_name": person["last_name"],
            "phone": self.mobile(),
            "volunteer_type": self.pick(forms.choice_values("volunteer_types"), VOLUNTEER_TYPE_WEIGHTS),
            "affiliation": f"{organisation} (moicovid)", **place,
            "registered_on": self.day_in(week),
        }
        return self.entity("volunteers", home, week, [(week, record)])

    def _identity_of_person(self) -> tuple[str | None, str]:
        """(person_id, nationality): ~85% Thai IDs, ~10% non-Thai, ~5% no ID at all."""
        draw = self.rng.random()
        if draw < 0.85:
            return self.person_id(), "ไทย"
        if draw < 0.95:
            nationality = self.pick(("เมียนมา", "ลาว", "กัมพูชา"))
            document = self.passport() if self.chance(0.3) else self.person_id("0067")
            return document, nationality
        return None, "ไทย"

    def unvaccinated(self, home: str, district: str, week: dt.date, surveyors: Sequence[dict]) -> Entity:
        """A person not yet vaccinated, surveyed during the week."""
        person_id, nationality = self._identity_of_person()
        birth_date = self.day_between(dt.date(1932, 1, 1), dt.date(2016, 12, 31))
        if nationality == "ไทย":
            person = self.thai_person(birth_date)
        else:
            sex = self.pick(("ชาย", "หญิง"))
            person = {"title": "นาย" if sex == "ชาย" else "นางสาว", "sex": sex,
                      "first_name": self.pick(names.FOREIGN_GIVEN[nationality]),
                      "last_name": self.pick(names.FOREIGN_SURNAMES[nationality]) or None}
        age = None
        if person_id is not None and self.chance(0.2):  # some forms give the age instead of the birth date
            age, birth_date = (forms.RECORDING_START - birth_date).days // 365, None
        place = self.place(district)
        moo = int(self.rng.integers(1, 21))
        if person_id is None:  # identity is then name + birth date + address: keep it unique
            key = (person["first_name"], person["last_name"], birth_date, moo, place["subdistrict"])
            if key in self.used_keys:
                return self.unvaccinated(home, district, week, surveyors)
            self.used_keys.add(key)
        reason = self.pick(forms.choice_values("reasons"), REASON_WEIGHTS)
        age_now = age if birth_date is None else (forms.RECORDING_START - birth_date).days // 365
        if reason == "ตั้งครรภ์" and (person["sex"] != "หญิง" or not 16 <= age_now <= 45):
            reason = "กลัวผลข้างเคียง"
        surveyor = self.pick(surveyors) if surveyors else None
        record = {
            "person_id": person_id, **person, "birth_date": birth_date, "age": age, "nationality": nationality,
            "house_no": self._house_no(), "moo": moo, **place,
            "phone": self.mobile() if self.chance(0.5) else None,
            "reason": reason,
            "wants_vaccine": self.pick(forms.choice_values("wants_vaccine"), (0.6, 0.4)),
            "surveyed_on": self.day_in(week),
            "surveyed_by": None if surveyor is None else self._surveyor_label(surveyor),
        }
        if self.not_stated_rate and self.chance(self.not_stated_rate):
            record = self._not_stated(record)
        return self.entity("unvaccinated", home, week, [(week, record)])

    def _not_stated(self, record: dict) -> dict:
        """The record with one or two of nationality, wish and reason left blank (a Thai with an ID and a
        surname for a blank nationality, so that no rule needs the nationality)."""
        blanks = ["wants_vaccine", "reason"]
        if record["nationality"] == "ไทย" and record["person_id"] and record["last_name"]:
            blanks.append("nationality")
        chosen = self.pick([[key] for key in blanks] + [blanks[:2]])
        return {**record, **dict.fromkeys(chosen)}

    def _house_no(self) -> str | None:
        if self.chance(0.1):
            return None
        number = str(int(self.rng.integers(1, 300)))
        return f"{number}/{int(self.rng.integers(1, 9))}" if self.chance(0.2) else number

    def _surveyor_label(self, volunteer: dict) -> str:
        if self.chance(0.5):
            return volunteer["phone"]
        return f"{volunteer['first_name']} {volunteer['last_name']}"

    def facility(self, home: str, district: str, week: dt.date, later_weeks: Sequence[dt.date]) -> Entity:
        """A service point listed in a week and updated now and then afterwards."""
        place = self.place(district)
        facility_type = self.pick(forms.choice_values("facility_types"), FACILITY_TYPE_WEIGHTS)
        template = self.pick(names.FACILITY_NAMES[facility_type])
        name = template.format(district=place["district_name"], subdistrict=place["subdistrict_name"])
        while (facility_type, name, district) in self.used_keys:
            name = f"{name} แห่งที่ {int(self.rng.integers(2, 9))}"
        self.used_keys.add((facility_type, name, district))
        latitude, longitude = DISTRICT_CENTRES.get(district, (18.14, 100.14))
        with_position = self.chance(0.7)
        record = {
            "facility_type": facility_type, "name": name, **place,
            "lat": round(latitude + self.rng.uniform(-0.03, 0.03), 6) if with_position else None,
            "lon": round(longitude + self.rng.uniform(-0.03, 0.03), 6) if with_position else None,
            "capacity": int(self.rng.integers(0, 120)) if self.chance(0.6) else None,
            "phone": (self.landline() if self.chance(0.6) else self.mobile()) if self.chance(0.7) else None,
            "status": "เปิดให้บริการ" if self.chance(0.9) else "ปิด",
            "updated_on": self.day_in(week),
        }
        if self.stale_rate and self.chance(self.stale_rate):  # last updated before recording started
            record["updated_on"] = self.day_between(dt.date(2021, 11, 1), forms.RECORDING_START - dt.timedelta(days=1))
        if self.not_stated_rate and self.chance(self.not_stated_rate / 2):
            record["status"] = None
        versions = [(week, record)]
        for later in later_weeks:
            if self.chance(0.5):  # updated that week: newer date, sometimes another status
                record = {**record, "updated_on": self.day_in(later, record["updated_on"])}
                if self.chance(0.15):
                    record["status"] = "ปิด" if record["status"] == "เปิดให้บริการ" else "เปิดให้บริการ"
                versions.append((later, record))
        return self.entity("facilities", home, week, versions)

    def help_request(self, home: str, district: str, week: dt.date, later_weeks: Sequence[dt.date]) -> Entity:
        """A request from the public, whose status moves on over the following weeks."""
        place = self.place(district)
        person = self.thai_person()
        request_type = self.pick(forms.choice_values("request_types"), REQUEST_TYPE_WEIGHTS)
        statuses = forms.choice_values("request_statuses")
        step = int(self.pick((0, 1, 2), (0.4, 0.3, 0.3)))
        requested_on = self.day_in(week)
        requester = f"{person['first_name']} {person['last_name']}"
        if self.chance(0.3):
            requester = f"{person['title']}{requester}"
        record = {
            "requested_on": requested_on, "request_type": request_type, "requester": requester,
            "phone": self.mobile(), "moo": int(self.rng.integers(1, 21)), **place,
            "details": self.pick(names.HELP_DETAILS[request_type]) if self.chance(0.8) else None,
            "status": statuses[step], "resolved_on": self.day_in(week, requested_on) if step == 2 else None,
        }
        versions = [(week, record)]
        for later in later_weeks:
            if step < 2 and self.chance(0.5):
                step += 1
                record = {**record, "status": statuses[step],
                          "resolved_on": self.day_in(later, requested_on) if step == 2 else None}
                versions.append((later, record))
        return self.entity("help_requests", home, week, versions)


def _count(factory: Factory, sizes: Mapping[str, tuple[int, int]], dataset: str) -> int:
    fewest, most = sizes[dataset]
    return int(factory.rng.integers(fewest, most + 1))


def generate_population(
    factory: Factory, districts: Sequence[str], weeks: Sequence[dt.date], *,
    sizes: Mapping[str, tuple[int, int]] | None = None, other_district_rate: float = 0.05, untagged_rate: float = 0.1,
) -> Population:
    """Canonical entities of each district's lists for the given weeks (versions dated in each week's window)."""
    sizes = {**DEFAULT_SIZES, **(sizes or {})}
    weeks = sorted(weeks)
    province = list(factory.districts)
    entities: dict[str, list[Entity]] = {dataset: [] for dataset in forms.DATASETS}

    def named_district(home: str) -> str:
        # Now and then a row names another district than the folder it is sent from.
        others = [code for code in province if code != home]
        return factory.pick(others) if factory.chance(other_district_rate) else home

    for index, week in enumerate(weeks):
        later = weeks[index + 1:]
        for home in districts:
            volunteers = [factory.volunteer(home, named_district(home), week)
                          for _ in range(_count(factory, sizes, "volunteers"))]
            for volunteer in volunteers:
                if factory.chance(untagged_rate):  # the district forgot the (moicovid) tag
                    volunteer.raw["affiliation"] = volunteer.versions[0][1]["affiliation"].removesuffix(" (moicovid)")
                    volunteer.warnings = ("affiliation_tag_added",)
            entities["volunteers"] += volunteers
            surveyors = [v.versions[0][1] for v in entities["volunteers"] if v.home == home]
            entities["unvaccinated"] += [factory.unvaccinated(home, named_district(home), week, surveyors)
                                         for _ in range(_count(factory, sizes, "unvaccinated"))]
            facility_count = _count(factory, sizes, "facilities") if index == 0 else int(factory.chance(0.3))
            entities["facilities"] += [factory.facility(home, named_district(home), week, later)
                                       for _ in range(facility_count)]
            entities["help_requests"] += [factory.help_request(home, named_district(home), week, later)
                                          for _ in range(_count(factory, sizes, "help_requests"))]
    return Population(weeks, entities)


def canonical_records(
    rng: np.random.Generator, districts: Sequence[str], weeks: Sequence[dt.date], *,
    sizes: Mapping[str, tuple[int, int]] | None = None, window: Window = standard_window,
) -> dict[str, pd.DataFrame]:
    """Canonical records per dataset (every version, schema keys + codes and names) for districts and weeks."""
    return generate_population(Factory(rng, window), districts, weeks, sizes=sizes).frames()
