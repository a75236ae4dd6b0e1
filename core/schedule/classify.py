"""What a punch counts as: masuk, pulang, terlambat N menit, pulang cepat N menit, di luar jadwal,
lembur — decided at the moment of the punch from the instant, the zone, the employee's work code,
the day's earlier punches and the holidays.

The rules (docs/schedule.md):

* Local time comes from the instant in UTC and the zone: the work code's own zone when it pins
  one, else the unit's. Seconds are dropped: a punch at 07:00:59 is a punch at 07:00.
* A punch belongs to a *service day*: the day its shift starts. A night shift's pulang after
  midnight belongs to the evening before. A day's punches count from 00:01; the last punch of a
  day must come before 23:59 (overtime rule), so 23:59 and 00:00 belong to no day.
* Before the masuk window: di luar jadwal. Inside it: masuk, tepat waktu. After it and before the
  pulang window: a late masuk (terlambat N menit, N counted from the end of the masuk window)
  when there is no masuk yet that service day and the punch is not past ``late_until``,
  otherwise an early pulang (pulang cepat N menit, N counted to the start of the pulang window).
  Inside the pulang window: pulang, tepat waktu. After it, before 23:59: pulang, lembur (N minutes
  after jam pulang).
* A work code with a latest pulang (``max_after_end_min``): a punch after it is not the day's
  pulang but di luar jadwal (lewat batas presensi pulang).
* A work code with ``punches_per_day``: the day takes one masuk and one pulang and no more punches
  than that. Up to ``late_until`` a punch is a masuk, after it a pulang; a second masuk, a second
  pulang or a punch past the limit is *extra*: recorded as ``tambahan`` (kind lainnya, the day
  unchanged) or, with ``extra_punch = "tolak"``, refused (``accepted`` is False; the admission
  path reads it through ``core.admission.refusal``).
* Days off (weekdays the work code does not work) and holidays (when it observes them): di luar
  jadwal.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import local_time, zone_abbreviation
from core.i18n import text
from core.schedule.events import MASUK_KINDS
from core.schedule.holidays import HolidayCalendar
from core.schedule.workcodes import DAY_MINUTES, DayRule, WorkCode, WorkCodeBook, hhmm
from core.store.punches import employee_punches_between, parse_instant

log = logging.getLogger(__name__)

#: Status codes stored in ``punches.status``.
TEPAT_WAKTU = "tepat_waktu"
TERLAMBAT = "terlambat"
PULANG_CEPAT = "pulang_cepat"
DI_LUAR_JADWAL = "di_luar_jadwal"
LEMBUR = "lembur"
HADIR = "hadir"
TANPA_JADWAL = "tanpa_jadwal"  # the employee has no work code this unit knows
TAMBAHAN = "tambahan"  # a punch past the day's punches_per_day, recorded without changing the day
DITOLAK = "ditolak"  # a punch past the day's punches_per_day, refused (never stored)

#: Reasons beside the status (``Classification.reason``).
LEWAT_BATAS_PULANG = "lewat_batas_pulang"  # after the work code's latest pulang
SUDAH_MASUK = "sudah_masuk"  # the day's masuk is already recorded
SUDAH_PULANG = "sudah_pulang"  # the day's pulang is already recorded


def duration_text(minutes: int, lang: str = "id") -> str:
    """``12 menit``, ``1 jam 5 menit``, ``2 jam`` (``12 min``, ``1 h 5 min`` in English)."""
    hours, rest = divmod(max(0, minutes), 60)
    h, m = text("line.hours", lang), text("line.minutes", lang)
    if hours and rest:
        return f"{hours} {h} {rest} {m}"
    if hours:
        return f"{hours} {h}"
    return f"{rest} {m}"


@dataclass(frozen=True)
class Classification:
    """What the schedule made of a punch; ``kind``, ``status`` and ``minutes`` go into the
    :class:`~core.store.punches.PunchRequest`, ``text()`` onto the screen."""

    kind: str  # masuk | pulang | lainnya
    status: str
    minutes: int = 0
    service_date: date | None = None
    local: datetime | None = None
    reason: str = ""  # di luar jadwal: libur, hari_libur, belum_waktunya, lewat_batas, lewat_batas_pulang,
    # tanpa_jadwal; tambahan and ditolak: sudah_masuk, sudah_pulang
    holiday: str = ""
    work_code: str = ""
    accepted: bool = True  # False: the punch is refused (extra_punch = "tolak"), not recorded
    at: str = ""  # "06:00 WIB": the punch already holding the day's slot, or the latest pulang

    @property
    def code(self) -> str:
        """Why a refused punch is refused (``sudah_masuk``, ``sudah_pulang``), for
        :func:`core.admission.refusal`."""
        return self.reason or self.status

    def request_fields(self) -> dict[str, Any]:
        """``kind``, ``status`` and ``minutes`` for ``PunchRequest(**fields)``."""
        return {"kind": self.kind, "status": self.status, "minutes": self.minutes}

    def text(self, lang: str = "id") -> str:
        """The line the screen shows: ``Masuk – tepat waktu``, ``Terlambat 12 menit`` …; none for
        a classification that says nothing (no schedule composed in: :func:`core.admission.no_schedule`)."""
        if self.kind == "lainnya" and not self.status and not self.reason:
            return ""
        return screen_text(self.kind, self.status, self.minutes, reason=self.reason, holiday=self.holiday, lang=lang, at=self.at)

    @property
    def zone_label(self) -> str:
        return zone_abbreviation(str(self.local.tzinfo)) if self.local is not None and self.local.tzinfo else ""


def screen_text(
    kind: str,
    status: str,
    minutes: int = 0,
    *,
    reason: str = "",
    holiday: str = "",
    lang: str = "id",
    event: str = "",
    at: str = "",
) -> str:
    """The screen line for a stored (kind, status, minutes); also used for event punches. The
    words are the catalogue's (core.i18n, ``line.*``)."""
    d = duration_text(minutes, lang)

    def say(key: str, **values: object) -> str:
        return text(f"line.{key}", lang, **values)

    texts = {
        ("masuk", TEPAT_WAKTU): say("masuk_on_time"),
        ("masuk", TERLAMBAT): say("late", d=d),
        ("pulang", TEPAT_WAKTU): say("pulang_on_time"),
        ("pulang", PULANG_CEPAT): say("left_early", d=d),
        ("pulang", LEMBUR): say("overtime", d=d),
    }
    off = {
        "hari_libur": say("holiday", holiday=holiday),
        "libur": say("day_off"),
        "belum_waktunya": say("too_early"),
        "lewat_batas": say("after_midnight"),
        LEWAT_BATAS_PULANG: say("past_latest_pulang", at=at).rstrip(),
    }
    slot = {SUDAH_MASUK: say("masuk_recorded", at=at), SUDAH_PULANG: say("pulang_recorded", at=at)}
    extra = {TAMBAHAN: say("extra"), DITOLAK: say("not_recorded")}
    outside, present, nosched = say("outside"), say("present"), say("no_schedule")
    if (kind, status) in texts:
        return texts[(kind, status)]
    if status == DI_LUAR_JADWAL:
        return f"{outside} – {off[reason]}" if reason in off else outside
    if status == HADIR:
        return f"{present} – {event}" if event else present
    if status == TERLAMBAT:
        late = texts[("masuk", TERLAMBAT)]
        return f"{late} – {event}" if event else late
    if status == TANPA_JADWAL:
        return nosched
    if status in extra:
        return f"{extra[status]} – {slot[reason]}" if reason in slot else extra[status]
    return status.replace("_", " ").capitalize() or kind.capitalize()


@dataclass(frozen=True)
class EarlierPunch:
    """A punch of the same employee before this one (from the store)."""

    instant: datetime
    kind: str


def _minute_of(local: datetime, service_day: date) -> int:
    """Minutes (seconds dropped) from the service day's midnight to ``local``."""
    days = (local.date() - service_day).days
    return days * DAY_MINUTES + local.hour * 60 + local.minute


def resolve_day(
    local: datetime, work_code: WorkCode, holidays: HolidayCalendar | None
) -> tuple[date, DayRule | None, int, str, str]:
    """(service day, its rule or None, minute within it, reason when None, holiday name)."""
    today = local.date()
    yesterday = today - timedelta(days=1)
    rule_today, why_today, name_today = _rule(work_code, today, holidays)
    rule_yesterday, _, _ = _rule(work_code, yesterday, holidays)
    m_today = _minute_of(local, today)
    if rule_today is not None and rule_today.masuk_from <= m_today < rule_today.cutoff:
        return today, rule_today, m_today, "", ""
    if rule_yesterday is not None and rule_yesterday.crosses_midnight:
        m_yesterday = _minute_of(local, yesterday)
        if m_yesterday < rule_yesterday.cutoff:
            return yesterday, rule_yesterday, m_yesterday, "", ""
    if rule_today is not None:
        reason = "belum_waktunya" if m_today < rule_today.masuk_from and m_today >= 1 else "lewat_batas"
        return today, rule_today, m_today, reason, ""
    return today, None, m_today, why_today, name_today


def _rule(work_code: WorkCode, day: date, holidays: HolidayCalendar | None) -> tuple[DayRule | None, str, str]:
    if work_code.observes_holidays and holidays is not None:
        holiday = holidays.get(day)
        if holiday is not None:
            return None, "hari_libur", holiday.name
    rule = work_code.rule_for(day)
    return (rule, "", "") if rule is not None else (None, "libur", "")


def classify(
    instant: datetime,
    zone: str,
    work_code: WorkCode,
    earlier: Iterable[EarlierPunch] = (),
    holidays: HolidayCalendar | None = None,
) -> Classification:
    """Classify a punch at ``instant`` (aware, UTC) for an employee on ``work_code``. ``zone`` is
    the unit's; the work code's own zone wins when it pins one."""
    local = local_time(instant, work_code.zone or zone)
    abbr = zone_abbreviation(str(local.tzinfo))
    service, rule, minute, reason, holiday = resolve_day(local, work_code, holidays)

    def result(
        kind: str, status: str, minutes: int = 0, *, why: str = "", name: str = "", at: str = "", accepted: bool = True
    ) -> Classification:
        return Classification(kind, status, minutes, service, local, why, name, work_code.code, accepted, at)

    if rule is None or reason:
        return result("lainnya", DI_LUAR_JADWAL, why=reason, name=holiday)
    if rule.pulang_limit is not None and minute > rule.pulang_limit:
        return result("lainnya", DI_LUAR_JADWAL, why=LEWAT_BATAS_PULANG, at=f"{hhmm(rule.pulang_limit)} {abbr}")
    day = sorted(
        (
            p
            for p in earlier
            if p.kind in ("masuk", "pulang")
            and p.instant < instant
            and _same_service_day(p.instant, service, work_code, zone, holidays)
        ),
        key=lambda p: p.instant,
    )
    has_masuk = any(p.kind == "masuk" for p in day)
    if work_code.punches_per_day is not None:
        taken = _taken_slot(minute, rule, day, work_code.punches_per_day)
        if taken is not None:
            refused = work_code.extra_punch == "tolak"
            why = SUDAH_MASUK if taken.kind == "masuk" else SUDAH_PULANG
            at = f"{local_time(taken.instant, str(local.tzinfo)):%H:%M} {abbr}"
            return result("lainnya", DITOLAK if refused else TAMBAHAN, why=why, at=at, accepted=not refused)
    if minute <= rule.masuk_until:
        return result("masuk", TEPAT_WAKTU, 0)
    if minute < rule.pulang_from:
        if not has_masuk and minute <= rule.late_until:
            return result("masuk", TERLAMBAT, minute - rule.masuk_until)
        return result("pulang", PULANG_CEPAT, rule.pulang_from - minute)
    if minute <= rule.pulang_until:
        return result("pulang", TEPAT_WAKTU, 0)
    return result("pulang", LEMBUR, minute - rule.end)


def _taken_slot(minute: int, rule: DayRule, day: Sequence[EarlierPunch], per_day: int) -> EarlierPunch | None:
    """The earlier punch of the day that leaves no room for this one under ``punches_per_day``
    (the day takes one masuk, one pulang, and ``per_day`` punches at most), or None."""
    wants = "masuk" if minute <= rule.late_until else "pulang"
    same = [p for p in day if p.kind == wants]
    if same:
        return same[0] if wants == "masuk" else same[-1]
    return day[-1] if len(day) >= per_day else None


def _same_service_day(instant: datetime, service: date, work_code: WorkCode, zone: str, holidays: HolidayCalendar | None) -> bool:
    day, rule, _, reason, _ = resolve_day(local_time(instant, work_code.zone or zone), work_code, holidays)
    return day == service and rule is not None and not reason


class Schedule:
    """The schedule as the pipelines see it: classify an employee's punch now, reading the
    work code, earlier punches and holidays from the unit's database."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        zone: str,
        *,
        default_work_code: str = "",
        book: WorkCodeBook | None = None,
        holidays: HolidayCalendar | None = None,
    ) -> None:
        self.conn = conn
        self.zone = zone
        self.default_work_code = default_work_code
        self.book = book or WorkCodeBook(conn)
        self.holidays = holidays if holidays is not None else HolidayCalendar.from_database(conn)

    def __repr__(self) -> str:
        return f"Schedule(zone={self.zone}, default={self.default_work_code or '-'})"

    def earlier_punches(self, employee_id: str, instant: datetime, hours: int = 40) -> list[EarlierPunch]:
        """The employee's punches in the ``hours`` before ``instant``, oldest first. An event punch
        counts only when its event is a masuk (``EventPack.is_masuk``: apel and senam by default,
        balangan-perbup-32-2020.txt Pasal 4 ayat 3), and then as a masuk. Read-only."""

        rows = employee_punches_between(self.conn, employee_id, instant - timedelta(hours=hours), instant)
        out = []
        for r in rows:
            if r["event_id"] is None:
                out.append(EarlierPunch(parse_instant(r["instant"]), r["kind"]))
            elif bool(r["counts"]) if r["counts"] is not None else r["kind"] in MASUK_KINDS:
                out.append(EarlierPunch(parse_instant(r["instant"]), "masuk"))
        return out

    def day_masuk(self, employee_id: str, day: date) -> Classification | None:
        """The masuk of the employee's service day ``day``: the first punch that day that is a
        masuk — an office punch, or an apel / senam punch (``earlier_punches``) — classified at
        its own instant as the day's first punch; None when the day has none. Read-only."""
        work_code = self.book.for_employee(employee_id, self.default_work_code)
        if work_code is None:
            return None
        end = datetime.combine(day + timedelta(days=2), time(), tzinfo=ZoneInfo(work_code.zone or self.zone))
        for punch in self.earlier_punches(employee_id, end, hours=24 * 3):
            if punch.kind != "masuk":
                continue
            found = classify(punch.instant, self.zone, work_code, (), self.holidays)
            if found.service_date == day and found.kind == "masuk":
                return found
        return None

    def classify(self, employee_id: str, instant: datetime, earlier: Sequence[EarlierPunch] | None = None) -> Classification:
        """The classification of ``employee_id`` punching at ``instant``. Read-only."""
        work_code = self.book.for_employee(employee_id, self.default_work_code)
        if work_code is None:
            return Classification("lainnya", TANPA_JADWAL, 0, local=local_time(instant, self.zone), reason="tanpa_jadwal")
        if earlier is None:
            earlier = self.earlier_punches(employee_id, instant)
        return classify(instant, self.zone, work_code, earlier, self.holidays)

    def describe_day(self, employee_id: str, day: date) -> str:
        """``masuk 05:00–07:00, pulang 15:00–18:00`` for the employee's day, or why none."""
        work_code = self.book.for_employee(employee_id, self.default_work_code)
        if work_code is None:
            return "tanpa jadwal"
        holiday = self.holidays.get(day) if work_code.observes_holidays else None
        if holiday is not None:
            return f"libur: {holiday.name}"
        rule = work_code.rule_for(day)
        return rule.describe() if rule is not None else "libur"


__all__ = [
    "DITOLAK",
    "DI_LUAR_JADWAL",
    "HADIR",
    "LEMBUR",
    "LEWAT_BATAS_PULANG",
    "PULANG_CEPAT",
    "SUDAH_MASUK",
    "SUDAH_PULANG",
    "TAMBAHAN",
    "TEPAT_WAKTU",
    "TERLAMBAT",
    "Classification",
    "EarlierPunch",
    "Schedule",
    "classify",
    "duration_text",
    "hhmm",
    "screen_text",
]
