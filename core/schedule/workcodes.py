"""Work codes: a regency's named schedules ("(GLOBAL) 5 HARI (NON SEKOLAH)") as data.

A work code gives, for each weekday it works, the hours (jam masuk, jam pulang), the masuk and
pulang windows, breaks, and optionally the latest time a late masuk is still taken as masuk. It
may pin a time zone, carry date-range overrides (Ramadan hours) and say whether it observes
holidays. Its rules may also set the latest pulang (``max_after_end_min``), how many punches a
day takes (``punches_per_day``) and what a further punch becomes (``extra_punch``), and the
regulation's weekly minimum (``min_weekly_hours``). Every value can cite where it comes from
(``source``) and say when it is an assumption (``assumed``). Times are minutes from midnight of
the *service day* (the day the shift starts), so a night shift's pulang at 07:00 the next
morning is minute 1860.

Work codes come from the roster (table ``work_codes``, JSON) or from the presets shipped in
``core/schedule/presets/`` (TOML); both go through the same validation (:func:`parse_work_code`).
Where no window is given it follows the general rule: masuk from one hour before jam masuk until
jam masuk, pulang from jam pulang until three hours after it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.clock import ZONES
from core.errors import ConfigError
from core.store import work_codes
from core.store.roster import get_employee

log = logging.getLogger(__name__)

DAY_MINUTES = 1440
#: Indonesian weekday names, Monday first (``date.weekday()`` order).
WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
WEEKDAY_LABELS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_WEEKDAY_ALIASES = {
    "jum'at": "jumat",
    "ahad": "minggu",
    "mon": "senin",
    "tue": "selasa",
    "wed": "rabu",
    "thu": "kamis",
    "fri": "jumat",
    "sat": "sabtu",
    "sun": "minggu",
}


def hhmm(minutes: int) -> str:
    """``07:05`` for 425; minutes past a day wrap (1860 → ``07:00``)."""
    m = minutes % DAY_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def parse_hhmm(text: str) -> int:
    """Minutes from midnight of ``HH:MM`` (00:00–23:59, or 24:00)."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time HH:MM")
    hours, minutes = int(parts[0]), int(parts[1])
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time between 00:00 and 24:00")
    return hours * 60 + minutes


# -- the rules as used by the classifier --------------------------------------------------------


@dataclass(frozen=True)
class DayRule:
    """One working day's times, in minutes from the service day's midnight (ascending: a value
    past 1440 falls on the next calendar day)."""

    start: int  # jam masuk
    end: int  # jam pulang
    masuk_from: int
    masuk_until: int  # a masuk up to this minute is on time
    late_until: int  # a first punch up to this minute is a late masuk; later, a pulang
    pulang_from: int  # a pulang before this is early
    pulang_until: int  # a pulang after this is overtime
    breaks: tuple[tuple[int, int], ...] = ()
    break_minutes: int = 0  # istirahat whose length is set but whose time is not (set by the office)
    pulang_limit: int | None = None  # a punch after this is not the day's pulang (di luar jadwal)

    def __post_init__(self) -> None:
        order = (self.masuk_from, self.masuk_until, self.pulang_from, self.pulang_until)
        if list(order) != sorted(order):
            raise ValueError(
                f"windows out of order: masuk {hhmm(order[0])}–{hhmm(order[1])}, pulang {hhmm(order[2])}–{hhmm(order[3])}"
            )
        if not self.masuk_until <= self.late_until <= self.pulang_from:
            raise ValueError("late_until must lie between the end of the masuk window and the start of the pulang window")
        if self.start >= self.end:
            raise ValueError("jam pulang must come after jam masuk")
        if self.pulang_limit is not None and self.pulang_limit < self.pulang_until:
            raise ValueError(
                f"the latest pulang {hhmm(self.pulang_limit)} comes before the pulang window closes at {hhmm(self.pulang_until)}"
            )

    @property
    def crosses_midnight(self) -> bool:
        return self.pulang_until >= DAY_MINUTES

    @property
    def cutoff(self) -> int:
        """The first minute no longer counted for this day: 23:59 of the calendar day on which
        the pulang window closes (overtime: the last punch of a day before 23:59)."""
        return (self.pulang_until // DAY_MINUTES) * DAY_MINUTES + DAY_MINUTES - 1

    def work_minutes(self) -> int:
        """Scheduled working minutes: jam masuk to jam pulang less the breaks inside and the
        breaks of a set length whose time the office sets (``break_minutes``)."""
        breaks = sum(max(0, min(b_end, self.end) - max(b_start, self.start)) for b_start, b_end in self.breaks)
        return self.end - self.start - breaks - self.break_minutes

    def describe(self) -> str:
        text = (
            f"masuk {hhmm(self.masuk_from)}–{hhmm(self.masuk_until)}, pulang {hhmm(self.pulang_from)}–{hhmm(self.pulang_until)}"
        )
        if self.pulang_limit is not None:
            text += f", pulang paling lambat {hhmm(self.pulang_limit)}"
        return text


@dataclass(frozen=True)
class Override:
    """Other hours for a date range (Ramadan): weekdays absent here are days off.

    An override with neither dates nor days is a *placeholder*: it names hours a later
    publication sets (Jember's Ramadan hours come by a Bupati's circular) and covers no day until
    they are filled in."""

    name: str
    first: date | None
    last: date | None
    days: Mapping[int, DayRule]
    source: str = ""

    @property
    def placeholder(self) -> bool:
        return self.first is None

    def covers(self, day: date) -> bool:
        return self.first is not None and self.last is not None and self.first <= day <= self.last


@dataclass(frozen=True)
class WorkCode:
    """A named schedule. ``days`` maps ``date.weekday()`` to that day's rule; a weekday absent is
    a day off."""

    code: str
    name: str
    days: Mapping[int, DayRule]
    zone: str | None = None  # None: the unit's zone
    overrides: tuple[Override, ...] = ()
    observes_holidays: bool = True
    region: str = ""
    source: str = ""
    assumptions: tuple[str, ...] = ()
    punches_per_day: int | None = None  # None: no limit
    extra_punch: str = "tambahan"  # what a punch past the limit becomes: tambahan | tolak
    min_weekly_hours: float | None = None
    min_weekly_hours_source: str = ""
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def rule_for(self, day: date) -> DayRule | None:
        """The rule for a calendar date before holidays are considered (None: not a working day)."""
        for override in self.overrides:
            if override.covers(day):
                return override.days.get(day.weekday())
        return self.days.get(day.weekday())

    def weekly_minutes(self) -> int:
        return sum(rule.work_minutes() for rule in self.days.values())

    def weekly_hours(self) -> float:
        return self.weekly_minutes() / 60

    def meets_minimum(self) -> bool | None:
        """Whether the weekly hours reach ``min_weekly_hours`` (None: no minimum is given)."""
        if self.min_weekly_hours is None:
            return None
        return self.weekly_minutes() >= round(self.min_weekly_hours * 60)

    def weekly_summary(self) -> str:
        """``37.5 hours a week; minimum 37.5 (jember-perbup-55-2021.txt, Pasal 9 ayat (2)): met``."""
        text = f"{_hours(self.weekly_hours())} hours a week"
        if self.min_weekly_hours is None:
            return f"{text}; no weekly minimum given"
        cited = f" ({self.min_weekly_hours_source})" if self.min_weekly_hours_source else ""
        verdict = "met" if self.meets_minimum() else "NOT MET"
        return f"{text}; minimum {_hours(self.min_weekly_hours)}{cited}: {verdict}"

    @property
    def has_assumptions(self) -> bool:
        return bool(self.assumptions)

    @property
    def pending(self) -> tuple[str, ...]:
        """Placeholder overrides not filled in yet, with where their values are to come from."""
        return tuple(
            f"override {o.name!r} not filled in ({o.source or 'no source given'}): the normal hours apply on its dates"
            for o in self.overrides
            if o.placeholder
        )


def _hours(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


# -- the data format (TOML presets and roster JSON) ----------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Window = tuple[str, str]


class DaySpec(_Spec):
    days: list[str] = Field(min_length=1, description="Weekdays in Indonesian: senin … minggu.")
    hours: Window | None = Field(None, description="Jam masuk and jam pulang, HH:MM; pulang earlier than masuk crosses midnight.")
    masuk: Window | None = Field(None, description="Masuk window; default one hour before jam masuk until jam masuk.")
    pulang: Window | None = Field(None, description="Pulang window; default jam pulang until three hours after.")
    late_until: str | None = Field(None, description="Latest first punch still taken as a late masuk; default halfway.")
    breaks: list[Window] = Field(default_factory=list, description="Breaks (istirahat).")
    break_minutes: int = Field(
        0, ge=0, le=240, description="Minutes of istirahat whose length is set but whose time the office sets."
    )
    source: str = Field("", description="Where these values come from: the regulation's file and article.")
    assumed: list[str] = Field(default_factory=list, description="Which of these values are assumptions, not published.")
    note: str = ""

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        out = []
        for name in value:
            key = _WEEKDAY_ALIASES.get(name.strip().lower(), name.strip().lower())
            if key not in WEEKDAYS:
                raise ValueError(f"unknown weekday {name!r} (expected one of {', '.join(WEEKDAYS)})")
            out.append(key)
        return out

    @model_validator(mode="after")
    def _something_given(self) -> DaySpec:
        if self.hours is None and (self.masuk is None or self.pulang is None):
            raise ValueError("give hours, or both the masuk and pulang windows")
        return self


class RuleSpec(_Spec):
    before_start_min: int = Field(60, ge=0, le=600, description="Masuk window opens this long before jam masuk.")
    after_end_min: int = Field(180, ge=0, le=720, description="Pulang window closes this long after jam pulang.")
    max_after_end_min: int | None = Field(
        None,
        ge=0,
        le=1440,
        description="A punch later than this after jam pulang is not the day's pulang (di luar jadwal, lewat batas); "
        "none: a pulang until 23:59 counts (lembur).",
    )
    punches_per_day: int | None = Field(
        None,
        ge=1,
        le=2,
        description="Punches a working day takes (2: one masuk and one pulang); none: no limit.",
    )
    extra_punch: Literal["tambahan", "tolak"] = Field(
        "tambahan",
        description="What a punch past punches_per_day becomes: recorded as 'tambahan' without changing the day, or refused.",
    )
    source: str = Field("", description="Where these values come from: the regulation's file and article.")
    assumed: list[str] = Field(default_factory=list, description="Which of these values are assumptions, not published.")


class OverrideSpec(_Spec):
    name: str = Field(min_length=1)
    first: date | None = Field(None, alias="from")
    last: date | None = Field(None, alias="until")
    day: list[DaySpec] = Field(default_factory=list)
    source: str = ""
    assumed: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _filled_or_placeholder(self) -> OverrideSpec:
        dated = self.first is not None and self.last is not None
        if (self.first is None) != (self.last is None):
            raise ValueError("give both from and until, or neither (a placeholder to fill in later)")
        if dated and not self.day:
            raise ValueError("an override with dates needs its days' hours (days absent are days off)")
        if not dated and self.day:
            raise ValueError("an override with hours needs its dates: from and until")
        return self


class WorkCodeSpec(_Spec):
    code: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=120)
    zone: str | None = None
    region: str = ""
    source: str = ""
    assumptions: list[str] = Field(default_factory=list)
    observes_holidays: bool = True
    min_weekly_hours: float | None = Field(None, gt=0, le=84, description="The regulation's minimum working hours a week.")
    min_weekly_hours_source: str = Field("", description="Where the minimum comes from: file and article.")
    rule: RuleSpec = Field(default_factory=RuleSpec)
    day: list[DaySpec] = Field(min_length=1)
    override: list[OverrideSpec] = Field(default_factory=list)

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in ZONES:
            raise ValueError(f"unknown zone {value!r} (expected one of {', '.join(ZONES)})")
        return value


def _ascending(times: list[int]) -> list[int]:
    """Roll each time past midnight while it is earlier than the one before (night shifts)."""
    out: list[int] = []
    for t in times:
        rolled = t
        while out and rolled < out[-1]:
            rolled += DAY_MINUTES
        out.append(rolled)
    return out


def build_day_rule(spec: DaySpec, rule: RuleSpec) -> DayRule:
    """The classifier's rule for one day group; windows not given follow ``rule``."""
    hours = _ascending([parse_hhmm(t) for t in spec.hours]) if spec.hours else None
    if spec.masuk is not None:
        masuk = [parse_hhmm(t) for t in spec.masuk]
    else:
        assert hours is not None  # the validator asked for hours or both windows
        masuk = [max(1, hours[0] - rule.before_start_min), hours[0]]  # a day's punches count from 00:01
    if spec.pulang is not None:
        pulang = [parse_hhmm(t) for t in spec.pulang]
    else:
        assert hours is not None
        pulang = [hours[1], hours[1] + rule.after_end_min]
    m_from, m_until, p_from, p_until = _ascending([*masuk, *pulang])
    start, end = (hours[0], hours[1]) if hours is not None else (m_until, p_from)
    if spec.late_until is not None:
        late_until = _ascending([m_until, parse_hhmm(spec.late_until)])[1]
    else:
        late_until = m_until + (p_from - m_until) // 2
    breaks = tuple((b[1], b[2]) for b in (_ascending([start, parse_hhmm(x), parse_hhmm(y)]) for x, y in spec.breaks))
    return DayRule(
        start=start,
        end=end,
        masuk_from=m_from,
        masuk_until=m_until,
        late_until=late_until,
        pulang_from=p_from,
        pulang_until=p_until,
        breaks=breaks,
        break_minutes=spec.break_minutes,
        pulang_limit=None if rule.max_after_end_min is None else end + rule.max_after_end_min,
    )


def _days(specs: Iterable[DaySpec], rule: RuleSpec, where: str) -> dict[int, DayRule]:
    days: dict[int, DayRule] = {}
    for spec in specs:
        try:
            built = build_day_rule(spec, rule)
        except ValueError as exc:
            raise ConfigError(f"{where}: {', '.join(spec.days)}: {exc}") from exc
        for name in spec.days:
            index = WEEKDAYS.index(name)
            if index in days:
                raise ConfigError(f"{where}: {name} is given twice")
            days[index] = built
    return days


def parse_work_code(data: Mapping[str, Any], where: str = "<work code>") -> WorkCode:
    """Validate one work code (a TOML table or the roster's JSON object)."""
    try:
        spec = WorkCodeSpec.model_validate(data)
    except ValidationError as exc:
        problems = [f"{where}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{where}: {len(problems)} problem(s) in the work code", problems) from exc
    days = _days(spec.day, spec.rule, f"{where} {spec.code}")
    overrides = []
    for o in spec.override:
        if o.first is not None and o.last is not None and o.last < o.first:
            raise ConfigError(f"{where} {spec.code}: override {o.name!r} ends before it starts")
        overrides.append(Override(o.name, o.first, o.last, _days(o.day, spec.rule, f"{where} {spec.code} {o.name}"), o.source))
    assumptions = list(spec.assumptions)
    assumptions += [f"rule: {a}" for a in spec.rule.assumed]
    for d in spec.day:
        if d.assumed:
            assumptions.append(f"{', '.join(d.days)}: {', '.join(d.assumed)} assumed")
    for o in spec.override:
        if o.assumed:
            assumptions.append(f"override {o.name}: assumed")
    return WorkCode(
        code=spec.code,
        name=spec.name,
        days=days,
        zone=spec.zone,
        overrides=tuple(overrides),
        observes_holidays=spec.observes_holidays,
        region=spec.region,
        source=spec.source,
        assumptions=tuple(assumptions),
        punches_per_day=spec.rule.punches_per_day,
        extra_punch=spec.rule.extra_punch,
        min_weekly_hours=spec.min_weekly_hours,
        min_weekly_hours_source=spec.min_weekly_hours_source,
        spec=spec.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    )


# -- presets shipped with the package ------------------------------------------------------------


def preset_files() -> list[str]:
    """Names of the preset files shipped in ``core/schedule/presets``."""
    folder = resources.files("core.schedule") / "presets"
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))


def load_preset_file(name: str) -> list[WorkCode]:
    text = (resources.files("core.schedule") / "presets" / name).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"preset {name}: not valid TOML: {exc}") from exc
    return [parse_work_code(item, f"preset {name}") for item in data.get("work_code", [])]


def presets() -> dict[str, WorkCode]:
    """Every shipped work code by code."""
    out: dict[str, WorkCode] = {}
    for name in preset_files():
        for code in load_preset_file(name):
            if code.code in out:
                raise ConfigError(f"preset {name}: work code {code.code!r} is defined twice")
            out[code.code] = code
    return out


# -- the roster's work codes in the database -----------------------------------------------------


class WorkCodeBook:
    """Work codes known to this unit: the roster's (table ``work_codes``) over the presets."""

    def __init__(self, conn: sqlite3.Connection, *, include_presets: bool = True) -> None:
        self.conn = conn
        self._presets = presets() if include_presets else {}
        self._cache: dict[str, WorkCode | None] = {}

    def __repr__(self) -> str:
        return f"WorkCodeBook(presets={len(self._presets)})"

    def get(self, code: str) -> WorkCode | None:
        """The work code named ``code`` (roster first, then presets), or None. Read-only."""
        if code in self._cache:
            return self._cache[code]
        stored = work_codes.definition_of(self.conn, code)
        found = parse_work_code(json.loads(stored), "roster") if stored is not None else self._presets.get(code)
        self._cache[code] = found
        return found

    def codes(self) -> list[str]:
        """Every code, roster and presets. Read-only."""
        return sorted(work_codes.codes(self.conn) | set(self._presets))

    def put(self, definition: Mapping[str, Any], *, source: str = "roster", version: int = 0) -> WorkCode:
        """Store (replace) a work code from the roster after validating it."""
        code = parse_work_code(definition, source)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        work_codes.put_definition(
            self.conn,
            code.code,
            json.dumps(dict(definition), sort_keys=True, default=str),
            source=source,
            version=version,
            updated_at=now,
        )
        self._cache.pop(code.code, None)
        return code

    def for_employee(self, employee_id: str, default: str = "") -> WorkCode | None:
        """The employee's work code (``employees.work_code``), else ``default``. Read-only."""
        employee = get_employee(self.conn, employee_id)
        code = (employee.work_code if employee else "") or default
        return self.get(code) if code else None
