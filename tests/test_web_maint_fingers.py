"""Finger enrolment from the maintenance page through the real fingerprint bridge.

The bridge runs on a simulated ZhianTec module on a pty (the driver that ships, the real byte
protocol), with its own connection to a real SQLite file; the page's side is
:class:`BridgeFingerEnrolment` and the maintenance app's routes. The test plays the person at the
module: it places and lifts the simulated finger when the bridge's prompt asks for it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.clock import FakeClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store.accounts import Role
from firmware_bridge import enrolment as bridge_api
from firmware_bridge.factory import SimulatedUnit, sim_finger_name, start_simulated_bridge
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.maintenance.fingers import BridgeFingerEnrolment, finger_enrolment, latest_for, prompt_of
from kiosk.web.ports import EnrolResult, Services
from kiosk.web.sources.netprobe import ServerProbe

WAIT = 10.0
EMPLOYEE = "198503302010011001"
PASSWORD = "sandi-yang-kuat-1"


def make_runtime(path: Path, module: str = "sim") -> Runtime:
    config = KioskConfig()
    config.clock.state = "synced"
    config.unit.hardware = "sim"
    settings = {"module": module, "poll_ms": 10, "timeout_s": 0.3, "backoff_initial_s": 0.05, "backoff_max_s": 0.2}
    for key, value in settings.items():
        setattr(config.fingerprint, key, value)
    config.fingerprint.enrol_timeout_s = 5
    return Runtime(config=config, data_dir=path, clock=FakeClock())


@dataclass
class Unit:
    runtime: Runtime
    conn: sqlite3.Connection
    bridge: SimulatedUnit

    def progress(self) -> bridge_api.Enrolment | None:
        row = self.conn.execute("SELECT id FROM finger_enrolments ORDER BY id DESC LIMIT 1").fetchone()
        return bridge_api.enrolment_status(self.conn, row["id"]) if row else None

    def message(self) -> str:
        status = self.progress()
        return status.message if status else ""

    def wait(self, predicate, timeout: float = WAIT) -> bool:  # type: ignore[no-untyped-def]
        return self.bridge.simulator.wait_for(predicate, timeout)

    def punches(self) -> list[tuple[str, str]]:
        return [
            (r["employee_id"], r["method"]) for r in self.conn.execute("SELECT employee_id, method FROM punches ORDER BY seq")
        ]


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Unit]:
    runtime = make_runtime(tmp_path)
    conn = runtime.connect()
    runtime.identity()
    conn.execute("INSERT INTO employees (id, name, source, updated_at) VALUES (?, 'Budi Santoso', 'local', 'x')", (EMPLOYEE,))
    made = Unit(runtime, conn, start_simulated_bridge(runtime, classify=None, pace=False))
    assert made.bridge.service.connected.wait(WAIT)
    yield made
    made.bridge.stop()
    conn.close()


def play_the_person(unit: Unit, finger_name: str, prompts: list[str]) -> threading.Thread:
    """Place, lift and place again as the bridge asks; every prompt seen goes into ``prompts``."""
    sim = unit.bridge.simulator

    def seen(text: str) -> bool:
        status = unit.progress()
        if status is None:
            return False
        shown = prompt_of(status)
        if not prompts or prompts[-1] != shown:
            prompts.append(shown)
        return shown.startswith(text) or status.finished

    def run() -> None:
        if not unit.wait(lambda: seen("Letakkan jari (1/")):
            return
        sim.place_finger(finger_name)
        if not unit.wait(lambda: seen("Angkat jari")):
            return
        sim.lift_and_wait_seen()
        if not unit.wait(lambda: seen("Letakkan jari yang sama lagi")):
            return
        sim.place_finger(finger_name)
        unit.wait(lambda: seen("Sidik jari terdaftar"))
        sim.lift_and_wait_seen()

    thread = threading.Thread(target=run, name="person-at-module", daemon=True)
    thread.start()
    return thread


def test_enrolment_through_the_bridge_then_the_finger_punches(unit: Unit) -> None:
    enrol = finger_enrolment(unit.runtime)
    assert isinstance(enrol, BridgeFingerEnrolment)
    prompts: list[str] = []
    person = play_the_person(unit, sim_finger_name(EMPLOYEE, 1), prompts)
    result = enrol.enrol_finger(EMPLOYEE, 1, timeout_s=WAIT)
    person.join(WAIT)
    assert result.ok, result
    assert result.message == "Sidik jari (telunjuk kanan) terdaftar."
    assert result.detail["state"] == "done" and "template_id" in result.detail
    for expected in ("Letakkan jari (1/2)", "Angkat jari", "Letakkan jari yang sama lagi (2/2)"):
        assert expected in prompts, prompts
    row = unit.conn.execute("SELECT finger, source FROM finger_templates WHERE employee_id = ?", (EMPLOYEE,)).fetchone()
    assert (row["finger"], row["source"]) == (1, "local")
    # the same finger on the glass now punches
    unit.bridge.simulator.place_finger(sim_finger_name(EMPLOYEE, 1))
    assert unit.wait(lambda: unit.punches() == [(EMPLOYEE, "finger")]), unit.punches()
    # another finger is not that employee
    assert unit.bridge.simulator.lift_and_wait_seen()
    unit.bridge.simulator.place_finger(sim_finger_name(EMPLOYEE, 2))
    assert unit.wait(lambda: unit.bridge.service.stats.unknown == 1)
    assert unit.punches() == [(EMPLOYEE, "finger")]


def test_a_bridge_that_never_answers_is_reported_and_the_request_cancelled(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    conn = runtime.connect()
    conn.execute("INSERT INTO employees (id, name, source, updated_at) VALUES (?, 'Budi', 'local', 'x')", (EMPLOYEE,))
    ticks = iter(float(i) for i in range(1000))  # an injected monotonic: one second per look, no sleeping
    enrol = BridgeFingerEnrolment(
        runtime.connect, runtime.clock, pickup_timeout_s=3, monotonic=lambda: next(ticks), wait=lambda s: None
    )
    result = enrol.enrol_finger(EMPLOYEE, 0, timeout_s=60)
    assert not result.ok and "tidak menjawab" in result.message and result.detail["state"] == "bridge_silent"
    status = latest_for(conn, EMPLOYEE)
    assert status is not None and status.state == "cancelled"  # it will not fire later at an empty module
    conn.close()


def test_a_person_who_never_comes_back_times_out_and_the_bridge_stops(unit: Unit) -> None:
    enrol = BridgeFingerEnrolment(unit.runtime.connect, unit.runtime.clock)
    sim = unit.bridge.simulator

    def place_once() -> None:
        if unit.wait(lambda: unit.message().startswith("Letakkan jari (1/")):
            sim.place_finger(sim_finger_name(EMPLOYEE, 0))

    threading.Thread(target=place_once, daemon=True).start()
    result = enrol.enrol_finger(EMPLOYEE, 0, timeout_s=1.5)  # the finger stays on: "Angkat jari" never ends
    assert not result.ok and result.message.startswith("Waktu habis")
    assert unit.progress().state == "cancelled"  # type: ignore[union-attr]
    assert unit.conn.execute("SELECT count(*) FROM finger_templates").fetchone()[0] == 0
    # the bridge is free again: a new enrolment is accepted and picked up
    assert sim.lift_and_wait_seen()
    again = bridge_api.request_enrolment(unit.conn, EMPLOYEE, 0, requested_by="t", now=unit.runtime.clock.now())
    assert unit.wait(lambda: unit.message().startswith("Letakkan jari (1/"))
    assert bridge_api.cancel_enrolment(unit.conn, again, now=unit.runtime.clock.now())


def test_refusals_are_plain_language(unit: Unit) -> None:
    enrol = BridgeFingerEnrolment(unit.runtime.connect, unit.runtime.clock)
    assert enrol.enrol_finger("TIDAK-ADA", 0, timeout_s=1) == EnrolResult(False, "Pegawai tidak ditemukan", {"state": "refused"})
    busy = bridge_api.request_enrolment(unit.conn, EMPLOYEE, 3, requested_by="cli", now=unit.runtime.clock.now())
    refused = enrol.enrol_finger(EMPLOYEE, 0, timeout_s=1)
    assert not refused.ok and refused.message == "Pendaftaran lain sedang berjalan"
    assert bridge_api.cancel_enrolment(unit.conn, busy, now=unit.runtime.clock.now())


def test_no_module_configured_means_no_enrolment(tmp_path: Path) -> None:
    assert finger_enrolment(make_runtime(tmp_path, module="none")) is None
    assert isinstance(finger_enrolment(make_runtime(tmp_path, module="zhiantec")), BridgeFingerEnrolment)


# -- the routes ------------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def test_routes_show_progress_cancel_and_audit(unit: Unit) -> None:
    rt = unit.runtime
    ctx = WebContext(
        config=rt.config,
        connect=rt.connect,
        services=Services(fingers=finger_enrolment(rt), system=SimSystemActions()),
        clock=rt.clock,
        data_dir=rt.data_dir,
        probe=ServerProbe("").run,
        watch_punches=False,
    )
    accounts = ctx.accounts()
    code = accounts.setup_code()
    assert code
    accounts.create_first(code, "kepala", PASSWORD, "127.0.0.1")
    accounts.create("teknisi", PASSWORD, [Role.TECHNICIAN], by="kepala")
    client = TestClient(create_maintenance_app(ctx), base_url="https://testserver")
    page = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_of(page.text), "username": "kepala", "password": PASSWORD})
    page = client.get(f"/employees/{EMPLOYEE}")
    assert 'id="finger-form"' in page.text and "disabled" not in page.text.split('id="enrol-finger"')[1][:20]
    csrf = csrf_of(page.text)
    assert client.get("/api/fingers/enrolment", params={"employee_id": EMPLOYEE}).json() == {"found": False} | {
        k: None
        for k in ("id", "employee_id", "finger", "state", "step", "message", "prompt", "finished", "requested_by", "updated_at")
    }

    answer: dict[str, object] = {}

    def post() -> None:
        r = client.post(f"/employees/{EMPLOYEE}/finger", data={"csrf_token": csrf, "finger": "4"})
        answer["status"], answer["text"] = r.status_code, r.text

    poster = threading.Thread(target=post, daemon=True)
    poster.start()
    assert unit.wait(lambda: unit.message().startswith("Letakkan jari (1/"))
    shown = client.get("/api/fingers/enrolment", params={"employee_id": EMPLOYEE}).json()
    assert shown["found"] and shown["state"] == "capturing" and shown["prompt"] == "Letakkan jari (1/2)" and shown["finger"] == 4
    cancel = client.post("/api/fingers/enrolment/cancel", params={"employee_id": EMPLOYEE}, headers={"X-CSRF-Token": csrf})
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled"
    poster.join(WAIT)
    assert answer["status"] == 422 and "Dibatalkan" in str(answer["text"])

    # a technician may not enrol
    tech = TestClient(create_maintenance_app(ctx), base_url="https://testserver")
    page = tech.get("/login")
    tech.post("/login", data={"csrf_token": csrf_of(page.text), "username": "teknisi", "password": PASSWORD})
    assert tech.get("/api/fingers/enrolment", params={"employee_id": EMPLOYEE}).status_code == 403

    actions = [(r["actor"], r["action"]) for r in unit.conn.execute("SELECT actor, action FROM audit_log ORDER BY id")]
    assert ("kepala", "finger.enrol.cancel") in actions and ("kepala", "finger.enrol.failed") in actions
    ctx.db.close_all()
