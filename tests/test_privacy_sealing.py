"""Templates sealed at rest through the real kiosk code (issue 12): enrolment, roster, bridge,
plain rows sealed on first open, and a copied data directory that yields no template and says why."""

from __future__ import annotations

import base64
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.face_data import detector, faces, image

from core.clock import FakeClock
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.privacy import TemplateKeyError
from core.runtime import Runtime
from core.store import roster
from core.store.db import open_database
from core.store.finger_templates import FingerDB, seal_template
from core.templates import face as templates
from firmware_bridge.factory import seed_sim_template, start_simulated_bridge
from kiosk.camera.sim import SimCamera
from kiosk.checks.findings import Status
from kiosk.checks.privacy import stored_templates, template_key
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.enroll import Enroller
from kiosk.face.identify import Gallery
from kiosk.face.pipeline import SkipLiveness
from kiosk.face.service import FaceService
from sync.roster_pull import apply_roster

KEY_A = "a1" * 32
KEY_B = "b2" * 32
OBAMA = "196108041990031001"


def unit(path: Path, otp_hex: str, clock: FakeClock | None = None) -> Runtime:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "synced"
    config.privacy.key_provider, config.privacy.sim_otp_hex = "sim", otp_hex
    config.fingerprint.module, config.fingerprint.poll_ms, config.fingerprint.timeout_s = "sim", 10, 0.3
    return Runtime(config=config, data_dir=path, clock=clock or FakeClock())


def enrol_obama(rt: Runtime, faces_dir: Path) -> None:
    enroller = Enroller(rt.store().conn, rt.config.face, rt.clock, detector=detector())
    enroller.enrol_photos(OBAMA, "Barack Obama", [faces_dir / "train" / "obama" / "obama.jpg"])


def errors_from(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno >= logging.ERROR]


def test_enrolment_seals_and_the_gallery_opens(tmp_path: Path, faces_dir: Path) -> None:
    rt = unit(tmp_path / "u", KEY_A)
    enrol_obama(rt, faces_dir)
    conn = rt.store().conn
    row = conn.execute("SELECT encoding, scheme FROM face_templates").fetchone()
    assert row["scheme"] == "aesgcm-v1"
    probe = faces(faces_dir / "obama-720p.jpg")[0].encoding
    stored = bytes(row["encoding"])
    plain = templates.unseal(stored, row["scheme"], employee_id=OBAMA, sealer=rt.template_key.sealer())
    assert plain.astype("<f4").tobytes() not in stored and plain.astype("<f4").tobytes()[:16] not in stored
    match = Gallery.from_database(conn).identify(probe, threshold=rt.config.face.threshold, margin=rt.config.face.margin)
    assert match.accepted and match.employee_id == OBAMA
    # Bound to its employee: moved to another employee's row it does not open.
    roster.upsert_employee(conn, "X", "Orang lain", now=rt.clock.now())
    conn.execute("UPDATE face_templates SET employee_id = 'X'")
    gallery = Gallery.from_database(conn)
    assert len(gallery) == 0 and gallery.unreadable == 1 and "integrity" in (gallery.problem or "")
    rt.close()


def test_roster_templates_are_sealed_on_arrival(tmp_path: Path) -> None:
    rt = unit(tmp_path / "u", KEY_A)
    conn = rt.connect()
    encoding = np.linspace(-0.2, 0.2, 128, dtype="<f4")
    finger = bytes(range(200)) * 2
    doc = {
        "version": 1,
        "employees": [
            {
                "id": "E1",
                "name": "Siti",
                "faces": [{"encoding": base64.b64encode(encoding.tobytes()).decode(), "scheme": "plain"}],
                "fingers": [{"finger": 2, "family": "zhiantec", "template": base64.b64encode(finger).decode()}],
            }
        ],
    }
    apply_roster(conn, doc, rt.clock.now())
    face = conn.execute("SELECT encoding, scheme FROM face_templates").fetchone()
    fp = conn.execute("SELECT id, template, scheme FROM finger_templates").fetchone()
    assert face["scheme"] == fp["scheme"] == "aesgcm-v1"
    assert encoding.tobytes()[:16] not in bytes(face["encoding"]) and finger[:16] not in bytes(fp["template"])
    assert np.array_equal(Gallery.from_database(conn).matrix[0], encoding)
    assert FingerDB(conn, sealer=rt.template_key.sealer()).template_bytes(fp["id"]) == finger
    conn.close()


def test_plain_rows_from_an_older_version_are_sealed_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "u"
    bare = open_database(path / "presensi.db")  # written as before sealing existed: no unit key
    clock = FakeClock()
    roster.upsert_employee(bare, "E1", "Budi", now=clock.now())
    encoding = np.linspace(0.1, -0.1, 128, dtype="<f4")
    blob, scheme = templates.seal(encoding)
    assert scheme == "plain"
    roster.add_face_template(bare, "E1", blob, scheme, now=clock.now())
    raw = b"\x03\x01" + bytes(range(256)) * 2
    stored, scheme, digest = seal_template(raw, employee_id="E1", finger=1, family="gt521")
    bare.execute(
        "INSERT INTO finger_templates (employee_id, finger, family, template, scheme, digest, created_at) "
        "VALUES ('E1', 1, 'gt521', ?, ?, ?, '')",
        (stored, scheme, digest),
    )
    bare.close()
    rt = unit(path, KEY_A, clock)
    conn = rt.connect()
    rows = conn.execute("SELECT scheme FROM face_templates UNION ALL SELECT scheme FROM finger_templates").fetchall()
    assert [r[0] for r in rows] == ["aesgcm-v1", "aesgcm-v1"]
    assert blob not in conn.execute("SELECT encoding FROM face_templates").fetchone()[0]
    assert np.array_equal(Gallery.from_database(conn).matrix[0], encoding)
    tid = conn.execute("SELECT id FROM finger_templates").fetchone()[0]
    assert FingerDB(conn, sealer=rt.template_key.sealer()).template_bytes(tid) == raw
    assert [f.status for f in stored_templates(rt)] == [Status.OK]
    conn.close()


def test_a_copied_data_dir_under_another_key_yields_no_template_and_says_why(
    tmp_path: Path, faces_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An older unit whose signing key is still a plain file (a sealed one would not sign in the
    # other unit at all: tests/test_privacy_device_key.py); its templates are sealed.
    DeviceIdentity.load_or_create(tmp_path / "a")
    a = unit(tmp_path / "a", KEY_A)
    enrol_obama(a, faces_dir)
    seed_sim_template(a.store().conn, OBAMA, now=a.clock.now())
    assert len(Gallery.from_database(a.store().conn)) == 1  # the unit that sealed them opens them
    assert [f.status for f in stored_templates(a)] == [Status.OK]
    a.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the SD card, copied into another unit
    b = unit(tmp_path / "b", KEY_B)

    caplog.set_level(logging.INFO)
    store = b.store()
    camera = SimCamera(b.clock, width=800, height=600, fps=10)
    service = FaceService(b.config, store, camera, SkipLiveness("test"), b.clock, health_interval_s=0.2)
    lines = errors_from(caplog, "kiosk.face.identify")
    assert len(lines) == 1 and "another unit's key" in lines[0] and "restore the key" in lines[0], lines
    assert len(service.pipeline.gallery) == 0
    decided = threading.Event()
    decisions: list[FaceAttempt] = []
    service.subscribe(lambda d: (decisions.append(d), decided.set()))
    camera.show(image(faces_dir / "obama-720p.jpg"))
    with service:
        assert decided.wait(60), f"no decision; last error {service.last_error}"
    assert decisions[0].outcome is Outcome.UNKNOWN and store.count() == 0

    doctor = stored_templates(b)
    assert doctor[0].status is Status.FAIL
    assert "another unit's key" in doctor[0].detail and "1 of 1 face, 1 of 1 finger" in doctor[0].detail
    assert "re-enrol" in doctor[0].todo and "restore the key" in doctor[0].todo

    # The fingerprint bridge of the new unit (its own, empty module): starts, says why once,
    # and writes nothing it cannot open.
    bridge = start_simulated_bridge(b, pace=False)
    try:
        assert bridge.service.connected.wait(10)
        assert bridge.simulator.library == {}
        lines = errors_from(caplog, "firmware_bridge.factory")
        assert len(lines) == 1 and "1 finger templates cannot be opened" in lines[0] and "restore the key" in lines[0]
        assert bridge.service.running
    finally:
        bridge.stop()
    b.close()


def test_no_key_yields_no_template_refuses_enrolment_and_doctor_fails(
    tmp_path: Path, faces_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = unit(tmp_path / "a", KEY_A)
    conn = a.connect()
    roster.upsert_employee(conn, "E1", "Budi", now=a.clock.now())
    blob, scheme = templates.seal(np.ones(128) / 12, employee_id="E1", sealer=a.template_key.sealer())
    roster.add_face_template(conn, "E1", blob, scheme, now=a.clock.now())
    conn.close()
    shutil.copytree(tmp_path / "a", tmp_path / "c")
    c = unit(tmp_path / "c", "")  # the OTP was never provisioned
    caplog.set_level(logging.INFO)
    conn = c.connect()
    gallery = Gallery.from_database(conn)
    assert len(gallery) == 0 and gallery.unreadable == 1
    lines = errors_from(caplog, "kiosk.face.identify")
    assert len(lines) == 1 and "cannot be read" in lines[0] and "provision" in lines[0]
    key = template_key(c)
    assert key[0].status is Status.FAIL and "provision" in key[0].detail
    assert stored_templates(c)[0].status is Status.FAIL
    with pytest.raises(TemplateKeyError):
        Enroller(conn, c.config.face, c.clock, detector=detector()).enrol_photos(
            "E2", "Ani", [faces_dir / "train" / "obama" / "obama.jpg"]
        )
    assert conn.execute("SELECT count(*) FROM face_templates").fetchone()[0] == 1  # nothing stored plain
    assert conn.execute("SELECT count(*) FROM employees WHERE id = 'E2'").fetchone()[0] == 0
    conn.close()


def test_while_the_key_cannot_be_read_the_module_keeps_its_templates(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A key that cannot be read for a while (a key file not yet restored) must not wipe the
    fingerprint module: nothing is deleted, nothing written, and the bridge says why. (An older
    unit with a plain signing key: with a sealed one an unreadable key also stops signing.)"""
    DeviceIdentity.load_or_create(tmp_path / "u")
    a = unit(tmp_path / "u", KEY_A)
    conn = a.connect()
    roster.upsert_employee(conn, OBAMA, "Barack Obama", now=a.clock.now())
    seed_sim_template(conn, OBAMA, now=a.clock.now())
    conn.close()
    bridge = start_simulated_bridge(a, pace=False)
    try:
        assert bridge.service.connected.wait(10)
        assert bridge.simulator.wait_for(lambda: len(bridge.simulator.library) == 1, 10)
    finally:
        bridge.stop()
    a.close()

    caplog.set_level(logging.INFO)
    same = unit(tmp_path / "u", "")  # the same unit, its key unreadable now
    bridge = start_simulated_bridge(same, pace=False)
    try:
        assert bridge.service.connected.wait(10)
        assert bridge.service.stats.reconciles >= 1
        assert len(bridge.simulator.library) == 1  # kept
        lines = errors_from(caplog, "firmware_bridge.factory")
        assert any("the module keeps its templates" in line for line in lines), lines
    finally:
        bridge.stop()
    same.close()


def test_a_key_restored_while_the_kiosk_runs_brings_the_faces_back(tmp_path: Path, faces_dir: Path) -> None:
    """The face service reports templates it cannot open (health FAIL, not "N enrolled") and
    loads them again once the key can be read, without a restart."""
    config = KioskConfig()
    config.unit.hardware, config.clock.state = "sim", "synced"
    config.privacy.key_provider, config.privacy.key_file = "keyfile", tmp_path / "keys" / "template.key"
    clock = FakeClock()
    first = Runtime(config=config, data_dir=tmp_path / "data", clock=clock)
    enrol_obama(first, faces_dir)
    first.close()
    saved = (tmp_path / "keys" / "template.key").read_bytes()
    shutil.rmtree(tmp_path / "keys")
    (tmp_path / "keys").write_text("not a folder")  # the key cannot be read (nor made) for now

    rt = Runtime(config=config, data_dir=tmp_path / "data", clock=clock)
    store = rt.store()
    camera = SimCamera(clock, width=640, height=480, fps=10)
    service = FaceService(config, store, camera, SkipLiveness("test"), clock, health_interval_s=0.05)
    assert len(service.pipeline.gallery) == 0 and service.pipeline.gallery.unreadable == 1
    watch = rt.connect()
    pause = threading.Event()

    def face_health() -> tuple[str, str] | None:
        row = watch.execute("SELECT status, detail FROM health WHERE part = 'face'").fetchone()
        return (row[0], row[1]) if row else None

    with service:
        for _ in range(200):
            if face_health() is not None:
                break
            pause.wait(0.05)
        status = face_health()
        assert status is not None and status[0] == "fail" and "cannot be opened" in status[1], status
        (tmp_path / "keys").unlink()
        (tmp_path / "keys").mkdir()
        (tmp_path / "keys" / "template.key").write_bytes(saved)
        (tmp_path / "keys" / "template.key").chmod(0o600)
        clock.advance(61)  # the next retry is due
        for _ in range(200):
            if len(service.pipeline.gallery) == 1:
                break
            pause.wait(0.05)
    assert len(service.pipeline.gallery) == 1 and service.pipeline.gallery.unreadable == 0
    watch.close()
    rt.close()
