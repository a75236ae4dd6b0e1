"""Face detection, landmarks and encodings through face_recognition (dlib's HOG and ResNet).

Boxes use face_recognition's order (top, right, bottom, left) in full-frame pixels. Detection
runs on a downscaled copy of the frame (``detect_scale``, ``upsample``); :meth:`FaceDetector.detect_near`
re-finds an already tracked face in a small window around its last box, scaled so the face is
about :data:`NEAR_FACE_PX` wide, which costs a fraction of a full-frame pass. Encodings are
computed on the full-resolution frame, by dlib's network run with numpy (``kiosk.face.encoder``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.errors import FaceError
from kiosk.face.encoder import CHIP_PADDING, CHIP_SIZE, load_encoder
from kiosk.face.templates import Encoding, as_encoding
from kiosk.liveness.base import Box

log = logging.getLogger(__name__)

Landmarks = Mapping[str, Sequence[tuple[int, int]]]
RGB = npt.NDArray[np.uint8]

#: Width, in pixels, a tracked face is scaled to for re-detection near its last box
#: (dlib's HOG window is 80 px, so upsample 0 finds it with room to spare).
NEAR_FACE_PX = 100
#: How far around the last box the re-detection window reaches, as a fraction of the box size.
NEAR_PAD = 0.6
#: face_recognition keeps one dlib detector, shape predictor and encoder for the whole process, and
#: dlib's detector is not safe to call from two threads at once (it keeps scratch buffers in the
#: object: two callers corrupt the heap). Every call goes through this lock; the face service is
#: the only steady caller, so it costs nothing there, and an enrolment or the demo's video
#: tracker waits its turn instead of crashing the kiosk.
DLIB_LOCK = threading.Lock()


@functools.cache
def face_recognition_module() -> Any:
    """face_recognition, imported once on first use (it loads its models at import, ~1 s)."""
    try:
        import face_recognition
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise FaceError(
            "face_recognition is not installed; reinstall the kiosk package (it needs dlib-bin and face-recognition-models)"
        ) from exc
    return face_recognition


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


class FaceDetector:
    """HOG detection, 68-point landmarks and 128-d encodings of faces in RGB frames."""

    def __init__(self, *, scale: float = 0.5, upsample: int = 1) -> None:
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        self.scale = scale
        self.upsample = upsample
        self.fr = face_recognition_module()

    def __repr__(self) -> str:
        return f"FaceDetector(hog, scale={self.scale:g}, upsample={self.upsample})"

    def detect(self, rgb: RGB) -> list[Box]:
        """Every face in the frame, largest first (full-frame boxes)."""
        h, w = rgb.shape[:2]
        if self.scale < 1.0:
            small = cv2.resize(rgb, (max(1, round(w * self.scale)), max(1, round(h * self.scale))), interpolation=cv2.INTER_AREA)
        else:
            small = rgb
        with DLIB_LOCK:
            found = self.fr.face_locations(small, number_of_times_to_upsample=self.upsample, model="hog")
        boxes = [_clip(_scale_box(b, 1.0 / self.scale), w, h) for b in found]
        return sorted(boxes, key=box_area, reverse=True)

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
        with DLIB_LOCK:
            found = self.fr.face_locations(window, number_of_times_to_upsample=0, model="hog")
        if not found:
            return None
        candidates = [_clip(_offset(_scale_box(b, 1.0 / factor), x0, y0), w, h) for b in found]
        best = max(candidates, key=lambda c: box_iou(c, box))
        return best if box_iou(best, box) > 0.1 else None

    def landmarks(self, rgb: RGB, box: Box) -> dict[str, list[tuple[int, int]]]:
        """face_recognition's 68 landmarks by feature (chin, left_eye, nose_tip, …), full-frame pixels."""
        with DLIB_LOCK:
            result = self.fr.face_landmarks(rgb, [box], model="large")
        return {k: [(int(x), int(y)) for x, y in v] for k, v in result[0].items()}

    def encode(self, rgb: RGB, box: Box) -> Encoding:
        """The 128-d encoding of the face in ``box``: the chip face_recognition's
        ``face_encodings(model="small")`` aligns on the full-resolution frame, through
        :func:`kiosk.face.encoder.load_encoder` (the same values, several times faster)."""
        import dlib

        top, right, bottom, left = box
        if right - left < 2 or bottom - top < 2:
            raise FaceError("no encoding could be made of the face")
        with DLIB_LOCK:
            shape = _five_point_predictor()(rgb, dlib.rectangle(left, top, right, bottom))
            chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return as_encoding(load_encoder().encode_chip(np.asarray(chip, dtype=np.uint8)))


@functools.cache
def _five_point_predictor() -> Any:
    """dlib's 5-point shape predictor, which aligns the chip for the encoder."""
    import dlib
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def _scale_box(box: Sequence[int], factor: float) -> Box:
    top, right, bottom, left = box
    return (round(top * factor), round(right * factor), round(bottom * factor), round(left * factor))


def _offset(box: Box, dx: int, dy: int) -> Box:
    top, right, bottom, left = box
    return (top + dy, right + dx, bottom + dy, left + dx)


def _clip(box: Box, width: int, height: int) -> Box:
    top, right, bottom, left = box
    return (max(0, top), min(width, right), min(height, bottom), max(0, left))
