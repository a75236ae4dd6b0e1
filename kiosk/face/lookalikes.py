"""Lookalike employees: pairs whose templates lie closer than the embedder's lookalike distance.

The face service calls :func:`record_lookalikes` each time it loads the gallery: the pairs are
stored in ``face_lookalikes`` (for the maintenance page, ``doctor`` and the card policy, which then
asks those employees for card then face: ``kiosk.cards.policy.is_lookalike``), and each pair that
appears or goes is written to the audit log with the reason, so a technician can see when and why
an employee was switched to card then face.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from core.store import audit
from core.store.roster import replace_lookalikes
from kiosk.face.identify import Gallery

log = logging.getLogger(__name__)


def record_lookalikes(conn: sqlite3.Connection, gallery: Gallery, *, lookalike: float, now: datetime) -> int:
    """Store the calibrated gallery's lookalike pairs; audit the changes. Returns how many pairs."""
    if gallery.embedder is None:
        return 0
    appeared, gone = replace_lookalikes(conn, gallery.embedder, gallery.lookalikes, now=now)
    for a, b in sorted(appeared):
        distance = gallery.lookalikes[(a, b)]
        log.warning(
            "employees %s and %s are lookalikes (distance %.3f < %.3f): card then face for both", a, b, distance, lookalike
        )
        audit.record(
            conn,
            "face",
            "face.lookalike",
            now=now,
            employee_id=a,
            other_id=b,
            distance=round(distance, 4),
            limit=lookalike,
            reason="templates closer than the lookalike distance: card then face until re-enrolment separates them",
        )
    for a, b in sorted(gone):
        audit.record(conn, "face", "face.lookalike_cleared", now=now, employee_id=a, other_id=b)
    return len(gallery.lookalikes)
