"""Card then face: the card service asks the running face service for a 1:1 verification.

Real parts throughout: a FileCamera playing the shared test photos (or print attacks made from
them) from a folder, the face service on its thread, the card service on the simulated reader,
both on their own connections to one SQLite file, and the real liveness engine with the shared
MiniFASNet models. Time is a FakeClock: timeouts happen when the test moves it.
"""

from __future__ import annotations

import json
import queue
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

from core.clock import FakeClock, FixedClockState
from core.config import FaceConfig, KioskConfig, LivenessConfig
from core.store.db import open_database
from core.store.punches import PunchStore
from kiosk.camera.base import Frame, fit_within
from kiosk.camera.file import FileCamera
from kiosk.cards.policy import TEXTS, FaceOutcome, Reason
from kiosk.cards.service import CardAttempt, CardService, Outcome
from kiosk.cards.sim import SimCardReader
from kiosk.face import devmodels
from kiosk.face.attempt import FaceAttempt
from kiosk.face.detect import to_rgb
from kiosk.face.enroll import Enroller
from kiosk.face.pipeline import FrameResult, SkipLiveness
from kiosk.face.service import FaceService
from kiosk.liveness import attacks
from kiosk.liveness.base import LivenessEngine
from kiosk.liveness.engine import build_engine

WAIT_S = 60.0  # generous: two cores shared with other test runs
ALEX = "198703152010011004"  # the card holder (enrolled from train/alex_lacamoire)
ALEX_CARD = "04AA000001"
WALL_S = 3.0  # the empty wall before the face: the tap comes while nobody is in view


def wall(width: int = 1280, height: int = 720) -> np.ndarray:
    return np.full((height, width, 3), 110, dtype=np.uint8)


@pytest.fixture(scope="module")
def engine_config(models_dir: Path) -> LivenessConfig:
    folder = models_dir / "minifasnet"
    return LivenessConfig(minifasnet_v2=folder / "MiniFASNetV2.onnx", minifasnet_v1se=folder / "MiniFASNetV1SE.onnx")


@pytest.fixture
def engine(engine_config: LivenessConfig, clock: FakeClock) -> LivenessEngine:
    built = build_engine(engine_config, clock=clock, rng=random.Random(7))
    assert built.ready
    return built


@pytest.fixture
def vouching_engine(engine_config: LivenessConfig, clock: FakeClock) -> LivenessEngine:
    """Mode 'face_only': the card vouches and confident passive checks accept the face alone. For
    the tests of matching: a still photo on the camera cannot turn its head as the default asks."""
    built = build_engine(engine_config.model_copy(update={"challenge": "face_only"}), clock=clock, rng=random.Random(7))
    assert built.ready
    return built


@pytest.fixture
def face_config(request: pytest.FixtureRequest, models_dir: Path) -> FaceConfig:
    """dlib's embedder, or (``indirect`` parameter "onnx") the shared MobileFaceNet."""
    if getattr(request, "param", "dlib") == "dlib":
        return FaceConfig()
    settings = devmodels.onnx_settings(models_dir)
    assert settings is not None, "the shared MobileFaceNet is missing from ../shared/models"
    return FaceConfig(**settings)


@pytest.fixture
def enrolled(store: PunchStore, clock: FakeClock, faces_dir: Path, face_config: FaceConfig) -> PunchStore:
    own = detector() if face_config.embedder == "dlib" else None  # the session's cached detector, or the model's
    enroller = Enroller(store.conn, face_config, clock, detector=own)
    enroller.enrol_photos(ALEX, "Alex Lacamoire", [faces_dir / "train" / "alex_lacamoire" / "img1.jpg"])
    store.conn.execute("UPDATE employees SET card_policy = 'card_face' WHERE id = ?", (ALEX,))
    store.conn.execute(
        "INSERT INTO cards (uid, employee_id, created_at) VALUES (?, ?, '2026-11-01T00:00:00Z')", (ALEX_CARD, ALEX)
    )
    return store


@dataclass
class Desk:
    """The kiosk's face and card services on one database, and what they told their subscribers."""

    face: FaceService
    cards: CardService
    reader: SimCardReader
    card_decisions: queue.Queue[CardAttempt] = field(default_factory=queue.Queue)
    face_decisions: list[FaceAttempt] = field(default_factory=list)
    prompts: list[str | None] = field(default_factory=list)
    frames: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def on_frame(self, _frame: Frame, _result: FrameResult) -> None:
        with self._cond:
            self.frames += 1
            self._cond.notify_all()

    def on_prompt(self, prompt: str | None) -> None:
        with self._cond:
            self.prompts.append(prompt)
            self._cond.notify_all()

    def wait_frames(self, n: int) -> None:
        with self._cond:
            target = self.frames + n
            assert self._cond.wait_for(lambda: self.frames >= target, WAIT_S), "the face service stopped processing frames"

    def wait_prompt(self, *texts: str) -> str:
        """Wait until one of ``texts`` has been shown; that one."""
        with self._cond:
            assert self._cond.wait_for(lambda: any(t in self.prompts for t in texts), WAIT_S), (
                f"no prompt {texts}; saw {self.prompts}"
            )
            return next(t for t in texts if t in self.prompts)

    def next_card(self) -> CardAttempt:
        return self.card_decisions.get(timeout=WAIT_S)


@contextmanager
def kiosk_desk(
    tmp_path: Path,
    store: PunchStore,
    clock: FakeClock,
    camera: FileCamera,
    liveness: LivenessEngine | SkipLiveness,
    face: FaceConfig | None = None,
) -> Iterator[Desk]:
    """The face and card services running on ``store``'s database, each with its own connection."""
    config = KioskConfig()
    if face is not None:
        config.face = face
    face_store = PunchStore(open_database(tmp_path / "presensi.db"), store.identity, clock, FixedClockState())
    card_store = PunchStore(open_database(tmp_path / "presensi.db"), store.identity, clock, FixedClockState())
    face = FaceService(config, face_store, camera, liveness, clock, health_interval_s=1.0)
    reader = SimCardReader(clock=clock)
    cards = CardService(reader, card_store, config=config.cards, clock=clock, verify_face=face.verify_face)
    d = Desk(face, cards, reader)
    face.subscribe(d.face_decisions.append)
    face.subscribe_frames(d.on_frame)
    face.subscribe_prompts(d.on_prompt)
    cards.subscribe(d.card_decisions.put)
    try:
        face.start()
        cards.start()
        assert cards.wait_connected(WAIT_S)
        d.wait_frames(1)
        yield d
    finally:
        cards.stop()
        face.stop()
        face_store.conn.close()
        card_store.conn.close()


def camera_on(folder: Path, clock: FakeClock, *pictures: np.ndarray, hold_s: float = WALL_S) -> FileCamera:
    """A FileCamera on a folder of ``pictures``, each in view ``hold_s`` seconds (the last one
    for ten times as long: the person stays)."""
    folder.mkdir()
    for i, picture in enumerate(pictures):
        cv2.imwrite(str(folder / f"{i:02d}.png"), picture)
    last = folder / f"{len(pictures) - 1:02d}.png"
    for j in range(1, 10):
        (folder / f"{len(pictures) - 1:02d}-{j:02d}.png").symlink_to(last)
    return FileCamera(folder, clock, fps=10, hold_s=hold_s, width=1280, height=960)


def photo(faces_dir: Path, name: str) -> np.ndarray:
    return fit_within(image(faces_dir / name), 1280, 960)


def print_attacks(picture: np.ndarray, n: int = 4) -> list[np.ndarray]:
    """Printed copies of the face in ``picture`` as the camera would see them."""
    box = detector().detect(to_rgb(picture))[0]
    return [attacks.print_attack(picture, box, random.Random(seed)).frame for seed in range(n)]


def punches(store: PunchStore) -> list[tuple[str, str, str | None, float | None, dict[str, object]]]:
    """(employee, method, liveness verdict, match distance, liveness scores) of every punch."""
    rows = store.conn.execute(
        "SELECT employee_id, method, liveness_verdict, match_distance, liveness_scores FROM punches ORDER BY seq"
    ).fetchall()
    return [(r[0], r[1], r[2], None if r[3] is None else float(r[3]), json.loads(r[4])) for r in rows]


# -- the card holder, someone else, nobody, a print -----------------------------------------------


@pytest.mark.parametrize("face_config", ["dlib", "onnx"], indirect=True)
def test_card_holder_face_punches_card_plus_face_once(
    tmp_path: Path,
    enrolled: PunchStore,
    clock: FakeClock,
    faces_dir: Path,
    vouching_engine: LivenessEngine,
    face_config: FaceConfig,
) -> None:
    camera = camera_on(tmp_path / "camera", clock, wall(), photo(faces_dir, "test/alex_lacamoire1.jpg"))
    with kiosk_desk(tmp_path, enrolled, clock, camera, vouching_engine, face_config) as desk:
        desk.reader.tap(ALEX_CARD)  # while only the wall is in view
        waiting = desk.next_card()
        assert waiting.outcome is Outcome.AWAITING_FACE and "lihat ke kamera" in waiting.text
        decided = desk.next_card()
        assert decided.outcome is Outcome.ACCEPTED, decided
        assert decided.method == "card+face" and decided.employee_id == ALEX
        assert "Lihat ke kamera" in desk.prompts  # the verification asked for the face
        desk.wait_frames(10)  # the card holder stays in view: the face service does not punch them 1:N
        assert desk.face_decisions == []
    rows = punches(enrolled)
    assert len(rows) == 1
    employee, method, verdict, distance, scores = rows[0]
    assert (employee, method, verdict) == (ALEX, "card+face", "live")
    assert distance is not None and distance < face_config.rules.verify_threshold
    assert scores and "texture" in scores


@pytest.mark.parametrize("face_config", ["dlib", "onnx"], indirect=True)
def test_someone_else_is_refused_as_not_the_card_holder(
    tmp_path: Path, enrolled: PunchStore, clock: FakeClock, faces_dir: Path, engine: LivenessEngine, face_config: FaceConfig
) -> None:
    camera = camera_on(tmp_path / "camera", clock, photo(faces_dir, "obama-720p.jpg"))
    with kiosk_desk(tmp_path, enrolled, clock, camera, engine, face_config) as desk:
        desk.reader.tap(ALEX_CARD)
        assert desk.next_card().outcome is Outcome.AWAITING_FACE
        refused = desk.next_card()
    assert refused.outcome is Outcome.REJECTED and refused.reason == Reason.FACE_MISMATCH.value
    assert refused.text == "Wajah tidak cocok dengan pemilik kartu" and refused.method == "card+face"
    assert punches(enrolled) == []


def test_nobody_in_front_is_refused_when_time_is_up(tmp_path: Path, enrolled: PunchStore, clock: FakeClock) -> None:
    camera = camera_on(tmp_path / "camera", clock, wall())
    with kiosk_desk(tmp_path, enrolled, clock, camera, SkipLiveness("test: nobody to check")) as desk:
        desk.reader.tap(ALEX_CARD)
        assert desk.next_card().outcome is Outcome.AWAITING_FACE
        desk.wait_prompt("Lihat ke kamera")
        assert desk.face.busy_with == "card+face"
        desk.wait_frames(3)
        assert desk.card_decisions.empty()  # the clock has not moved: still waiting for a face
        clock.advance(KioskConfig().cards.face_timeout_s + 0.5)
        refused = desk.next_card()
        assert desk.face.busy_with is None
    assert refused.outcome is Outcome.REJECTED and refused.reason == Reason.FACE_TIMEOUT.value
    assert refused.text == TEXTS[Reason.FACE_TIMEOUT][0]
    assert punches(enrolled) == []


def test_the_default_asks_the_card_holder_to_turn_and_a_still_face_cannot(
    tmp_path: Path, enrolled: PunchStore, clock: FakeClock, faces_dir: Path, engine: LivenessEngine
) -> None:
    """The default ('always', issue 18): a card does not vouch for the face. The card holder's own
    photo, which the passive checks accept, is asked to turn; a still cannot, and when the
    challenge's time is up the card punch is refused as a spoof."""
    camera = camera_on(tmp_path / "camera", clock, wall(), photo(faces_dir, "test/alex_lacamoire1.jpg"))
    with kiosk_desk(tmp_path, enrolled, clock, camera, engine) as desk:
        desk.reader.tap(ALEX_CARD)
        assert desk.next_card().outcome is Outcome.AWAITING_FACE
        desk.wait_prompt("Toleh ke kiri", "Toleh ke kanan")
        assert desk.card_decisions.empty()  # the clock has not moved: still waiting for the turn
        clock.advance(KioskConfig().liveness.challenge_timeout_s + 0.5)  # within cards.face_timeout_s
        refused = desk.next_card()
    assert refused.outcome is Outcome.REJECTED and refused.reason == Reason.FACE_SPOOF.value, refused
    assert punches(enrolled) == []


def test_a_printed_face_of_the_card_holder_is_refused(
    tmp_path: Path, enrolled: PunchStore, clock: FakeClock, faces_dir: Path, engine: LivenessEngine
) -> None:
    prints = print_attacks(photo(faces_dir, "test/alex_lacamoire1.jpg"))
    camera = camera_on(tmp_path / "camera", clock, *prints, hold_s=0.3)
    with kiosk_desk(tmp_path, enrolled, clock, camera, engine) as desk:
        desk.reader.tap(ALEX_CARD)
        assert desk.next_card().outcome is Outcome.AWAITING_FACE
        refused = desk.next_card()
    assert refused.outcome is Outcome.REJECTED and refused.reason == Reason.FACE_SPOOF.value, refused
    assert refused.text == "Verifikasi wajah gagal — coba lagi"
    assert punches(enrolled) == []


# -- the verifier on its own ---------------------------------------------------------------------


def test_no_templates_or_no_service_means_unavailable(tmp_path: Path, store: PunchStore, clock: FakeClock) -> None:
    camera = camera_on(tmp_path / "camera", clock, wall())
    face = FaceService(KioskConfig(), store, camera, SkipLiveness("test"), clock)
    assert face.verify_face(ALEX, timeout_s=5).outcome is FaceOutcome.UNAVAILABLE  # not running
    with face:
        answer = face.verify_face(ALEX, timeout_s=5)  # running, but nobody enrolled
    assert answer.outcome is FaceOutcome.UNAVAILABLE and "enrol" in answer.detail
