"""The regulations, rule by rule (issue 19): for every rule of the five texts in
``shared/regulations``, punches one minute before, at and one minute after its boundary go
through ``classify()`` and must get the status the regulation implies.

The numbers below are read from the regulation texts, never from the presets: a table that
replayed the presets could not find where they are wrong. Each rule carries its file, its article
and a verbatim quote (``test_every_quote_is_in_its_regulation`` checks the quotes against the
texts when ``shared/`` is present), and each row's pytest id names the article and the quote.
Where a row's status is not stated by the text but is the project's reading, its id says
"assumed" and the preset lists the assumption.

Purbalingga's Perbup states its rules relative to jam kerja but not jam kerja itself: those rows
take jam masuk and jam pulang from the preset (marked assumed there) and the offsets from Pasal 7.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.schedule.classify import EarlierPunch, classify
from core.schedule.holidays import HolidayCalendar
from core.schedule.workcodes import hhmm, presets

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PRESENSI_SHARED", REPO.parent / "shared"))
PRESETS = presets()
HOLIDAYS = HolidayCalendar()  # the week below has none
UNIT_ZONE = "Asia/Jakarta"  # the unit's zone; a work code that pins its own (Balangan, WITA) wins
#: The week of Monday 23 November 2026.
DATE = {"senin": 23, "selasa": 24, "rabu": 25, "kamis": 26, "jumat": 27, "sabtu": 28, "minggu": 29}


@dataclass(frozen=True)
class Rule:
    file: str
    article: str
    quote: str  # verbatim from the text (compared with whitespace removed and dashes unified)

    @property
    def label(self) -> str:
        short = self.quote if len(self.quote) <= 70 else "..." + self.quote[-67:].partition(" ")[2]  # the numbers come last
        return f'{self.file.removesuffix(".txt")} {self.article}: "{short}"'.replace("–", "-")


Expected = tuple[str, str, int, str]  # kind, status, minutes, reason


def out(reason: str) -> Expected:
    return ("lainnya", "di_luar_jadwal", 0, reason)


ON_MASUK: Expected = ("masuk", "tepat_waktu", 0, "")
ON_PULANG: Expected = ("pulang", "tepat_waktu", 0, "")


def late(minutes: int) -> Expected:
    return ("masuk", "terlambat", minutes, "")


def early(minutes: int) -> Expected:
    return ("pulang", "pulang_cepat", minutes, "")


def lembur(minutes: int) -> Expected:
    return ("pulang", "lembur", minutes, "")


def extra(reason: str) -> Expected:
    return ("lainnya", "tambahan", 0, reason)


def t(text: str) -> int:
    """Minutes from midnight of a time as the texts write it: ``07.00``."""
    hours, minutes = text.split(".")
    return int(hours) * 60 + int(minutes)


ROWS: list[object] = []


def row(
    rule: Rule,
    code: str,
    day: str,
    minute: int,
    expected: Expected,
    earlier: tuple[tuple[str, str], ...] = (),
    *,
    date: str = "",
    note: str = "",
) -> None:
    """One punch at ``minute`` (local, in the work code's zone) on ``day`` of the test week (or
    on ``date``); ``earlier``: (HH.MM, kind) punches of the same day before it."""
    when = date or f"2026-11-{DATE[day]:02d}"
    what = f"{expected[1]} {expected[2]}" if expected[2] else expected[1]
    extra_note = f" ({note})" if note else ""
    ident = f"{rule.label} | {code} {day} {hhmm(minute)}{extra_note} -> {what}".replace("–", "-")
    ROWS.append(pytest.param(code, when, minute, earlier, expected, id=ident))


def edges(
    rule: Rule,
    code: str,
    days: tuple[str, ...],
    at: str,
    before: Expected,
    on: Expected,
    after: Expected,
    earlier: tuple[tuple[str, str], ...] = (),
    *,
    note: str = "",
) -> None:
    """Punches one minute before, at and one minute after ``at`` on each of ``days``."""
    for day in days:
        for minute, expected in ((t(at) - 1, before), (t(at), on), (t(at) + 1, after)):
            row(rule, code, day, minute, expected, earlier, note=note)


MON_THU = ("senin", "selasa", "rabu", "kamis")

# -- Jember: Peraturan Bupati Jember 55/2021, Pasal 9 ---------------------------------------------

JEMBER = "jember-perbup-55-2021.txt"
J_FIVE_DAYS = Rule(JEMBER, "Pasal 9 ayat (1) huruf a", "Organisasi Perangkat Daerah yang melaksanakan 5 (lima) hari kerja")
J_MASUK = Rule(JEMBER, "Pasal 9 ayat (4)", "Presensi Mobile pertama dilakukan pada jam kedatangan yakni pukul 05.00 - 07.00 WIB")
J_PULANG_5 = Rule(JEMBER, "Pasal 9 ayat (4)", "Presensi Mobile kedua dilakukan pada jam kepulangan yakni pukul 15.00 - 18.00 WIB")
J_PULANG_5_FRI = Rule(
    JEMBER,
    "Pasal 9 ayat (4)",
    "hari Jumat Presensi Mobile pertama dilakukan pada jam kedatangan yakni pukul 05.00 - 07.00 WIB dan Presensi Mobile kedua dilakukan pada jam kepulangan yakni pukul 14.30 - 17.30 WIB",
)
J_MASUK_6 = Rule(
    JEMBER,
    "Pasal 9 ayat (5)",
    "yang melaksanakan 6 (enam) hari kerja, untuk hari Senin sampai dengan hari Kamis Presensi Mobile pertama dilakukan pada jam kedatangan yakni pukul 05.00 - 07.00 WIB",
)
J_PULANG_6 = Rule(JEMBER, "Pasal 9 ayat (5)", "kepulangan yakni pukul 14.00 - 17.00 WIB")
J_PULANG_6_FRI = Rule(JEMBER, "Pasal 9 ayat (5)", "Presensi Mobile kedua dilakukan pukul 11.00 - 14.00 WIB")
J_PULANG_6_SAT = Rule(JEMBER, "Pasal 9 ayat (5)", "kepulangan yaitu pukul 12.30 - 15.30 WIB")
J_SIX_DAYS = Rule(JEMBER, "Pasal 9 ayat (1) huruf b", "Organisasi Perangkat Daerah yang melaksanakan 6 (enam) hari kerja")
J_LATE_EARLY = Rule(
    JEMBER, "Pasal 11 ayat (1)", "Pegawai yang terlambat masuk kerja dan pulang sebelum waktunya harus tetap melakukan presensi"
)
J_RAMADAN = Rule(
    JEMBER, "Pasal 9 ayat (6)", "Pelaksanaan Presensi Mobile pada bulan puasa ditentukan lebih lanjut dengan Surat Edaran Bupati"
)
J_WEEK = Rule(JEMBER, "Pasal 9 ayat (2)", "37,5 (tiga puluh tujuh koma lima) jam seminggu")
J_BREAK = Rule(JEMBER, "Pasal 9 ayat (1) huruf a", "istirahat : pukul 11.00 – 13.00 WIB")

J5 = "JEMBER-5H"
edges(J_MASUK, J5, (*MON_THU, "jumat"), "05.00", out("belum_waktunya"), ON_MASUK, ON_MASUK)
edges(J_MASUK, J5, (*MON_THU, "jumat"), "07.00", ON_MASUK, ON_MASUK, late(1))
edges(J_PULANG_5, J5, MON_THU, "15.00", early(1), ON_PULANG, ON_PULANG, (("06.30", "masuk"),))
edges(J_PULANG_5, J5, MON_THU, "18.00", ON_PULANG, ON_PULANG, lembur(181), (("06.30", "masuk"),), note="after: assumed lembur")
edges(J_PULANG_5_FRI, J5, ("jumat",), "14.30", early(1), ON_PULANG, ON_PULANG, (("06.30", "masuk"),))
edges(
    J_PULANG_5_FRI,
    J5,
    ("jumat",),
    "17.30",
    ON_PULANG,
    ON_PULANG,
    lembur(181),
    (("06.30", "masuk"),),
    note="after: assumed lembur",
)
row(J_BREAK, J5, "jumat", t("11.00"), early(210), (("06.30", "masuk"),), note="leaving at the break is leaving early")
row(J_LATE_EARLY, J5, "rabu", t("07.12"), late(12))
row(J_LATE_EARLY, J5, "rabu", t("13.00"), early(120), (("06.30", "masuk"),))
# leaving ill in the morning: the second punch is the pulang, pulang sebelum waktunya, not an extra
row(J_LATE_EARLY, J5, "rabu", t("10.30"), early(270), (("06.30", "masuk"),), note="early leave before late_until")
row(J_FIVE_DAYS, J5, "sabtu", t("07.00"), out("libur"), note="Senin-Jumat only")
row(J_RAMADAN, J5, "senin", t("07.01"), late(1), date="2026-02-23", note="no circular filled in: the normal hours")

J6 = "JEMBER-6H"
edges(J_MASUK_6, J6, (*MON_THU, "jumat", "sabtu"), "05.00", out("belum_waktunya"), ON_MASUK, ON_MASUK)
edges(J_MASUK_6, J6, (*MON_THU, "jumat", "sabtu"), "07.00", ON_MASUK, ON_MASUK, late(1))
edges(J_PULANG_6, J6, MON_THU, "14.00", early(1), ON_PULANG, ON_PULANG, (("06.30", "masuk"),))
edges(J_PULANG_6, J6, MON_THU, "17.00", ON_PULANG, ON_PULANG, lembur(181), (("06.30", "masuk"),), note="after: assumed lembur")
edges(J_PULANG_6_FRI, J6, ("jumat",), "11.00", early(1), ON_PULANG, ON_PULANG, (("06.30", "masuk"),))
edges(
    J_PULANG_6_FRI,
    J6,
    ("jumat",),
    "14.00",
    ON_PULANG,
    ON_PULANG,
    lembur(181),
    (("06.30", "masuk"),),
    note="after: assumed lembur",
)
edges(J_PULANG_6_SAT, J6, ("sabtu",), "12.30", early(1), ON_PULANG, ON_PULANG, (("06.30", "masuk"),))
edges(
    J_PULANG_6_SAT,
    J6,
    ("sabtu",),
    "15.30",
    ON_PULANG,
    ON_PULANG,
    lembur(181),
    (("06.30", "masuk"),),
    note="after: assumed lembur",
)
row(J_SIX_DAYS, J6, "minggu", t("07.00"), out("libur"), note="Senin-Sabtu only")

# -- Madiun: Surat Edaran Sekda 863/3422/402.201/2022, angka 6 -----------------------------------

MADIUN = "madiun-se-863-3422-2022.txt"
M_FIVE = Rule(
    MADIUN, "angka 6 huruf a", "hari kerja dengan sistem 5 (lima) hari kerja, yaitu hari Senin sampai dengan hari Jumat"
)
M_SIX = Rule(MADIUN, "angka 6 huruf a", "hari kerja dengan sistem 6 (enam) hari kerja, yaitu hari Senin sampai dengan hari Sabtu")
M_WEEK = Rule(MADIUN, "angka 6 huruf b", "minimal 37,5 (tiga puluh tujuh jam tiga puluh menit) jam")
#: work code → [(rule, days, jam masuk, jam pulang)] as the circular's tables give them.
MADIUN_HOURS = {
    "(GLOBAL) 5 HARI (NON SEKOLAH)": [
        (Rule(MADIUN, "angka 6 huruf d", "Senin 07.00 – 14.45 Tanpa jam istirahat"), MON_THU, "07.00", "14.45"),
        (Rule(MADIUN, "angka 6 huruf d", "Jumat 06.30 - 14.00 11.30 – 12.30"), ("jumat",), "06.30", "14.00"),
    ],
    "(GLOBAL) 6 HARI (NON SEKOLAH)": [
        (Rule(MADIUN, "angka 6 huruf e", "Senin 07.00 – 14.00"), MON_THU, "07.00", "14.00"),
        (Rule(MADIUN, "angka 6 huruf e", "Jumat 07.00 – 11.30"), ("jumat",), "07.00", "11.30"),
        (Rule(MADIUN, "angka 6 huruf e", "Sabtu 07.00 – 12.00"), ("sabtu",), "07.00", "12.00"),
    ],
    "(GLOBAL) 5 HARI (SEKOLAH)": [
        (Rule(MADIUN, "angka 6 huruf f", "Selasa 07.00 – 15.15"), MON_THU, "07.00", "15.15"),
        (Rule(MADIUN, "angka 6 huruf f", "Jumat 07.00 - 15.00"), ("jumat",), "07.00", "15.00"),
    ],
    "(GLOBAL) 6 HARI (SEKOLAH)": [
        (Rule(MADIUN, "angka 6 huruf g", "Senin 07.00 – 14.30"), MON_THU, "07.00", "14.30"),
        (
            Rule(MADIUN, "angka 6 huruf g", "Jumat 07.00 – 11.45 Jam istirahat selama 15 (lima belas) menit"),
            ("jumat",),
            "07.00",
            "11.45",
        ),
        (Rule(MADIUN, "angka 6 huruf g", "Sabtu 07.00 - 12.30"), ("sabtu",), "07.00", "12.30"),
    ],
}
for code, groups in MADIUN_HOURS.items():
    for rule, days, start, end in groups:
        edges(rule, code, days, start, ON_MASUK, ON_MASUK, late(1))
        edges(rule, code, days, end, early(1), ON_PULANG, ON_PULANG, ((start, "masuk"),))
    if "5 HARI" in code:
        row(M_FIVE, code, "sabtu", t("07.00"), out("libur"))
    else:
        row(M_SIX, code, "sabtu", t("07.00"), ON_MASUK)
        row(M_SIX, code, "minggu", t("07.00"), out("libur"))

# -- Malang: Petunjuk Teknis dan Operasional Presensi Elektronik ----------------------------------

MALANG = "malang-juknis-presensi-elektronik.txt"
ML_MASUK = Rule(
    MALANG,
    "Work from Office angka 1",
    "Work from Office atau bekerja dari Kantor, Pegawai bisa melakukan presensi sebelum jam 08.00, diatas jam tersebut terhitung terlambat",
)
ML_PULANG = Rule(
    MALANG,
    "Work from Office angka 2",
    "Jam Pulang work from Office yaitu pukul 14.00 wib, apabila pegawai melakukan presensi sebelum jam 14.00 maka akan dihitung pulang awal/pulang cepat",
)
ML_MIDNIGHT = Rule(
    MALANG,
    "Ketentuan Jam Kerja angka 3",
    "jam presensi akhir pada hari itu sebelum pukul 23.59. Dan dapat melanjutkan presensi untuk hari berikutnya setelah pukul 00.01",
)
WFO = "MALANG-WFO"
WEEKDAYS = (*MON_THU, "jumat")
# "sebelum jam 08.00": 07:59 is before 08.00; 08:00 is not, and is the first late minute
edges(ML_MASUK, WFO, WEEKDAYS, "08.00", ON_MASUK, late(1), late(2))
edges(ML_PULANG, WFO, WEEKDAYS, "14.00", early(1), ON_PULANG, ON_PULANG, (("07.30", "masuk"),))
edges(ML_MIDNIGHT, WFO, ("senin",), "23.59", lembur(598), out("lewat_batas"), out("lewat_batas"), (("07.30", "masuk"),))
edges(ML_MIDNIGHT, WFO, ("selasa",), "00.01", out("lewat_batas"), ON_MASUK, ON_MASUK)

# -- Balangan: Peraturan Bupati Balangan 32/2020, Pasal 4 (WITA) ---------------------------------

BALANGAN = "balangan-perbup-32-2020.txt"
B_MASUK = Rule(
    BALANGAN,
    "Pasal 4 ayat (1)",
    "jam presensi masuk kerja untuk hari kerja Selasa, Rabu, Kamis adalah dimulai jam 07.00 wita sampai dengan jam 08.05 wita",
)
B_PULANG = Rule(
    BALANGAN,
    "Pasal 4 ayat (2)",
    "jam presensi pulang kerja untuk hari kerja Senin, Selasa, Rabu, Kamis adalah dimulai jam 16.30 wita sampai dengan jam 18.00 wita",
)
B_APEL = Rule(
    BALANGAN,
    "Pasal 4 ayat (3)",
    "apel Senin (Apel Gabungan) dan Jum'at (Kegiatan Senam Pagi/Kegiatan Olah Raga lainnya) dan Kegiatan Ceramah Agama (Tausiyah) adalah dimulai jam 07.00 wita sampai dengan jam 08.30 wita",
)
B_JUMAT = Rule(
    BALANGAN,
    "Pasal 4 ayat (4)",
    "jam presensi pulang kerja untuk hari kerja Jum'at adalah dimulai jam 11.00 wita sampai dengan jam 12.00 wita",
)
B5 = "BALANGAN-5H"
edges(B_MASUK, B5, ("selasa", "rabu", "kamis"), "07.00", out("belum_waktunya"), ON_MASUK, ON_MASUK)
edges(B_MASUK, B5, ("selasa", "rabu", "kamis"), "08.05", ON_MASUK, ON_MASUK, late(1))
edges(B_APEL, B5, ("senin", "jumat"), "07.00", out("belum_waktunya"), ON_MASUK, ON_MASUK)
edges(B_APEL, B5, ("senin", "jumat"), "08.30", ON_MASUK, ON_MASUK, late(1))
edges(B_PULANG, B5, MON_THU, "16.30", early(1), ON_PULANG, ON_PULANG, (("07.30", "masuk"),))
edges(B_PULANG, B5, MON_THU, "18.00", ON_PULANG, ON_PULANG, lembur(91), (("07.30", "masuk"),), note="after: assumed lembur")
edges(B_JUMAT, B5, ("jumat",), "11.00", early(1), ON_PULANG, ON_PULANG, (("07.30", "masuk"),))
edges(B_JUMAT, B5, ("jumat",), "12.00", ON_PULANG, ON_PULANG, lembur(61), (("07.30", "masuk"),), note="after: assumed lembur")

# -- Purbalingga: Peraturan Bupati Purbalingga 35/2020, Pasal 7 ----------------------------------

PURBALINGGA = "purbalingga-perbup-35-2020.txt"
P_TWICE = Rule(PURBALINGGA, "Pasal 7 ayat (1)", "wajib melakukan presensi elektronik 2 (dua) kali dalam setiap hari kerja")
P_EARLIEST = Rule(PURBALINGGA, "Pasal 7 ayat (2)", "dilakukan paling cepat 1 (satu) jam sebelum masuk jam kerja")
P_LATEST = Rule(PURBALINGGA, "Pasal 7 ayat (3)", "dilakukan paling lambat 3 (tiga) jam sesudah jam kerja berakhir")
PALING_CEPAT = 60  # Pasal 7 ayat (2): 1 (satu) jam before jam masuk
PALING_LAMBAT = 180  # Pasal 7 ayat (3): 3 (tiga) jam after jam pulang
PB = "PURBALINGGA-5H"
for days, weekday in ((MON_THU, 0), (("jumat",), 4)):
    jam = PRESETS[PB].days[weekday]  # jam masuk and jam pulang: not in the Perbup (assumed in the preset)
    start, end = hhmm(jam.start).replace(":", "."), hhmm(jam.end).replace(":", ".")
    opens = hhmm(jam.start - PALING_CEPAT).replace(":", ".")
    closes = hhmm(jam.end + PALING_LAMBAT).replace(":", ".")
    masuk = ((start, "masuk"),)
    edges(P_EARLIEST, PB, days, opens, out("belum_waktunya"), ON_MASUK, ON_MASUK, note="jam masuk assumed")
    edges(P_EARLIEST, PB, days, start, ON_MASUK, ON_MASUK, late(1), note="jam masuk assumed")
    edges(P_LATEST, PB, days, end, early(1), ON_PULANG, ON_PULANG, masuk, note="jam pulang assumed")
    edges(P_LATEST, PB, days, closes, ON_PULANG, ON_PULANG, out("lewat_batas_pulang"), masuk, note="jam pulang assumed")
    row(P_LATEST, PB, days[0], t("22.00"), out("lewat_batas_pulang"), masuk)
    # two punches, masuk and pulang: a second masuk and a third punch change nothing
    row(P_TWICE, PB, days[0], jam.start - 10, extra("sudah_masuk"), ((opens, "masuk"),), note="second masuk")
    row(P_TWICE, PB, days[0], jam.start + 5, extra("sudah_masuk"), ((opens, "masuk"),), note="second punch in the masuk part")
    row(P_TWICE, PB, days[0], jam.end, ON_PULANG, ((opens, "masuk"),), note="second punch: the pulang")
    row(P_TWICE, PB, days[0], jam.end + 10, extra("sudah_pulang"), ((opens, "masuk"), (end, "pulang")), note="third punch")


@pytest.mark.parametrize(("code", "when", "minute", "earlier", "expected"), ROWS)
def test_regulation(code: str, when: str, minute: int, earlier: tuple[tuple[str, str], ...], expected: Expected) -> None:
    work_code = PRESETS[code]
    midnight = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(work_code.zone or UNIT_ZONE))

    def instant(clock: int) -> datetime:  # minutes past 1440 fall on the next day
        return (midnight + timedelta(minutes=clock)).astimezone(UTC)

    prior = [EarlierPunch(instant(t(at)), kind) for at, kind in earlier]
    result = classify(instant(minute), UNIT_ZONE, work_code, prior, HOLIDAYS)
    assert (result.kind, result.status, result.minutes, result.reason) == expected, result
    assert result.accepted  # no preset refuses a punch


@dataclass(frozen=True)
class Week:
    rule: Rule
    code: str
    #: (days, jam masuk, jam pulang, minutes of istirahat) as the text gives them
    days: tuple[tuple[int, str, str, int], ...]
    minimum: float | None


WEEKS = [
    Week(J_WEEK, J5, ((4, "07.00", "15.00", 0), (1, "07.00", "14.30", t("13.00") - t("11.00"))), 37.5),
    Week(J_WEEK, J6, ((4, "07.00", "14.00", 0), (1, "07.00", "11.00", 0), (1, "07.00", "12.30", 0)), 37.5),
    Week(M_WEEK, "(GLOBAL) 5 HARI (NON SEKOLAH)", ((4, "07.00", "14.45", 0), (1, "06.30", "14.00", 60)), 37.5),
    Week(
        M_WEEK,
        "(GLOBAL) 6 HARI (NON SEKOLAH)",
        ((4, "07.00", "14.00", 0), (1, "07.00", "11.30", 0), (1, "07.00", "12.00", 0)),
        37.5,
    ),
    Week(M_WEEK, "(GLOBAL) 5 HARI (SEKOLAH)", ((4, "07.00", "15.15", 30), (1, "07.00", "15.00", 30)), 37.5),
    Week(
        M_WEEK,
        "(GLOBAL) 6 HARI (SEKOLAH)",
        ((4, "07.00", "14.30", 30), (1, "07.00", "11.45", 15), (1, "07.00", "12.30", 30)),
        37.5,
    ),
]


@pytest.mark.parametrize("week", WEEKS, ids=[f"{w.rule.label} | {w.code}" for w in WEEKS])
def test_weekly_hours_reach_the_regulations_minimum(week: Week) -> None:
    from_text = sum(n * (t(end) - t(start) - rest) for n, start, end, rest in week.days)
    work_code = PRESETS[week.code]
    assert work_code.weekly_minutes() == from_text
    assert work_code.min_weekly_hours == week.minimum
    assert week.minimum is not None and from_text >= week.minimum * 60
    assert work_code.meets_minimum() is True
    assert week.rule.file in work_code.min_weekly_hours_source


def test_jember_ramadan_hours_are_left_to_the_bupatis_circular() -> None:
    for code in (J5, J6):
        [ramadan] = PRESETS[code].overrides
        assert ramadan.placeholder and not ramadan.days, "Pasal 9 ayat (6): no invented Ramadan hours"
        assert J_RAMADAN.article in ramadan.source


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("–", "-")).lower()


RULES = sorted(
    {r for r in globals().values() if isinstance(r, Rule)} | {rule for groups in MADIUN_HOURS.values() for rule, *_ in groups},
    key=lambda r: (r.file, r.article, r.quote),
)


@pytest.mark.parametrize("rule", RULES, ids=[r.label for r in RULES])
def test_every_quote_is_in_its_regulation(rule: Rule) -> None:
    path = SHARED / "regulations" / rule.file
    if not path.exists():
        pytest.skip(f"needs the regulation texts at {path.parent} (set PRESENSI_SHARED)")
    assert _plain(rule.quote) in _plain(path.read_text(encoding="utf-8")), rule


def test_every_regency_has_its_table() -> None:
    files = {r.file for r in RULES}
    assert files == {JEMBER, MADIUN, MALANG, BALANGAN, PURBALINGGA}
    assert {p.values[0] for p in ROWS} == set(PRESETS)  # type: ignore[attr-defined]
