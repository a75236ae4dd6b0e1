"""A wrong clock never costs a punch (issue 21.1): with the clock gone back, an employee who
punched 'later' is recorded again, not told "sudah tercatat pukul 23:55", by card, face and
finger alike (one rule, PunchStore.repeats_last); and event mode does not refuse participants
while the clock is not synchronised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_cards_service import Harness, add_card, add_employee

from core.clock import ClockState, FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.schedule.event_mode import DITERIMA, EventBook, EventMode
from core.schedule.local_packs import sample_pack, sample_people
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from kiosk.cards.service import Outcome

BUDI = "198001012005011001"


@pytest.fixture
def unsynced(tmp_path: Path, clock: FakeClock) -> Iterator[PunchStore]:
    conn = open_database(tmp_path / "presensi.db")
    yield PunchStore(conn, DeviceIdentity.generate(), clock, FixedClockState(ClockState.UNSYNCED))
    conn.close()


def test_repeats_last_is_the_one_rule(unsynced: PunchStore, clock: FakeClock) -> None:
    first = unsynced.record(PunchRequest(BUDI, "finger"))
    assert unsynced.repeats_last(BUDI, clock.now() + timedelta(seconds=30), 300) == first
    assert unsynced.repeats_last(BUDI, clock.now() + timedelta(seconds=301), 300) is None
    assert unsynced.repeats_last(BUDI, clock.now() - timedelta(days=3), 300) is None  # the clock went back


def test_a_card_after_the_clock_went_back_three_days_is_recorded(unsynced: PunchStore, clock: FakeClock) -> None:
    add_employee(unsynced.conn, BUDI, "Budi Santoso")
    add_card(unsynced.conn, "04A1B2C3", BUDI)
    harness = Harness(unsynced, clock)
    harness.service.start()
    try:
        assert harness.service.wait_connected(5)
        assert harness.tap("04A1B2C3").outcome is Outcome.ACCEPTED
        clock.set_wall(clock.now() - timedelta(days=3))  # an RTC without its battery
        again = harness.tap("04A1B2C3")
        assert again.outcome is Outcome.ACCEPTED, again.text
        assert harness.tap("04A1B2C3").outcome is Outcome.DUPLICATE  # a double tap is still one punch
    finally:
        harness.service.stop()
    rows = unsynced.conn.execute("SELECT clock_state FROM punches ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == ["unsynced", "unsynced"]


START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 07:00 WITA


@pytest.mark.parametrize("behind", [timedelta(hours=2), timedelta(days=3)])
def test_event_mode_admits_while_the_clock_is_not_synchronised(unsynced: PunchStore, clock: FakeClock, behind: timedelta) -> None:
    people = sample_people(27)
    pack = sample_pack(people, start=START)
    EventBook(unsynced.conn, clock).save(pack, {"pack": pack.model_dump(mode="json")}, activate=True)
    mode = EventMode(pack, unsynced, clock, unit="IV")
    clock.set_wall(START + timedelta(minutes=10) - behind)  # 07:10 in truth
    participant = next(p for p in people if p.unit == "IV")
    admission, punch = mode.punch(participant.id, "card")
    assert admission.code == DITERIMA and punch is not None and punch.clock_state == "unsynced"
    synced = PunchStore(unsynced.conn, unsynced.identity, clock, FixedClockState())
    refused = EventMode(pack, synced, clock, unit="IV").admit(
        next(p for p in people if p.unit == "IV" and p.id != participant.id).id
    )
    assert refused.code != DITERIMA  # a synchronised clock that says 'before the window' still refuses


def test_an_event_report_uses_the_corrected_time_and_says_so(tmp_path: Path, clock: FakeClock) -> None:
    """Issue 21, item 7: a punch made with the clock 30 minutes behind showed 'Hadir 07:10' for
    a participant who came at 07:40 (late); once the true time is known the report shows 07:40,
    late, and marks the correction."""
    from core.timekeeping import FixedTimeFacts, TimeKeeper

    conn = open_database(tmp_path / "presensi.db")
    identity = DeviceIdentity.generate()
    keeper = TimeKeeper(conn, clock, identity, facts=FixedTimeFacts(ClockState.UNSYNCED))
    store = PunchStore(conn, identity, clock, keeper)
    people = sample_people(24)
    pack = sample_pack(people, start=START)  # on time until 07:30 WITA
    EventBook(conn, clock).save(pack, {"pack": pack.model_dump(mode="json")}, activate=True)
    mode = EventMode(pack, store, clock, unit="IV")
    clock.set_wall(START + timedelta(minutes=10))  # the unit says 07:10; truly it is 07:40
    participant = next(p for p in people if p.unit == "IV")
    admission, punch = mode.punch(participant.id, "card")
    assert admission.code == DITERIMA and punch is not None and punch.status == "hadir"  # not judged on a wrong clock
    keeper.record_anchor(START + timedelta(minutes=40), "server", mono_ns=punch.mono_ns)  # the server says 07:40
    assert keeper.tick() == 1
    row = next(r for r in mode.attendance().rows if r.employee_id == participant.id)
    assert row.time == "07:40:00 WITA"
    assert row.note == "Terlambat 10 menit; jam dikoreksi (jam unit 07:10:00)"
    conn.close()
