"""The pipeline end to end on frames of the shared photos, with an injected clock and a small
liveness engine of our own that follows the contract in kiosk/liveness/base.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from helpers.face_data import image, on_wall, train_gallery

from core.clock import FakeClock
from core.config import FaceConfig
from core.store.punches import PunchStore
from kiosk.camera.base import Frame
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.detect import FaceDetector
from kiosk.face.identify import Gallery
from kiosk.face.pipeline import FacePipeline, FrameResult, SkipLiveness
from kiosk.liveness.base import FaceSample, LivenessEngine, LivenessResult, LivenessSession, Verdict

W, H, FPS = 800, 600, 15.0


class ScriptedSession(LivenessSession):
    def __init__(self, engine: ScriptedLiveness) -> None:
        self.engine = engine
        self.samples: list[FaceSample] = []

    def add(self, sample: FaceSample) -> None:
        assert sample.frame_bgr.ndim == 3 and "nose_tip" in sample.landmarks
        self.samples.append(sample)

    def result(self) -> LivenessResult:
        n = len(self.samples)
        if n < self.engine.after:
            return LivenessResult(Verdict.UNDECIDED, {"texture": 0.5}, prompt="Kedipkan mata")
        if self.engine.verdict is Verdict.SPOOF:
            return LivenessResult(Verdict.SPOOF, {"texture": 0.1, "cues": 0.2}, reason="print")
        return LivenessResult(Verdict.LIVE, {"texture": 0.97, "cues": 0.9})


class ScriptedLiveness(LivenessEngine):
    """Decides ``verdict`` after ``after`` samples; ``ready=False`` models a missing model file."""

    def __init__(self, verdict: Verdict = Verdict.LIVE, after: int = 1, ready: bool = True) -> None:
        self.verdict, self.after, self._ready = verdict, after, ready
        self.sessions: list[ScriptedSession] = []

    def new_session(self, *, one_to_one: bool = False) -> ScriptedSession:
        session = ScriptedSession(self)
        self.sessions.append(session)
        return session

    @property
    def ready(self) -> bool:
        return self._ready


@pytest.fixture(scope="module")
def pipeline_detector() -> FaceDetector:
    config = FaceConfig()
    return FaceDetector(scale=config.detect_scale, upsample=config.upsample)


@pytest.fixture(scope="module")
def obama_scene(faces_dir: Path) -> np.ndarray:
    return on_wall(image(faces_dir / "obama-720p.jpg"), W, H)


@pytest.fixture(scope="module")
def empty_scene() -> np.ndarray:
    return np.full((H, W, 3), 110, dtype=np.uint8)


class Kiosk:
    """A pipeline fed frames by hand, time moving on the fake clock."""

    def __init__(self, pipeline: FacePipeline, clock: FakeClock) -> None:
        self.pipeline, self.clock, self.seq = pipeline, clock, 0
        self.results: list[FrameResult] = []

    def show(self, scene: np.ndarray, frames: int) -> list[FaceAttempt]:
        decisions: list[FaceAttempt] = []
        for _ in range(frames):
            self.clock.advance(1 / FPS)
            self.seq += 1
            result = self.pipeline.process(Frame(scene, self.clock.monotonic_ns(), self.seq))
            self.results.append(result)
            decisions.extend(result.decisions)
        return decisions

    def leave(self, empty: np.ndarray) -> None:
        """Nobody in view for long enough that the approach ends."""
        self.show(empty, int(self.pipeline.config.track_lost_s * FPS) + 2)
        assert not self.pipeline.tracker.tracks


def make(
    store: PunchStore,
    clock: FakeClock,
    detector: FaceDetector,
    gallery: Gallery,
    liveness: LivenessEngine | SkipLiveness,
    **config: object,
) -> Kiosk:
    face = FaceConfig(**config)  # type: ignore[arg-type]
    return Kiosk(FacePipeline(face, store=store, gallery=gallery, liveness=liveness, clock=clock, detector=detector), clock)


@pytest.fixture
def gallery(faces_dir: Path) -> Gallery:
    return train_gallery(faces_dir)


def test_one_approach_encodes_k_times_then_only_tracks(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery, ScriptedLiveness())
    decisions = kiosk.show(obama_scene, 24)
    assert [d.outcome for d in decisions] == [Outcome.ACCEPTED]
    decision = decisions[0]
    assert decision.employee_id == "obama" and decision.name == "Obama"
    assert decision.punch is not None and decision.punch.method == "face"
    assert decision.punch.liveness_verdict == "live" and decision.punch.scores == {"cues": 0.9, "texture": 0.97}
    assert decision.distance is not None and float(decision.punch.match_distance or 1) == pytest.approx(
        decision.distance, abs=1e-4
    )
    assert kiosk.pipeline.tracker.started == 1
    assert kiosk.pipeline.encodings == FaceConfig().agree_frames == decision.encodings  # not one per frame
    assert sum(r.faces for r in kiosk.results) == 24  # the face was followed in every frame
    assert store.count() == 1


def test_duplicate_punch_is_suppressed_with_the_earlier_time(
    store: PunchStore,
    clock: FakeClock,
    pipeline_detector: FaceDetector,
    gallery: Gallery,
    obama_scene: np.ndarray,
    empty_scene: np.ndarray,
) -> None:
    clock.set_wall(datetime(2026, 11, 23, 0, 42, 5, tzinfo=UTC))  # 07:42 WIB
    kiosk = make(store, clock, pipeline_detector, gallery, ScriptedLiveness(), duplicate_interval_s=300)
    first = kiosk.show(obama_scene, 6)
    assert [d.outcome for d in first] == [Outcome.ACCEPTED]
    assert first[0].local_time == "07:42" and "07:42 WIB" in first[0].message
    kiosk.leave(empty_scene)
    clock.advance(60)
    again = kiosk.show(obama_scene, 6)
    assert [d.outcome for d in again] == [Outcome.DUPLICATE]
    assert again[0].message == "Sudah presensi pukul 07:42 WIB" and again[0].punch is None
    assert again[0].employee_id == "obama"
    assert store.count() == 1
    kiosk.leave(empty_scene)
    clock.advance(300)
    later = kiosk.show(obama_scene, 6)
    assert [d.outcome for d in later] == [Outcome.ACCEPTED]
    assert store.count() == 2
    assert kiosk.pipeline.tracker.started == 3


def test_liveness_decides_after_identity_and_its_prompt_is_shown(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    engine = ScriptedLiveness(after=6)
    kiosk = make(store, clock, pipeline_detector, gallery, engine)
    decisions = kiosk.show(obama_scene, 10)
    assert [d.outcome for d in decisions] == [Outcome.ACCEPTED]
    assert len(engine.sessions) == 1 and len(engine.sessions[0].samples) == 6
    assert "Kedipkan mata" in [r.prompt for r in kiosk.results]


def test_spoof_is_refused_without_a_punch(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery, ScriptedLiveness(Verdict.SPOOF, after=2))
    decisions = kiosk.show(obama_scene, 8)
    assert [d.outcome for d in decisions] == [Outcome.SPOOF]
    assert decisions[0].punch is None and decisions[0].employee_id is None
    assert decisions[0].liveness_scores == {"texture": 0.1, "cues": 0.2}
    assert store.count() == 0


def test_face_punching_is_refused_when_liveness_is_not_ready(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery, ScriptedLiveness(ready=False))
    decisions = kiosk.show(obama_scene, 4)
    assert [(d.outcome, d.reason) for d in decisions] == [(Outcome.REFUSED, "liveness_unavailable")]
    assert "kartu" in decisions[0].message
    assert store.count() == 0 and kiosk.pipeline.encodings == 0


def test_someone_not_enrolled_is_unknown(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery.without("obama"), ScriptedLiveness())
    decisions = kiosk.show(obama_scene, 8)
    assert [d.outcome for d in decisions] == [Outcome.UNKNOWN]
    assert decisions[0].message == "Wajah tidak dikenali" and decisions[0].employee_id is None
    assert store.count() == 0


def test_two_people_are_asked_to_come_one_at_a_time(
    faces_dir: Path, store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery, ScriptedLiveness())
    decisions = kiosk.show(on_wall(image(faces_dir / "two_people.jpg"), W, H), 4)
    assert decisions == []
    assert [r.prompt for r in kiosk.results] == ["Satu orang saja"] * 4
    assert kiosk.pipeline.encodings == 0


def test_skipped_liveness_is_recorded_never_silent(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery, SkipLiveness("test: photos from disk"))
    decisions = kiosk.show(obama_scene, 4)
    assert decisions[0].punch is not None and decisions[0].punch.liveness_verdict == "skipped"
    assert decisions[0].liveness_verdict == "skipped"
    assert "skipped" in repr(kiosk.pipeline)


def test_an_unknown_approach_is_probed_again_and_can_still_punch(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    kiosk = make(store, clock, pipeline_detector, gallery.without("obama"), ScriptedLiveness())
    assert [d.outcome for d in kiosk.show(obama_scene, 4)] == [Outcome.UNKNOWN]
    encodings = kiosk.pipeline.encodings
    assert kiosk.show(obama_scene, 6) == []  # no probing in the second after "unknown"
    assert kiosk.pipeline.encodings == encodings
    kiosk.pipeline.set_gallery(gallery)  # enrolled meanwhile (a roster pull)
    later = kiosk.show(obama_scene, 12)
    assert [d.outcome for d in later] == [Outcome.ACCEPTED] and later[0].employee_id == "obama"
    assert kiosk.pipeline.tracker.started == 1


def test_a_turned_face_that_matches_nobody_is_asked_to_face_the_camera(
    store: PunchStore, clock: FakeClock, pipeline_detector: FaceDetector, gallery: Gallery, obama_scene: np.ndarray
) -> None:
    # frontal_yaw_deg = 0: the portrait (a few degrees off straight) counts as turned. Someone
    # walking in turned is not told "Wajah tidak dikenali" before they have faced the camera.
    kiosk = make(store, clock, pipeline_detector, gallery.without("obama"), ScriptedLiveness(), frontal_yaw_deg=0.0)
    assert kiosk.show(obama_scene, 8) == []
    assert kiosk.results[-1].prompt == "Hadap lurus ke kamera"
    assert kiosk.pipeline.encodings >= 2 and store.count() == 0
    kiosk.pipeline.set_gallery(gallery)  # a turned face that matches still counts
    later = kiosk.show(obama_scene, 4)
    assert [d.outcome for d in later] == [Outcome.ACCEPTED] and later[0].employee_id == "obama"
