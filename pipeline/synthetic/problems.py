"""Injected problems with a known outcome: rows the pipeline must reject, and the code it must give."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.th import pin

from pipeline.synthetic import forms, names
from pipeline.synthetic.population import Factory

DONE = "ดำเนินการแล้ว"
WAITING = "รอดำเนินการ"


@dataclass(frozen=True)
class Injection:
    """One kind of bad row: which dataset, the cells it writes instead of valid ones, the codes expected."""

    name: str
    dataset: str
    codes: tuple[str, ...]
    cells: Callable[[Factory, dict], dict]  # valid canonical record -> {key: raw cell written instead}


def _bad_check_digit(factory: Factory, record: dict) -> dict:
    number = factory.person_id("13")
    wrong = str((int(number[-1]) + 1 + int(factory.rng.integers(8))) % 10)
    assert pin.calc_check_digit(number[:12]) != wrong
    return {"person_id": number[:12] + wrong}


def _resolved_before_requested(factory: Factory, record: dict) -> dict:
    requested = max(record["requested_on"], forms.RECORDING_START + dt.timedelta(days=3))
    resolved = requested - dt.timedelta(days=2)
    return {"requested_on": requested, "status": DONE, "resolved_on": resolved}


def _foreign_subdistrict(factory: Factory, record: dict) -> dict:
    phrae = {n for d in forms.province_districts().values() for n in d.subdistricts.values()}
    return {"subdistrict": "ต." + factory.pick([n for n in names.FOREIGN_SUBDISTRICTS if n not in phrae])}


def _foreign_district(factory: Factory, record: dict) -> dict:
    phrae = {d.name for d in forms.province_districts().values()}
    return {"district": "อ." + factory.pick([n for n in names.FOREIGN_DISTRICTS if n not in phrae])}


INJECTIONS: tuple[Injection, ...] = (
    # volunteers
    Injection("volunteer_landline", "volunteers", ("phone_not_mobile",),
              lambda f, r: {"phone": "054-" + f.landline()[3:]}),
    Injection("volunteer_phone_short", "volunteers", ("phone_invalid",), lambda f, r: {"phone": "08" + f.digits(4)}),
    Injection("volunteer_name_blank", "volunteers", ("required_missing",), lambda f, r: {"first_name": None}),
    Injection("volunteer_type_unknown", "volunteers", ("choice_unknown",), lambda f, r: {"volunteer_type": "ตำรวจ"}),
    Injection("volunteer_registered_early", "volunteers", ("date_before_start",),
              lambda f, r: {"registered_on": "15/11/2564"}),
    Injection("volunteer_subdistrict_unknown", "volunteers", ("subdistrict_unknown",), _foreign_subdistrict),
    # unvaccinated
    Injection("person_id_check_digit", "unvaccinated", ("id_check_digit",), _bad_check_digit),
    Injection("person_id_12_digits", "unvaccinated", ("id_length",), lambda f, r: {"person_id": "3" + f.digits(11)}),
    Injection("person_moo_45", "unvaccinated", ("number_out_of_range",), lambda f, r: {"moo": 45}),
    Injection("person_surveyed_early", "unvaccinated", ("date_before_start",),
              lambda f, r: {"surveyed_on": "20 พ.ย. 2564"}),
    Injection("person_name_blank", "unvaccinated", ("required_missing",), lambda f, r: {"first_name": None}),
    Injection("person_district_unknown", "unvaccinated", ("district_unknown",), _foreign_district),
    # facilities
    Injection("facility_type_unknown", "facilities", ("choice_unknown",), lambda f, r: {"facility_type": "ตลาดนัด"}),
    Injection("facility_name_blank", "facilities", ("required_missing",), lambda f, r: {"name": None}),
    Injection("facility_subdistrict_unknown", "facilities", ("subdistrict_unknown",), _foreign_subdistrict),
    # help requests
    Injection("request_done_without_date", "help_requests", ("resolved_date_missing",),
              lambda f, r: {"status": DONE, "resolved_on": None}),
    Injection("request_resolved_before", "help_requests", ("resolved_before_requested",), _resolved_before_requested),
    Injection("request_date_unreadable", "help_requests", ("date_unreadable",), lambda f, r: {"requested_on": "ไม่ทราบ"}),
    Injection("request_date_invalid", "help_requests", ("date_invalid",), lambda f, r: {"requested_on": "30/02/2565"}),
    Injection("request_date_future", "help_requests", ("date_in_future",), lambda f, r: {"requested_on": "20/12/2664"}),
    Injection("request_moo_45", "help_requests", ("number_out_of_range",), lambda f, r: {"moo": 45}),
    Injection("request_type_unknown", "help_requests", ("choice_unknown",), lambda f, r: {"request_type": "ขอเงินกู้"}),
)
INJECTION_NAMES = tuple(i.name for i in INJECTIONS)
DUPLICATE_KINDS = ("same_file", "other_district", "moved", "resent")


@dataclass(frozen=True)
class Problems:
    """Which problems build_inbox injects and how many per sheet."""

    errors: tuple[str, ...] = INJECTION_NAMES  # names from INJECTIONS
    errors_per_sheet: int = 2
    duplicates: tuple[str, ...] = DUPLICATE_KINDS
    duplicates_per_sheet: int = 1
    other_district_rate: float = 0.05  # entities whose rows name another district than their folder
    untagged_rate: float = 0.1  # volunteers whose affiliation lacks '(moicovid)'

    @classmethod
    def none(cls) -> "Problems":
        """No injected problem at all: every row valid and unique."""
        return cls(errors=(), errors_per_sheet=0, duplicates=(), duplicates_per_sheet=0,
                   other_district_rate=0.0, untagged_rate=0.0)

    def but(self, **changes) -> "Problems":
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)


def injections_for(dataset: str, enabled: tuple[str, ...]) -> list[Injection]:
    """The enabled injections that apply to a dataset."""
    return [i for i in INJECTIONS if i.dataset == dataset and i.name in enabled]


def junk_record(factory: Factory, dataset: str, district: str, week: dt.date) -> dict:
    """A plain valid record (a Thai adult with an ID, an open request) that an injection then spoils."""
    if dataset == "volunteers":
        return factory.volunteer(district, district, week).versions[0][1]
    if dataset == "unvaccinated":
        record = factory.unvaccinated(district, district, week, []).versions[0][1]
        person = factory.thai_person()
        person["title"] = "นาย" if person["sex"] == "ชาย" else "นาง"
        return {**record, **person, "person_id": factory.person_id(), "nationality": "ไทย",
                "birth_date": factory.day_between(dt.date(1950, 1, 1), dt.date(2000, 12, 31)), "age": None}
    if dataset == "facilities":
        return factory.facility(district, district, week, []).versions[0][1]
    record = factory.help_request(district, district, week, []).versions[0][1]
    return {**record, "status": WAITING, "resolved_on": None}
