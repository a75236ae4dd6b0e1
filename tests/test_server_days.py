"""The attendance day on the server: one record per employee and date from every unit's punches,
recomputed as punches arrive, every change versioned with its reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.clock import FakeClock
from sync.server.daybook import DayBook
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage
from tests.helpers.recap_support import local, store_punch


@pytest.fixture
def book(tmp_path):
    storage = Storage(f"sqlite:///{tmp_path}/server.db")
    storage.create_schema()
    clock = FakeClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # Monday 08:00 WIB
    roster = RosterAdmin(storage, clock)
    roster.add_unit("DISKOMINFO", "Dinas Kominfo", zone="Asia/Jakarta")
    roster.add_employee("198001012006041001", "Budi", unit_code="DISKOMINFO", work_code="JEMBER-5H")
    yield DayBook(storage, clock), storage, clock
    storage.close()


def test_a_day_from_two_units_with_late_and_early_minutes(book) -> None:
    days, storage, clock = book
    nip = "198001012006041001"
    first = store_punch(storage, nip, local("2026-11-02", "07:12"), device="unit-a")
    assert days.refresh() == 1
    day = days.day(nip, date(2026, 11, 2))
    assert day["status"] == "hadir" and day["late_min"] == 12  # jember Pasal 9 ayat (4): kedatangan until 07.00
    clock.advance(8 * 3600)
    second = store_punch(storage, nip, local("2026-11-02", "14:40"), device="unit-b", received=clock.now())
    assert days.refresh() == 1
    day = days.day(nip, date(2026, 11, 2))
    assert (day["late_min"], day["early_min"]) == (12, 20)  # kepulangan from 15.00
    assert day["body"]["masuk"]["id"] == first and day["body"]["pulang"]["id"] == second
    assert day["body"]["units"] == ["unit-a", "unit-b"]
    assert day["body"]["masuk"]["local"] == "07:12 WIB"
    versions = days.versions(nip, date(2026, 11, 2))
    assert [v["version"] for v in versions] == [1, 2]
    assert "+1 presensi" in versions[1]["reason"] and "early_min 0 → 20" in versions[1]["reason"]
    assert days.refresh() == 0  # nothing new: nothing versioned
    assert len(days.versions(nip, date(2026, 11, 2))) == 2


def test_a_working_day_without_punches_is_tk_only_after_the_cut_off(book) -> None:
    days, _, clock = book
    nip = "198001012006041001"
    assert days.close_month("2026-11") == 0  # Monday, 08:00: the day is not over
    clock.set_wall(datetime(2026, 11, 2, 16, 59, tzinfo=UTC))  # 23:59 WIB: malang juknis, last punch before 23.59
    assert days.close_month("2026-11") == 1
    assert days.day(nip, date(2026, 11, 2))["status"] == "tk"
    clock.set_wall(datetime(2026, 11, 9, 17, 0, tzinfo=UTC))  # the next Tuesday 00:00 WIB
    days.close_month("2026-11")
    statuses = {d["day"]: d["status"] for d in days.days(date(2026, 11, 1), date(2026, 11, 30))}
    assert statuses == {f"2026-11-0{n}": "tk" for n in (2, 3, 4, 5, 6, 9)}  # weekend days off are not stored


def test_an_apel_punch_is_the_days_masuk(book) -> None:
    days, storage, _ = book
    nip = "198001012006041001"
    store_punch(storage, nip, local("2026-11-02", "06:45"), device="event-iv", kind="apel", event_id="ev-1")
    store_punch(storage, nip, local("2026-11-02", "15:10"), device="unit-a", kind="pulang")
    days.refresh()
    day = days.day(nip, date(2026, 11, 2))
    assert day["status"] == "hadir" and day["body"]["masuk"]["event_id"] == "ev-1" and day["late_min"] == 0


def _pack(event_id: str, kind: str, counts: bool | None) -> dict:
    pack = {
        "id": event_id,
        "kind": kind,
        "title": f"{kind} pagi",
        "location": {"name": "Alun-alun"},
        "starts_at": "2026-11-01T23:30:00Z",
        "ends_at": "2026-11-02T01:00:00Z",
        "participants": [{"id": "198001012006041001"}],
        "issued_at": "2026-11-01T00:00:00Z",
    }
    if counts is not None:
        pack["counts_as_masuk"] = counts
    return pack


def test_an_event_counts_as_masuk_as_its_pack_says(book) -> None:
    days, storage, clock = book
    nip = "198001012006041001"
    roster = RosterAdmin(storage, clock)
    roster.add_event(_pack("apel-no", "apel", False))  # a pack may say its apel is not the day's masuk
    roster.add_event(_pack("tausiyah-yes", "tausiyah", True))  # and another kind that it is
    store_punch(storage, nip, local("2026-11-02", "06:40"), device="event-i", kind="apel", event_id="apel-no")
    store_punch(storage, nip, local("2026-11-03", "06:40"), device="event-i", kind="lainnya", event_id="tausiyah-yes")
    days.refresh()
    assert days.day(nip, date(2026, 11, 2)) is None  # no masuk (the apel is not one), and the day is not over
    assert days.day(nip, date(2026, 11, 3))["body"]["masuk"]["event_id"] == "tausiyah-yes"


def test_many_employees_are_computed_in_worker_processes_with_the_same_days(book, monkeypatch) -> None:
    import sync.server.daybook as daybook

    _, storage, clock = book
    roster = RosterAdmin(storage, clock)
    staff = [f"19800101200604{n:04d}" for n in range(6)]
    for n, nip in enumerate(staff):
        roster.add_employee(nip, f"Pegawai {n}", unit_code="DISKOMINFO", work_code="JEMBER-5H")
        store_punch(storage, nip, local("2026-11-02", f"07:{n:02d}"))
        store_punch(storage, nip, local("2026-11-02", "15:30"), kind="pulang")
    monkeypatch.setattr(daybook, "PARALLEL_FROM", 2)
    monkeypatch.setattr(daybook, "CHUNK", 2)
    parallel = DayBook(storage, clock, workers=2)
    assert parallel.refresh() >= len(staff)
    for n, nip in enumerate(staff):
        day = parallel.day(nip, date(2026, 11, 2))
        assert (day["status"], day["late_min"], day["version"]) == ("hadir", n, 1)
    assert parallel.refresh() == 0  # recomputed again: nothing changed, nothing versioned


def test_a_published_roster_change_recomputes_the_days_it_touches(book) -> None:
    days, storage, clock = book
    nip = "198001012006041001"
    roster = RosterAdmin(storage, clock)
    store_punch(storage, nip, local("2026-11-03", "07:30"))
    clock.set_wall(datetime(2026, 11, 3, 17, 0, tzinfo=UTC))  # Wednesday 00:00 WIB
    days.refresh()
    days.close_month("2026-11")
    assert days.day(nip, date(2026, 11, 2))["status"] == "tk"
    assert days.day(nip, date(2026, 11, 3))["late_min"] == 30  # Jember: kedatangan until 07.00
    roster.add_holiday("2026-11-02", "Libur daerah")
    roster.add_employee(nip, "Budi", unit_code="DISKOMINFO", work_code="MALANG-WFO")
    assert days.refresh() == 0  # not published yet: units do not know it either
    roster.publish()
    days.refresh()
    assert days.day(nip, date(2026, 11, 2))["status"] == "libur"
    assert days.day(nip, date(2026, 11, 3))["late_min"] == 0  # Malang: before 08.00
    assert "diterbitkan" in days.versions(nip, date(2026, 11, 2))[-1]["reason"]


def test_no_tk_before_an_employee_entered_the_roster(book) -> None:
    days, storage, clock = book
    clock.set_wall(datetime(2026, 11, 19, 17, 0, tzinfo=UTC))  # Friday 20 November 00:00 WIB
    RosterAdmin(storage, clock).add_employee("199905052024011001", "Baru", unit_code="DISKOMINFO", work_code="JEMBER-5H")
    clock.set_wall(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # Wednesday 25 November 00:00 WIB
    days.close_month("2026-11")
    tk = [d["day"] for d in days.days(date(2026, 11, 1), date(2026, 11, 30), employee_id="199905052024011001")]
    assert tk == ["2026-11-20", "2026-11-23", "2026-11-24"]
