"""Face punches in event mode from the bundled photos (benchmark and end-to-end test).

Enrols one photo per person from ``train/<person>/`` as a participant's template, then
identifies the single-face photos in ``test/`` on a camera-sized frame (the kiosk's 640 px)
with the face pipeline's own detector and gallery, and punches through :class:`EventMode`.
Photos from disk cannot be judged for liveness, so these punches record verdict ``skipped``,
as the face pipeline does for its demo on photos.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.clock import FakeClock
from core.config import FaceConfig
from core.schedule.event_mode import Admission, EventMode
from core.store.punches import Punch
from kiosk.face.detect import FaceDetector, to_rgb
from kiosk.face.identify import Gallery, Match

#: Single-face test photos and the training folder of the person in them.
TEST_PHOTOS = {"obama1.jpg": "obama", "alex_lacamoire1.jpg": "alex_lacamoire", "johnsnow_test1.jpg": "kit_harington"}
FRAME_WIDTH = 640


def camera_frame(path: Path) -> np.ndarray:
    """The photo as the kiosk camera would deliver it: BGR, 640 px wide."""
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"cannot read {path}")
    h, w = image.shape[:2]
    if w > FRAME_WIDTH:
        image = cv2.resize(image, (FRAME_WIDTH, round(h * FRAME_WIDTH / w)), interpolation=cv2.INTER_AREA)
    return image


@dataclass
class FaceEventSim:
    detector: FaceDetector
    gallery: Gallery
    mode: EventMode
    people: dict[str, str]  # training folder → employee id
    config: FaceConfig

    @classmethod
    def enrol(cls, faces_dir: Path, mode: EventMode, employee_ids: Sequence[str]) -> FaceEventSim:
        config = FaceConfig()
        detector = FaceDetector(scale=config.detect_scale, upsample=config.upsample)
        enrol_detector = FaceDetector(scale=1.0, upsample=1)
        folders = sorted(p for p in (faces_dir / "train").iterdir() if p.is_dir())[: len(employee_ids)]
        encodings, ids, people = [], [], {}
        for folder, employee_id in zip(folders, employee_ids, strict=False):
            photo = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[0]
            rgb = to_rgb(camera_frame(photo))
            boxes = enrol_detector.detect(rgb)
            if not boxes:
                raise RuntimeError(f"no face found in the enrolment photo {photo}")
            encodings.append(enrol_detector.encode(rgb, boxes[0]))
            ids.append(employee_id)
            people[folder.name] = employee_id
        return cls(detector, Gallery(np.array(encodings), ids), mode, people, config)

    def identify(self, path: Path) -> Match | None:
        """Detection, encoding and match of the largest face in the photo (one frame)."""
        rgb = to_rgb(camera_frame(path))
        boxes = self.detector.detect(rgb)
        if not boxes:
            return None
        return self.gallery.identify(
            self.detector.encode(rgb, boxes[0]), threshold=self.config.threshold, margin=self.config.margin
        )

    def punch(self, path: Path) -> tuple[Match | None, Admission | None, Punch | None]:
        match = self.identify(path)
        if match is None or not match.accepted or match.employee_id is None:
            return match, None, None
        admission, punch = self.mode.punch(match.employee_id, "face", liveness_verdict="skipped", match_distance=match.distance)
        return match, admission, punch

    def photos(self, faces_dir: Path) -> list[tuple[Path, str]]:
        """(test photo, expected employee id) for the people enrolled."""
        return [(faces_dir / "test" / name, self.people[who]) for name, who in TEST_PHOTOS.items() if who in self.people]

    def measure(self, faces_dir: Path, clock: FakeClock, *, count: int) -> tuple[list[float], list[float]]:
        """Seconds per frame (detect + encode + match) over ``count`` frames, and seconds of
        admission + durable punch per accepted person."""
        photos = self.photos(faces_dir)
        per_frame, per_person = [], []
        for i in range(count):
            path, expected = photos[i % len(photos)]
            clock.advance(1.0)
            started = time.perf_counter()
            match = self.identify(path)
            per_frame.append(time.perf_counter() - started)
            if match is None or match.employee_id != expected or not match.accepted:
                raise RuntimeError(f"{path.name} was not identified as its person: {match}")
            started = time.perf_counter()
            admission, _ = self.mode.punch(expected, "face", liveness_verdict="skipped", match_distance=match.distance)
            if admission.accepted:
                per_person.append(time.perf_counter() - started)
        return per_frame, per_person
