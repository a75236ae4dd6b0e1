"""FaceService: camera → pipeline → store on its own thread, decisions to subscribers, health."""

from __future__ import annotations

import threading
from pathlib import Path

from helpers.face_data import detector, image

from core import health
from core.clock import FakeClock
from core.config import KioskConfig
from core.store.punches import PunchStore
from kiosk.camera.sim import SimCamera
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.enroll import Enroller
from kiosk.face.pipeline import SkipLiveness
from kiosk.face.service import FaceService


def test_service_punches_a_shown_face_and_reports_health(store: PunchStore, clock: FakeClock, faces_dir: Path) -> None:
    config = KioskConfig()
    Enroller(store.conn, config.face, clock, detector=detector()).enrol_photos(
        "199001", "Barack Obama", [faces_dir / "train" / "obama" / "obama.jpg"]
    )
    camera = SimCamera(clock, width=800, height=600, fps=10)
    service = FaceService(config, store, camera, SkipLiveness("test"), clock, health_interval_s=0.2)
    decided = threading.Event()
    decisions: list[FaceAttempt] = []
    prompts: list[str | None] = []

    def on_decision(decision: FaceAttempt) -> None:
        decisions.append(decision)
        decided.set()

    service.subscribe(on_decision)
    service.subscribe_prompts(prompts.append)
    service.subscribe(lambda _d: 1 / 0)  # a broken subscriber must not stop the service
    camera.show(image(faces_dir / "obama-720p.jpg"))
    with service:
        assert decided.wait(60), f"no decision; last error {service.last_error}"
        assert service.running
    assert not service.running and "stopped" in repr(service)
    assert decisions[0].outcome is Outcome.ACCEPTED and decisions[0].employee_id == "199001"
    assert store.count() == 1
    parts = {p.part: p for p in health.read_all(store.conn)}
    assert parts["face"].metrics["templates"] == 1.0
    assert parts["camera"].detail.startswith("sim:800x600")
    service.stop()  # idempotent


def test_camera_fault_reaches_health_and_the_camera_reopens(store: PunchStore, clock: FakeClock) -> None:
    camera = SimCamera(clock, width=64, height=48, fps=50)
    service = FaceService(KioskConfig(), store, camera, SkipLiveness("test"), clock, health_interval_s=0.1, reopen_after_s=0.05)
    camera.open()  # the service uses an open camera as it is
    with service:
        camera.read(timeout=5)
        camera.fail("kabel kamera lepas")
        reopened = threading.Event()
        for _ in range(200):
            if camera.opened_count >= 2:
                reopened.set()
                break
            reopened.wait(0.05)
        assert reopened.is_set()
    camera_health = {p.part: p for p in health.read_all(store.conn)}["camera"]
    assert camera_health.last_error is not None and "kabel kamera lepas" in camera_health.last_error
