"""Apel and senam are the day's masuk (balangan-perbup-32-2020.txt Pasal 4 ayat 3: apel on Monday
and senam on Friday at 07.00–08.30 WITA): an apel punch at 07:12 makes Monday's masuk "tepat
waktu", and the office punch at 10:00 after it is not "Terlambat 1 jam 30 menit". A pack may say
otherwise (``counts_as_masuk = false``)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.schedule.classify import PULANG_CEPAT, TEPAT_WAKTU, TERLAMBAT, Schedule
from core.schedule.events import parse_pack
from core.store import roster
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore

WITA = timezone(timedelta(hours=8))
MONDAY = date(2026, 12, 7)
EMPLOYEE = "198001012005011001"


def wita(hhmm: str) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 12, 7, hours, minutes, 5, tzinfo=WITA).astimezone(UTC)


def apel_pack(**extra: object) -> dict[str, object]:
    return {
        "id": "apel-2026-12-07",
        "kind": "apel",
        "title": "Apel Senin",
        "location": {"name": "Halaman Kantor Bupati"},
        "zone": "Asia/Makassar",
        "starts_at": "2026-12-06T23:00:00Z",
        "ends_at": "2026-12-07T00:30:00Z",
        "participants": [{"id": EMPLOYEE, "name": "Rahmat"}],
        "issued_at": "2026-12-01T00:00:00Z",
        **extra,
    }


@pytest.fixture
def unit(tmp_path: Path) -> tuple[PunchStore, FakeClock]:
    clock = FakeClock(wita("06:00"))
    conn = open_database(tmp_path / "presensi.db")
    roster.upsert_employee(conn, EMPLOYEE, "Rahmat", now=clock.now(), work_code="BALANGAN-5H")
    return PunchStore(conn, DeviceIdentity.generate(), clock, FixedClockState(), zone="Asia/Makassar"), clock


def punch_at_apel(store: PunchStore, clock: FakeClock, pack: dict[str, object]) -> None:
    parsed = parse_pack(pack, "test pack")
    store.conn.execute(
        "INSERT INTO events (id, kind, title, location, starts_at, ends_at, origin, pack, active, loaded_at) "
        "VALUES (?, ?, ?, '', ?, ?, 'server', ?, 1, ?)",
        (parsed.id, parsed.kind, parsed.title, parsed.starts_at, parsed.ends_at, json.dumps({"pack": pack}), parsed.issued_at),
    )
    clock.set_wall(wita("07:12"))
    store.record(PunchRequest(EMPLOYEE, "finger", kind="apel", status="hadir", event_id=parsed.id))


def test_an_apel_punch_is_mondays_masuk(unit: tuple[PunchStore, FakeClock]) -> None:
    store, clock = unit
    schedule = Schedule(store.conn, "Asia/Makassar")
    punch_at_apel(store, clock, apel_pack())
    masuk = schedule.day_masuk(EMPLOYEE, MONDAY)
    assert masuk is not None and (masuk.kind, masuk.status) == ("masuk", TEPAT_WAKTU)
    assert masuk.local is not None and masuk.local.strftime("%H:%M") == "07:12"
    later = schedule.classify(EMPLOYEE, wita("10:00"))
    assert (later.kind, later.status) == ("pulang", PULANG_CEPAT)  # not "Terlambat 1 jam 30 menit"


def test_a_pack_can_say_its_punch_is_not_the_masuk(unit: tuple[PunchStore, FakeClock]) -> None:
    store, clock = unit
    schedule = Schedule(store.conn, "Asia/Makassar")
    punch_at_apel(store, clock, apel_pack(counts_as_masuk=False))
    assert schedule.day_masuk(EMPLOYEE, MONDAY) is None
    later = schedule.classify(EMPLOYEE, wita("10:00"))
    assert (later.kind, later.status, later.minutes) == ("masuk", TERLAMBAT, 90)
