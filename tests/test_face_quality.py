"""Quality gates give the right prompt on degraded images: dark, bright, blurred, tiny, turned."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.face_data import detector, image, turned

from kiosk.config import FaceConfig
from kiosk.face.detect import to_rgb
from kiosk.face.quality import Prompt, Quality, assess, head_pose

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


@pytest.mark.parametrize("degrees", [-40, 40])
def test_turned_says_face_forward_but_still_feeds_liveness(portrait: np.ndarray, degrees: int) -> None:
    box = detector().detect(to_rgb(portrait))[0]
    quality = judge(turned(portrait, box, degrees))
    assert quality.prompt is Prompt.FACE_FORWARD and quality.prompt.value == "Hadap lurus ke kamera"
    assert not quality.ok and quality.for_liveness
    assert np.sign(quality.metrics["yaw_deg"]) == np.sign(degrees)


def test_a_slight_turn_passes(portrait: np.ndarray) -> None:
    box = detector().detect(to_rgb(portrait))[0]
    quality = judge(turned(portrait, box, 12))
    assert quality.ok, quality.metrics


def test_head_pose_of_a_frontal_layout_is_level() -> None:
    # A symmetric synthetic landmark layout: eyes level, nose between them, mouth below.
    landmarks = {
        "nose_bridge": [(320, 200), (320, 215), (320, 230), (320, 245)],
        "chin": [(0, 0)] * 8 + [(320, 345)] + [(0, 0)] * 8,
        "left_eye": [(250, 200), (260, 195), (270, 195), (280, 200), (270, 203), (260, 203)],
        "right_eye": [(360, 200), (370, 195), (380, 195), (390, 200), (380, 203), (370, 203)],
        "top_lip": [(285, 290)] + [(300, 285)] * 5 + [(355, 290)] + [(320, 288)] * 5,
    }
    yaw, _pitch, roll = head_pose(landmarks, 640, 480)
    assert abs(yaw) < 3 and abs(roll) < 3
