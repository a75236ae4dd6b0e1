"""One admission hook for every pipeline: the schedule on normal days, event mode during an event."""

from __future__ import annotations

import queue
from datetime import UTC, datetime
from pathlib import Path

from core.admission import UnitAdmission, refusal, request_fields
from core.clock import FakeClock, FixedClockState
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.schedule.event_mode import EventBook
from core.schedule.local_packs import sample_pack, sample_people
from core.schedule.workcodes import WorkCodeBook
from core.store.db import open_database
from core.store.punches import PunchStore
from core.store.roster import upsert_employee
from kiosk.cards.policy import Reason
from kiosk.cards.service import CardAttempt, CardService, Outcome
from kiosk.cards.sim import SimCardReader

START = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # Tuesday 07:00 WITA


def unit(tmp_path: Path) -> tuple[PunchStore, FakeClock, KioskConfig]:
    clock = FakeClock(START)
    config = KioskConfig()
    config.unit.zone = "Asia/Makassar"
    config.event.unit = "IV"
    store = PunchStore(
        open_database(tmp_path / "p.db"), DeviceIdentity.generate(), clock, FixedClockState(), zone="Asia/Makassar"
    )
    return store, clock, config


def test_without_an_event_the_schedule_classifies(tmp_path: Path) -> None:
    store, clock, config = unit(tmp_path)
    result = UnitAdmission(config, store, clock)("199001012019031001", clock.now())
    assert refusal(result) is None
    assert request_fields(result)["event_id"] is None


def test_event_mode_admits_members_of_this_unit_and_refuses_others(tmp_path: Path) -> None:
    store, clock, config = unit(tmp_path)
    people = sample_people(30)
    pack = sample_pack(people, start=START)
    EventBook(store.conn, clock).save(pack, {"pack": pack.model_dump(mode="json")}, activate=True)
    admit = UnitAdmission(config, store, clock)
    member = next(p for p in people if p.unit == "IV")
    other = next(p for p in people if p.unit == "V")
    result = admit(member.id, clock.now())
    assert refusal(result) is None
    fields = request_fields(result)
    assert fields["event_id"] == pack.id and fields["kind"] == "apel"
    refused = refusal(admit(other.id, clock.now()))
    assert refused is not None and "Bukan peserta unit ini" in refused[1] and "Unit V" in refused[1]

    # The card service honours it: a member punches tagged with the event, a non-member is refused.
    for person in (member, other):
        upsert_employee(store.conn, person.id, person.name, now=clock.now())
        store.conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES (?, ?, '')", (person.card_uid, person.id))
    reader = SimCardReader()
    service = CardService(reader, store, config=config.cards, clock=clock, classify=admit)
    decisions: queue.Queue[CardAttempt] = queue.Queue()
    service.subscribe(decisions.put)
    with service:
        assert service.wait_connected(5)
        reader.present(member.card_uid)
        first = decisions.get(timeout=10)
        reader.remove()
        reader.present(other.card_uid)
        second = decisions.get(timeout=10)
        reader.remove()
    accepted = [d for d in (first, second) if d.outcome is Outcome.ACCEPTED]
    refused_d = [d for d in (first, second) if d.outcome is Outcome.REJECTED]
    assert len(accepted) == 1 and accepted[0].punch is not None and accepted[0].punch.event_id == pack.id
    assert len(refused_d) == 1 and refused_d[0].reason == Reason.EVENT and "Unit V" in refused_d[0].text


def test_a_work_code_that_refuses_a_punch_past_the_days_two(tmp_path: Path) -> None:
    """extra_punch = "tolak": the schedule's classification reads as a refusal; the card service
    shows it under its own reason and records nothing."""
    store, clock, config = unit(tmp_path)
    WorkCodeBook(store.conn).put(
        {
            "code": "DUA-KALI-TOLAK",
            "name": "Dua kali sehari, lebih ditolak",
            "rule": {"max_after_end_min": 180, "punches_per_day": 2, "extra_punch": "tolak"},
            "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat"], "hours": ["07:30", "16:00"]}],
        }
    )
    upsert_employee(store.conn, "E1", "Siti", work_code="DUA-KALI-TOLAK", now=clock.now())
    store.conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('04AABBCC', 'E1', '')")
    admit = UnitAdmission(config, store, clock)
    reader = SimCardReader()
    service = CardService(reader, store, config=config.cards, clock=clock, classify=admit)
    decisions: queue.Queue[CardAttempt] = queue.Queue()
    service.subscribe(decisions.put)
    seen = []
    with service:
        assert service.wait_connected(5)
        for _ in range(2):  # 07:00 WITA, then 07:10: a second masuk
            reader.present("04AABBCC")
            seen.append(decisions.get(timeout=10))
            reader.remove()
            clock.advance(600)
    assert [d.outcome for d in seen] == [Outcome.ACCEPTED, Outcome.REJECTED]
    assert seen[1].reason == Reason.SCHEDULE and seen[1].text == "Tidak dicatat – masuk sudah tercatat pukul 07:00 WITA"
    assert seen[1].text_en == "Not recorded — already punched today"
    assert [p.kind for p in store.iter_all()] == ["masuk"]
    assert refusal(admit("E1", clock.now())) == ("sudah_masuk", "Tidak dicatat – masuk sudah tercatat pukul 07:00 WITA")
