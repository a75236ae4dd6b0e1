"""Quality gates on a detected face, each with the prompt the kiosk screen shows.

The gates, in the order an employee can act on them: size (eye distance), exposure, head pose
(yaw and pitch fitted to the rigid landmarks of a generic 3-D face with ``solvePnP``), and
sharpness. A face that fails a gate is neither encoded nor used for liveness, except that a
head turned for a liveness challenge still feeds liveness (``for_liveness``). The scene-level
gate ("Satu orang saja") is the pipeline's, which sees every face in the frame.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from core.config import FaceConfig
from kiosk.face.detect import Landmarks
from kiosk.liveness import landmarks as lm
from kiosk.liveness.base import Box


class Prompt(enum.StrEnum):
    """What the screen tells the employee, Bahasa Indonesia first."""

    COME_CLOSER = "Mendekat ke kamera"
    FACE_FORWARD = "Hadap lurus ke kamera"
    TOO_DARK = "Terlalu gelap"
    TOO_BRIGHT = "Terlalu terang"
    HOLD_STILL = "Tahan, jangan bergerak"
    ONE_PERSON = "Satu orang saja"
    CENTRE = "Posisikan wajah di tengah"
    LOOK_AT_CAMERA = "Lihat ke kamera"


#: The landmarks that do not move with expression: the nose (bridge and base) and the four eye
#: corners. The chin and the mouth corners move when someone talks, sings or smiles, and a pose
#: fitted to them reads an open mouth as a turned or nodding head.
RIGID_POINTS = (27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45)

#: :data:`kiosk.liveness.landmarks.GENERIC_FACE` in OpenCV camera axes (x right, y down, z away
#: from the camera), in eye distances.
_MODEL_POINTS = np.column_stack(
    [lm.GENERIC_FACE[RIGID_POINTS, 0], lm.GENERIC_FACE[RIGID_POINTS, 1], -lm.GENERIC_FACE[RIGID_POINTS, 2]]
).astype(np.float64)

#: The generic face reads frontal faces as looking down by about this much (median over the
#: frontal photos of the shared test data); added back so 0 means level.
PITCH_BIAS_DEG = -11.0


@dataclass(frozen=True)
class Quality:
    """The verdict on one face: ``ok`` for identification, ``for_liveness`` for liveness samples."""

    ok: bool
    for_liveness: bool
    prompt: Prompt | None
    reason: str  # small | dark | bright | pose | blur | edge | "" when ok
    metrics: dict[str, float] = field(default_factory=dict)


def eye_centres(landmarks: Landmarks) -> tuple[tuple[float, float], tuple[float, float]]:
    left = np.mean(np.asarray(landmarks["left_eye"], dtype=np.float64), axis=0)
    right = np.mean(np.asarray(landmarks["right_eye"], dtype=np.float64), axis=0)
    return (float(left[0]), float(left[1])), (float(right[0]), float(right[1]))


def eye_distance(landmarks: Landmarks) -> float:
    (lx, ly), (rx, ry) = eye_centres(landmarks)
    return math.hypot(rx - lx, ry - ly)


def head_pose(landmarks: Landmarks, frame_width: int, frame_height: int) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees; 0, 0, 0 is a face looking straight at the camera.

    Yaw is positive when the face turns toward the image's right, pitch when it looks up. The
    rigid landmarks are fitted to the generic face with ``solvePnP`` (a pinhole camera with focal
    length = frame width), starting from a frontal face at the distance its eye spacing gives, so
    the fit cannot settle on the mirrored solution; good to a few degrees, which is what a gate
    needs.
    """
    points = lm.as_array(landmarks)
    image_points = points[list(RIGID_POINTS)]
    left, right = lm.eye_centres(points)
    eyes = float(np.linalg.norm(right - left))
    if eyes < 1.0:
        return 90.0, 90.0, 0.0
    focal = float(frame_width)
    camera = np.array([[focal, 0, frame_width / 2], [0, focal, frame_height / 2], [0, 0, 1]], dtype=np.float64)
    middle = (left + right) / 2
    depth = focal / eyes  # the model is one eye distance wide between the eye centres
    guess_t = np.array(
        [[(middle[0] - frame_width / 2) * depth / focal], [(middle[1] - frame_height / 2) * depth / focal], [depth]]
    )
    ok, rvec, _tvec = cv2.solvePnP(
        _MODEL_POINTS, image_points, camera, None, np.zeros((3, 1)), guess_t, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return 90.0, 90.0, 0.0
    rotation, _ = cv2.Rodrigues(rvec)
    facing = rotation @ np.array([0.0, 0.0, -1.0])  # where the face looks, in camera axes
    across = rotation @ np.array([1.0, 0.0, 0.0])  # the line through the eyes
    yaw = math.degrees(math.atan2(facing[0], -facing[2]))
    pitch = math.degrees(math.atan2(-facing[1], math.hypot(facing[0], facing[2])))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return yaw, pitch - PITCH_BIAS_DEG, roll


def face_crop(gray: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.uint8]:
    """The inner part of the face box (cheeks, eyes, nose: less hair and background)."""
    top, right, bottom, left = box
    h, w = bottom - top, right - left
    y0, y1 = top + h // 8, bottom - h // 8
    x0, x1 = left + w // 6, right - w // 6
    crop = gray[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    return crop if crop.size else gray[max(0, top) : max(0, bottom), max(0, left) : max(0, right)]


def sharpness(crop: npt.NDArray[np.uint8]) -> float:
    """Variance of the Laplacian of the crop scaled to 96 px wide (so a big face is not favoured)."""
    if crop.size == 0:
        return 0.0
    scale = 96.0 / crop.shape[1]
    resized = cv2.resize(crop, (96, max(1, round(crop.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(resized, cv2.CV_64F).var())


def assess(gray: npt.NDArray[np.uint8], box: Box, landmarks: Landmarks, config: FaceConfig) -> Quality:
    """Apply every gate to one face of a grey frame; the first that fails gives the prompt."""
    height, width = gray.shape[:2]
    crop = face_crop(gray, box)
    eyes = eye_distance(landmarks)
    brightness = float(crop.mean()) if crop.size else 0.0
    sharp = sharpness(crop)
    yaw, pitch, roll = head_pose(landmarks, width, height)
    metrics = {
        "eye_distance_px": round(eyes, 1),
        "brightness": round(brightness, 1),
        "sharpness": round(sharp, 1),
        "yaw_deg": round(yaw, 1),
        "pitch_deg": round(pitch, 1),
        "roll_deg": round(roll, 1),
    }
    top, right, bottom, left = box
    margin = 2
    at_edge = top <= margin or left <= margin or right >= width - margin or bottom >= height - margin

    def fail(prompt: Prompt, reason: str, *, for_liveness: bool = False) -> Quality:
        return Quality(False, for_liveness, prompt, reason, metrics)

    if eyes < config.min_eye_distance_px:
        return fail(Prompt.COME_CLOSER, "small")
    if brightness < config.min_brightness:
        return fail(Prompt.TOO_DARK, "dark")
    if brightness > config.max_brightness:
        return fail(Prompt.TOO_BRIGHT, "bright")
    if at_edge:
        return fail(Prompt.CENTRE, "edge")
    if sharp < config.min_sharpness:
        return fail(Prompt.HOLD_STILL, "blur")
    if abs(yaw) > config.max_yaw_deg or abs(pitch) > config.max_pitch_deg:
        return fail(Prompt.FACE_FORWARD, "pose", for_liveness=True)
    return Quality(True, True, None, "", metrics)
