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
