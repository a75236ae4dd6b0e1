"""Quality gates give the right prompt on degraded images: dark, bright, blurred, tiny, turned."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.face_data import detector, image, turned
from pydantic import ValidationError

from core.config import FaceConfig
from kiosk.face.detect import to_rgb
from kiosk.face.quality import PITCH_BIAS_DEG, Prompt, Quality, assess, head_pose
from kiosk.liveness import landmarks as lm

CONFIG = FaceConfig()


def judge(bgr: np.ndarray, config: FaceConfig = CONFIG) -> Quality:
    rgb = to_rgb(bgr)
    boxes = detector().detect(rgb)
    assert boxes, "the degraded face should still be detected"
    box = boxes[0]
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return assess(gray, box, detector().landmarks(rgb, box), config)


@pytest.fixture(scope="module")
def portrait(faces_dir: Path) -> np.ndarray:
    return image(faces_dir / "obama-720p.jpg")


def test_a_good_portrait_passes(portrait: np.ndarray) -> None:
    quality = judge(portrait)
    assert quality.ok and quality.prompt is None
    assert abs(quality.metrics["yaw_deg"]) < 10 and abs(quality.metrics["pitch_deg"]) < 10


def test_darkened_says_too_dark(portrait: np.ndarray) -> None:
    quality = judge((portrait * 0.22).astype(np.uint8))
    assert quality.prompt is Prompt.TOO_DARK and quality.prompt.value == "Terlalu gelap"


def test_overexposed_says_too_bright(portrait: np.ndarray) -> None:
    quality = judge(cv2.convertScaleAbs(portrait, alpha=1.0, beta=150))
    assert quality.prompt is Prompt.TOO_BRIGHT and quality.prompt.value == "Terlalu terang"


def test_blurred_says_hold_still(portrait: np.ndarray) -> None:
    quality = judge(cv2.GaussianBlur(portrait, (0, 0), 5))
    assert quality.prompt is Prompt.HOLD_STILL and quality.reason == "blur"


def test_tiny_says_come_closer(portrait: np.ndarray) -> None:
    small = cv2.resize(portrait, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    quality = judge(small)
    assert quality.metrics["eye_distance_px"] < CONFIG.min_eye_distance_px
    assert quality.prompt is Prompt.COME_CLOSER and quality.prompt.value == "Mendekat ke kamera"


@pytest.mark.parametrize("degrees", [-60, 60])
def test_turned_says_face_forward_but_still_feeds_liveness(portrait: np.ndarray, degrees: int) -> None:
    # The cylinder is a flatter head than a real one: wrapped 60°, its landmarks move like a head
    # turned about 30°.
    box = detector().detect(to_rgb(portrait))[0]
    quality = judge(turned(portrait, box, degrees))
    assert quality.prompt is Prompt.FACE_FORWARD and quality.prompt.value == "Hadap lurus ke kamera"
    assert not quality.ok and quality.for_liveness
    assert np.sign(quality.metrics["yaw_deg"]) == np.sign(degrees)


def test_a_really_turned_face_says_face_forward(faces_dir: Path) -> None:
    quality = judge(image(faces_dir / "train" / "kit_harington" / "john2.jpeg"))
    assert quality.prompt is Prompt.FACE_FORWARD and quality.metrics["yaw_deg"] < -CONFIG.max_yaw_deg


def test_a_slight_turn_passes(portrait: np.ndarray) -> None:
    box = detector().detect(to_rgb(portrait))[0]
    quality = judge(turned(portrait, box, 12))
    assert quality.ok, quality.metrics


def generic_face(yaw: float, pitch: float = 0.0, *, mouth_open: float = 0.0) -> dict[str, list[tuple[int, int]]]:
    """The generic face turned by ``yaw`` and nodded by ``pitch`` (degrees, up positive), seen
    by a 640x480 camera with focal length 640 from 6 eye distances: face_recognition's layout.
    ``mouth_open`` drops the lower lip and the chin by that many eye distances."""
    model = lm.GENERIC_FACE.copy()
    jaw = list(range(4, 13)) + list(range(lm.part_slice("bottom_lip").start, lm.part_slice("bottom_lip").stop))
    model[jaw, 1] += mouth_open
    camera_axes = np.column_stack([model[:, 0], model[:, 1], -model[:, 2]])
    rotation = (
        cv2.Rodrigues(np.array([0.0, math.radians(-yaw), 0.0]))[0] @ cv2.Rodrigues(np.array([math.radians(-pitch), 0.0, 0.0]))[0]
    )
    points, _ = cv2.projectPoints(
        camera_axes @ rotation.T,
        np.zeros(3),
        np.array([0.0, 0.0, 6.0]),
        np.array([[640.0, 0, 320], [0, 640.0, 240], [0, 0, 1]]),
        None,
    )
    return lm.from_array(points.reshape(-1, 2) * 1.0)


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (-35, 0), (-20, 10), (20, -10), (35, 0)])
def test_head_pose_recovers_the_turn_of_the_generic_face(yaw: float, pitch: float) -> None:
    # Rounded to whole pixels at ~107 px between the eyes, as face_recognition gives them.
    got_yaw, got_pitch, roll = head_pose(generic_face(yaw, pitch), 640, 480)
    assert got_yaw == pytest.approx(yaw, abs=2.0)
    assert got_pitch == pytest.approx(pitch - PITCH_BIAS_DEG, abs=2.0)
    assert abs(roll) < 2.0


def test_an_open_mouth_does_not_turn_or_nod_the_head() -> None:
    # Someone talking or singing at the kiosk: the chin and lower lip drop, the head does not move.
    closed = head_pose(generic_face(15), 640, 480)
    opened = head_pose(generic_face(15, mouth_open=0.5), 640, 480)
    assert opened[0] == pytest.approx(closed[0], abs=0.5) and opened[1] == pytest.approx(closed[1], abs=0.5)


def test_a_head_turning_in_the_clip_reads_as_a_smooth_turn(faces_dir: Path) -> None:
    # The singer of the clip turns from about 25° to the camera and past it in frames 82–106,
    # mouth moving; the estimate follows without jumps (the chin-and-mouth fit jumped 25°).
    capture = cv2.VideoCapture(str(faces_dir / "short_hamilton_clip.mp4"))
    yaws = []
    for index in range(107):
        ok, frame = capture.read()
        assert ok
        if index >= 82:
            rgb = to_rgb(frame)
            box = detector().detect(rgb)[0]
            yaws.append(head_pose(detector().landmarks(rgb, box), frame.shape[1], frame.shape[0])[0])
    capture.release()
    steps = np.abs(np.diff(yaws))
    assert steps.max() < 8.0, np.round(yaws, 1)
    assert yaws[0] > 15 and yaws[-1] < -10, np.round(yaws, 1)


def test_the_frontal_limit_lies_within_the_pose_gate() -> None:
    with pytest.raises(ValidationError, match="frontal_yaw_deg"):
        FaceConfig(max_yaw_deg=20, frontal_yaw_deg=30)
    # A configuration from before the setting, with the gate tightened below its default, still
    # loads and follows the gate; the limit is not pinned when the gate moves again.
    tight = FaceConfig(max_yaw_deg=10)
    assert tight.frontal_limit_deg == 10 and "frontal_yaw_deg" not in tight.model_fields_set
    tight.max_yaw_deg = 8
    assert tight.frontal_limit_deg == 8
    tight.max_yaw_deg = 25
    assert tight.frontal_limit_deg == 15
