"""Face test data computed once per test session (HOG and encodings are slow on two cores).

Every test file of the face area reaches photos through here, so a photo is detected and
encoded once per session however many tests use it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from core.templates.face import Encoding
from kiosk.camera.file import read_image
from kiosk.face.detect import FaceDetector, to_rgb
from kiosk.face.identify import Gallery
from kiosk.liveness.base import Box

#: Which enrolled person each face of each test photo shows, left to right (None: not enrolled).
TEST_TRUTH: dict[str, list[str | None]] = {
    "alex_lacamoire1.jpg": ["alex_lacamoire"],
    "johnsnow_test1.jpg": ["kit_harington"],
    "obama1.jpg": ["obama"],
    "kit_with_rose.jpg": ["rose_leslie", "kit_harington"],
    "obama_and_biden.jpg": ["biden", "obama", None],
}


@dataclass(frozen=True)
class Face:
    box: Box
    encoding: Encoding


@functools.cache
def detector() -> FaceDetector:
    """Full-resolution detection, as for enrolment photos."""
    return FaceDetector(scale=1.0, upsample=1)


@functools.cache
def image(path: Path) -> npt.NDArray[np.uint8]:
    return read_image(path)


@functools.cache
def faces(path: Path) -> tuple[Face, ...]:
    """Every face of a photo, left to right."""
    rgb = to_rgb(image(path))
    boxes = sorted(detector().detect(rgb), key=lambda b: b[3])
    return tuple(Face(b, detector().encode(rgb, b)) for b in boxes)


@functools.cache
def train_gallery(faces_dir: Path) -> Gallery:
    """Every photo in train/<person>/, the person's folder name as employee id."""
    encodings, ids = [], []
    for person in sorted((faces_dir / "train").iterdir()):
        for photo in sorted(person.iterdir()):
            found = faces(photo)
            assert len(found) == 1, f"{photo} should show one face"
            encodings.append(found[0].encoding)
            ids.append(person.name)
    return Gallery(np.stack(encodings), ids, {i: i.replace("_", " ").title() for i in ids})


def on_wall(picture: npt.NDArray[np.uint8], width: int = 640, height: int = 480) -> npt.NDArray[np.uint8]:
    """``picture`` scaled to fit and centred on a grey wall, as the simulated camera shows it."""
    from kiosk.camera.base import fit_within

    fitted = fit_within(picture, width, height)
    scene = np.full((height, width, 3), 110, dtype=np.uint8)
    h, w = fitted.shape[:2]
    top, left = (height - h) // 2, (width - w) // 2
    scene[top : top + h, left : left + w] = fitted
    return scene


def turned(picture: npt.NDArray[np.uint8], box: Box, degrees: float) -> npt.NDArray[np.uint8]:
    """The face in ``box`` turned about a vertical axis, by wrapping it on a cylinder."""
    _top, right, _bottom, left = box
    centre, radius = (left + right) / 2, (right - left) * 0.75
    h, w = picture.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    u = np.clip((xs - centre) / radius, -1, 1)
    phi = np.arcsin(u) - math.radians(degrees)
    inside = (np.abs((xs - centre) / radius) < 1) & (np.abs(phi) < math.pi / 2)
    source_x = np.where(inside, centre + radius * np.sin(phi), xs).astype(np.float32)
    return np.asarray(cv2.remap(picture, source_x, ys, cv2.INTER_LINEAR), dtype=np.uint8)
