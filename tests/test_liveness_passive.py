"""The passive checks (MiniFASNet texture, screen/print cues) and the engine, on genuine photos
and on attacks made from them. Model sessions and detections are made once per test session."""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.clock import FakeClock
from core.config import LivenessConfig
from core.errors import LivenessError
from kiosk.liveness import attacks
from kiosk.liveness.base import FaceSample, Verdict
from kiosk.liveness.cues import CueSettings, border_sides, frame_cues, glare_area, moire_peak_db
from kiosk.liveness.engine import build_engine
from kiosk.liveness.harness import Source, detect, landmarks_at, recapture
from kiosk.liveness.texture import MiniFasNet, enlarged_crop, model_paths


@pytest.fixture(scope="session")
def liveness_config(models_dir: Path) -> LivenessConfig:
    folder = models_dir / "minifasnet"
    return LivenessConfig(minifasnet_v2=folder / "MiniFASNetV2.onnx", minifasnet_v1se=folder / "MiniFASNetV1SE.onnx")


@pytest.fixture(scope="session")
def model(liveness_config: LivenessConfig) -> MiniFasNet:
    paths, problems = model_paths(liveness_config)
    assert not problems
    return MiniFasNet(paths)


@pytest.fixture(scope="session")
def genuine(faces_dir: Path) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """A few genuine faces (held-out photos) with their HOG boxes."""
    out = []
    for name in ("obama-480p.jpg", "test/obama1.jpg", "lin-manuel-miranda.png", "test/alex_lacamoire1.jpg"):
        frame = cv2.imread(str(faces_dir / name))
        out.append((frame, detect(frame)[0]))
    return out


def test_crop_is_enlarged_and_shifted_inside_the_frame() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :60] = 255  # the left 60 columns white
    crop = enlarged_crop(frame, (10, 40, 50, 0), 2.7, size=80)  # box at the left edge
    assert crop.shape == (80, 80, 3)
    # the crop was shifted right to stay inside, so it shows both halves
    assert crop[:, :5].mean() > 200 and crop[:, -5:].mean() < 50


def test_genuine_faces_score_real(model: MiniFasNet, genuine) -> None:  # type: ignore[no-untyped-def]
    scores = [model.real_probability(frame, box) for frame, box in genuine]
    assert min(scores) > 0.9, scores


def test_print_and_screen_attacks_score_low(model: MiniFasNet, genuine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    for frame, box in genuine[:2]:
        for make in (attacks.print_attack, attacks.screen_attack):
            shots = [make(frame, box, random.Random(rng.random())) for _ in range(3)]
            median = statistics.median(model.real_probability(s.frame, s.box) for s in shots)
            assert median < 0.6, (make.__name__, median)


def test_passive_liveness_takes_under_30_ms_per_face(model: MiniFasNet, genuine) -> None:  # type: ignore[no-untyped-def]
    frame, box = genuine[0]
    settings = CueSettings()
    model.real_probability(frame, box)  # warm-up
    # CPU time of this thread (onnxruntime runs one intra-op thread in the caller): the machine
    # running the tests is shared, and wall time there measures the neighbours.
    times = []
    for _ in range(10):
        started = time.thread_time()
        model.real_probability(frame, box)
        frame_cues(frame, box, settings)
        times.append((time.thread_time() - started) * 1000)
    assert statistics.median(times) < 30, times


def test_moire_peak_separates_screens_from_genuine(genuine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(8)
    frame, box = genuine[0]
    live = recapture(Source("x", (frame,), (box,), "holdout"), rng, 3)
    screens = [attacks.screen_attack(frame, box, random.Random(i)) for i in range(3)]
    assert max(moire_peak_db(s.frame, s.box) for s in live) < CueSettings().moire_peak_db
    assert min(moire_peak_db(s.frame, s.box) for s in screens) > CueSettings().moire_peak_db


def test_glare_blob_and_border_frame_are_measured() -> None:
    frame = np.full((480, 640, 3), 120, np.uint8)
    box = (180, 380, 300, 260)
    assert glare_area(frame, box) == 0.0
    glared = frame.copy()
    cv2.circle(glared, (320, 240), 40, (255, 255, 255), -1)
    assert glare_area(glared, box) > 0.2
    assert border_sides(frame, box) == 0
    framed = frame.copy()
    cv2.rectangle(framed, (150, 60), (490, 420), (20, 20, 20), 6)  # a bezel around the face
    assert border_sides(framed, box) == 4
    cues = frame_cues(framed, box, CueSettings())
    assert cues["border"] < 0.5 and cues["glare"] > 0.9


def _run(engine, shots, clock, *, one_to_one=False):  # type: ignore[no-untyped-def]
    session = engine.new_session(one_to_one=one_to_one)
    result = None
    for shot in shots:
        clock.advance(1 / 15)
        session.add(FaceSample(shot.frame, shot.box, landmarks_at(shot.frame, shot.box), clock.monotonic_ns()))
        result = session.result()
        if result.verdict is not Verdict.UNDECIDED:
            break
    return session, result


def test_engine_challenges_a_genuine_face_on_both_paths_unless_a_card_vouches(liveness_config: LivenessConfig, genuine) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    engine = build_engine(liveness_config, clock=clock, rng=random.Random(1))
    assert engine.ready
    frame, box = genuine[1]
    # in mode 'face_only', a face confirming a card (1:1): the confident passive checks decide alone
    vouching = build_engine(liveness_config.model_copy(update={"challenge": "face_only"}), clock=clock, rng=random.Random(1))
    _, result = _run(vouching, [attacks.Shot(frame, box)] * 5, clock, one_to_one=True)
    assert result.verdict is Verdict.LIVE and result.prompt is None
    assert {"texture", "cues", "cues_moire", "cues_glare", "cues_border", "texture_frames"} <= set(result.scores)
    # the default ('always') asks the challenge on both paths, face-only (1:N) and card then face (1:1)
    for one_to_one in (False, True):
        _, result = _run(engine, [attacks.Shot(frame, box)] * 5, clock, one_to_one=one_to_one)
        assert result.verdict is Verdict.UNDECIDED and result.prompt in ("Toleh ke kiri", "Toleh ke kanan")


def test_engine_refuses_a_print(liveness_config: LivenessConfig, genuine) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    engine = build_engine(liveness_config, clock=clock, rng=random.Random(1))
    frame, box = genuine[0]
    shots = [attacks.print_attack(frame, box, random.Random(i)) for i in range(5)]
    _, result = _run(engine, shots, clock)
    assert result.verdict is Verdict.SPOOF and result.reason


def test_engine_always_mode_prompts_and_times_out(liveness_config: LivenessConfig, genuine) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    engine = build_engine(liveness_config.model_copy(update={"challenge": "always"}), clock=clock, rng=random.Random(1))
    frame, box = genuine[1]
    session, result = _run(engine, [attacks.Shot(frame, box)] * 3, clock)
    assert result.verdict is Verdict.UNDECIDED and result.prompt in ("Toleh ke kiri", "Toleh ke kanan", "Kedipkan mata")
    clock.advance(liveness_config.challenge_timeout_s + 0.1)
    final = session.result()
    assert final.verdict is Verdict.SPOOF and final.scores["challenge"] == 0.0


def test_missing_model_refuses_face_only_unless_challenge_only_is_allowed(tmp_path: Path) -> None:
    config = LivenessConfig(minifasnet_v2=tmp_path / "absent.onnx", minifasnet_v1se=tmp_path / "absent2.onnx")
    engine = build_engine(config, clock=FakeClock(), rng=random.Random(0))
    assert not engine.ready
    with pytest.raises(LivenessError, match="allow_challenge_only") as caught:
        engine.new_session()
    assert "tidak tersedia" in caught.value.screen_text
    allowed = build_engine(config.model_copy(update={"allow_challenge_only": True}), clock=FakeClock(), rng=random.Random(0))
    assert allowed.ready
    result = allowed.new_session().result()
    assert result.verdict is Verdict.UNDECIDED and result.prompt is not None  # the challenge is always asked


def test_a_corrupt_model_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "MiniFASNetV2.onnx"
    bad.write_bytes(b"not a model")
    config = LivenessConfig(minifasnet_v2=bad, minifasnet_v1se=bad)
    engine = build_engine(config, clock=FakeClock(), rng=random.Random(0))
    assert not engine.ready and "cannot load" in engine.problems[0]
