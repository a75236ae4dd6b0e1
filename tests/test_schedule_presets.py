"""Every shipped preset against its times (published where DESIGN.md gives them, else the
assumed values marked in the preset file), with the edges the regulations care about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.schedule.classify import EarlierPunch, classify
from kiosk.schedule.holidays import Holiday, HolidayCalendar
from kiosk.schedule.workcodes import WEEKDAYS, presets

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
    # Ramadan override (assumed hours 08:00–15:00, Friday 15:30)
    ("JEMBER-5H", "2026-02-23 08:00:59", False, "masuk", "tepat_waktu", 0, None),
    ("JEMBER-5H", "2026-02-23 08:01:00", False, "masuk", "terlambat", 1, None),
    ("JEMBER-5H", "2026-02-23 15:00:00", True, "pulang", "tepat_waktu", 0, None),
    ("JEMBER-5H", "2026-02-27 15:29:00", True, "pulang", "pulang_cepat", 1, None),
    ("JEMBER-5H", "2026-02-18 07:01:00", False, "masuk", "terlambat", 1, None),  # the day before: normal hours
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
    # Madiun (names and times assumed: see presets/madiun.toml)
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "06:30:00"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "07:30:59"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("senin", "07:31:00"), False, "masuk", "terlambat", 1, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("jumat", "16:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("jumat", "19:01:00"), True, "pulang", "lembur", 181, None),
    ("(GLOBAL) 5 HARI (NON SEKOLAH)", nov("sabtu", "07:30:00"), False, "lainnya", "di_luar_jadwal", 0, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("sabtu", "07:00:59"), False, "masuk", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("sabtu", "12:30:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (NON SEKOLAH)", nov("jumat", "10:59:00"), True, "pulang", "pulang_cepat", 1, None),
    ("(GLOBAL) 5 HARI (SEKOLAH)", nov("rabu", "07:01:00"), False, "masuk", "terlambat", 1, None),
    ("(GLOBAL) 5 HARI (SEKOLAH)", nov("rabu", "15:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (SEKOLAH)", nov("kamis", "13:30:00"), True, "pulang", "tepat_waktu", 0, None),
    ("(GLOBAL) 6 HARI (SEKOLAH)", nov("sabtu", "12:29:00"), True, "pulang", "pulang_cepat", 1, None),
    # Malang WFO (times assumed)
    ("MALANG-WFO", nov("rabu", "07:30:00"), False, "masuk", "tepat_waktu", 0, None),
    ("MALANG-WFO", nov("rabu", "07:45:00"), False, "masuk", "terlambat", 15, "Terlambat 15 menit"),
    ("MALANG-WFO", nov("rabu", "16:00:00"), True, "pulang", "tepat_waktu", 0, None),
    ("MALANG-WFO", nov("sabtu", "09:00:00"), False, "lainnya", "di_luar_jadwal", 0, None),
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
    assert balangan.days[4].describe() == "masuk 07:00–08:30, pulang 16:30–18:00"  # senam Jumat
    for weekday in (1, 2, 3):
        assert balangan.days[weekday].describe() == "masuk 07:00–08:05, pulang 16:30–18:00"


def test_values_not_published_are_marked_as_assumptions() -> None:
    assumed = {code for code, wc in PRESETS.items() if wc.has_assumptions}
    # Balangan's Friday pulang, Jember's Friday masuk and Ramadan, Jember six-day pulang,
    # and every Madiun and Malang time are not published in the project's sources.
    assert assumed == set(PRESETS)
    assert any("Ramadan" in a for a in PRESETS["JEMBER-5H"].assumptions)
    for code in (
        "(GLOBAL) 5 HARI (NON SEKOLAH)",
        "(GLOBAL) 6 HARI (NON SEKOLAH)",
        "(GLOBAL) 5 HARI (SEKOLAH)",
        "(GLOBAL) 6 HARI (SEKOLAH)",
        "MALANG-WFO",
    ):
        assert any("all times assumed" in a for a in PRESETS[code].assumptions), code


def test_madiun_ships_the_global_code_and_three_siblings() -> None:
    madiun = sorted(c for c, wc in PRESETS.items() if wc.region == "Kabupaten Madiun")
    assert len(madiun) == 4
    assert "(GLOBAL) 5 HARI (NON SEKOLAH)" in madiun


@pytest.mark.parametrize(
    ("code", "hours"),
    [("(GLOBAL) 5 HARI (NON SEKOLAH)", 37.0), ("(GLOBAL) 6 HARI (NON SEKOLAH)", 37.5), ("JEMBER-6H", 37.5), ("MALANG-WFO", 37.0)],
)
def test_weekly_hours_of_presets_with_hours(code: str, hours: float) -> None:
    assert PRESETS[code].weekly_minutes() / 60 == hours


def test_weekday_names_cover_the_week() -> None:
    assert len(WEEKDAYS) == 7 and WEEKDAYS[4] == "jumat"
