"""Enrolment from the kiosk camera: the face service takes samples of the face in front of a real
FileCamera (the shared photos from a folder), checks them (quality, one person, liveness, nobody
else's face) and stores templates; the face is identified on its next approach.

Time is a FakeClock moved a quarter second per processed frame (samples are taken 0.4 s apart and
an approach ends 0.8 s after the face leaves), or moved by the test for a timeout.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.face_data import detector, image

from core.clock import FakeClock
from core.config import FaceConfig, KioskConfig, LivenessConfig
from core.store import roster
from core.store.punches import PunchStore
from core.templates.embedder_ids import embedder_id
from kiosk.camera.base import Frame, fit_within
from kiosk.camera.file import FileCamera
from kiosk.cards.policy import FaceOutcome
from kiosk.face import devmodels
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.detect import to_rgb
from kiosk.face.enroll import Enroller
from kiosk.face.pipeline import FrameResult, SkipLiveness
from kiosk.face.service import FaceService
from kiosk.liveness import attacks
from kiosk.liveness.base import LivenessEngine
from kiosk.liveness.engine import build_engine

WAIT_S = 60.0
SITI = "199001012019032002"
FRAME_S = 0.25  # virtual time per processed frame


def wall(width: int = 1280, height: int = 720) -> np.ndarray:
    return np.full((height, width, 3), 110, dtype=np.uint8)


def photo(faces_dir: Path, name: str) -> np.ndarray:
    return fit_within(image(faces_dir / name), 1280, 960)


def camera_on(folder: Path, clock: FakeClock, *pictures: np.ndarray, hold_s: float = 2.0) -> FileCamera:
    """A looping FileCamera on a folder of ``pictures``, each in view ``hold_s`` seconds."""
    folder.mkdir()
    for i, picture in enumerate(pictures):
        cv2.imwrite(str(folder / f"{i:02d}.png"), picture)
    return FileCamera(folder, clock, fps=10, hold_s=hold_s, width=1280, height=960)


@dataclass
class Unit:
    face: FaceService
    clock: FakeClock
    ticking: bool
    decisions: list[FaceAttempt] = field(default_factory=list)
    prompts: list[str | None] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def on_frame(self, _frame: Frame, _result: FrameResult) -> None:
        if self.ticking:
            self.clock.advance(FRAME_S)

    def on_prompt(self, prompt: str | None) -> None:
        with self._cond:
            self.prompts.append(prompt)
            self._cond.notify_all()

    def on_decision(self, decision: FaceAttempt) -> None:
        with self._cond:
            self.decisions.append(decision)
            self._cond.notify_all()

    def wait_prompt(self, text: str) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: text in self.prompts, WAIT_S), f"no prompt {text!r}; saw {self.prompts}"

    def wait_accepted(self) -> FaceAttempt:
        with self._cond:
            assert self._cond.wait_for(lambda: any(d.outcome is Outcome.ACCEPTED for d in self.decisions), WAIT_S), self.decisions
            return next(d for d in self.decisions if d.outcome is Outcome.ACCEPTED)


@contextmanager
def running(
    store: PunchStore,
    clock: FakeClock,
    camera: FileCamera,
    liveness: LivenessEngine | SkipLiveness,
    *,
    ticking: bool = True,
    config: KioskConfig | None = None,
) -> Iterator[Unit]:
    face = FaceService(config or KioskConfig(), store, camera, liveness, clock, health_interval_s=1.0)
    unit = Unit(face, clock, ticking)
    face.subscribe_frames(unit.on_frame)
    face.subscribe_prompts(unit.on_prompt)
    face.subscribe(unit.on_decision)
    with face:
        yield unit


@pytest.fixture
def siti(store: PunchStore, clock: FakeClock) -> PunchStore:
    roster.upsert_employee(store.conn, SITI, "Siti Rahmawati", now=clock.now())
    return store


@pytest.mark.parametrize("embedder", ["dlib", "onnx"])
def test_a_face_enrolled_from_the_camera_is_identified_on_its_next_approach(
    tmp_path: Path, siti: PunchStore, clock: FakeClock, faces_dir: Path, models_dir: Path, embedder: str
) -> None:
    config = KioskConfig()
    if embedder == "onnx":
        settings = devmodels.onnx_settings(models_dir)
        assert settings is not None, "the shared MobileFaceNet is missing from ../shared/models"
        config.face = FaceConfig(**settings)
    camera = camera_on(tmp_path / "camera", clock, photo(faces_dir, "obama-720p.jpg"), wall())
    with running(siti, clock, camera, SkipLiveness("test photos"), config=config) as unit:
        result = unit.face.enrol(SITI, timeout_s=60)
        assert result.ok, result
        assert result.message.startswith("Wajah Siti Rahmawati terdaftar: 3 sampel")
        assert result.detail() == {
            "reason": "enrolled",
            "samples": 3,
            "templates_added": 3,
            "templates_total": 3,
            "liveness": "skipped",
        }
        assert roster.count_face_templates(siti.conn, SITI, embedder=embedder_id(config.face)) == 3
        assert "Pendaftaran wajah: 1 dari 3 — tahan" in unit.prompts  # live feedback for the screen
        assert all(d.outcome is not Outcome.ACCEPTED for d in unit.decisions)  # enrolling punches nobody
        accepted = unit.wait_accepted()  # the face goes, comes back, and is known
    assert accepted.employee_id == SITI and accepted.punch is not None and accepted.punch.method == "face"
    assert siti.count() == 1


def test_a_face_that_belongs_to_someone_else_is_refused(
    tmp_path: Path, siti: PunchStore, clock: FakeClock, faces_dir: Path
) -> None:
    Enroller(siti.conn, KioskConfig().face, clock, detector=detector()).enrol_photos(
        "199001", "Barack Obama", [faces_dir / "train" / "obama" / "obama2.jpg"]
    )
    camera = camera_on(tmp_path / "camera", clock, photo(faces_dir, "obama-720p.jpg"), hold_s=60)
    with running(siti, clock, camera, SkipLiveness("test photos")) as unit:
        result = unit.face.enrol(SITI, timeout_s=60)
    assert not result.ok and result.reason == "refused"
    assert result.message == "Wajah sudah terdaftar atas nama pegawai lain"
    assert roster.count_face_templates(siti.conn, SITI) == 0


def test_nobody_in_front_times_out_with_a_reason(tmp_path: Path, siti: PunchStore, clock: FakeClock) -> None:
    camera = camera_on(tmp_path / "camera", clock, wall(), hold_s=60)
    with running(siti, clock, camera, SkipLiveness("test"), ticking=False) as unit:
        answer: list[object] = []
        worker = threading.Thread(target=lambda: answer.append(unit.face.enrol(SITI, timeout_s=30)))
        worker.start()
        unit.wait_prompt("Lihat ke kamera")
        assert unit.face.busy_with == "enrolment"
        clock.advance(31)
        worker.join(WAIT_S)
    result = answer[0]
    assert not result.ok and result.reason == "timeout"  # type: ignore[attr-defined]
    assert result.message == "Waktu habis — baru 0 dari 3 sampel (tidak ada wajah di depan kamera). Coba lagi."  # type: ignore[attr-defined]
    assert roster.count_face_templates(siti.conn, SITI) == 0


def test_an_unknown_employee_a_busy_camera_and_a_stopped_service_are_refused(
    tmp_path: Path, siti: PunchStore, clock: FakeClock
) -> None:
    camera = camera_on(tmp_path / "camera", clock, wall(), hold_s=60)
    with running(siti, clock, camera, SkipLiveness("test"), ticking=False) as unit:
        missing = unit.face.enrol("NOBODY", timeout_s=5)
        assert not missing.ok and missing.reason == "refused" and "tidak ada di perangkat" in missing.message
        worker = threading.Thread(target=lambda: unit.face.enrol(SITI, timeout_s=30))
        worker.start()
        unit.wait_prompt("Lihat ke kamera")
        busy = unit.face.enrol(SITI, timeout_s=5)
        assert not busy.ok and busy.reason == "busy" and "Kamera sedang dipakai" in busy.message
        card_then_face = unit.face.verify_face(SITI, timeout_s=5)
        assert card_then_face.outcome is FaceOutcome.UNAVAILABLE and "busy" in card_then_face.detail
        clock.advance(31)
        worker.join(WAIT_S)
        assert unit.face.busy_with is None
    stopped = unit.face.enrol(SITI, timeout_s=5)
    assert not stopped.ok and stopped.reason == "unavailable"


@pytest.fixture(scope="module")
def engine_config(models_dir: Path) -> LivenessConfig:
    folder = models_dir / "minifasnet"
    return LivenessConfig(minifasnet_v2=folder / "MiniFASNetV2.onnx", minifasnet_v1se=folder / "MiniFASNetV1SE.onnx")


def test_a_printed_face_is_not_enrolled(
    tmp_path: Path, siti: PunchStore, clock: FakeClock, faces_dir: Path, engine_config: LivenessConfig
) -> None:
    genuine = photo(faces_dir, "test/alex_lacamoire1.jpg")
    box = detector().detect(to_rgb(genuine))[0]
    prints = [attacks.print_attack(genuine, box, random.Random(seed)).frame for seed in range(4)]
    camera = camera_on(tmp_path / "camera", clock, *prints, hold_s=0.3)
    engine = build_engine(engine_config, clock=clock, rng=random.Random(3))
    with running(siti, clock, camera, engine) as unit:
        result = unit.face.enrol(SITI, timeout_s=60)
    assert not result.ok and result.reason == "spoof", result
    assert result.message == "Wajah tidak lolos pemeriksaan keaslian — pendaftaran dibatalkan"
    assert roster.count_face_templates(siti.conn, SITI) == 0
