"""Every shipped preset against its times, with the edges the unit cares about (seconds, days
off, holidays, the 23:59 overtime rule), and each preset's sources and assumptions.

The regulations' own rules, rule by rule with boundary punches and the article of each, are in
``tests/test_schedule_regulations.py``; this file checks the presets as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.schedule.classify import EarlierPunch, classify
from core.schedule.holidays import Holiday, HolidayCalendar
from core.schedule.workcodes import WEEKDAYS, presets

PRESETS = presets()
HOLIDAYS = HolidayCalendar([Holiday(datetime(2026, 12, 24).date(), "Cuti bersama Natal", "cuti_bersama")])
WIB, WITA = "Asia/Jakarta", "Asia/Makassar"
# The week of Monday 23 November 2026; Saturday is the 28th.
DAY = {"senin": 23, "selasa": 24, "rabu": 25, "kamis": 26, "jumat": 27, "sabtu": 28, "minggu": 29}


def at(local: str, zone: str) -> datetime:
    """A UTC instant from local 'YYYY-MM-DD HH:MM:SS' in ``zone``."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def nov(day: str, clock: str) -> str:
    return f"2026-11-{DAY[day]:02d} {clock}"


# (preset, local time, masuk earlier that day?, kind, status, minutes, screen text or None)
CASES = [
    # Jember five-day (published: masuk 05:00–07:00, pulang 15:00–18:00, Friday 14:30–17:30)
    ("JEMBER-5H", nov("senin", "04:59:59"), False, "lainnya", "di_luar_jadwal", 0, "Di luar jadwal – belum waktunya"),
    ("JEMBER-5H", nov("senin", "05:00:00"), False, "masuk", "tepat_waktu", 0, "Masuk – tepat waktu"),
    ("JEMBER-5H", nov("senin", "07:00:00"), False, "masuk", "tepat_waktu", 0, "Masuk – tepat waktu"),
    ("JEMBER-5H", nov("senin", "07:00:59"), False, "masuk", "tepat_waktu", 0, "Masuk – tepat waktu"),
    ("JEMBER-5H", nov("senin", "07:01:00"), False, "masuk", "terlambat", 1, "Terlambat 1 menit"),
    ("JEMBER-5H", nov("selasa", "07:12:40"), False, "masuk", "terlambat", 12, "Terlambat 12 menit"),
    ("JEMBER-5H", nov("selasa", "08:15:00"), False, "masuk", "terlambat", 75, "Terlambat 1 jam 15 menit"),
    ("JEMBER-5H", nov("selasa", "08:15:00"), True, "pulang", "pulang_cepat", 405, "Pulang cepat 6 jam 45 menit"),
    ("JEMBER-5H", nov("rabu", "11:00:00"), False, "masuk", "terlambat", 240, None),  # late_until: halfway, 11:00
    ("JEMBER-5H", nov("rabu", "11:01:00"), False, "pulang", "pulang_cepat", 239, None),
    ("JEMBER-5H", nov("kamis", "14:59:59"), True, "pulang", "pulang_cepat", 1, "Pulang cepat 1 menit"),
    ("JEMBER-5H", nov("kamis", "15:00:00"), True, "pulang", "tepat_waktu", 0, "Pulang – tepat waktu"),
    ("JEMBER-5H", nov("kamis", "18:00:59"), True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-5H", nov("kamis", "18:01:00"), True, "pulang", "lembur", 181, "Pulang – lembur 3 jam 1 menit"),
    ("JEMBER-5H", nov("jumat", "07:00:59"), False, "masuk", "tepat_waktu", 0, None),
    ("JEMBER-5H", nov("jumat", "14:29:00"), True, "pulang", "pulang_cepat", 1, None),
    ("JEMBER-5H", nov("jumat", "14:30:00"), True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-5H", nov("jumat", "15:00:00"), True, "pulang", "tepat_waktu", 0, None),  # Friday's own window
    ("JEMBER-5H", nov("jumat", "17:30:59"), True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-5H", nov("jumat", "17:31:00"), True, "pulang", "lembur", 181, None),
    ("JEMBER-5H", nov("sabtu", "07:00:00"), False, "lainnya", "di_luar_jadwal", 0, "Di luar jadwal – hari libur"),
    ("JEMBER-5H", nov("minggu", "07:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    # overtime rule: the last punch of a day before 23:59, the next day's from 00:01
    ("JEMBER-5H", nov("senin", "23:58:59"), True, "pulang", "lembur", 538, None),
    ("JEMBER-5H", nov("senin", "23:59:00"), True, "lainnya", "di_luar_jadwal", 0, "Di luar jadwal – lewat pukul 23.59"),
    ("JEMBER-5H", nov("selasa", "00:00:30"), True, "lainnya", "di_luar_jadwal", 0, "Di luar jadwal – lewat pukul 23.59"),
    ("JEMBER-5H", nov("selasa", "00:01:00"), True, "lainnya", "di_luar_jadwal", 0, "Di luar jadwal – belum waktunya"),
    # holidays: fixed national and one from the roster
    (
        "JEMBER-5H",
        "2026-08-17 07:00:00",
        False,
        "lainnya",
        "di_luar_jadwal",
        0,
        "Di luar jadwal – hari libur: Hari Kemerdekaan Republik Indonesia",
    ),
    (
        "JEMBER-5H",
        "2026-12-24 06:30:00",
        False,
        "lainnya",
        "di_luar_jadwal",
        0,
        "Di luar jadwal – hari libur: Cuti bersama Natal",
    ),
    # Ramadan (Pasal 9 ayat 6: by the Bupati's circular): the placeholder is empty, normal hours apply
    ("JEMBER-5H", "2026-02-23 07:00:59", False, "masuk", "tepat_waktu", 0, None),
    ("JEMBER-5H", "2026-02-23 07:01:00", False, "masuk", "terlambat", 1, None),
    ("JEMBER-5H", "2026-02-27 14:29:00", True, "pulang", "pulang_cepat", 1, None),
    # Jember six-day: Saturday is a working day
    ("JEMBER-6H", nov("sabtu", "07:00:00"), False, "masuk", "tepat_waktu", 0, None),
    ("JEMBER-6H", nov("sabtu", "07:00:59"), False, "masuk", "tepat_waktu", 0, None),
    ("JEMBER-6H", nov("sabtu", "07:01:00"), False, "masuk", "terlambat", 1, None),
    ("JEMBER-6H", nov("sabtu", "12:29:00"), True, "pulang", "pulang_cepat", 1, None),
    ("JEMBER-6H", nov("sabtu", "12:30:00"), True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-6H", nov("jumat", "11:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-6H", nov("senin", "14:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-6H", nov("minggu", "07:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    # Balangan (WITA; published: masuk 07:00–08:05, pulang 16:30–18:00, apel Monday/senam Friday masuk until 08:30)
    ("BALANGAN-5H", nov("selasa", "06:59:59"), False, "lainnya", "di_luar_jadwal", 0, None),
    ("BALANGAN-5H", nov("selasa", "07:00:00"), False, "masuk", "tepat_waktu", 0, None),
    ("BALANGAN-5H", nov("selasa", "08:05:59"), False, "masuk", "tepat_waktu", 0, None),
    ("BALANGAN-5H", nov("selasa", "08:06:00"), False, "masuk", "terlambat", 1, "Terlambat 1 menit"),
    ("BALANGAN-5H", nov("senin", "08:30:00"), False, "masuk", "tepat_waktu", 0, None),
    ("BALANGAN-5H", nov("senin", "08:31:00"), False, "masuk", "terlambat", 1, None),
    ("BALANGAN-5H", nov("jumat", "08:30:59"), False, "masuk", "tepat_waktu", 0, None),
    ("BALANGAN-5H", nov("kamis", "08:30:00"), False, "masuk", "terlambat", 25, None),
    ("BALANGAN-5H", nov("kamis", "16:29:00"), True, "pulang", "pulang_cepat", 1, None),
    ("BALANGAN-5H", nov("kamis", "16:30:00"), True, "pulang", "tepat_waktu", 0, None),
    ("BALANGAN-5H", nov("kamis", "18:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("BALANGAN-5H", nov("kamis", "18:01:00"), True, "pulang", "lembur", 91, None),
    ("BALANGAN-5H", nov("sabtu", "08:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    ("BALANGAN-5H", nov("jumat", "11:00:00"), True, "pulang", "tepat_waktu", 0, "Pulang – tepat waktu"),
    ("BALANGAN-5H", nov("jumat", "12:01:00"), True, "pulang", "lembur", 61, None),
    # Madiun (SE 863/3422/402.201/2022 angka 6; windows by the general rule, assumed)
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "06:00:00"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "07:00:59"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "07:01:00"), False, "masuk", "terlambat", 1, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "14:45:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("jumat", "05:30:00"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("jumat", "17:01:00"), True, "pulang", "lembur", 181, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("sabtu", "07:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("sabtu", "07:00:59"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("sabtu", "12:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("jumat", "11:29:00"), True, "pulang", "pulang_cepat", 1, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("minggu", "07:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    ("(GLOBAL) 5 HARI (SEKOLAH)", nov("rabu", "07:01:00"), False, "masuk", "terlambat", 1, None),
    ("(GLOBAL) 5 HARI (SEKOLAH)", nov("rabu", "15:15:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (SEKOLAH)", nov("jumat", "14:59:00"), True, "pulang", "pulang_cepat", 1, None),
    ("(GLOBAL) 6 HARI (SEKOLAH)", nov("kamis", "14:30:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (SEKOLAH)", nov("jumat", "11:44:00"), True, "pulang", "pulang_cepat", 1, None),
    ("(GLOBAL) 6 HARI (SEKOLAH)", nov("sabtu", "12:29:00"), True, "pulang", "pulang_cepat", 1, None),
    # Malang WFO (juknis: masuk before 08.00, pulang 14.00; weekdays assumed)
    ("MALANG-WFO", nov("rabu", "07:59:59"), False, "masuk", "tepat_waktu", 0, None),
    ("MALANG-WFO", nov("rabu", "08:15:00"), False, "masuk", "terlambat", 16, "Terlambat 16 menit"),
    ("MALANG-WFO", nov("rabu", "14:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("MALANG-WFO", nov("jumat", "13:00:00"), True, "pulang", "pulang_cepat", 60, "Pulang cepat 1 jam"),
    ("MALANG-WFO", nov("sabtu", "09:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    # Purbalingga (Perbup 35/2020 Pasal 7 rules on assumed hours 07:30–16:00, Friday 14:30)
    ("PURBALINGGA-5H", nov("senin", "06:29:00"), False, "lainnya", "di_luar_jadwal", 0, "Di luar jadwal – belum waktunya"),
    ("PURBALINGGA-5H", nov("senin", "06:30:00"), False, "masuk", "tepat_waktu", 0, None),
    ("PURBALINGGA-5H", nov("senin", "19:00:59"), True, "pulang", "tepat_waktu", 0, None),
    (
        "PURBALINGGA-5H",
        nov("senin", "22:00:00"),
        True,
        "lainnya",
        "di_luar_jadwal",
        0,
        "Di luar jadwal – lewat batas presensi pulang 19:00 WIB",
    ),
    ("PURBALINGGA-5H", nov("jumat", "17:31:00"), True, "lainnya", "di_luar_jadwal", 0, None),
    ("PURBALINGGA-5H", nov("selasa", "07:05:00"), True, "lainnya", "tambahan", 0, None),  # masuk at 07:00 already
    ("PURBALINGGA-5H", nov("sabtu", "07:30:00"), False, "lainnya", "di_luar_jadwal", 0, None),
]


@pytest.mark.parametrize(("code", "local", "has_masuk", "kind", "status", "minutes", "text"), CASES)
def test_preset_classification(
    code: str, local: str, has_masuk: bool, kind: str, status: str, minutes: int, text: str | None
) -> None:
    work_code = PRESETS[code]
    zone = work_code.zone or WIB
    instant = at(local, zone)
    # the day's masuk at 07:00 (inside every preset's masuk window); for a punch after midnight,
    # the previous day's
    day = local[:10] if local[11:] >= "07:00:00" else (datetime.fromisoformat(local) - timedelta(days=1)).strftime("%Y-%m-%d")
    earlier = [EarlierPunch(at(day + " 07:00:00", zone), "masuk")] if has_masuk else []
    result = classify(instant, WIB, work_code, earlier, HOLIDAYS)
    assert (result.kind, result.status, result.minutes) == (kind, status, minutes), result
    if text is not None:
        assert result.text() == text
    assert result.request_fields() == {"kind": kind, "status": status, "minutes": minutes}


def test_every_preset_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(PRESETS)


def test_published_windows_are_exactly_the_published_times() -> None:
    jember = PRESETS["JEMBER-5H"]
    for weekday in range(4):
        assert jember.days[weekday].describe() == "masuk 05:00–07:00, pulang 15:00–18:00"
    assert jember.days[4].describe() == "masuk 05:00–07:00, pulang 14:30–17:30"
    assert set(jember.days) == {0, 1, 2, 3, 4}
    assert set(PRESETS["JEMBER-6H"].days) == {0, 1, 2, 3, 4, 5}
    balangan = PRESETS["BALANGAN-5H"]
    assert balangan.zone == WITA
    assert balangan.days[0].describe() == "masuk 07:00–08:30, pulang 16:30–18:00"  # apel Senin
    assert balangan.days[4].describe() == "masuk 07:00–08:30, pulang 11:00–12:00"  # senam Jumat; Pasal 4 ayat (4)
    for weekday in (1, 2, 3):
        assert balangan.days[weekday].describe() == "masuk 07:00–08:05, pulang 16:30–18:00"
    assert PRESETS["PURBALINGGA-5H"].days[0].describe() == "masuk 06:30–07:30, pulang 16:00–19:00, pulang paling lambat 19:00"


REGULATIONS = (
    "madiun-se-863-3422-2022.txt",
    "malang-juknis-presensi-elektronik.txt",
    "balangan-perbup-32-2020.txt",
    "jember-perbup-55-2021.txt",
    "purbalingga-perbup-35-2020.txt",
)


@pytest.mark.parametrize("code", sorted(PRESETS))
def test_every_value_cites_its_regulation_or_says_it_is_assumed(code: str) -> None:
    wc = PRESETS[code]
    assert any(name in wc.source for name in REGULATIONS), wc.source
    for day in wc.spec["day"]:
        cited = any(name in day.get("source", "") for name in REGULATIONS)
        assert cited or day.get("assumed"), (code, day["days"])
    rule = wc.spec.get("rule", {})
    if set(rule) - {"source", "assumed"}:
        assert any(name in rule.get("source", "") for name in REGULATIONS), code
    if wc.min_weekly_hours is not None:
        assert any(name in wc.min_weekly_hours_source for name in REGULATIONS), code
    for override in wc.overrides:
        assert any(name in override.source for name in REGULATIONS), (code, override.name)


def test_what_no_text_states_is_marked_assumed() -> None:
    # No text says where a late masuk ends and an early pulang begins: every preset says so.
    for code, wc in PRESETS.items():
        assert any("late" in a for a in wc.assumptions), code
    # Jember's Friday masuk and six-day times are published (Pasal 9 ayat (4), (5)): no day is assumed.
    for code in ("JEMBER-5H", "JEMBER-6H"):
        assert not any(day.get("assumed") for day in PRESETS[code].spec["day"]), code
    # Purbalingga's Perbup states no jam kerja, zone or days.
    purbalingga = PRESETS["PURBALINGGA-5H"]
    assert all(day.get("assumed") for day in purbalingga.spec["day"])
    assert any("jam kerja" in a for a in purbalingga.assumptions) and any("zone" in a for a in purbalingga.assumptions)
    assert any("working days" in a for a in PRESETS["MALANG-WFO"].assumptions)
    assert any("jam masuk and jam pulang are not stated" in a for a in PRESETS["BALANGAN-5H"].assumptions)


def test_jember_ramadan_is_an_empty_override_to_fill_in() -> None:
    for code in ("JEMBER-5H", "JEMBER-6H"):
        [ramadan] = PRESETS[code].overrides
        assert ramadan.placeholder and not ramadan.days and "Pasal 9 ayat (6)" in ramadan.source
        assert PRESETS[code].pending
    assert not any(wc.pending for code, wc in PRESETS.items() if not code.startswith("JEMBER"))


def test_madiun_ships_the_global_code_and_three_siblings() -> None:
    madiun = sorted(c for c, wc in PRESETS.items() if wc.region == "Kabupaten Madiun")
    assert len(madiun) == 4
    assert "(GLOBAL) 5 HARI (NON SEKOLAH)" in madiun


@pytest.mark.parametrize(
    ("code", "hours"),
    [
        ("(GLOBAL) 5 HARI (NON SEKOLAH)", 37.5),
        ("(GLOBAL) 6 HARI (NON SEKOLAH)", 37.5),
        ("(GLOBAL) 5 HARI (SEKOLAH)", 38.5),
        ("(GLOBAL) 6 HARI (SEKOLAH)", 37.5),
        ("JEMBER-5H", 37.5),
        ("JEMBER-6H", 37.5),
        ("MALANG-WFO", 30.0),
        ("PURBALINGGA-5H", 37.5),
    ],
)
def test_weekly_hours_of_presets_with_hours(code: str, hours: float) -> None:
    assert PRESETS[code].weekly_hours() == hours
    assert PRESETS[code].meets_minimum() is not False


def test_weekday_names_cover_the_week() -> None:
    assert len(WEEKDAYS) == 7 and WEEKDAYS[4] == "jumat"
