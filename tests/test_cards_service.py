"""The card service on the simulated reader: policies, refusals, duplicates, enrolment, reader gaps."""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core import health
from core.clock import FakeClock
from core.config import CardsConfig
from core.errors import DeviceError
from core.schedule.classify import Classification
from core.store.cards import CardBindingRefused, bind_card, find_card, list_cards, unbind_card
from core.store.punches import PunchStore
from kiosk.cards.enrol import EnrolStatus
from kiosk.cards.policy import FaceOutcome, FaceVerification, Reason
from kiosk.cards.service import CardAttempt, CardService, Outcome
from kiosk.cards.sim import SimCardReader
from kiosk.feedback.gpio import NullFeedback

WAIT_S = 5.0


def add_employee(conn: sqlite3.Connection, emp_id: str, name: str, *, policy: str | None = None, active: bool = True) -> None:
    conn.execute(
        "INSERT INTO employees (id, name, card_policy, active, updated_at) VALUES (?, ?, ?, ?, '2026-11-01T00:00:00Z')",
        (emp_id, name, policy, int(active)),
    )


def add_card(conn: sqlite3.Connection, uid: str, emp_id: str) -> None:
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES (?, ?, '2026-11-01T00:00:00Z')", (uid, emp_id))


class FaceDesk:
    """A face verifier that answers what the test told it, and records who it was asked about."""

    def __init__(self, outcome: FaceOutcome = FaceOutcome.MATCH) -> None:
        self.outcome = outcome
        self.asked: list[tuple[str, float]] = []

    def __call__(self, employee_id: str, *, timeout_s: float) -> FaceVerification:
        self.asked.append((employee_id, timeout_s))
        return FaceVerification(self.outcome, distance=0.31, liveness_verdict="live", liveness_scores={"texture": 0.97})


class Harness:
    def __init__(self, store: PunchStore, clock: FakeClock, **kwargs: object) -> None:
        self.reader = SimCardReader(clock=clock)
        self.feedback = NullFeedback()
        self.decisions: queue.Queue[CardAttempt] = queue.Queue()
        config = CardsConfig(reader="sim", reconnect_initial_s=0.01, reconnect_max_s=0.05, **kwargs.pop("config", {}))  # type: ignore[arg-type]
        self.service = CardService(self.reader, store, config=config, clock=clock, feedback=self.feedback, **kwargs)  # type: ignore[arg-type]
        self.service.subscribe(self.decisions.put)

    def next(self) -> CardAttempt:
        return self.decisions.get(timeout=WAIT_S)

    def tap(self, uid: str) -> CardAttempt:
        self.reader.tap(uid)
        return self.next()


@pytest.fixture
def people(store: PunchStore) -> PunchStore:
    add_employee(store.conn, "198001012005011001", "Budi Santoso")
    add_card(store.conn, "04A1B2C3", "198001012005011001")
    add_employee(store.conn, "199002022010012002", "Siti Rahmawati", policy="card_face")
    add_card(store.conn, "04D4E5F6", "199002022010012002")
    add_employee(store.conn, "P3K-0031", "Agus Wibowo", policy="face")
    add_card(store.conn, "0A00123456", "P3K-0031")
    add_employee(store.conn, "P3K-0099", "Dewi Lestari", active=False)
    add_card(store.conn, "04000001", "P3K-0099")
    return store


@pytest.fixture
def harness(people: PunchStore, clock: FakeClock) -> Iterator[Harness]:
    h = Harness(people, clock)
    h.service.start()
    assert h.service.wait_connected(WAIT_S)
    yield h
    h.service.stop()


def test_known_card_punches_with_method_card_and_name(harness: Harness, people: PunchStore) -> None:
    decision = harness.tap("04:a1:b2:c3")
    assert decision.outcome is Outcome.ACCEPTED
    assert decision.employee_id == "198001012005011001"
    assert decision.employee_name == "Budi Santoso"
    assert decision.punch is not None and decision.punch.method == "card"
    assert decision.text == "Terima kasih, Budi Santoso — 07:30 WIB"  # FakeClock starts 00:30 UTC
    assert people.count() == 1 and people.last_for("198001012005011001") == decision.punch
    assert harness.feedback.played == ["accepted"]
    assert decision.as_dict()["card"] == "…B2C3"


def test_unknown_card_is_refused_with_the_indonesian_text(harness: Harness, people: PunchStore) -> None:
    decision = harness.tap("DEADBEEF")
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason == Reason.UNKNOWN_CARD
    assert decision.text == "Kartu tidak terdaftar"
    assert people.count() == 0
    assert harness.feedback.played == ["rejected"]


def test_inactive_and_face_only_employees_are_refused(harness: Harness, people: PunchStore) -> None:
    assert harness.tap("04000001").reason == Reason.INACTIVE
    face_only = harness.tap("0A00123456")
    assert face_only.reason == Reason.FACE_ONLY and face_only.employee_name == "Agus Wibowo"
    assert face_only.text == "Kartu tidak berlaku — gunakan wajah"
    assert people.count() == 0


def test_card_then_face_without_a_verifier_refuses(harness: Harness, people: PunchStore) -> None:
    decision = harness.tap("04D4E5F6")
    assert decision.reason == Reason.FACE_UNAVAILABLE
    assert people.count() == 0


def test_card_then_face_asks_for_that_employee_only_and_records_liveness(people: PunchStore, clock: FakeClock) -> None:
    desk = FaceDesk()
    h = Harness(people, clock, verify_face=desk, config={"face_timeout_s": 6.0})
    with h.service:
        waiting = h.tap("04D4E5F6")
        assert waiting.outcome is Outcome.AWAITING_FACE
        assert waiting.text == "Halo, Siti Rahmawati — lihat ke kamera"
        done = h.next()
    assert desk.asked == [("199002022010012002", 6.0)]
    assert done.outcome is Outcome.ACCEPTED and done.method == "card+face"
    assert done.punch is not None
    assert done.punch.method == "card+face"
    assert done.punch.liveness_verdict == "live"
    assert done.punch.scores == {"texture": 0.97}
    assert float(done.punch.match_distance or "nan") == pytest.approx(0.31)
    assert h.feedback.played == ["attention", "accepted"]


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (FaceOutcome.MISMATCH, Reason.FACE_MISMATCH),
        (FaceOutcome.SPOOF, Reason.FACE_SPOOF),
        (FaceOutcome.TIMEOUT, Reason.FACE_TIMEOUT),
        (FaceOutcome.UNAVAILABLE, Reason.FACE_UNAVAILABLE),
    ],
)
def test_card_then_face_refusals(people: PunchStore, clock: FakeClock, outcome: FaceOutcome, reason: Reason) -> None:
    h = Harness(people, clock, verify_face=FaceDesk(outcome))
    with h.service:
        assert h.tap("04D4E5F6").outcome is Outcome.AWAITING_FACE
        refused = h.next()
    assert refused.outcome is Outcome.REJECTED and refused.reason == reason
    assert people.count() == 0


def test_unit_policy_card_face_applies_to_employees_without_their_own(people: PunchStore, clock: FakeClock) -> None:
    desk = FaceDesk()
    h = Harness(people, clock, verify_face=desk, config={"policy": "card_face"})
    with h.service:
        assert h.tap("04A1B2C3").outcome is Outcome.AWAITING_FACE
        assert h.next().method == "card+face"
    assert desk.asked[0][0] == "198001012005011001"


def test_employee_card_policy_overrides_a_face_only_unit(people: PunchStore, clock: FakeClock) -> None:
    people.conn.execute("UPDATE employees SET card_policy = 'card' WHERE id = '198001012005011001'")
    h = Harness(people, clock, config={"policy": "face"})
    with h.service:
        assert h.tap("04A1B2C3").outcome is Outcome.ACCEPTED
        assert h.tap("DEADBEEF").reason == Reason.UNKNOWN_CARD


def test_second_tap_within_the_interval_shows_the_first_punch(harness: Harness, people: PunchStore, clock: FakeClock) -> None:
    first = harness.tap("04A1B2C3")
    clock.advance(20)
    again = harness.tap("04A1B2C3")
    assert again.outcome is Outcome.DUPLICATE and again.punch == first.punch
    assert (
        again.text == "Sudah presensi pukul 07:30 WIB"
    )  # one text for a repeat, whatever the method (the name is shown beside it)
    clock.advance(61)
    later = harness.tap("04A1B2C3")
    assert later.outcome is Outcome.ACCEPTED
    assert people.count() == 2


def test_classifier_sets_kind_and_status(people: PunchStore, clock: FakeClock) -> None:
    seen: list[datetime] = []

    def classify(employee_id: str, instant: datetime) -> Classification:
        seen.append(instant)
        return Classification(kind="masuk", status="terlambat", minutes=12)

    h = Harness(people, clock, classify=classify)
    with h.service:
        punch = h.tap("04A1B2C3").punch
    assert punch is not None and (punch.kind, punch.status, punch.minutes) == ("masuk", "terlambat", 12)
    assert seen == [clock.now()]


def test_the_schedules_classification_gives_the_status_line_in_both_languages(people: PunchStore, clock: FakeClock) -> None:
    schedule_result = Classification("masuk", "terlambat", 12)
    h = Harness(people, clock, classify=lambda employee_id, instant: schedule_result)
    with h.service:
        decision = h.tap("04A1B2C3")
    assert decision.punch is not None and decision.punch.status == "terlambat"
    assert decision.status_text == schedule_result.text("id") and decision.status_text
    assert decision.as_dict()["status_text_en"] == schedule_result.text("en")


def test_unreadable_card_and_removal(harness: Harness) -> None:
    harness.reader.present_unreadable()
    decision = harness.next()
    assert decision.reason == Reason.UNREADABLE and decision.text == "Kartu tidak terbaca — tempelkan lagi"
    harness.reader.present("04A1B2C3")
    assert harness.next().outcome is Outcome.ACCEPTED
    harness.reader.present("04A1B2C3")  # still lying there: no second decision
    harness.reader.remove()
    assert harness.tap("DEADBEEF").reason == Reason.UNKNOWN_CARD


def test_em4100_decimal_and_full_id_name_the_same_card(harness: Harness, people: PunchStore) -> None:
    # Agus's card is registered by its full 40-bit id; a keyboard reader types the low 32 bits in decimal.
    people.conn.execute("UPDATE employees SET card_policy = 'card' WHERE id = 'P3K-0031'")
    decision = harness.tap("0001193046")  # 0x00123456
    assert decision.outcome is Outcome.ACCEPTED and decision.employee_id == "P3K-0031"


def test_a_card_registered_to_two_people_under_two_forms_is_refused(harness: Harness, people: PunchStore) -> None:
    add_card(people.conn, "00123456", "198001012005011001")  # Budi, by the printed decimal
    assert harness.tap("0A00123456").reason == Reason.AMBIGUOUS_CARD


def test_a_failing_subscriber_does_not_stop_the_others(harness: Harness) -> None:
    def broken(decision: CardAttempt) -> None:
        raise RuntimeError("screen bug")

    harness.service.subscribe(broken)
    assert harness.tap("04A1B2C3").outcome is Outcome.ACCEPTED
    unsubscribe = harness.service.subscribe(broken)
    unsubscribe()


def test_tap_to_register_binds_the_next_card(harness: Harness, people: PunchStore) -> None:
    add_employee(people.conn, "P3K-0100", "Rina Kusuma")
    enrolment = harness.service.enrolment
    ticket = enrolment.arm("P3K-0100", actor="admin", timeout_s=30)
    assert enrolment.status(ticket).status is EnrolStatus.WAITING
    decision = harness.tap("04CAFE01")
    assert decision.outcome is Outcome.ENROLLED and decision.text == "Kartu terdaftar untuk Rina Kusuma"
    result = enrolment.wait(ticket, WAIT_S)
    assert result.status is EnrolStatus.REGISTERED and result.uid == "04CAFE01"
    assert people.count() == 0  # registering is not punching
    assert harness.tap("04CAFE01").employee_id == "P3K-0100"
    audit = people.conn.execute("SELECT actor, action, detail FROM audit_log").fetchall()
    assert [(a["actor"], a["action"]) for a in audit] == [("admin", "card.register")]
    assert "04CAFE01" not in audit[0]["detail"]  # the full UID stays out of the log


def test_tap_to_register_refuses_someone_elses_card(harness: Harness, people: PunchStore) -> None:
    add_employee(people.conn, "P3K-0100", "Rina Kusuma")
    ticket = harness.service.enrolment.arm("P3K-0100", actor="admin")
    decision = harness.tap("04A1B2C3")
    assert decision.outcome is Outcome.ENROL_REFUSED
    assert decision.text == "Kartu sudah terdaftar atas nama Budi Santoso"
    assert harness.service.enrolment.wait(ticket, WAIT_S).reason == "taken"
    assert [c.employee_id for c in list_cards(people.conn, None) if c.uid == "04A1B2C3"] == ["198001012005011001"]


def test_tap_to_register_expires_on_the_injected_clock(harness: Harness, clock: FakeClock) -> None:
    enrolment = harness.service.enrolment
    ticket = enrolment.arm("198001012005011001", actor="admin", timeout_s=30)
    clock.advance(31)
    assert enrolment.status(ticket).status is EnrolStatus.EXPIRED
    assert harness.tap("04A1B2C3").outcome is Outcome.ACCEPTED  # back to punching


def test_arming_again_cancels_the_previous_registration(harness: Harness) -> None:
    enrolment = harness.service.enrolment
    first = enrolment.arm("198001012005011001", actor="admin")
    second = enrolment.arm("199002022010012002", actor="admin")
    assert enrolment.status(first).status is EnrolStatus.CANCELLED
    assert enrolment.armed_for == "199002022010012002"
    enrolment.cancel()
    assert enrolment.status(second).status is EnrolStatus.CANCELLED


def test_bind_and_unbind_directly(people: PunchStore, clock: FakeClock) -> None:
    now = clock.now()
    employee, new = bind_card(people.conn, "0A00ABCDEF", "198001012005011001", actor="ops", now=now)
    assert new and employee.name == "Budi Santoso"
    assert bind_card(people.conn, "00ABCDEF", "198001012005011001", actor="ops", now=now)[1] is False  # same card, decimal form
    with pytest.raises(CardBindingRefused) as refused:
        bind_card(people.conn, "ABCDEF", "P3K-0031", actor="ops", now=now)
    assert refused.value.reason == "taken"
    with pytest.raises(CardBindingRefused):
        bind_card(people.conn, "04999999", "nobody", actor="ops", now=now)
    assert unbind_card(people.conn, "0A00ABCDEF", actor="ops", now=now)
    assert not unbind_card(people.conn, "0A00ABCDEF", actor="ops", now=now)
    assert find_card(people.conn, "00ABCDEF") == []


def _card_health(store: PunchStore) -> health.PartHealth:
    return next(p for p in health.read_all(store.conn) if p.part == "card_reader")


def test_reader_unplugged_and_replugged_comes_back_and_health_reports_the_gap(
    harness: Harness, people: PunchStore, clock: FakeClock
) -> None:
    assert _card_health(people).status is health.Health.OK
    harness.reader.unplug()
    assert harness.service.wait_disconnected(WAIT_S)
    down = _card_health(people)
    assert down.status is health.Health.FAIL
    assert "unplugged" in (down.last_error or "")
    harness.reader.tap("04A1B2C3")  # lost: nobody can read while it is unplugged
    clock.advance(42.5)
    harness.reader.replug()
    assert harness.service.wait_connected(WAIT_S)
    back = _card_health(people)
    assert back.status is health.Health.OK
    assert back.metrics["gaps"] == 1
    assert back.metrics["last_gap_s"] == pytest.approx(42.5)
    assert "away 42.5 s" in back.detail
    assert back.last_error is not None  # the cause stays visible after recovery
    assert harness.tap("04A1B2C3").outcome is Outcome.ACCEPTED
    status = harness.service.status()
    assert status.connected and status.gaps == 1 and status.last_gap_s == pytest.approx(42.5)
    assert harness.reader.opens >= 2


def test_reader_absent_at_start_is_retried_until_it_appears(people: PunchStore, clock: FakeClock) -> None:
    h = Harness(people, clock)
    h.reader.unplug()
    with h.service:
        assert not h.service.wait_connected(0.1)
        assert _card_health(people).status is health.Health.FAIL
        h.reader.replug()
        assert h.service.wait_connected(WAIT_S)
        assert h.tap("04A1B2C3").outcome is Outcome.ACCEPTED


def test_sim_reader_refuses_reads_when_closed_and_reports_a_card_lying_on_it() -> None:
    reader = SimCardReader(clock=FakeClock(datetime(2026, 11, 23, tzinfo=UTC)))
    with pytest.raises(DeviceError):
        reader.read(0.01)
    reader.present("04A1B2C3")  # put down before the reader was opened
    with reader:
        event = reader.read(0.01)
        assert event is not None and event.uid == "04A1B2C3"
        assert reader.read(0.01) is None
    assert "closed" in repr(reader)


def _flap(people: PunchStore, clock: FakeClock, cycles: int) -> None:
    h = Harness(people, clock, config={"duplicate_interval_s": 0})
    with h.service:
        assert h.service.wait_connected(WAIT_S)
        for i in range(cycles):
            h.reader.unplug()
            assert h.service.wait_disconnected(WAIT_S)
            clock.advance(1.0)
            h.reader.replug()
            assert h.service.wait_connected(WAIT_S)
            assert h.tap("04A1B2C3").outcome is Outcome.ACCEPTED, f"cycle {i}"
        assert h.service.status().gaps == cycles
    assert people.count() == cycles


def test_reader_flapping_never_loses_a_tap_after_recovery(people: PunchStore, clock: FakeClock) -> None:
    _flap(people, clock, 5)


@pytest.mark.soak
def test_reader_flapping_soak(people: PunchStore, clock: FakeClock) -> None:
    _flap(people, clock, 300)
