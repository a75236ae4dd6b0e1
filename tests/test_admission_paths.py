"""Every punch path under the same rules: one person punching by face, by card and by finger at the
same times (each on a unit of its own, the same configuration) gets the same statuses, and they
are the statuses the work code's rules give. Real parts: the face pipeline on the shared photos,
the card service on the simulated reader, the fingerprint bridge on a simulated ZhianTec module on
a pty, each with its own connection to a real SQLite file; time on a FakeClock."""

from __future__ import annotations

import queue
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from helpers.face_data import detector, image, on_wall, train_gallery

from core.admission import UnitAdmission
from core.clock import FakeClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.schedule.workcodes import WorkCodeBook
from core.store import roster
from core.store.cards import bind_card
from core.store.punches import PunchStore
from firmware_bridge.factory import seed_sim_template, start_simulated_bridge
from kiosk.camera.base import Frame
from kiosk.cards.service import CardAttempt, CardService
from kiosk.cards.sim import SimCardReader
from kiosk.face.attempt import Outcome
from kiosk.face.pipeline import FacePipeline, SkipLiveness

WIB = timezone(timedelta(hours=7))
PERSON = "obama"  # the employee id the shared train gallery gives Obama's photos
CARD = "04AA00B1"
WAIT_S = 60.0
#: Mon–Fri 07:30–16:00 with the general window rule (masuk from 06:30, pulang until 19:00).
WORK_CODE = {
    "code": "UJI 5 HARI",
    "name": "Uji lima hari",
    "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat"], "hours": ["07:30", "16:00"]}],
}
#: Monday 7 December 2026, WIB: (local time, the status the rules give).
PUNCHES = [
    ("07:42", ("masuk", "terlambat", 12)),
    ("12:00", ("pulang", "pulang_cepat", 240)),
    ("16:05", ("pulang", "tepat_waktu", 0)),
]


def at(hhmm: str) -> datetime:
    """Monday 7 December 2026 at ``hhmm`` WIB (UTC+7), as UTC."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 12, 7, hours, minutes, 20, tzinfo=WIB).astimezone(UTC)


def unit(tmp_path: Path, name: str) -> Runtime:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.unit.zone = "Asia/Jakarta"
    config.clock.state = "synced"
    config.schedule.default_work_code = WORK_CODE["code"]  # the employee has none of their own
    config.privacy.key_provider, config.privacy.sim_otp_hex = "sim", "5e" * 32
    config.fingerprint.module = "sim"
    runtime = Runtime(config=config, data_dir=tmp_path / name, clock=FakeClock(at("06:00")))
    conn = runtime.connect()
    roster.upsert_employee(conn, PERSON, "Barack Obama", now=runtime.clock.now())
    WorkCodeBook(conn).put(WORK_CODE)
    conn.close()
    return runtime


def store_of(runtime: Runtime) -> PunchStore:
    conn = runtime.connect()
    return PunchStore(conn, runtime.identity(), runtime.clock, runtime.clock_state(conn), zone=runtime.config.unit.zone)


def statuses(runtime: Runtime) -> list[tuple[str, str, int]]:
    conn = runtime.connect()
    try:
        rows = conn.execute("SELECT kind, status, minutes FROM punches WHERE employee_id = ? ORDER BY seq", (PERSON,))
        return [(r[0], r[1], r[2]) for r in rows]
    finally:
        conn.close()


def by_face(runtime: Runtime, faces_dir: Path) -> list[tuple[str, str, int]]:
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    store = store_of(runtime)
    pipeline = FacePipeline(
        runtime.config.face,
        store=store,
        gallery=train_gallery(faces_dir),
        liveness=SkipLiveness("photos from disk"),
        clock=clock,
        detector=detector(),
        classify=UnitAdmission(runtime.config, store, clock),
    )
    person = on_wall(image(faces_dir / "test" / "obama1.jpg"), 1280, 960)
    nobody = on_wall(image(faces_dir / "test" / "obama1.jpg") * 0 + 110, 1280, 960)
    seq = 0
    for hhmm, _ in PUNCHES:
        clock.set_wall(at(hhmm))
        decided = []
        for _ in range(60):
            seq += 1
            clock.advance(0.1)
            decided += pipeline.process(Frame(person, clock.monotonic_ns(), seq)).decisions
            if decided:
                break
        assert decided and decided[0].outcome is Outcome.ACCEPTED, decided
        for _ in range(int(runtime.config.face.track_lost_s * 10) + 2):  # the person walks away
            seq += 1
            clock.advance(0.1)
            pipeline.process(Frame(nobody, clock.monotonic_ns(), seq))
    store.conn.close()
    return statuses(runtime)


def by_card(runtime: Runtime) -> list[tuple[str, str, int]]:
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    store = store_of(runtime)
    bind_card(store.conn, CARD, PERSON, actor="test", now=clock.now())
    reader = SimCardReader(clock=clock)
    answers: queue.Queue[CardAttempt] = queue.Queue()
    service = CardService(
        reader, store, config=runtime.config.cards, clock=clock, classify=UnitAdmission(runtime.config, store, clock)
    )
    service.subscribe(answers.put)
    service.start()
    try:
        assert service.wait_connected(WAIT_S)
        for hhmm, _ in PUNCHES:
            clock.set_wall(at(hhmm))
            reader.tap(CARD)
            answers.get(timeout=WAIT_S)
    finally:
        service.stop()
        store.conn.close()
    return statuses(runtime)


def by_finger(runtime: Runtime) -> list[tuple[str, str, int]]:
    """The bridge as ``presensi bridge run`` builds it (its own admission: none is passed)."""
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    conn = runtime.connect()
    seed_sim_template(conn, PERSON, now=clock.now())
    sim = start_simulated_bridge(runtime, pace=False)
    try:
        for count, (hhmm, _) in enumerate(PUNCHES, 1):
            clock.set_wall(at(hhmm))
            sim.place_enrolled_finger(PERSON)
            assert wait_for(lambda n=count: len(statuses(runtime)) >= n), f"no finger punch at {hhmm}"
            assert sim.simulator.lift_and_wait_seen()  # the bridge saw the glass empty: the next touch is new
    finally:
        sim.stop()
        conn.close()
    return statuses(runtime)


def wait_for(condition: Any) -> bool:
    """Until ``condition()`` holds, waiting on the bridge's own progress (its feedback rows)."""
    import threading

    done = threading.Event()
    for _ in range(int(WAIT_S / 0.05)):
        if condition():
            return True
        done.wait(0.05)
    return bool(condition())


@pytest.mark.timeout(300)
def test_face_card_and_finger_get_the_same_statuses_at_the_same_times(tmp_path: Path, faces_dir: Path) -> None:
    expected = [status for _, status in PUNCHES]
    face = by_face(unit(tmp_path, "face"), faces_dir)
    card = by_card(unit(tmp_path, "card"))
    finger = by_finger(unit(tmp_path, "finger"))
    assert face == expected, "face"
    assert card == expected, "card"
    assert finger == expected, "finger"


# -- the same on a unit started as the systemd units start it -------------------------------------

SERVICES_CONFIG = """
[unit]
hardware = "real"
zone = "Asia/Jakarta"
[clock]
state = "synced"
[camera]
source = "sim"
[face]
enabled = false
[cards]
reader = "serial"
device = "{card_port}"
[fingerprint]
module = "zhiantec"
port = "{finger_port}"
[privacy]
key_provider = "sim"
sim_otp_hex = "{otp}"
[schedule]
default_work_code = "UJI SEKARANG"
[web]
screen_port = {screen}
maintenance_port = {maint}
maintenance_host = "127.0.0.1"
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_card_and_finger_agree_on_a_unit_run_by_presensi_run_and_presensi_bridge_run(tmp_path: Path) -> None:
    """``presensi run`` (an RDM6300 card reader on a pty) and ``presensi bridge run`` (a ZhianTec
    module on a pty) as separate processes on one data directory, on a set day and hour: two colleagues on the
    unit's default work code punch seconds apart, one by card and one by finger; both punches get
    the status the rules give for their own instant (before, the bridge ignored the default work
    code and stored 'tanpa jadwal'). Face punches cannot be made from photos in this process (its
    liveness engine refuses them); the face path's agreement is the test above."""
    import os
    import shutil
    import signal
    import subprocess
    import sys

    from core.config import parse_config
    from core.schedule.classify import Schedule
    from firmware_bridge.factory import make_simulator, sim_finger_name
    from kiosk.cards.rdm6300_sim import Rdm6300Simulator

    if shutil.which("faketime") is None:
        pytest.skip("needs faketime to run the services at a set hour (apt-get install faketime)")
    # Both services run under libfaketime from Monday 7 December 2026, 08:10 WIB (their wall clock
    # advances from there; monotonic time stays real): the test never depends on when it runs.
    fake_start = at("08:10")
    work_code = {**WORK_CODE, "code": "UJI SEKARANG"}
    card_sim = Rdm6300Simulator(tmp_path / "rdm6300.pty").start()
    finger_sim = make_simulator("zhiantec", link=tmp_path / "zhiantec.pty", library_file=tmp_path / "module.json", pace=False)
    finger_sim.start()
    toml = SERVICES_CONFIG.format(
        card_port=tmp_path / "rdm6300.pty",
        finger_port=tmp_path / "zhiantec.pty",
        otp="5e" * 32,
        screen=_free_port(),
        maint=_free_port(),
    )
    (tmp_path / "kiosk.toml").write_text(toml)
    config = parse_config(toml)
    data = tmp_path / "data"
    runtime = Runtime(config=config, data_dir=data)
    conn = runtime.connect()
    for employee, name in (("CARD-1", "Siti Aminah"), ("FINGER-1", "Budi Santoso")):
        roster.upsert_employee(conn, employee, name, now=runtime.clock.now())
    WorkCodeBook(conn).put(work_code)
    bind_card(conn, "0A00B1C2D3", "CARD-1", actor="test", now=runtime.clock.now())
    seed_sim_template(conn, "FINGER-1", now=runtime.clock.now())
    env = {**os.environ, "PRESENSI_CLOCK_STATE": "synced", "TZ": "UTC", "DONT_FAKE_MONOTONIC": "1"}
    faked = ["faketime", "-f", f"@{fake_start:%Y-%m-%d %H:%M:%S}"]
    base = [*faked, sys.executable, "-m", "kiosk.cli", "--config", str(tmp_path / "kiosk.toml")]
    logs = [open(tmp_path / f"{n}.log", "wb") for n in ("run", "bridge")]  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen([*base, "run", "--data-dir", str(data)], env=env, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([*base, "bridge", "run", "--data-dir", str(data)], env=env, stdout=logs[1], stderr=subprocess.STDOUT),
    ]
    try:

        def punches() -> list[tuple[str, str, str, int, str]]:
            rows = conn.execute("SELECT employee_id, kind, status, minutes, instant FROM punches ORDER BY seq").fetchall()
            return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

        assert wait_for(lambda: len(finger_sim.library) == 1), "the bridge never wrote the template to the module"
        finger_sim.place_finger(sim_finger_name("FINGER-1"))
        assert wait_for(lambda: len(punches()) == 1), (tmp_path / "bridge.log").read_text()
        for _ in range(3):  # the reader opens its port when the kiosk has started: tap until it is heard
            card_sim.tap("0A00B1C2D3")
            if wait_for(lambda: len(punches()) == 2):
                break
        rows = punches()
        assert len(rows) == 2, (tmp_path / "run.log").read_text()[-2000:]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log_file in logs:
            log_file.close()
        card_sim.unplug()
        finger_sim.stop()
    from core.store.punches import parse_instant

    schedule = Schedule(conn, "Asia/Jakarta", default_work_code="UJI SEKARANG")
    for employee, kind, status, minutes, instant in rows:
        expected = schedule.classify(employee, parse_instant(instant), earlier=[])
        assert (kind, status, minutes) == (expected.kind, expected.status, expected.minutes), employee
        assert (kind, status) == ("masuk", "terlambat") and 40 <= minutes <= 45, employee
        assert parse_instant(instant).date() == fake_start.date(), instant
    conn.close()


def test_a_finger_punch_past_the_days_two_is_refused_by_a_tolak_work_code(tmp_path: Path) -> None:
    """extra_punch = "tolak" on the finger path as on the card path (tests/test_admission.py): the
    third punch of the day is not recorded and the screen's feedback says why."""
    runtime = unit(tmp_path, "finger-tolak")
    conn = runtime.connect()
    WorkCodeBook(conn).put({**WORK_CODE, "rule": {"max_after_end_min": 180, "punches_per_day": 2, "extra_punch": "tolak"}})
    seed_sim_template(conn, PERSON, now=runtime.clock.now())
    clock = runtime.clock
    assert isinstance(clock, FakeClock)

    def feedback() -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in conn.execute("SELECT kind, text FROM finger_feedback ORDER BY id")]

    sim = start_simulated_bridge(runtime, pace=False)
    try:
        for count, hhmm in enumerate(("07:20", "16:05", "16:40"), 1):
            clock.set_wall(at(hhmm))
            sim.place_enrolled_finger(PERSON)
            assert wait_for(lambda n=count: len([k for k, _ in feedback() if k in ("accepted", "refused")]) >= n), hhmm
            assert sim.simulator.lift_and_wait_seen()
    finally:
        sim.stop()
    assert statuses(runtime) == [("masuk", "tepat_waktu", 0), ("pulang", "tepat_waktu", 0)]
    kinds = [(k, t) for k, t in feedback() if k in ("accepted", "refused")]
    assert [k for k, _ in kinds] == ["accepted", "accepted", "refused"]
    assert kinds[2][1] == "Tidak dicatat – pulang sudah tercatat pukul 16:05 WIB"  # the card path's words
    conn.close()
