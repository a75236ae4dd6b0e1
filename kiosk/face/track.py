"""Following faces from frame to frame, so that each person's approach is one :class:`Track`.

A track is born when a face appears, follows it by box overlap (full-frame detections) or by
re-detection near its last box (:meth:`kiosk.face.detect.FaceDetector.detect_near`), and ends
when the face has not been seen for ``lost_after_s``. Everything expensive — encoding, the
identity vote, the liveness session, the decision — hangs on the track, so it happens once per
approach and not once per frame.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.face.detect import box_area, box_iou
from kiosk.face.identify import IdentityVoter
from kiosk.liveness.base import Box

if TYPE_CHECKING:
    from kiosk.face.attempt import FaceAttempt
    from kiosk.face.quality import Quality

log = logging.getLogger(__name__)


@dataclass
class Track:
    """One face, from when it appears until it leaves."""

    id: int
    box: Box
    first_seen_ns: int
    last_seen_ns: int
    voter: IdentityVoter
    frames: int = 1
    encodings: int = 0
    liveness: Any = None  # a LivenessSession, opened by the pipeline when the face is first judged
    decision: FaceAttempt | None = None
    last_quality: Quality | None = None
    missed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def area(self) -> int:
        return box_area(self.box)

    def age_s(self, now_ns: int) -> float:
        return (now_ns - self.first_seen_ns) / 1e9


def _close(a: Box, b: Box, min_iou: float) -> float:
    """How well box ``b`` continues track box ``a``: IoU, or a centre-distance fallback for quick moves."""
    iou = box_iou(a, b)
    if iou >= min_iou:
        return iou
    acx, acy = (a[1] + a[3]) / 2, (a[0] + a[2]) / 2
    bcx, bcy = (b[1] + b[3]) / 2, (b[0] + b[2]) / 2
    size = max(a[1] - a[3], 1)
    dist = math.hypot(acx - bcx, acy - bcy)
    ratio = box_area(b) / max(box_area(a), 1)
    if dist < 0.5 * size and 0.5 < ratio < 2.0:
        return min_iou * 0.99 * (1 - dist / size)
    return 0.0


class Tracker:
    """Tracks by greedy box association; ``k`` is the identity vote's agreement count."""

    def __init__(self, *, lost_after_s: float = 0.8, agree_frames: int = 2, min_iou: float = 0.3) -> None:
        self.lost_after_ns = int(lost_after_s * 1e9)
        self.agree_frames = agree_frames
        self.min_iou = min_iou
        self.tracks: list[Track] = []
        self._next_id = 1
        self.started = 0

    def __repr__(self) -> str:
        return f"Tracker({len(self.tracks)} tracks, {self.started} started)"

    def _new(self, box: Box, t_ns: int) -> Track:
        track = Track(self._next_id, box, t_ns, t_ns, IdentityVoter(self.agree_frames))
        self._next_id += 1
        self.started += 1
        self.tracks.append(track)
        log.debug("track %d started", track.id)
        return track

    def update(self, boxes: list[Box], t_ns: int) -> list[Track]:
        """Associate a full-frame detection with the tracks; returns the tracks seen in this frame."""
        pairs = sorted(
            (
                (score, ti, bi)
                for ti, tr in enumerate(self.tracks)
                for bi, b in enumerate(boxes)
                if (score := _close(tr.box, b, self.min_iou)) > 0
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_b: set[int] = set()
        seen: list[Track] = []
        for _score, ti, bi in pairs:
            if ti in used_t or bi in used_b:
                continue
            used_t.add(ti)
            used_b.add(bi)
            self.refresh(self.tracks[ti], boxes[bi], t_ns)
            seen.append(self.tracks[ti])
        for ti, track in enumerate(self.tracks):
            if ti not in used_t:
                track.missed += 1
        seen.extend(self._new(b, t_ns) for bi, b in enumerate(boxes) if bi not in used_b)
        return seen

    def refresh(self, track: Track, box: Box | None, t_ns: int) -> None:
        """Record where ``track`` is in this frame (None: not found)."""
        if box is None:
            track.missed += 1
            return
        track.box = box
        track.last_seen_ns = t_ns
        track.frames += 1
        track.missed = 0

    def expire(self, t_ns: int) -> list[Track]:
        """Remove and return the tracks unseen for longer than ``lost_after_s``: their approach is over."""
        gone = [t for t in self.tracks if t_ns - t.last_seen_ns > self.lost_after_ns]
        if gone:
            self.tracks = [t for t in self.tracks if t not in gone]
            for track in gone:
                log.debug("track %d ended after %d frames, %d encodings", track.id, track.frames, track.encodings)
        return gone
