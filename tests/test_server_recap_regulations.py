"""A month of punches under each regency's rules gives the recap row the regulation implies.

November 2026 has 21 working days Monday–Friday (no fixed national holiday). Each regency's
times below are read from its text, not from the presets:

* Jember (jember-perbup-55-2021.txt, Pasal 9 ayat (4)): kedatangan until 07.00, kepulangan from
  15.00, Friday from 14.30 (WIB).
* Madiun (madiun-se-863-3422-2022.txt, huruf d, "(GLOBAL) 5 HARI (NON SEKOLAH)"): jam kerja
  07.00–14.45, Friday 06.30–14.00 (WIB).
* Malang (malang-juknis-presensi-elektronik.txt, Work from Office angka 1–2): presensi before
  08.00, later is late; pulang 14.00, earlier is pulang cepat (WIB). "Before 08.00" read
  literally, as the unit's preset does (core/schedule/presets/malang.toml): 08:00 is the first
  late minute, so the minutes late count from 07:59 (08:12 is 13 minutes late; counted from
  08.00 it would be 12: a question for the regency, which the text does not settle).
* Purbalingga (purbalingga-perbup-35-2020.txt, Pasal 7 ayat (2)–(3)): masuk at most one hour
  before jam masuk; the hours themselves are the preset's, which says they are assumed
  (07.30–16.00, Friday 14.30).
* Balangan (balangan-perbup-32-2020.txt, Pasal 5 ayat (1)–(4)): masuk 07.00–08.05 Tuesday to
  Thursday and 07.00–08.30 Monday and Friday, pulang from 16.30, Friday 11.00 (WITA).

Employees: ``tepat`` always on time; ``telat`` 12 minutes after the regulation's masuk time
every day; ``campur`` sick (S, approved) on the 2nd and 3rd, no punch on the 4th (TK), pulang 30
minutes early on the 5th, no pulang on the 6th; ``dini`` (Purbalingga only) punches 61 minutes
before jam masuk on the 9th, which is no masuk (Pasal 7 ayat (2)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from core.clock import FakeClock
from sync.server.daybook import DayBook
from sync.server.keterangan import Document, KeteranganBook
from sync.server.officers import Officers
from sync.server.recap import Recaps
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage
from tests.helpers.recap_support import local, store_punch

PDF = b"%PDF-1.4\n%%EOF\n"
WORKING_DAYS = [date(2026, 11, d) for d in range(1, 31) if date(2026, 11, d).weekday() < 5]


@dataclass(frozen=True)
class Regency:
    name: str
    work_code: str
    zone: str
    masuk_by: dict[int, str]  # weekday → the regulation's latest on-time masuk
    pulang_from: dict[int, str]  # weekday → the regulation's jam pulang

    def at(self, day: date, hhmm: str, minutes: int = 0) -> datetime:
        return local(day.isoformat(), hhmm, self.zone) + timedelta(minutes=minutes)


def _week(mon_thu: str, fri: str, mon: str | None = None) -> dict[int, str]:
    return {0: mon or mon_thu, 1: mon_thu, 2: mon_thu, 3: mon_thu, 4: fri}


REGENCIES = [
    Regency("jember", "JEMBER-5H", "Asia/Jakarta", _week("07:00", "07:00"), _week("15:00", "14:30")),
    Regency("madiun", "(GLOBAL) 5 HARI (NON SEKOLAH)", "Asia/Jakarta", _week("07:00", "06:30"), _week("14:45", "14:00")),
    Regency("malang", "MALANG-WFO", "Asia/Jakarta", _week("07:59", "07:59"), _week("14:00", "14:00")),
    Regency("purbalingga", "PURBALINGGA-5H", "Asia/Jakarta", _week("07:30", "07:30"), _week("16:00", "14:30")),
    Regency("balangan", "BALANGAN-5H", "Asia/Makassar", _week("08:05", "08:30", mon="08:30"), _week("16:30", "11:00")),
]

#: employee → the recap columns the regulation implies (21 working days).
EXPECTED = {
    "tepat": {"hadir": 21, "late_min": 0, "early_min": 0, "tk": 0, "csdl": 0, "ijin": 0, "S": 0, "no_pulang": 0, "no_masuk": 0},
    "telat": {"hadir": 21, "late_min": 12 * 21, "early_min": 0, "tk": 0, "csdl": 0, "no_pulang": 0},
    "campur": {"hadir": 18, "late_min": 0, "early_min": 30, "tk": 1, "csdl": 2, "S": 2, "ijin": 0, "no_pulang": 1},
    "dini": {"hadir": 21, "late_min": 0, "tk": 0, "no_masuk": 1},
}


@pytest.mark.parametrize("regency", REGENCIES, ids=lambda r: r.name)
def test_a_month_under_each_regencys_rules(tmp_path, regency: Regency) -> None:
    storage = Storage(f"sqlite:///{tmp_path}/server.db")
    storage.create_schema()
    clock = FakeClock(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    roster = RosterAdmin(storage, clock)
    roster.add_unit("OPD", f"Kantor {regency.name}", zone=regency.zone)
    people = ["tepat", "telat", "campur"] + (["dini"] if regency.name == "purbalingga" else [])
    for who in people:
        roster.add_employee(who, who.capitalize(), unit_code="OPD", work_code=regency.work_code)
    for day in WORKING_DAYS:
        wd = day.weekday()
        on_time_in, on_time_out = regency.at(day, regency.masuk_by[wd], -10), regency.at(day, regency.pulang_from[wd], 5)
        store_punch(storage, "tepat", on_time_in, zone=regency.zone)
        store_punch(storage, "tepat", on_time_out, kind="pulang", zone=regency.zone)
        store_punch(storage, "telat", regency.at(day, regency.masuk_by[wd], 12), zone=regency.zone)
        store_punch(storage, "telat", on_time_out, kind="pulang", zone=regency.zone)
        if regency.name == "purbalingga":
            jam_masuk = "07:30"
            early_in = regency.at(day, jam_masuk, -61) if day == date(2026, 11, 9) else on_time_in
            store_punch(storage, "dini", early_in, zone=regency.zone)
            store_punch(storage, "dini", on_time_out, kind="pulang", zone=regency.zone)
        if day.day in (2, 3, 4):
            continue
        store_punch(storage, "campur", on_time_in, zone=regency.zone)
        if day.day == 5:
            store_punch(storage, "campur", regency.at(day, regency.pulang_from[wd], -30), kind="pulang", zone=regency.zone)
        elif day.day != 6:
            store_punch(storage, "campur", on_time_out, kind="pulang", zone=regency.zone)
    days = DayBook(storage, clock)
    officers = Officers(storage, clock)
    admin = officers.create("admin.opd", "kata-sandi-admin-1", "admin_pd", "OPD")
    bkpsdm = officers.create("bkpsdm.ani", "kata-sandi-bkpsdm-1", "bkpsdm")
    book = KeteranganBook(storage, clock, days)
    number = book.submit(
        admin, "campur", "S", first=date(2026, 11, 2), last=date(2026, 11, 3), document=Document("dokter.pdf", PDF)
    )
    book.decide(bkpsdm, number, True)
    clock.set_wall(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    recap = Recaps(storage, clock, days).office("2026-11", "OPD")
    got = {row.employee_id: row.counts for row in recap.rows}
    for who in people:
        wanted = EXPECTED[who]
        assert {k: got[who][k] for k in wanted} == wanted, f"{regency.name}: {who}"
    storage.close()
