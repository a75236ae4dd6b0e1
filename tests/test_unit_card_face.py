"""``presensi run``'s KioskUnit with card then face: a tap on the simulated reader, the kiosk screen's
hub shows "lihat ke kamera", the face service verifies the card holder 1:1 on a FileCamera playing
the shared photos, and the screen shows the punch (method card+face). The real parts of the unit
throughout (runtime, database, threads); time is a FakeClock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.face_data import detector, image

from core.clock import FakeClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store.evidence import photo_of
from kiosk.camera.base import fit_within
from kiosk.camera.file import FileCamera
from kiosk.cards.sim import SimCardReader
from kiosk.face.enroll import Enroller
from kiosk.face.pipeline import SkipLiveness
from kiosk.unit import FaceEnrolmentPort, KioskUnit
from kiosk.web.ports import Decision, Message, Prompt

WAIT_S = 60.0
ALEX = "198703152010011004"
CARD = "04AA000001"


class Screen:
    """What the kiosk screen is sent through the unit's hub, in order."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()

    def __call__(self, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_decision(self) -> Decision:
        with self._cond:
            assert self._cond.wait_for(lambda: any(isinstance(m, Decision) for m in self.messages), WAIT_S), self.messages
            return next(m for m in self.messages if isinstance(m, Decision))


@contextmanager
def card_face_unit(tmp_path: Path, faces_dir: Path, *, evidence: bool = False) -> Iterator[tuple[KioskUnit, SimCardReader]]:
    clock = FakeClock()
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "synced"
    config.privacy.evidence_photos = evidence
    runtime = Runtime(config, tmp_path / "data", clock)
    runtime.data_dir.mkdir()
    conn = runtime.connect()
    Enroller(conn, config.face, clock, detector=detector()).enrol_photos(
        ALEX, "Alex Lacamoire", [faces_dir / "train" / "alex_lacamoire" / "img1.jpg"]
    )
    conn.execute("UPDATE employees SET card_policy = 'card_face' WHERE id = ?", (ALEX,))
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES (?, ?, '2026-11-01T00:00:00Z')", (CARD, ALEX))
    conn.close()
    folder = tmp_path / "camera"
    folder.mkdir()
    cv2.imwrite(str(folder / "00-wall.png"), np.full((720, 1280, 3), 110, np.uint8))  # nobody yet when the card is tapped
    cv2.imwrite(str(folder / "01-alex.png"), fit_within(image(faces_dir / "test" / "alex_lacamoire1.jpg"), 1280, 960))
    for i in range(2, 12):
        (folder / f"{i:02d}-alex.png").symlink_to(folder / "01-alex.png")
    camera = FileCamera(folder, clock, fps=10, hold_s=3.0, width=1280, height=960)
    reader = SimCardReader("Pembaca uji", clock=clock)
    kiosk = KioskUnit(runtime, camera=camera, reader=reader, liveness=SkipLiveness("test photos from disk"))
    try:
        yield kiosk.start(web=False), reader
    finally:
        kiosk.stop()
        runtime.close()


@pytest.fixture
def unit(tmp_path: Path, faces_dir: Path) -> Iterator[tuple[KioskUnit, SimCardReader]]:
    with card_face_unit(tmp_path, faces_dir) as started:
        yield started


def test_card_tap_prompts_look_at_the_camera_then_shows_the_card_plus_face_punch(
    unit: tuple[KioskUnit, SimCardReader],
) -> None:
    kiosk, reader = unit
    assert kiosk.face is not None and kiosk.cards is not None
    assert kiosk.cards.verify_face is not None  # the card service got the face service's verifier
    assert isinstance(kiosk.services.faces, FaceEnrolmentPort)  # and the maintenance page its enrolment
    assert kiosk.cards.wait_connected(WAIT_S)
    screen = Screen()
    kiosk.hub.subscribe(screen)
    reader.tap(CARD)
    decision = screen.wait_decision()
    assert decision.accepted and decision.method == "card+face" and decision.employee_id == ALEX, decision
    first = screen.messages[0]
    assert isinstance(first, Prompt) and first.code == "look_at_camera"
    assert first.text is not None and "lihat ke kamera" in first.text
    assert screen.messages.index(first) < screen.messages.index(decision)
    store = kiosk._stores[0]  # the face service's own connection
    row = store.conn.execute("SELECT method, liveness_verdict, match_distance FROM punches").fetchall()
    assert [tuple(r)[:2] for r in row] == [("card+face", "skipped")] and float(row[0][2]) < 0.5


def test_a_card_then_face_employee_is_not_punched_by_face_alone(unit: tuple[KioskUnit, SimCardReader]) -> None:
    kiosk, _reader = unit
    screen = Screen()
    kiosk.hub.subscribe(screen)
    decision = screen.wait_decision()  # the face in view, no card tapped
    assert not decision.accepted and decision.reason == "policy", decision
    assert decision.reason_text == "Tempelkan kartu, lalu lihat ke kamera"
    store = kiosk._stores[0]
    assert store.conn.execute("SELECT count(*) FROM punches").fetchone()[0] == 0


def test_card_then_face_keeps_an_evidence_photo_when_turned_on(tmp_path: Path, faces_dir: Path) -> None:
    with card_face_unit(tmp_path, faces_dir, evidence=True) as (kiosk, reader):
        assert kiosk.cards is not None and kiosk.cards.wait_connected(WAIT_S)
        screen = Screen()
        kiosk.hub.subscribe(screen)
        reader.tap(CARD)
        decision = screen.wait_decision()
        assert decision.accepted and decision.method == "card+face", decision
        kiosk.stop()  # joins the card thread, which keeps the photo after the decision is shown
        conn = kiosk.runtime.connect()
        punch_id = conn.execute("SELECT id FROM punches").fetchone()[0]
        jpeg = photo_of(conn, punch_id)
        conn.close()
    assert jpeg is not None and jpeg.startswith(b"\xff\xd8\xff")
