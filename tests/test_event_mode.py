"""EventMode's admission rules one at a time: the window, lateness, units, loading packs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FakeClock
from core.errors import PresensiError
from core.schedule.event_mode import BELUM_MULAI, DITERIMA, SUDAH_HADIR, SUDAH_SELESAI, UNIT_LAIN, EventBook, EventMode
from core.schedule.events import EventPackError
from core.schedule.local_packs import sample_pack, sample_people
from core.store.punches import PunchStore

START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 07:00 WITA
PEOPLE = sample_people(24)  # three per unit (eight units: II and III are one)
UNIT_IV = [p for p in PEOPLE if p.unit == "IV"]
UNIT_V = [p for p in PEOPLE if p.unit == "V"]


@pytest.fixture
def mode(store: PunchStore, clock: FakeClock) -> EventMode:
    pack = sample_pack(PEOPLE, start=START)
    EventBook(store.conn, clock).save(pack, {"pack": pack.model_dump(mode="json")}, activate=True)
    return EventMode(pack, store, clock, unit="IV", early=timedelta(minutes=30), grace=timedelta(minutes=5))


@pytest.mark.parametrize(
    ("offset_s", "code", "text"),
    [
        (-31 * 60, BELUM_MULAI, "Apel mulai 07:00 – presensi dibuka 06:30"),
        (-30 * 60, DITERIMA, "Hadir – Apel"),
        (30 * 60 + 59, DITERIMA, "Hadir – Apel"),  # on time until 07:30 (seconds dropped)
        (31 * 60, DITERIMA, "Terlambat 1 menit – Apel"),
        (95 * 60, DITERIMA, "Terlambat 1 jam 5 menit – Apel"),  # 08:35: the window ends 08:30, grace 5 min
        (95 * 60 + 1, SUDAH_SELESAI, "Apel sudah selesai"),
    ],
)
def test_the_window_and_lateness(mode: EventMode, clock: FakeClock, offset_s: int, code: str, text: str) -> None:
    clock.set_wall(START + timedelta(seconds=offset_s))
    admission = mode.admit(UNIT_IV[0].id)
    assert (admission.code, admission.text) == (code, text)
    assert admission.accepted is (code == DITERIMA)


def test_an_accepted_punch_is_tagged_and_a_second_is_suppressed(mode: EventMode, clock: FakeClock) -> None:
    clock.set_wall(START + timedelta(minutes=42, seconds=10))
    admission, punch = mode.punch(UNIT_IV[1].id, "card")
    assert punch is not None
    assert (punch.kind, punch.status, punch.minutes, punch.event_id) == ("apel", "terlambat", 12, "APEL-SAMPLE")
    assert admission.name == UNIT_IV[1].name and admission.unit == "IV"
    clock.advance(600)
    again, none = mode.punch(UNIT_IV[1].id, "face")
    assert none is None and again.code == SUDAH_HADIR and again.text == "Sudah tercatat hadir pukul 07:42"
    assert mode.store.count() == 1
    assert mode.banner().progress == "Hadir 1 dari 3"
    with pytest.raises(PresensiError):
        again.request("card")


def test_other_units_participants_are_sent_to_their_unit(mode: EventMode, clock: FakeClock) -> None:
    clock.set_wall(START)
    admission = mode.admit(UNIT_V[0].id)
    assert (admission.code, admission.text, admission.unit) == (UNIT_LAIN, "Bukan peserta unit ini – silakan ke Unit V", "V")
    assert admission.text_en == "Not a participant at this unit – please go to Unit V"


def test_a_unit_serving_everyone_accepts_every_participant(store: PunchStore, clock: FakeClock) -> None:
    pack = sample_pack(PEOPLE, start=START)
    clock.set_wall(START)
    everyone = EventMode(pack, store, clock)
    assert all(everyone.admit(p.id).accepted for p in PEOPLE)
    assert everyone.banner().expected == len(PEOPLE)


def test_unit_from_the_pack_or_config(store: PunchStore, clock: FakeClock) -> None:
    mapped = sample_pack(PEOPLE, start=START, devices={store.identity.device_id: "VII"})
    assert EventMode.for_device(mapped, store, clock).unit == "VII"
    assert EventMode.for_device(mapped, store, clock, unit="II-III").unit == "II-III"
    unmapped = sample_pack(PEOPLE, start=START)
    with pytest.raises(EventPackError, match="not assigned one"):
        EventMode.for_device(unmapped, store, clock)
    with pytest.raises(EventPackError, match="has no unit 'X'"):
        EventMode(unmapped, store, clock, unit="X")


def test_the_book_keeps_the_newer_version_and_one_active_event(store: PunchStore, clock: FakeClock) -> None:
    book = EventBook(store.conn, clock)
    v2 = sample_pack(PEOPLE, start=START).model_copy(update={"version": 2})
    book.save(v2, {"pack": v2.model_dump(mode="json")})
    v1 = v2.model_copy(update={"version": 1})
    with pytest.raises(EventPackError, match="older than the loaded version"):
        book.save(v1, {"pack": v1.model_dump(mode="json")})
    other = sample_pack(PEOPLE[:9], start=START + timedelta(days=4), event_id="SENAM-1", kind="senam")
    book.save(other, {"pack": other.model_dump(mode="json")}, activate=True)
    book.activate("APEL-SAMPLE")
    assert [e["id"] for e in book.list() if e["active"]] == ["APEL-SAMPLE"]
    rows = store.conn.execute("SELECT count(*) FROM event_participants WHERE event_id = 'SENAM-1'").fetchone()[0]
    assert rows == 9
    with pytest.raises(EventPackError, match="no event 'NOPE'"):
        book.activate("NOPE")
    book.activate(None)
    assert book.active() is None
