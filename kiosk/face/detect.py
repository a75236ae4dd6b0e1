"""Face detection, landmarks and encodings: dlib's HOG or YuNet, dlib's 68 landmarks, and the
configured embedder.

Boxes use face_recognition's order (top, right, bottom, left) in full-frame pixels. Detection
runs on a downscaled copy of the frame (``detect_scale``; HOG also ``upsample``), by dlib's HOG
(``face.detector = "hog"``) or by OpenCV's YuNet (``"yunet"``, which also gives the five alignment
points); :meth:`FaceDetector.detect_near` re-finds an already tracked face in a small window around
its last box, scaled so the face is about :data:`NEAR_FACE_PX` wide, which costs a fraction of a
full-frame pass. Encodings are computed on the full-resolution frame by the configured embedder
(``kiosk.face.embedders``): dlib's network run with numpy, or an ONNX model on the face aligned by
its five points (YuNet's, else from the 68 landmarks). :func:`make_detector` builds it from the
configuration.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from core.errors import ConfigError, FaceError
from core.templates.face import Encoding
from kiosk.face.dlib_models import DLIB_LOCK, face_recognition_module
from kiosk.face.embedders import DlibEmbedder, Embedder, Points, five_points, load_embedder
from kiosk.liveness.base import Box

if TYPE_CHECKING:
    from core.config import FaceConfig

log = logging.getLogger(__name__)

Landmarks = Mapping[str, Sequence[tuple[int, int]]]
RGB = npt.NDArray[np.uint8]

#: Width, in pixels, a tracked face is scaled to for re-detection near its last box
#: (dlib's HOG window is 80 px, so upsample 0 finds it with room to spare).
NEAR_FACE_PX = 100
#: How far around the last box the re-detection window reaches, as a fraction of the box size.
NEAR_PAD = 0.6
#: HOG's box side in eyes-to-mouth distances (:func:`hog_like_box`).
HOG_BOX_SPAN = 2.32


def to_rgb(frame_bgr: npt.NDArray[np.uint8]) -> RGB:
    return np.ascontiguousarray(frame_bgr[:, :, ::-1])


def box_area(box: Box) -> int:
    top, right, bottom, left = box
    return max(0, bottom - top) * max(0, right - left)


def box_iou(a: Box, b: Box) -> float:
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0, bottom - top) * max(0, right - left)
    union = box_area(a) + box_area(b) - inter
    return float(inter / union) if union else 0.0


class YunetFinder:
    """OpenCV's YuNet (``cv2.FaceDetectorYN``): boxes and five points per face. One detector
    object, used by one caller at a time (it keeps its input size)."""

    def __init__(self, path: Path, score: float = 0.7) -> None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(
                f"face.yunet_model {path} does not exist; install face_detection_yunet_2023mar.onnx (docs/install.md)"
            )
        try:
            self._detector = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score, 0.3, 50)
        except cv2.error as exc:
            raise ConfigError(f"cannot load the YuNet model {path}: {exc}; check face.yunet_model") from exc
        self._lock = threading.Lock()

    def find(self, rgb: RGB) -> list[tuple[Box, Points]]:
        """Faces in the image: (box, five points) in its own pixels, template order."""
        h, w = rgb.shape[:2]
        with self._lock:
            self._detector.setInputSize((w, h))
            _, faces = self._detector.detect(np.ascontiguousarray(rgb[:, :, ::-1]))
        found = []
        for row in faces if faces is not None else []:
            points = np.asarray(row[4:14], dtype=np.float32).reshape(5, 2)
            found.append((_clip(hog_like_box(points), w, h), points))
        return found


def hog_like_box(points: Points) -> Box:
    """The box dlib's HOG detector would give the face with these five points: YuNet's own box
    reaches over the forehead, while the 68-point landmark model, the quality gates and the
    liveness crops all expect HOG's. Fitted on the shared photos, the clip and the Replay-Attack
    live frames (88 faces both found): the centre half-way from the eyes to the mouth, a square of
    2.32 times the eyes-to-mouth distance (spread 0.1 and 0.18 of it)."""
    eyes = (points[0] + points[1]) / 2
    mouth = (points[3] + points[4]) / 2
    span = float(np.linalg.norm(mouth - eyes))
    cx, cy = eyes + (mouth - eyes) * 0.5
    half = span * HOG_BOX_SPAN / 2
    return (round(cy - half), round(cx + half), round(cy + half), round(cx - half))


class FaceDetector:
    """Detection (HOG or YuNet), 68-point landmarks and the embedder's encodings of faces in RGB frames."""

    def __init__(
        self,
        *,
        scale: float = 0.5,
        upsample: int = 1,
        embedder: Embedder | None = None,
        yunet: YunetFinder | None = None,
    ) -> None:
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        self.scale = scale
        self.upsample = upsample
        self.fr = face_recognition_module()
        self.yunet = yunet
        self._embedder = embedder
        #: YuNet's five points of the faces found last (full-frame), for the embedder's alignment.
        self._points: list[tuple[Box, Points]] = []

    def __repr__(self) -> str:
        kind = "yunet" if self.yunet else f"hog, upsample={self.upsample}"
        return f"FaceDetector({kind}, scale={self.scale:g}, {self.embedder!r})"

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = _dlib_embedder()
        return self._embedder

    def _find(self, image: RGB, upsample: int) -> list[tuple[Box, Points | None]]:
        if self.yunet is not None:
            return [(b, p) for b, p in self.yunet.find(image)]
        with DLIB_LOCK:
            found = self.fr.face_locations(image, number_of_times_to_upsample=upsample, model="hog")
        return [((int(b[0]), int(b[1]), int(b[2]), int(b[3])), None) for b in found]

    def detect(self, rgb: RGB) -> list[Box]:
        """Every face in the frame, largest first (full-frame boxes)."""
        h, w = rgb.shape[:2]
        if self.scale < 1.0:
            small = cv2.resize(rgb, (max(1, round(w * self.scale)), max(1, round(h * self.scale))), interpolation=cv2.INTER_AREA)
        else:
            small = rgb
        found = self._find(np.asarray(small, dtype=np.uint8), self.upsample)
        faces = [(_clip(_scale_box(b, 1.0 / self.scale), w, h), p) for b, p in found]
        self._points = [(b, p / self.scale) for b, p in faces if p is not None]
        return sorted((b for b, _ in faces), key=box_area, reverse=True)

    def detect_near(self, rgb: RGB, box: Box) -> Box | None:
        """The face near ``box`` in this frame (the one overlapping it most), or None."""
        h, w = rgb.shape[:2]
        top, right, bottom, left = box
        bw, bh = right - left, bottom - top
        pad_x, pad_y = int(bw * NEAR_PAD), int(bh * NEAR_PAD)
        x0, y0 = max(0, left - pad_x), max(0, top - pad_y)
        x1, y1 = min(w, right + pad_x), min(h, bottom + pad_y)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        factor = min(2.5, max(0.2, NEAR_FACE_PX / max(bw, 1)))
        crop = rgb[y0:y1, x0:x1]
        size = (max(1, round((x1 - x0) * factor)), max(1, round((y1 - y0) * factor)))
        window = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
        found = self._find(np.asarray(window, dtype=np.uint8), 0)
        if not found:
            return None
        candidates = [
            (_clip(_offset(_scale_box(b, 1.0 / factor), x0, y0), w, h), None if p is None else p / factor + (x0, y0))
            for b, p in found
        ]
        best, points = max(candidates, key=lambda c: box_iou(c[0], box))
        if box_iou(best, box) <= 0.1:
            return None
        self._points = [(best, points)] if points is not None else []
        return best

    def landmarks(self, rgb: RGB, box: Box) -> dict[str, list[tuple[int, int]]]:
        """face_recognition's 68 landmarks by feature (chin, left_eye, nose_tip, …), full-frame pixels."""
        with DLIB_LOCK:
            result = self.fr.face_landmarks(rgb, [box], model="large")
        return {k: [(int(x), int(y)) for x, y in v] for k, v in result[0].items()}

    def five_points(self, rgb: RGB, box: Box, landmarks: Landmarks | None = None) -> Points:
        """The face's five alignment points: YuNet's for this box when it found it, else from the
        68 landmarks (given, or computed here)."""
        for known, points in self._points:
            if box_iou(known, box) > 0.5:
                return points
        return five_points(landmarks if landmarks is not None else self.landmarks(rgb, box))

    def encode(self, rgb: RGB, box: Box, landmarks: Landmarks | None = None) -> Encoding:
        """The template of the face in ``box`` by the configured embedder (dlib: the chip
        face_recognition's ``face_encodings(model="small")`` aligns, through dlib's network run
        with numpy; onnx: the face aligned by its five points)."""
        top, right, bottom, left = box
        if right - left < 2 or bottom - top < 2:
            raise FaceError("no encoding could be made of the face")
        embedder = self.embedder
        points = self.five_points(rgb, box, landmarks) if embedder.needs_points else None
        return embedder.embed(rgb, box, points)


@functools.cache
def _dlib_embedder() -> Embedder:

    return DlibEmbedder()


def make_detector(config: FaceConfig, *, scale: float | None = None) -> FaceDetector:
    """The detector and embedder ``config`` asks for (``scale``: instead of detect_scale, e.g. 1.0
    for enrolment photos); ConfigError when a model cannot be used."""
    yunet = YunetFinder(config.yunet_model, config.yunet_score) if config.detector == "yunet" and config.yunet_model else None
    return FaceDetector(
        scale=config.detect_scale if scale is None else scale,
        upsample=config.upsample if scale is None else max(1, config.upsample),
        embedder=load_embedder(config),
        yunet=yunet,
    )


@functools.cache
def _scale_box(box: Sequence[int], factor: float) -> Box:
    top, right, bottom, left = box
    return (round(top * factor), round(right * factor), round(bottom * factor), round(left * factor))


def _offset(box: Box, dx: int, dy: int) -> Box:
    top, right, bottom, left = box
    return (top + dy, right + dx, bottom + dy, left + dx)


def _clip(box: Box, width: int, height: int) -> Box:
    top, right, bottom, left = box
    return (max(0, top), min(width, right), min(height, bottom), max(0, left))
