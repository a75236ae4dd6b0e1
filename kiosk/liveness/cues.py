"""Screen and print cues: moiré or halftone peaks, a large specular glare, a frame around the face.

Three cheap image measurements, each mapped to a sub-score in [0, 1] (1 = nothing suspicious, 0.5
exactly at its configured limit); the check's score is the lowest of the three, its median over
the first frames of an approach.

- **Moiré / halftone**: a screen's subpixel grid seen by a camera, or a printer's dot screen, puts
  sharp peaks into the spectrum of the face; skin, hair and optics give a smooth one. We measure
  the highest peak over its smoothed surroundings (dB) in the upper frequency band, with the 8×8
  JPEG block grid and the axes masked (genuine JPEG photos have those).
- **Glare**: a phone or glossy print held to the light shows one large saturated, colourless
  highlight; skin highlights are small.
- **Border**: straight edges on several sides around the face, outside it: a paper edge or a
  device bezel. One or two straight edges (a door frame) are common behind real people.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
import numpy.typing as npt

from core.config import LivenessConfig
from kiosk.liveness.base import Box, CheckScore, CheckSession, FaceSample, LivenessCheck

Image = npt.NDArray[np.uint8]

SPECTRUM_SIZE = 128  # the square of the face the spectrum is taken over (pixels, no resampling)
BAND = (0.14, 0.5)  # cycles per pixel: above what a face's own features put there
BORDER_FACE_PX = 80


def live_score(value: float, limit: float, softness: float) -> float:
    """1 well below ``limit``, 0.5 at it, towards 0 above; ``softness`` is the width of the slope."""
    z = (value - limit) / max(softness, 1e-9)
    return 1.0 / (1.0 + math.exp(max(min(z, 60.0), -60.0)))


def _clamped(frame: Image, box: Box, factor: float) -> tuple[int, int, int, int]:
    top, right, bottom, left = box
    height, width = frame.shape[:2]
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = (right - left) * factor / 2, (bottom - top) * factor / 2
    return (max(int(cy - half_h), 0), min(int(cx + half_w), width), min(int(cy + half_h), height), max(int(cx - half_w), 0))


def moire_peak_db(frame: Image, box: Box) -> float:
    """Height (dB) of the strongest narrow spectral peak in the face's upper frequency band."""
    top, right, bottom, left = _clamped(frame, box, 1.0)
    gray = cv2.cvtColor(frame[top:bottom, left:right], cv2.COLOR_BGR2GRAY).astype(np.float32)
    size = min(SPECTRUM_SIZE, gray.shape[0], gray.shape[1])
    size -= size % 8
    if size < 32:
        return 0.0
    y0, x0 = (gray.shape[0] - size) // 2, (gray.shape[1] - size) // 2
    patch = gray[y0 : y0 + size, x0 : x0 + size]
    patch = patch - cv2.GaussianBlur(patch, (0, 0), 2.0)
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    spectrum = np.fft.fftshift(np.abs(np.fft.fft2(patch * window)))
    log_mag = 20.0 * np.log10(spectrum + 1e-3)
    background = cv2.GaussianBlur(log_mag, (0, 0), 3.0)
    prominence = log_mag - background
    freq = np.fft.fftshift(np.fft.fftfreq(size))
    fy, fx = np.meshgrid(freq, freq, indexing="ij")
    radius = np.hypot(fx, fy)
    mask = (radius >= BAND[0]) & (radius <= BAND[1])
    block = size // 8  # the JPEG grid: frequencies k/8 cycles per pixel
    centre = size // 2
    index = np.arange(size) - centre
    on_grid = (np.abs(index) % block <= 1) | (np.abs(index) % block >= block - 1)
    mask &= ~on_grid[:, np.newaxis] & ~on_grid[np.newaxis, :]
    if not mask.any():
        return 0.0
    return float(prominence[mask].max())


def glare_area(frame: Image, box: Box) -> float:
    """Largest saturated, colourless highlight in the face, as a share of the face box."""
    top, right, bottom, left = _clamped(frame, box, 1.0)
    face = frame[top:bottom, left:right]
    if face.size == 0:
        return 0.0
    hsv = cv2.cvtColor(face, cv2.COLOR_BGR2HSV)
    mask = ((hsv[..., 2] >= 240) & (hsv[..., 1] <= 40)).astype(np.uint8)
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return 0.0
    largest = int(stats[1:, cv2.CC_STAT_AREA].max())
    return largest / float(face.shape[0] * face.shape[1])


def border_sides(frame: Image, box: Box) -> int:
    """On how many sides of the face (left, right, top, bottom) a long straight edge runs."""
    r_top, r_right, r_bottom, r_left = _clamped(frame, box, 3.2)
    region = cv2.cvtColor(frame[r_top:r_bottom, r_left:r_right], cv2.COLOR_BGR2GRAY)
    if region.size == 0:
        return 0
    # Edges are looked for at a face width of ~80 px whatever the resolution (cheap, and the
    # same line lengths mean the same thing at 240p and 1080p).
    shrink = min(1.0, BORDER_FACE_PX / max(box[1] - box[3], 1))
    if shrink < 1.0:
        region = cv2.resize(region, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    top, right, bottom, left = ((v - o) * shrink for v, o in zip(box, (r_top, r_left, r_top, r_left), strict=True))
    r_top = r_left = 0
    box_w, box_h = right - left, bottom - top
    edges = cv2.Canny(cv2.GaussianBlur(region, (5, 5), 0), 40, 120)
    min_len = int(0.9 * min(box_w, box_h))
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=max(min_len // 2, 10), minLineLength=max(min_len, 10), maxLineGap=4)
    if lines is None:
        return 0
    sides = set()
    margin_x, margin_y = 0.15 * box_w, 0.15 * box_h
    for x1, y1, x2, y2 in lines[:, 0, :]:
        ax1, ax2, ay1, ay2 = x1 + r_left, x2 + r_left, y1 + r_top, y2 + r_top
        angle = abs(math.degrees(math.atan2(ay2 - ay1, ax2 - ax1))) % 180
        if angle < 20 or angle > 160:  # horizontal: above or below the face, spanning it
            y_mid = (ay1 + ay2) / 2
            overlap = min(max(ax1, ax2), right) - max(min(ax1, ax2), left)
            if overlap < 0.5 * box_w:
                continue
            if y_mid < top - margin_y:
                sides.add("top")
            elif y_mid > bottom + margin_y:
                sides.add("bottom")
        elif 70 < angle < 110:  # vertical: beside the face, spanning it
            x_mid = (ax1 + ax2) / 2
            overlap = min(max(ay1, ay2), bottom) - max(min(ay1, ay2), top)
            if overlap < 0.5 * box_h:
                continue
            if x_mid < left - margin_x:
                sides.add("left")
            elif x_mid > right + margin_x:
                sides.add("right")
    return len(sides)


@dataclass(frozen=True)
class CueSettings:
    moire_peak_db: float = 13.5
    glare_area: float = 0.15
    border_sides: int = 3
    frames: int = 3

    @classmethod
    def from_config(cls, config: LivenessConfig) -> CueSettings:
        return cls(config.cues_moire_peak, config.cues_glare_area, config.cues_border_sides, config.cues_frames)


def frame_cues(frame: Image, box: Box, settings: CueSettings) -> dict[str, float]:
    """The three sub-scores (1 = nothing suspicious) and the raw measurements of one frame."""
    peak = moire_peak_db(frame, box)
    glare = glare_area(frame, box)
    sides = border_sides(frame, box)
    return {
        "moire": live_score(peak, settings.moire_peak_db, 1.0),
        "glare": live_score(glare, settings.glare_area, 0.15 * settings.glare_area),
        "border": live_score(sides, settings.border_sides - 0.5, 0.25),
        "moire_peak_db": peak,
        "glare_area": glare,
        "border_sides": float(sides),
    }


class CuesCheck(LivenessCheck):
    type_key: ClassVar[str] = "cues"

    def __init__(self, settings: CueSettings) -> None:
        self.settings = settings

    def new_session(self) -> CuesSession:
        return CuesSession(self.settings)


class CuesSession(CheckSession):
    def __init__(self, settings: CueSettings) -> None:
        self._settings = settings
        self._frames: list[dict[str, float]] = []

    def add(self, sample: FaceSample) -> None:
        if len(self._frames) < self._settings.frames:
            self._frames.append(frame_cues(sample.frame_bgr, sample.box, self._settings))

    def score(self) -> CheckScore | None:
        if not self._frames:
            return None
        detail = {key: statistics.median(frame[key] for frame in self._frames) for key in self._frames[0]}
        score = min(detail["moire"], detail["glare"], detail["border"])
        return CheckScore(CuesCheck.type_key, score, confident=len(self._frames) >= self._settings.frames, detail=detail)
