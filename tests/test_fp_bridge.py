"""The bridge end to end: simulated modules on ptys, real SQLite files, the real roster code.

Enrol on unit A, carry the template through the database (A's row → a roster document → B's
database), identify on unit B with a punch; remove the employee and the template leaves B;
unplug/replug and stalls mid-transfer without losing or doubling a punch.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.config import KioskConfig
from core.health import Health, read_all
from core.runtime import Runtime
from core.store.finger_templates import FingerDB
from firmware_bridge import enrolment as api
from firmware_bridge.factory import SimulatedUnit, sim_finger_name, start_simulated_bridge
from kiosk.checks.findings import Status
from sync.roster_pull import apply_roster

WAIT = 10.0


@dataclass
class Unit:
    runtime: Runtime
    conn: sqlite3.Connection
    sim: SimulatedUnit

    def punches(self) -> list[tuple[str, str]]:
        return [
            (r["employee_id"], r["method"]) for r in self.conn.execute("SELECT employee_id, method FROM punches ORDER BY seq")
        ]

    def health(self) -> str | None:
        part = next((p for p in read_all(self.conn) if p.part == "fingerprint"), None)
        return part.status.value if part else None

    def wait(self, predicate, timeout: float = WAIT) -> bool:  # type: ignore[no-untyped-def]
        return self.sim.simulator.wait_for(predicate, timeout)


def make_unit(path: Path, family: str = "zhiantec", **fp: object) -> Unit:
    config = KioskConfig()
    config.clock.state = "synced"
    config.privacy.key_provider, config.privacy.sim_otp_hex = "sim", os.urandom(32).hex()  # each unit its own key
    settings = {
        "module": "sim",
        "sim_family": family,
        "poll_ms": 10,
        "timeout_s": 0.3,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "enrol_timeout_s": 5,
        **fp,
    }
    for key, value in settings.items():
        setattr(config.fingerprint, key, value)
    runtime = Runtime(config=config, data_dir=path, clock=FakeClock())
    conn = runtime.connect()
    runtime.identity()
    unit = Unit(runtime, conn, start_simulated_bridge(runtime, classify=None, pace=False))
    assert unit.sim.service.connected.wait(WAIT)
    return unit


@pytest.fixture
def units(tmp_path: Path) -> Iterator[list[Unit]]:
    made: list[Unit] = []
    yield made
    for unit in made:
        unit.sim.stop()
        unit.conn.close()


def add_employee(conn: sqlite3.Connection, employee_id: str, name: str) -> None:
    conn.execute("INSERT INTO employees (id, name, source, updated_at) VALUES (?, ?, 'local', 'now')", (employee_id, name))


def enrol_on(unit: Unit, employee_id: str, finger: int = 0) -> int:
    sim = unit.sim.simulator
    request = api.request_enrolment(unit.conn, employee_id, finger, requested_by="teknisi", now=unit.runtime.clock.now())

    def message() -> str:
        status = api.enrolment_status(unit.conn, request)
        assert status is not None
        return status.message

    captures = unit.sim.service.module.enrol_captures  # type: ignore[union-attr]
    for step in range(1, captures + 1):
        assert unit.wait(lambda step=step: message().startswith(f"Letakkan jari ({step}/")), message()
        sim.place_finger(sim_finger_name(employee_id, finger))
        if step < captures:
            assert unit.wait(lambda: message() == "Angkat jari"), message()
            assert sim.lift_and_wait_seen()
    assert unit.wait(lambda: api.enrolment_status(unit.conn, request).finished)  # type: ignore[union-attr]
    status = api.enrolment_status(unit.conn, request)
    assert status is not None and status.state == api.DONE, status
    assert sim.lift_and_wait_seen()
    assert status.template_id is not None
    return status.template_id


def roster_from(source: Unit, employee_id: str, version: int) -> dict[str, object]:
    """What the server would send unit B after unit A uploaded its enrolment."""
    row = source.conn.execute("SELECT * FROM finger_templates WHERE employee_id = ?", (employee_id,)).fetchone()
    raw = FingerDB(source.conn, sealer=source.runtime.template_key.sealer()).template_bytes(row["id"])
    name = source.conn.execute("SELECT name FROM employees WHERE id = ?", (employee_id,)).fetchone()["name"]
    return {
        "version": version,
        "employees": [
            {
                "id": employee_id,
                "name": name,
                "fingers": [{"finger": row["finger"], "family": row["family"], "template": base64.b64encode(raw).decode()}],
            }
        ],
    }


@pytest.mark.parametrize("family", ["zhiantec", "gt521"])
def test_enrol_on_a_sync_identify_on_b_then_remove(tmp_path: Path, units: list[Unit], family: str) -> None:
    a = make_unit(tmp_path / "a", family)
    units.append(a)
    b = make_unit(tmp_path / "b", family)
    units.append(b)
    add_employee(a.conn, "199001012019032002", "Siti Aminah")
    template_id = enrol_on(a, "199001012019032002")
    row = a.conn.execute(
        "SELECT source, scheme, length(template) AS n FROM finger_templates WHERE id = ?", (template_id,)
    ).fetchone()
    assert (row["source"], row["scheme"]) == ("local", "aesgcm-v1")  # sealed with A's key
    assert len(a.sim.simulator.library) == 1

    # The same finger on A punches there too (a fresh touch after the enrolment).
    a.sim.place_enrolled_finger("199001012019032002")
    assert a.wait(lambda: a.punches() == [("199001012019032002", "finger")])

    apply_roster(b.conn, roster_from(a, "199001012019032002", 1), b.runtime.clock.now())
    assert b.wait(lambda: len(b.sim.simulator.library) == 1), "the roster's template never reached module B"
    assert b.wait(lambda: FingerDB(b.conn).slots(b.sim.service.module_id) != {})
    b.sim.place_enrolled_finger("199001012019032002")
    assert b.wait(lambda: b.punches() == [("199001012019032002", "finger")])
    feedback = b.conn.execute("SELECT kind, text FROM finger_feedback ORDER BY id DESC LIMIT 1").fetchone()
    assert b.wait(lambda: b.conn.execute("SELECT count(*) FROM finger_feedback WHERE kind = 'accepted'").fetchone()[0] == 1)
    feedback = b.conn.execute("SELECT text FROM finger_feedback WHERE kind = 'accepted'").fetchone()
    assert "Siti Aminah" in feedback["text"]

    # An unknown finger on B: no punch, the screen says so.
    assert b.sim.simulator.lift_and_wait_seen()
    b.sim.place_unknown_finger()
    assert b.wait(lambda: b.conn.execute("SELECT count(*) FROM finger_feedback WHERE kind = 'unknown'").fetchone()[0] >= 1)
    assert len(b.punches()) == 1

    apply_roster(b.conn, {"version": 2, "removed_employees": ["199001012019032002"]}, b.runtime.clock.now())
    assert b.wait(lambda: b.sim.simulator.library == {}), "the removed employee's template stayed on module B"
    assert FingerDB(b.conn).slots(b.sim.service.module_id) == {}


def test_unplug_replug_loses_and_doubles_nothing(tmp_path: Path, units: list[Unit]) -> None:
    unit = make_unit(tmp_path / "u", duplicate_interval_s=0)
    units.append(unit)
    add_employee(unit.conn, "E1", "Budi")
    enrol_on(unit, "E1")
    sim = unit.sim.simulator
    service = unit.sim.service
    connects = service.stats.connects

    sim.unplug()
    assert unit.wait(lambda: unit.health() == Health.FAIL.value)
    part = next(p for p in read_all(unit.conn) if p.part == "fingerprint")
    assert (part.last_error and "unplugged" in part.last_error) or "cannot open" in (part.last_error or "")
    sim.place_finger(sim_finger_name("E1"))  # someone tries while it is out
    sim.replug()
    assert unit.wait(lambda: service.stats.connects > connects and unit.health() == Health.OK.value)
    assert unit.wait(lambda: len(unit.punches()) == 1)
    # The finger stays on the glass across more polls: still one punch.
    polls = len(sim.commands)
    assert unit.wait(lambda: len(sim.commands) > polls + 20)
    assert unit.punches() == [("E1", "finger")]

    # Unplug again right after the punch, with the finger still there: no second punch.
    sim.unplug()
    assert unit.wait(lambda: unit.health() == Health.FAIL.value)
    sim.replug()
    assert unit.wait(lambda: unit.health() == Health.OK.value)
    polls = len(sim.commands)
    assert unit.wait(lambda: len(sim.commands) > polls + 20)
    assert unit.punches() == [("E1", "finger")]
    # A new touch is a new punch.
    assert sim.lift_and_wait_seen()
    sim.place_finger(sim_finger_name("E1"))
    assert unit.wait(lambda: len(unit.punches()) == 2)


def test_stall_mid_search_and_mid_template_transfer(tmp_path: Path, units: list[Unit]) -> None:
    unit = make_unit(tmp_path / "s", duplicate_interval_s=0)
    units.append(unit)
    sim = unit.sim.simulator
    service = unit.sim.service
    add_employee(unit.conn, "E2", "Citra")
    enrol_on(unit, "E2")

    # Stall while answering: the finger is captured, the Search ack never comes.
    sim.stall(after_frames=2)  # GenImg ok, Img2Tz ok, then silence
    sim.place_finger(sim_finger_name("E2"))
    assert unit.wait(lambda: sim.stalled)
    assert unit.wait(lambda: unit.health() == Health.FAIL.value)
    assert unit.punches() == []
    sim.unstall()
    assert unit.wait(lambda: len(unit.punches()) == 1)
    assert sim.lift_and_wait_seen()

    # Stall in the middle of writing a roster template (data packets half sent / ack lost).
    other = make_unit(tmp_path / "other")
    units.append(other)
    add_employee(other.conn, "E3", "Dedi")
    enrol_on(other, "E3")
    faults = service.stats.faults
    sim.stall(1, on_command=0x09)  # DownChar acked, its data packets then fall on deaf ears
    apply_roster(unit.conn, roster_from(other, "E3", 1), unit.runtime.clock.now())
    assert unit.wait(lambda: service.stats.faults > faults)
    sim.unstall()
    assert unit.wait(lambda: len(FingerDB(unit.conn).slots(service.module_id)) == 2)
    assert unit.wait(lambda: len(sim.library) == 2)
    sim.place_finger(sim_finger_name("E3"))
    assert unit.wait(lambda: unit.punches() == [("E2", "finger"), ("E3", "finger")])
    assert sorted(set(sim.library)) == sorted(FingerDB(unit.conn).slots(service.module_id))

    # Stall while reading an enrolled template back (UpChar: ack, one data packet, silence).
    add_employee(unit.conn, "E5", "Fajar")
    assert sim.lift_and_wait_seen()
    faults = service.stats.faults
    sim.stall(2, on_command=0x08)
    request = api.request_enrolment(unit.conn, "E5", 0, requested_by="t", now=unit.runtime.clock.now())
    for step in (1, 2):
        assert unit.wait(
            lambda step=step: api.enrolment_status(unit.conn, request).message.startswith(f"Letakkan jari ({step}")
        ), api.enrolment_status(unit.conn, request)
        sim.place_finger(sim_finger_name("E5"))
        if step == 1:
            assert unit.wait(lambda: api.enrolment_status(unit.conn, request).message == "Angkat jari")  # type: ignore[union-attr]
            assert sim.lift_and_wait_seen()
    assert unit.wait(lambda: api.enrolment_status(unit.conn, request).state == api.FAILED)  # type: ignore[union-attr]
    assert "terputus" in api.enrolment_status(unit.conn, request).message  # type: ignore[union-attr]
    assert unit.wait(lambda: service.stats.faults > faults)
    sim.unstall()
    # The half-enrolled template left on the module is an orphan: reconciliation removes it.
    assert unit.wait(lambda: unit.health() == Health.OK.value and len(sim.library) == 2)
    assert unit.punches() == [("E2", "finger"), ("E3", "finger")]


def test_enrolment_api_refuses_unknown_and_can_cancel(tmp_path: Path, units: list[Unit]) -> None:
    from core.errors import EnrolmentError

    unit = make_unit(tmp_path / "e")
    units.append(unit)
    now = unit.runtime.clock.now()
    with pytest.raises(EnrolmentError, match="no active employee"):
        api.request_enrolment(unit.conn, "nobody", 0, requested_by="t", now=now)
    add_employee(unit.conn, "E4", "Eka")
    request = api.request_enrolment(unit.conn, "E4", 1, requested_by="t", now=now)
    with pytest.raises(EnrolmentError, match="still in progress"):
        api.request_enrolment(unit.conn, "E4", 2, requested_by="t", now=now)
    assert unit.wait(lambda: api.enrolment_status(unit.conn, request).state == api.CAPTURING)  # type: ignore[union-attr]
    assert api.cancel_enrolment(unit.conn, request, now=now)
    assert unit.wait(lambda: unit.sim.service.stats.enrolments == 0 and not unit.sim.service._stop.is_set())
    unit.sim.simulator.place_finger(sim_finger_name("E4", 1))
    polls = len(unit.sim.simulator.commands)
    assert unit.wait(lambda: len(unit.sim.simulator.commands) > polls + 10)
    status = api.enrolment_status(unit.conn, request)
    assert status is not None and status.state == api.CANCELLED
    assert unit.sim.simulator.library == {}


def test_doctor_reports_the_module_fault(tmp_path: Path, units: list[Unit]) -> None:
    from kiosk.checks.fingerprint import fingerprint_module

    unit = make_unit(tmp_path / "d")
    units.append(unit)
    assert unit.wait(lambda: unit.health() == Health.OK.value)
    rt = Runtime(config=unit.runtime.config, data_dir=unit.runtime.data_dir, clock=unit.runtime.clock)
    assert [f.status for f in fingerprint_module(rt)] == [Status.OK]
    unit.sim.simulator.unplug()
    assert unit.wait(lambda: unit.health() == Health.FAIL.value)
    findings = fingerprint_module(rt)
    assert findings[0].status is Status.FAIL and "cable" in findings[0].todo
    unit.sim.simulator.replug()
    assert unit.wait(lambda: unit.health() == Health.OK.value)


def test_demo_helper_places_an_enrolled_or_unknown_finger(tmp_path: Path, units: list[Unit]) -> None:
    from firmware_bridge.factory import seed_sim_template

    unit = make_unit(tmp_path / "demo")
    units.append(unit)
    add_employee(unit.conn, "198503302010011001", "Rina")
    seed_sim_template(unit.conn, "198503302010011001", now=unit.runtime.clock.now())
    assert unit.wait(lambda: len(unit.sim.simulator.library) == 1)
    unit.sim.place_enrolled_finger("198503302010011001")
    assert unit.wait(lambda: unit.punches() == [("198503302010011001", "finger")])
    unit.sim.lift()
    assert unit.sim.simulator.lift_and_wait_seen()
    unit.sim.place_unknown_finger()
    assert unit.wait(lambda: unit.conn.execute("SELECT count(*) FROM finger_feedback WHERE kind = 'unknown'").fetchone()[0] == 1)
    assert len(unit.punches()) == 1
