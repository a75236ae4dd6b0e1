"""The attendance day: one record per employee and date, made from every punch of every unit
with the unit's own rules engine (:func:`core.schedule.classify.classify`), never a second one.

:func:`compute_day` is pure: the employee's work code, the holidays, the punches around the day
(from all units, corrected instants where a unit corrected its clock), the keterangan and the
pembatalan in force, and the time now go in; a :class:`DayRecord` comes out. The day book
(:mod:`sync.server.daybook`) stores it and versions every change.

The rules, each cited:

* The punches are re-classified in time order across units, so a masuk on one unit and a pulang
  on another make one day (the unit only saw its own). A punch belongs to its *service day*
  (night shifts: the evening it starts), as on the unit (docs/schedule.md).
* An event punch counts as the day's masuk when its pack says so (``counts_as_masuk``), else
  when its kind is apel or senam (balangan-perbup-32-2020.txt, Pasal 4 ayat (3);
  ``core.schedule.events.EventPack.is_masuk``); other event punches are not office punches.
* The day's masuk is the first masuk, its pulang the last pulang; minutes late and early are
  those of that masuk and that pulang as classified (``terlambat``, ``pulang_cepat``), overtime
  the minutes after jam pulang (``lembur``).
* Status, in this order: ``batal`` when the attendance was cancelled (jember-perbup-55-2021.txt,
  Pasal 13 ayat (1)); the keterangan's code when an approved keterangan covers the day
  (purbalingga-perbup-35-2020.txt, Pasal 9 ayat (2); jember-perbup-55-2021.txt, Pasal 11 ayat
  (2)); ``hadir`` with a masuk or a pulang; ``libur`` on a day off or a holiday; on a working day
  with neither, ``tk`` once the day's last punch time has passed (23:59 of the day the pulang
  window closes: malang-juknis-presensi-elektronik.txt, Ketentuan Jam Kerja angka 3; TK
  automatic: Ketentuan lain angka 3), else ``belum``.
* Assumed (no regulation says): a day with a masuk and no pulang (or the reverse) is ``hadir``
  with the flag ``tanpa_pulang`` (``tanpa_masuk``) and no minutes counted for the missing punch;
  the recap shows those days in their own column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import local_time, zone_abbreviation
from core.i18n import CODES, text, word
from core.schedule.classify import LEMBUR, PULANG_CEPAT, TERLAMBAT, Classification, EarlierPunch, classify
from core.schedule.events import MASUK_KINDS
from core.schedule.holidays import HolidayCalendar
from core.schedule.workcodes import WorkCode
from core.store.punches import format_instant

#: How far back a punch's earlier punches are read (the unit reads 40 hours).
EARLIER = timedelta(hours=40)
HADIR, TK, BELUM, LIBUR, BATAL, TANPA_JADWAL = "hadir", "tk", "belum", "libur", "batal", "tanpa_jadwal"

#: What a person reads for a status (Indonesian, English): the catalogue's (core.i18n).
STATUS_TEXT: dict[str, tuple[str, str]] = CODES["day_status"]


@dataclass(frozen=True)
class PunchFact:
    """A stored punch as the day needs it (``instant``: the corrected one when there is one)."""

    id: str
    device_id: str
    seq: int
    instant: datetime
    zone: str
    kind: str
    event_id: str | None = None
    event_is_masuk: bool | None = None  # the event pack's counts_as_masuk (None: by the kind)

    @property
    def counts_as_masuk(self) -> bool:
        """An event punch that is the day's masuk (``EventPack.is_masuk``); an office punch: True."""
        if self.event_id is None:
            return True
        return self.event_is_masuk if self.event_is_masuk is not None else self.kind in MASUK_KINDS


@dataclass(frozen=True)
class DayRecord:
    employee_id: str
    day: date
    status: str
    late_min: int = 0
    early_min: int = 0
    overtime_min: int = 0
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        """Whether the day needs a stored record (days off without punches do not)."""
        return self.status != LIBUR or bool(self.body.get("punches"))


def cutoff_instant(day: date, work_code: WorkCode, zone: str) -> datetime | None:
    """When the day's last punch time passes (None on a day off)."""
    rule = work_code.rule_for(day)
    if rule is None:
        return None
    midnight = datetime.combine(day, time(), tzinfo=ZoneInfo(work_code.zone or zone))
    return midnight + timedelta(minutes=rule.cutoff)


def classify_punches(
    punches: Sequence[PunchFact], work_code: WorkCode, zone: str, holidays: HolidayCalendar
) -> list[tuple[PunchFact, Classification]]:
    """Every punch classified in time order across units, each against the punches of the
    ``EARLIER`` before it (as the unit reads its own: ``Schedule.earlier_punches``); event punches
    only as masuk."""
    out: list[tuple[PunchFact, Classification]] = []
    earlier: list[EarlierPunch] = []
    rules = [*work_code.days.values(), *(r for o in work_code.overrides for r in o.days.values())]
    day_shifts = not any(rule.crosses_midnight for rule in rules)
    for p in sorted(punches, key=lambda p: (p.instant, p.device_id, p.seq)):
        if not p.counts_as_masuk:
            continue
        earlier = [e for e in earlier if p.instant - e.instant <= EARLIER]
        window = earlier
        if day_shifts:
            # without a night shift a punch's service day is its local date: the classifier would
            # drop the other dates' punches itself, one resolve_day each (the cost of a month)
            local_zone = work_code.zone or p.zone or zone
            today = local_time(p.instant, local_zone).date()
            window = [e for e in earlier if local_time(e.instant, local_zone).date() == today]
        c = classify(p.instant, p.zone or zone, work_code, window, holidays)
        if p.event_id is not None and c.kind != "masuk":
            continue  # an apel outside the masuk window is no masuk, and never a pulang
        earlier.append(EarlierPunch(p.instant, c.kind))
        out.append((p, c))
    return out


def punch_entries(mine: Sequence[tuple[PunchFact, Classification]], day_zone: str) -> list[dict[str, Any]]:
    """The day's punches as its body lists them, with their local time in the day's zone."""
    entries: list[dict[str, Any]] = []
    abbr = zone_abbreviation(day_zone)
    for p, c in mine:
        entries.append(
            {
                "id": p.id,
                "device_id": p.device_id,
                "seq": p.seq,
                "at": format_instant(p.instant),
                "local": f"{local_time(p.instant, day_zone):%H:%M} {abbr}",
                "kind": c.kind,
                "status": c.status,
                "minutes": c.minutes,
                "event_id": p.event_id,
            }
        )
    return entries


def compute_day(
    employee_id: str,
    day: date,
    work_code: WorkCode | None,
    zone: str,
    holidays: HolidayCalendar,
    *,
    punches: Sequence[PunchFact] = (),
    now: datetime,
    classified: Sequence[tuple[PunchFact, Classification]] | None = None,
    keterangan: tuple[int, str] | None = None,
    pembatalan: int | None = None,
) -> DayRecord:
    """The day of ``employee_id`` on ``day`` (``punches``: theirs from the day before to the day
    after, any order, or ``classified``: :func:`classify_punches` of a longer span; ``zone``: the
    office's; ``keterangan``: (id, code) approved and covering)."""
    day_zone = (work_code.zone if work_code else None) or zone
    body: dict[str, Any] = {
        "work_code": work_code.code if work_code else "",
        "zone": day_zone,
        "holiday": "",
        "masuk": None,
        "pulang": None,
        "punches": [],
        "units": [],
        "flags": [],
        "keterangan_id": keterangan[0] if keterangan else None,
        "pembatalan_id": pembatalan,
    }
    if work_code is not None:
        if classified is None:
            classified = classify_punches(punches, work_code, zone, holidays)
        mine = [(p, c) for p, c in classified if c.service_date == day]
        holiday = holidays.get(day) if work_code.observes_holidays else None
        body["holiday"] = holiday.name if holiday else ""
    else:
        mine = []
    body["punches"] = punch_entries(mine, day_zone)
    body["units"] = sorted({p.device_id for p, _ in mine})
    masuk = next((entry for entry in body["punches"] if entry["kind"] == "masuk"), None)
    pulang = next((entry for entry in reversed(body["punches"]) if entry["kind"] == "pulang"), None)
    body["masuk"], body["pulang"] = masuk, pulang
    late = masuk["minutes"] if masuk and masuk["status"] == TERLAMBAT else 0
    early = pulang["minutes"] if pulang and pulang["status"] == PULANG_CEPAT else 0
    overtime = pulang["minutes"] if pulang and pulang["status"] == LEMBUR else 0
    cutoff = cutoff_instant(day, work_code, zone) if work_code else None
    working = work_code is not None and work_code.rule_for(day) is not None and not body["holiday"]
    if pembatalan is not None:
        status = BATAL
    elif keterangan is not None:
        status = keterangan[1]
    elif masuk or pulang:
        status = HADIR
        passed = cutoff is not None and now >= cutoff
        if masuk is None:
            body["flags"].append("tanpa_masuk")
        if pulang is None and passed:
            body["flags"].append("tanpa_pulang")
    elif work_code is None:
        status = TANPA_JADWAL
    elif not working:
        status = LIBUR
    else:
        status = TK if cutoff is not None and now >= cutoff else BELUM
    if status != HADIR:
        late = early = overtime = 0
    body.update(status=status, late_min=late, early_min=early, overtime_min=overtime)
    return DayRecord(employee_id, day, status, late, early, overtime, body)


#: The reasons the day book records (daybook.recompute's callers), head by head.
_REASON_HEADS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"presensi diterima / punches received"), "day.punches_received"),
    (re.compile(r"roster versi (?P<version>\d+) diterbitkan / roster published"), "day.roster_published"),
    (re.compile(r"hari ditutup / day closed"), "day.closed"),
    (re.compile(r"keterangan #(?P<n>\d+) \((?P<code>\w+)\) disetujui"), "day.keterangan_approved"),
    (re.compile(r"pembatalan kehadiran #(?P<n>\d+) \(Jember Pasal 13\)"), "day.cancelled"),
)
_CHANGE = re.compile(r"(?P<what>status|late_min|early_min|overtime_min) (?P<old>\S+) → (?P<new>\S+)")


def shown_reason(reason: str, lang: str) -> str:
    """A version's reason (``{head}: {describe_change}``) as a person reads it in ``lang``: the
    head from the catalogue, the changes with statuses and counts in words."""
    head, _, change = reason.partition(": ")
    for pattern, key in _REASON_HEADS:
        if found := pattern.fullmatch(head):
            head = text(key, lang, **found.groupdict())
            break
    parts = []
    for part in change.split("; ") if change else []:
        if part.startswith("dibuat: "):
            parts.append(text("day.created", lang, status=word("day_status", part.removeprefix("dibuat: "), lang)))
        elif found := _CHANGE.fullmatch(part):
            what, old, new = found["what"], found["old"], found["new"]
            if what == "status":
                old, new = word("day_status", old, lang), word("day_status", new, lang)
            parts.append(f"{word('day_field', what, lang)}: {old} → {new}")
        elif found := re.fullmatch(r"([+-]\d+) presensi", part):
            parts.append(text("day.punches_changed", lang, n=found[1]))
        elif part == "rincian berubah":
            parts.append(text("day.details_changed", lang))
        else:
            parts.append(part)
    return f"{head}: {'; '.join(parts)}" if parts else head


def describe_change(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """What changed between two bodies, for the version's reason (``status belum → hadir; +2 punches``)."""
    if old is None:
        return f"dibuat: {new['status']}"
    parts = []
    if old.get("status") != new.get("status"):
        parts.append(f"status {old.get('status')} → {new['status']}")
    for key in ("late_min", "early_min", "overtime_min"):
        if old.get(key) != new.get(key):
            parts.append(f"{key} {old.get(key)} → {new[key]}")
    before = {p["id"] for p in old.get("punches", [])}
    after = {p["id"] for p in new.get("punches", [])}
    if after - before:
        parts.append(f"+{len(after - before)} presensi")
    if before - after:
        parts.append(f"-{len(before - after)} presensi")
    if not parts:
        parts.append("rincian berubah")
    return "; ".join(parts)
