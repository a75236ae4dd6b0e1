"""Enrolment: face templates for an employee, from photos or from live camera frames.

Every sample must show exactly one dominant face that passes the quality gates; photos given
on the command line may be turned further than the kiosk accepts (an operator's portrait), live
samples may not. Before anything is stored, every sample is checked against the templates of all
*other* active employees: a face that already matches someone else is refused (one person cannot
hold two ids, and a mistaken id cannot inherit someone's face). Photos are never stored — only
the 128-value templates, sealed with the unit's key by :mod:`core.templates.face`.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.config import FaceConfig
from core.errors import DeviceError, EnrolmentError
from core.store import roster
from core.store.vault import unit_sealer
from core.templates.face import Encoding, seal
from kiosk.camera.base import Frame
from kiosk.camera.file import read_image
from kiosk.face.detect import FaceDetector, box_area, make_detector, to_rgb
from kiosk.face.identify import Gallery
from kiosk.face.quality import Prompt, Quality, assess

log = logging.getLogger(__name__)

#: Live samples are taken at least this far apart, so they differ a little (pose, expression).
LIVE_SAMPLE_GAP_S = 0.4


@dataclass(frozen=True)
class EnrolSample:
    encoding: Encoding
    quality: Quality
    source: str  # a file name or "camera" (never the image)


@dataclass(frozen=True)
class EnrolmentResult:
    employee_id: str
    name: str
    templates_added: int
    templates_total: int
    replaced: int
    nearest_other: str | None
    nearest_other_distance: float | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_id,
            "name": self.name,
            "templates_added": self.templates_added,
            "templates_total": self.templates_total,
            "replaced": self.replaced,
            "nearest_other": self.nearest_other,
            "nearest_other_distance": None if self.nearest_other_distance is None else round(self.nearest_other_distance, 4),
            "warnings": list(self.warnings),
        }


class Enroller:
    """Takes samples, checks them, and stores templates in the unit's database."""

    def __init__(
        self, conn: sqlite3.Connection, config: FaceConfig, clock: Clock, *, detector: FaceDetector | None = None
    ) -> None:
        self.conn = conn
        self.config = config
        self.clock = clock
        # Enrolment photos and frames are looked at closely: full resolution detection.
        self.detector = detector or make_detector(config, scale=1.0)
        self.embedder = self.detector.embedder.info

    def sample(self, image_bgr: npt.NDArray[np.uint8], source: str, *, allow_turned: bool = False) -> EnrolSample:
        """One sample from an image; EnrolmentError (with the prompt as screen text) when unusable."""
        rgb = to_rgb(image_bgr)
        boxes = self.detector.detect(rgb)
        if not boxes:
            raise EnrolmentError(
                f"{source}: no face found; use a sharp, well-lit, frontal photo", screen_text=Prompt.LOOK_AT_CAMERA.value
            )
        if len(boxes) > 1 and box_area(boxes[1]) >= self.config.dominance_ratio * box_area(boxes[0]):
            raise EnrolmentError(
                f"{source}: {len(boxes)} faces of similar size; use a photo of one person", screen_text=Prompt.ONE_PERSON.value
            )
        box = boxes[0]
        landmarks = self.detector.landmarks(rgb, box)
        gray = np.asarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        quality = assess(gray, box, landmarks, self.config)
        if not quality.ok and not (allow_turned and quality.reason == "pose"):
            prompt = quality.prompt.value if quality.prompt else "?"
            raise EnrolmentError(f"{source}: the face is not good enough ({quality.reason}: {prompt})", screen_text=prompt)
        return EnrolSample(self.detector.encode(rgb, box), quality, source)

    def check_duplicate(self, employee_id: str, samples: list[EnrolSample]) -> tuple[str | None, float | None]:
        """Refuse samples that match another active employee; returns the nearest other (id, distance)."""
        others = Gallery.from_database(self.conn, embedder=self.embedder.id).without(employee_id)
        threshold = self.config.rules.threshold
        nearest: tuple[str | None, float | None] = (None, None)
        for s in samples:
            ranked = others.best_per_employee(s.encoding)
            if not ranked:
                continue
            other, distance = ranked[0]
            if nearest[1] is None or distance < nearest[1]:
                nearest = (other, distance)
            if distance < threshold:
                log.warning("enrolment of %s refused: sample %s matches employee %s", employee_id, s.source, other)
                raise EnrolmentError(
                    f"{s.source}: this face already belongs to employee {other} (distance {distance:.2f} < {threshold}); "
                    "check the employee id, or remove the other employee's face first",
                    screen_text="Wajah sudah terdaftar atas nama pegawai lain",
                )
        return nearest

    def commit(self, employee_id: str, name: str | None, samples: list[EnrolSample], *, replace: bool = False) -> EnrolmentResult:
        """Check and store ``samples`` for the employee (created when ``name`` is given)."""
        if not samples:
            raise EnrolmentError("no usable samples; nothing was enrolled")
        existing = roster.get_employee(self.conn, employee_id)
        if existing is None and not name:
            raise EnrolmentError(f"employee {employee_id} is not on this unit; give their name (--name) to add them")
        self._check_consistent(samples)
        nearest, nearest_d = self.check_duplicate(employee_id, samples)
        sealer = unit_sealer(self.conn, first_templates=True)  # the unit's key, before anything is written
        now = self.clock.now()
        final_name = name or (existing.name if existing else employee_id)
        roster.upsert_employee(
            self.conn,
            employee_id,
            final_name,
            now=now,
            unit_code=existing.unit_code if existing else "",
            work_code=existing.work_code if existing else "",
            active=True,
            source=existing.source if existing else "local",
        )
        replaced = roster.remove_face_templates(self.conn, employee_id) if replace else 0
        for s in samples:
            blob, scheme = seal(s.encoding, employee_id=employee_id, sealer=sealer)
            roster.add_face_template(
                self.conn,
                employee_id,
                blob,
                scheme,
                now=now,
                quality=s.quality.metrics.get("sharpness"),
                embedder=self.embedder.id,
            )
        total = roster.count_face_templates(self.conn, employee_id)
        warnings = tuple(
            f"{s.source}: head turned {s.quality.metrics.get('yaw_deg', 0):+.0f}°" for s in samples if s.quality.reason == "pose"
        )
        log.info("enrolled %d face templates for employee %s", len(samples), employee_id)
        return EnrolmentResult(employee_id, final_name, len(samples), total, replaced, nearest, nearest_d, warnings)

    def _check_consistent(self, samples: list[EnrolSample]) -> None:
        """All samples must show one person."""
        for i, a in enumerate(samples):
            for b in samples[i + 1 :]:
                distance = float(np.linalg.norm(a.encoding - b.encoding))
                if distance >= self.config.rules.threshold:
                    raise EnrolmentError(
                        f"{a.source} and {b.source} do not show the same person (distance {distance:.2f}); enrol one person at a time"
                    )

    def enrol_photos(self, employee_id: str, name: str | None, photos: list[Path], *, replace: bool = False) -> EnrolmentResult:
        """Enrol from photo files (the ``presensi enroll`` command)."""
        samples = []
        for path in photos:
            try:
                image = read_image(path)
            except DeviceError as exc:
                raise EnrolmentError(str(exc)) from exc
            samples.append(self.sample(image, path.name, allow_turned=True))
        return self.commit(employee_id, name, samples, replace=replace)

    def live(self, employee_id: str, name: str | None, *, samples: int | None = None, replace: bool = True) -> LiveEnrolment:
        """A live camera enrolment for the maintenance page: feed it frames until ``done``."""
        return LiveEnrolment(self, employee_id, name, samples or self.config.enrol_samples, replace)


@dataclass
class EnrolProgress:
    taken: int
    needed: int
    prompt: str | None
    done: bool
    error: str | None = None


@dataclass
class LiveEnrolment:
    """Collects quality-checked samples from camera frames; :meth:`commit` stores them."""

    enroller: Enroller
    employee_id: str
    name: str | None
    needed: int
    replace: bool
    samples: list[EnrolSample] = field(default_factory=list)
    _last_ns: int | None = None

    @property
    def done(self) -> bool:
        return len(self.samples) >= self.needed

    def feed(self, frame: Frame) -> EnrolProgress:
        """Look at one frame; a usable face becomes a sample (at most one per ``LIVE_SAMPLE_GAP_S``)."""
        if self.done:
            return EnrolProgress(len(self.samples), self.needed, None, True)
        if self._last_ns is not None and frame.t_mono_ns - self._last_ns < LIVE_SAMPLE_GAP_S * 1e9:
            return EnrolProgress(len(self.samples), self.needed, Prompt.HOLD_STILL.value, False)
        try:
            sample = self.enroller.sample(frame.image, "camera")
        except EnrolmentError as exc:
            return EnrolProgress(len(self.samples), self.needed, exc.screen_text, False)
        if (
            self.samples
            and float(np.linalg.norm(self.samples[0].encoding - sample.encoding)) >= self.enroller.config.rules.threshold
        ):
            self.samples.clear()  # someone else stepped in: start again
            return EnrolProgress(0, self.needed, Prompt.ONE_PERSON.value, False, "a different face appeared; starting again")
        self.samples.append(sample)
        self._last_ns = frame.t_mono_ns
        return EnrolProgress(len(self.samples), self.needed, None, self.done)

    def commit(self) -> EnrolmentResult:
        if not self.done:
            raise EnrolmentError(f"only {len(self.samples)} of {self.needed} samples taken; keep the face in front of the camera")
        return self.enroller.commit(self.employee_id, self.name, self.samples, replace=self.replace)
