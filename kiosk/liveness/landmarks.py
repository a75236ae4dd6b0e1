"""Landmark geometry shared by the checks: face_recognition's 68-point layout, by name.

face_recognition names the eyes by image side: ``left_eye`` is the eye on the left of the image
(the person's right eye). The mapping :func:`face_recognition.face_landmarks` returns is turned
into one array of points by :func:`as_array`; the measurements take that array (float pixels, so
points carried through a homography keep their sub-pixel precision).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

Landmarks = Mapping[str, Sequence[tuple[int, int]]]
Points = npt.NDArray[np.float64]

#: The parts and their point counts, in the order :func:`as_array` stacks them.
PARTS: tuple[tuple[str, int], ...] = (
    ("chin", 17),
    ("left_eyebrow", 5),
    ("right_eyebrow", 5),
    ("nose_bridge", 4),
    ("nose_tip", 5),
    ("left_eye", 6),
    ("right_eye", 6),
    ("top_lip", 12),
    ("bottom_lip", 12),
)


def complete(landmarks: Landmarks) -> bool:
    """Every part is present with its full number of points."""
    return all(len(landmarks.get(name, ())) == count for name, count in PARTS)


def part(landmarks: Landmarks, name: str) -> Points:
    return np.asarray(landmarks[name], dtype=np.float64).reshape(-1, 2)


def as_array(landmarks: Landmarks) -> Points:
    """All 72 points (the lips share corners) stacked in :data:`PARTS` order."""
    return np.concatenate([part(landmarks, name) for name, _ in PARTS])


def from_array(points: Points) -> dict[str, list[tuple[int, int]]]:
    """The inverse of :func:`as_array`, rounded to integer pixels as face_recognition gives them."""
    out: dict[str, list[tuple[int, int]]] = {}
    start = 0
    for name, count in PARTS:
        chunk = points[start : start + count]
        out[name] = [(round(float(x)), round(float(y))) for x, y in chunk]
        start += count
    return out


def part_slice(name: str) -> slice:
    start = 0
    for part_name, count in PARTS:
        if part_name == name:
            return slice(start, start + count)
        start += count
    raise KeyError(name)


def eye_centres(points: Points) -> tuple[Points, Points]:
    """Centres of the image-left and image-right eyes (``points`` from :func:`as_array`)."""
    return points[part_slice("left_eye")].mean(axis=0), points[part_slice("right_eye")].mean(axis=0)


def inter_ocular(points: Points) -> float:
    """Distance between the eye centres, in pixels: the unit every ratio here is measured in."""
    left, right = eye_centres(points)
    return float(np.linalg.norm(right - left))


def nose_offset(points: Points) -> float:
    """Where the nose tip sits between the eyes, signed, in inter-ocular units.

    The nose tip is projected onto the line through the eye centres: 0 when it is midway, positive
    towards the image right. A head turning to the person's left (image right) makes it grow;
    a flat picture turned the same way keeps it near its starting value, since a plane keeps the
    ratios of distances along a line under an affine view.
    """
    left, right = eye_centres(points)
    axis = right - left
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        return 0.0
    tip = points[part_slice("nose_tip")][2]
    mid = (left + right) / 2
    return float(np.dot(tip - mid, axis) / (length * length))


def eye_openness(points: Points) -> float:
    """Mean lid gap of both eyes (pixels): the upper lid points to the lower ones."""
    gaps = []
    for name in ("left_eye", "right_eye"):
        eye = points[part_slice(name)]
        gaps.append((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / 2)
    return float(np.mean(gaps))


def _indices(name: str, picks: Sequence[int]) -> list[int]:
    start = part_slice(name).start
    return [start + i for i in picks]


#: Indices (into :func:`as_array`) of points that lie near one plane on a face seen from the
#: front: eye corners, brows, mouth corners and lip centres. The nose sticks out of it.
PLANE_POINTS: tuple[int, ...] = tuple(
    _indices("left_eyebrow", range(5))
    + _indices("right_eyebrow", range(5))
    + _indices("left_eye", (0, 3))
    + _indices("right_eye", (0, 3))
    + _indices("top_lip", (0, 3, 6))
    + _indices("bottom_lip", (3,))
)
#: The nose tip and the lower bridge: what moves against that plane when a real head turns.
NOSE_POINTS: tuple[int, ...] = tuple(_indices("nose_tip", (1, 2, 3)) + _indices("nose_bridge", (2, 3)))
#: Eyelid points (upper and lower lids of both eyes), which close in a blink.
LID_POINTS: tuple[int, ...] = tuple(_indices("left_eye", (1, 2, 4, 5)) + _indices("right_eye", (1, 2, 4, 5)))
#: Points a blink does not move, for the homography that predicts where the lids should be.
STILL_POINTS: tuple[int, ...] = tuple(
    sorted(set(PLANE_POINTS) | set(_indices("nose_bridge", range(4))) | set(_indices("nose_tip", range(5))))
)


#: A generic face in :func:`kiosk.liveness.landmarks.as_array` order: x, y in eye distances from
#: the point between the eyes (the mean of six frontal faces in the shared test photos), z (towards
#: the camera) from anthropometric depths: nose tip 0.4 in front of the inner eye corners, outer eye
#: corners 0.2 behind them, mouth corners behind the lips, the jaw curving back to 0.65 at the ears.
_FRONTAL_XY = [
    (-1.197, 0.049), (-1.19, 0.356), (-1.167, 0.667), (-1.124, 0.97), (-1.021, 1.257), (-0.84, 1.507), (-0.612, 1.721),
    (-0.346, 1.888), (-0.045, 1.931), (0.245, 1.877), (0.475, 1.705), (0.685, 1.488), (0.843, 1.245), (0.935, 0.969),
    (0.984, 0.679), (1.019, 0.394), (1.034, 0.111), (-0.925, -0.131), (-0.783, -0.293), (-0.575, -0.354), (-0.348, -0.339),
    (-0.139, -0.263), (0.185, -0.254), (0.394, -0.316), (0.602, -0.317), (0.798, -0.241), (0.899, -0.073), (0.016, -0.046),
    (0.017, 0.148), (0.019, 0.344), (0.017, 0.547), (-0.265, 0.664), (-0.14, 0.704), (-0.006, 0.747), (0.12, 0.712),
    (0.238, 0.681), (-0.682, -0.012), (-0.56, -0.081), (-0.419, -0.079), (-0.294, 0.008), (-0.425, 0.024), (-0.564, 0.026),
    (0.292, 0.033), (0.428, -0.048), (0.561, -0.04), (0.672, 0.04), (0.563, 0.07), (0.427, 0.059), (-0.536, 1.036),
    (-0.348, 0.975), (-0.16, 0.955), (-0.023, 0.985), (0.115, 0.962), (0.287, 0.993), (0.456, 1.054), (0.391, 1.062),
    (0.113, 1.043), (-0.025, 1.054), (-0.163, 1.035), (-0.472, 1.046), (0.456, 1.054), (0.293, 1.221), (0.121, 1.293),
    (-0.026, 1.308), (-0.172, 1.289), (-0.359, 1.21), (-0.536, 1.036), (-0.472, 1.046), (-0.163, 1.143), (-0.025, 1.165),
    (0.117, 1.152), (0.391, 1.062),
]  # fmt: skip


def _depths() -> Points:
    z: list[float] = []
    z += [-0.05 - 0.6 * (abs(i - 8) / 8) ** 1.5 for i in range(17)]  # jaw
    z += [-0.15, -0.07, 0.0, 0.04, 0.05]  # image-left brow, outer to inner
    z += [0.05, 0.04, 0.0, -0.07, -0.15]  # image-right brow, inner to outer
    z += [0.1, 0.2, 0.3, 0.4]  # nose bridge down to the tip
    z += [0.12, 0.22, 0.28, 0.22, 0.12]  # base of the nose
    z += [-0.2, -0.08, -0.04, 0.0, -0.04, -0.08]  # image-left eye, outer corner first
    z += [0.0, -0.04, -0.08, -0.2, -0.08, -0.04]  # image-right eye, inner corner first
    z += [-0.05, 0.05, 0.12, 0.15, 0.12, 0.05, -0.05, 0.02, 0.1, 0.12, 0.1, 0.02]  # top lip
    z += [-0.05, 0.03, 0.08, 0.1, 0.08, 0.03, -0.05, 0.02, 0.08, 0.1, 0.08, 0.02]  # bottom lip
    return np.asarray(z)


#: Shared by the pose gate (:func:`kiosk.face.quality.head_pose`) and the attack harness's head tracks.
GENERIC_FACE: Points = np.column_stack([np.asarray(_FRONTAL_XY), _depths()])
