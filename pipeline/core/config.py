"""Run configuration: config.yaml read, checked and turned into one immutable object."""
from __future__ import annotations


import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from pipeline.core.errors import ConfigError
from pipeline.core.ministry_settings import MinistrySettings, ministry_config
from pipeline.thai import gazetteer


@dataclass(frozen=True)
class Bounds:
    """A latitude/longitude box around the province."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


@dataclass(frozen=True)
class Limits:
    """config.yaml's `limits:`: what parsing untrusted files may cost, and how much runs at once."""

    max_file_megabytes: float = 50.0
    max_cells: int = 20_000_000
    max_rows_per_sheet: int = 1_100_000
    parser_memory_megabytes: float = 4096.0
    parser_seconds: float = 120.0
    workers: int = 2                      # files parsed and feedback copies made at once, one process each
    # xlsxwriter holds a copy's cells in memory (~200 bytes each): the largest file that gets a marked copy
    feedback_max_cells: int = 3_000_000
    lock_wait_seconds: float = 600.0      # a second run on the same outputs waits this long, then says who runs


def _limits(raw: dict) -> Limits:
    unknown = set(raw) - set(Limits.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"config: limits has no setting {', '.join(sorted(unknown))}")
    defaults = Limits()
    return Limits(**{name: type(getattr(defaults, name))(value) for name, value in raw.items()})


@dataclass(frozen=True)
class Config:
    """Everything a weekly run needs to know besides its inputs."""

    province_code: str
    province_name: str
    districts: dict[str, str]  # DOPA code -> Thai name, in code order
    bounds: Bounds
    timezone: ZoneInfo
    recording_start: dt.date
    first_report: dt.date
    cutoff_time: dt.time
    district_deadline: dt.time
    settle_seconds: float
    look_again_seconds: float
    stale_days: int
    date_digits: str
    font: str
    font_size: int
    limits: Limits
    google_sheets: dict
    outputs_mode: str = "private"   # private: the running account only; group: readable by the folder's group
    ministry: MinistrySettings | None = None   # the ministry's forms and form E (core.ministry_settings)
    deliver_to_inbox: bool | None = None   # feedback into inputs/<district>/ผลการตรวจ/; None: only `watch` does
    watch_interval_seconds: float = 60.0

    @property
    def figure_settings(self) -> str:
        """The settings a week's figures depend on, as text (how the run reads, writes, waits and delivers left out:
        changing those, or running under watch, does not recompute the earlier weeks)."""
        operational = {"limits", "google_sheets", "outputs_mode", "deliver_to_inbox", "watch_interval_seconds",
                       "settle_seconds", "look_again_seconds"}
        return repr([(item.name, getattr(self, item.name)) for item in fields(self)
                     if item.name not in operational])

    @property
    def lock_wait_seconds(self) -> float:
        """How long a second run on the same outputs waits for the first."""
        return self.limits.lock_wait_seconds

    @property
    def umask(self) -> int:
        """The file-creation mask for outputs: they hold personal data."""
        return 0o077 if self.outputs_mode == "private" else 0o027


def _optional_bool(value, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"config: {name} must be true or false")


def _time(text: str, name: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(text))
    except ValueError:
        raise ConfigError(f"config: {name} must be a time like 16:00, not {text!r}") from None


def _date(value, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"config: {name} must be a date like 2021-12-24, not {value!r}") from None


def _districts(province_code: str, wanted) -> dict[str, str]:
    available = gazetteer.districts_of(province_code)
    if not wanted:
        return available
    unknown = [str(code) for code in wanted if str(code) not in available]
    if unknown:
        raise ConfigError(f"config: districts {', '.join(unknown)} are not in province {province_code}")
    return {str(code): available[str(code)] for code in wanted}


def config_from_dict(raw: dict) -> Config:
    """Check a parsed config.yaml and build the Config."""
    try:
        province = raw["province"]
        code = str(province["code"]).zfill(2)
        weeks = raw.get("weeks", {})
        reports = raw.get("reports", {})
        names = gazetteer.province_names()
        if code not in names:
            raise ConfigError(f"config: province code {code} is not a Thai province code")
        first_report = _date(weeks.get("first_report", "2021-12-24"), "weeks.first_report")
        if first_report.weekday() != 4:
            raise ConfigError("config: weeks.first_report must be a Friday")
        digits = reports.get("date_digits", "thai")
        if digits not in ("thai", "arabic"):
            raise ConfigError("config: reports.date_digits must be thai or arabic")
        mode = str((raw.get("outputs") or {}).get("mode", "private"))
        if mode not in ("private", "group"):
            raise ConfigError("config: outputs.mode must be private or group")
        return Config(
            province_code=code,
            province_name=names[code],
            districts=_districts(code, province.get("districts")),
            bounds=Bounds(**{k: float(v) for k, v in province["bounds"].items()}),
            timezone=ZoneInfo(weeks.get("timezone", "Asia/Bangkok")),
            recording_start=_date(weeks.get("recording_start", "2021-12-01"), "weeks.recording_start"),
            first_report=first_report,
            cutoff_time=_time(weeks.get("cutoff_time", "16:00"), "weeks.cutoff_time"),
            district_deadline=_time(weeks.get("district_deadline", "12:00"), "weeks.district_deadline"),
            settle_seconds=float(weeks.get("settle_seconds", 60)),
            look_again_seconds=float(weeks.get("look_again_seconds", 3)),
            stale_days=int(raw.get("facilities", {}).get("stale_days", 14)),
            date_digits=digits,
            font=str(reports.get("font", "TH Sarabun New")),
            font_size=int(reports.get("font_size", 16)),
            limits=_limits(dict(raw.get("limits") or {})),
            google_sheets=dict(raw.get("google_sheets") or {}),
            outputs_mode=mode,
            ministry=ministry_config(raw),
            deliver_to_inbox=_optional_bool((raw.get("feedback") or {}).get("deliver_to_inbox"),
                                            "feedback.deliver_to_inbox"),
            watch_interval_seconds=float((raw.get("watch") or {}).get("interval_seconds", 60)),
        )
    except (KeyError, TypeError) as error:
        raise ConfigError(f"config: missing or malformed setting {error}") from None


def load_config(path: Path) -> Config:
    """Read config.yaml; a missing or malformed file is a ConfigError."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} is empty or not a mapping")
    return config_from_dict(raw)
