"""Evidence photos (privacy.evidence_photos): kept sealed with each face punch when turned on,
never in the clear, never at the cost of the punch; shown to Admin PD (audited), erased with
the employee."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers.face_data import detector, image, on_wall, train_gallery
from helpers.web_app import client_for, login, make_ctx, with_accounts

from core.clock import FakeClock, FixedClockState
from core.config import FaceConfig, KioskConfig
from core.identity import DeviceIdentity
from core.privacy import TemplateKeyError
from core.privacy.keys import SimOtpKeyProvider
from core.store.db import open_database
from core.store.erasure import erase_employee
from core.store.evidence import photo_of
from core.store.punches import PunchStore
from core.store.vault import UnitKey, register_unit
from kiosk.camera.base import Frame
from kiosk.camera.file import FileCamera
from kiosk.camera.sim import SimCamera
from kiosk.face.attempt import Outcome
from kiosk.face.enroll import Enroller
from kiosk.face.pipeline import FacePipeline, SkipLiveness
from kiosk.face.service import FaceService
from kiosk.privacy import evidence
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext

KEY = "c3" * 32


@pytest.fixture
def sealed_store(tmp_path: Path, identity: DeviceIdentity, clock: FakeClock) -> Iterator[PunchStore]:
    """A store whose database belongs to a unit with a (simulated OTP) key, as Runtime registers it."""
    path = tmp_path / "presensi.db"
    register_unit(path, UnitKey(SimOtpKeyProvider(KEY)))
    store = PunchStore(open_database(path), identity, clock, FixedClockState())
    yield store
    store.conn.close()


def punch_obama(store: PunchStore, clock: FakeClock, faces_dir: Path, keeper: evidence.EvidenceKeeper | None) -> FacePipeline:
    pipeline = FacePipeline(
        FaceConfig(),
        store=store,
        gallery=train_gallery(faces_dir),
        liveness=SkipLiveness("test: photos from disk"),
        clock=clock,
        detector=detector(),
        evidence=keeper,
    )
    scene = on_wall(image(faces_dir / "obama-720p.jpg"), 800, 600)
    for seq in range(1, 5):
        clock.advance(1 / 15)
        decisions = pipeline.process(Frame(scene, clock.monotonic_ns(), seq)).decisions
        if decisions:
            assert decisions[0].outcome is Outcome.ACCEPTED
            assert keeper is None or keeper.kept == 0  # nothing written before the decision is shown
            pipeline.keep_evidence()  # as FaceService does once the decision is shown
            return pipeline
    raise AssertionError("obama was not punched")


def test_a_face_punch_keeps_a_small_sealed_photo(sealed_store: PunchStore, clock: FakeClock, faces_dir: Path) -> None:
    keeper = evidence.EvidenceKeeper(sealed_store.conn, clock)
    punch_obama(sealed_store, clock, faces_dir, keeper)
    conn = sealed_store.conn
    row = conn.execute("SELECT punch_id, seq, photo, scheme FROM evidence_photos").fetchone()
    punch = conn.execute("SELECT id, seq FROM punches").fetchone()
    assert (row["punch_id"], row["seq"], row["scheme"]) == (punch["id"], punch["seq"], "aesgcm-v1")
    assert b"\xff\xd8\xff" not in bytes(row["photo"])  # no JPEG in the clear
    jpeg = photo_of(conn, punch["id"])
    assert jpeg is not None and jpeg.startswith(b"\xff\xd8\xff")
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert max(picture.shape[:2]) <= evidence.MAX_SIDE and detector().detect(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
    # Bound to its punch: moved to another punch id it does not open.
    conn.execute("UPDATE evidence_photos SET punch_id = 'another-punch'")
    with pytest.raises(TemplateKeyError):
        photo_of(conn, "another-punch")


def test_without_a_unit_key_no_photo_is_kept_and_the_punch_stands(
    store: PunchStore, clock: FakeClock, faces_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = evidence.EvidenceKeeper(store.conn, clock)
    with caplog.at_level(logging.WARNING, logger="kiosk.privacy.evidence"):
        punch_obama(store, clock, faces_dir, keeper)
    assert store.count() == 1
    assert store.conn.execute("SELECT count(*) FROM evidence_photos").fetchone()[0] == 0
    assert any("no unit key" in r.getMessage() for r in caplog.records)


def test_a_failing_photo_store_never_loses_the_punch(
    sealed_store: PunchStore, clock: FakeClock, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed_store.conn.execute("DROP TABLE evidence_photos")  # e.g. a damaged or full database
    keeper = evidence.EvidenceKeeper(sealed_store.conn, clock)
    punch_obama(sealed_store, clock, faces_dir, keeper)
    assert sealed_store.count() == 1 and keeper.kept == 0

    def broken(*_: object) -> bytes:
        raise RuntimeError("an error nobody foresaw")  # past the keeper's own catch: the face thread survives it

    monkeypatch.setattr(evidence, "face_jpeg", broken)
    clock.advance(3600)
    pipeline = punch_obama(sealed_store, clock, faces_dir, evidence.EvidenceKeeper(sealed_store.conn, clock))
    assert sealed_store.count() == 2 and pipeline.keep_evidence() == 0


def test_photos_are_kept_only_when_turned_on(tmp_path: Path, clock: FakeClock) -> None:
    config = KioskConfig()
    config.unit.hardware = "sim"
    store = PunchStore(open_database(tmp_path / "p.db"), DeviceIdentity.generate(), clock, FixedClockState())
    off = FaceService(config, store, SimCamera(clock=clock), SkipLiveness("test"), clock)
    assert off.pipeline.evidence is None
    config.privacy.evidence_photos = True
    on = FaceService(config, store, SimCamera(clock=clock), SkipLiveness("test"), clock)
    assert isinstance(on.pipeline.evidence, evidence.EvidenceKeeper)
    store.conn.close()


def test_erasing_an_employee_deletes_their_photos(sealed_store: PunchStore, clock: FakeClock, faces_dir: Path) -> None:
    punch_obama(sealed_store, clock, faces_dir, evidence.EvidenceKeeper(sealed_store.conn, clock))
    erased = erase_employee(sealed_store.conn, "obama", now=clock.now(), actor="test", reason="test")
    assert erased.evidence_photos == 1
    assert sealed_store.conn.execute("SELECT count(*) FROM evidence_photos").fetchone()[0] == 0
    assert sealed_store.count() == 1  # the attendance record stays


@pytest.fixture
def web(tmp_path: Path, clock: FakeClock) -> Iterator[WebContext]:
    register_unit(tmp_path / "presensi.db", UnitKey(SimOtpKeyProvider(KEY)))
    context = with_accounts(make_ctx(tmp_path, clock))
    yield context
    context.db.close_all()


def test_admin_pd_sees_the_photo_and_the_view_is_audited(
    web: WebContext, identity: DeviceIdentity, clock: FakeClock, faces_dir: Path
) -> None:
    store = PunchStore(web.db.get(), identity, clock, FixedClockState())
    punch_obama(store, clock, faces_dir, evidence.EvidenceKeeper(store.conn, clock))
    punch_id = store.conn.execute("SELECT id FROM punches").fetchone()[0]
    app = create_maintenance_app(web)
    tech: TestClient = client_for(app)
    login(tech, "teknisi")
    assert tech.get(f"/punches/{punch_id}/photo", follow_redirects=False).status_code in (303, 403)
    admin = client_for(app)
    login(admin, "adminpd")
    page = admin.get("/punches")
    assert f'href="/punches/{punch_id}/photo"' in page.text
    photo = admin.get(f"/punches/{punch_id}/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content.startswith(b"\xff\xd8\xff") and photo.headers["cache-control"] == "no-store"
    assert admin.get("/punches/no-such-punch/photo").status_code == 404
    views = store.conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'evidence.view'").fetchall()
    assert [(r["actor"], punch_id in r["detail"]) for r in views] == [("adminpd", True)]


def test_the_face_service_keeps_the_photo_once_the_decision_is_out(
    sealed_store: PunchStore, clock: FakeClock, faces_dir: Path, tmp_path: Path
) -> None:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.privacy.evidence_photos = True
    Enroller(sealed_store.conn, config.face, clock, detector=detector()).enrol_photos(
        "obama", "Obama", [faces_dir / "train" / "obama" / "obama.jpg"]
    )
    folder = tmp_path / "camera"
    folder.mkdir()
    cv2.imwrite(str(folder / "00-obama.png"), on_wall(image(faces_dir / "obama-720p.jpg"), 800, 600))
    camera = FileCamera(folder, clock, fps=10, hold_s=3.0, width=800, height=600)
    service = FaceService(config, sealed_store, camera, SkipLiveness("test: photos from disk"), clock)
    accepted = threading.Event()
    service.subscribe(lambda decision: accepted.set() if decision.outcome is Outcome.ACCEPTED else None)
    service.start()
    try:
        assert accepted.wait(60), service
    finally:
        service.stop()  # joins the thread: the photo is kept right after the decision went out
    assert sealed_store.conn.execute("SELECT count(*) FROM evidence_photos").fetchone()[0] == 1
