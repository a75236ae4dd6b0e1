"""Evidence photos (``privacy.evidence_photos``, off by default): a small picture of the face with
each face punch, for a dispute ("that was not me").

The photo is a JPEG of the face and a margin around it, at most :data:`MAX_SIDE` pixels a side
— enough for a person to recognise. It is biometric data as sensitive as a template (a face
encoding made from it lies ~0.1 from one of the full frame), so it is treated like one: sealed
with the unit's template key (AES-GCM, bound to the punch id, so it cannot be moved to another
punch) and stored in ``evidence_photos``; a unit without a key stores none (a photo is never kept
in the clear). The punch is committed first and the photo kept only after the decision was
shown (:meth:`kiosk.face.pipeline.FacePipeline.keep_evidence`, and after a card-then-face punch
by the card service): keeping it can fail (full disk, no key) without losing or delaying the
punch. Retention (:mod:`kiosk.privacy.retention`) deletes each photo ``privacy.evidence_days``
after its punch was acknowledged; erasing an employee deletes theirs. Admin PD sees a photo on
the maintenance page's punch list; each view is audited.
"""

from __future__ import annotations

import logging
import sqlite3

import cv2
import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.errors import PresensiError
from core.store.evidence import context, keep_photo
from core.store.punches import Punch
from core.store.vault import unit_sealer
from kiosk.liveness.base import Box

log = logging.getLogger(__name__)

#: Largest side of a kept photo, in pixels.
MAX_SIDE = 160
#: Margin kept around the face box, as a fraction of its size.
MARGIN = 0.3
JPEG_QUALITY = 80


def face_jpeg(frame_bgr: npt.NDArray[np.uint8], box: Box) -> bytes:
    """The face in ``box`` with a margin, scaled down to at most :data:`MAX_SIDE` a side, as JPEG."""
    height, width = frame_bgr.shape[:2]
    top, right, bottom, left = box
    pad_x, pad_y = int((right - left) * MARGIN), int((bottom - top) * MARGIN)
    crop = frame_bgr[max(0, top - pad_y) : min(height, bottom + pad_y), max(0, left - pad_x) : min(width, right + pad_x)]
    if crop.size == 0:
        raise ValueError(f"the face box {box} lies outside the frame")
    scale = min(1.0, MAX_SIDE / max(crop.shape[:2]))
    if scale < 1.0:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("the face could not be encoded as JPEG")
    return encoded.tobytes()


class EvidenceKeeper:
    """Keeps the photo of each accepted face punch, on the caller's thread and connection: the
    face pipeline once the decision was shown (:meth:`FacePipeline.keep_evidence`), the card
    service after a card-then-face punch (:meth:`keep_jpeg`)."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self.kept = 0

    def __repr__(self) -> str:
        return f"EvidenceKeeper(kept={self.kept})"

    def __call__(self, punch: Punch, frame_bgr: npt.NDArray[np.uint8], box: Box) -> bool:
        """Seal and store the photo of the face in ``box``; False (logged, punch untouched) when
        it cannot be kept."""
        try:
            jpeg = face_jpeg(frame_bgr, box)
        except (ValueError, cv2.error) as exc:
            log.error("evidence photo of punch seq %d not kept (the punch is recorded): %s", punch.seq, exc)
            return False
        return self.keep_jpeg(punch, jpeg)

    def keep_jpeg(self, punch: Punch, jpeg: bytes) -> bool:
        """Seal and store a photo already cut (card then face: the face service cut it)."""
        try:
            sealer = unit_sealer(self.conn)
            if sealer is None:
                log.warning("evidence photo of punch seq %d not kept: this database has no unit key", punch.seq)
                return False
            keep_photo(self.conn, punch, sealer.seal(jpeg, context(punch.id)), self.clock.now())
        except (PresensiError, sqlite3.Error) as exc:
            log.error("evidence photo of punch seq %d not kept (the punch is recorded): %s", punch.seq, exc)
            return False
        self.kept += 1
        return True
