"""Quality gates on a detected face, each with the prompt the kiosk screen shows.

The gates, in the order an employee can act on them: size (eye distance), exposure, head pose
(yaw and pitch estimated from the 68 landmarks with a generic 3-D face and ``solvePnP``), and
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

from kiosk.config import FaceConfig
from kiosk.face.detect import Landmarks
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


#: A generic face in millimetres (x right, y up, z toward the camera), for solvePnP.
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip (landmark 30)
        (0.0, -330.0, -65.0),  # chin (8)
        (-225.0, 170.0, -135.0),  # outer corner of the image-left eye (36)
        (225.0, 170.0, -135.0),  # outer corner of the image-right eye (45)
        (-150.0, -150.0, -125.0),  # image-left mouth corner (48)
        (150.0, -150.0, -125.0),  # image-right mouth corner (54)
    ],
    dtype=np.float64,
)


#: The generic model reads frontal faces as looking up by about this much (mean over the frontal
#: photos of the test data: 2.5°–13.5°); subtracted so 0 means level.
PITCH_BIAS_DEG = 8.0


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

    Yaw is positive when the face turns toward the image's right. A generic face model and a
    pinhole camera with focal length = frame width: good to a few degrees, which is what a gate
    needs.
    """
    image_points = np.array(
        [
            landmarks["nose_bridge"][3],
            landmarks["chin"][8],
            landmarks["left_eye"][0],
            landmarks["right_eye"][3],
            landmarks["top_lip"][0],
            landmarks["top_lip"][6],
        ],
        dtype=np.float64,
    )
    image_points[:, 1] = frame_height - image_points[:, 1]  # y up, as the model
    focal = float(frame_width)
    camera = np.array([[focal, 0, frame_width / 2], [0, focal, frame_height / 2], [0, 0, 1]], dtype=np.float64)
    ok, rvec, _tvec = cv2.solvePnP(_MODEL_POINTS, image_points, camera, None, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return 90.0, 90.0, 0.0
    rotation, _ = cv2.Rodrigues(rvec)
    # The model faces +z and the camera looks down -z in this y-up frame: angles of the face
    # relative to facing the camera.
    sy = math.hypot(rotation[0, 0], rotation[1, 0])
    pitch = math.degrees(math.atan2(rotation[2, 1], rotation[2, 2]))
    yaw = math.degrees(math.atan2(-rotation[2, 0], sy))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return yaw, _wrap(pitch) - PITCH_BIAS_DEG, _wrap(roll)


def _wrap(angle: float) -> float:
    """An angle folded into (-90, 90]: solvePnP may return the face model mirrored through z."""
    while angle > 90:
        angle -= 180
    while angle <= -90:
        angle += 180
    return angle


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
