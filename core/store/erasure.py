"""Erasure: an employee removed from the roster (or erased on the maintenance page) loses every
biometric template, card and evidence photo on the unit at once, whatever their source (enrolled here or sent by
the server). Their fingerprint module slots go with the templates (``finger_slots`` cascades);
the fingerprint bridge sees the roster change and deletes the orphaned slots from every module
at its next reconciliation (in a second or two while it runs). Punches stay: they are attendance
records the regency must keep, and hold no biometric data. The audit log records the erasure by
counts, never the data.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from core.store import audit, evidence
from core.store.punches import format_instant
from core.store.tx import write_transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    employee_id: str
    face_templates: int
    finger_templates: int
    cards: int
    evidence_photos: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.face_templates or self.finger_templates or self.cards or self.evidence_photos)


def erase_rows(conn: sqlite3.Connection, employee_id: str, *, now: datetime) -> Erased:
    """Deactivate the employee and delete their templates and cards, inside the caller's
    transaction (the roster pull erases the removed employees in the transaction that applies
    it). Call :func:`record_erasure` once it committed."""
    faces = conn.execute("DELETE FROM face_templates WHERE employee_id = ?", (employee_id,)).rowcount
    fingers = conn.execute("DELETE FROM finger_templates WHERE employee_id = ?", (employee_id,)).rowcount
    cards = conn.execute("DELETE FROM cards WHERE employee_id = ?", (employee_id,)).rowcount
    photos = evidence.erase_for(conn, employee_id)
    conn.execute("UPDATE employees SET active = 0, updated_at = ? WHERE id = ?", (format_instant(now), employee_id))
    return Erased(employee_id, faces, fingers, cards, photos)


def record_erasure(conn: sqlite3.Connection, erased: Erased, *, now: datetime, actor: str, reason: str) -> None:
    """The audit entry and log line of an erasure: counts only."""
    audit.record(
        conn,
        actor,
        "employee.erase",
        now=now,
        employee=erased.employee_id,
        reason=reason,
        faces=erased.face_templates,
        fingers=erased.finger_templates,
        cards=erased.cards,
        evidence=erased.evidence_photos,
    )
    log.info(
        "erased employee %s: %d face, %d finger templates, %d cards, %d evidence photos",
        erased.employee_id,
        erased.face_templates,
        erased.finger_templates,
        erased.cards,
        erased.evidence_photos,
    )


def erase_employee(conn: sqlite3.Connection, employee_id: str, *, now: datetime, actor: str, reason: str) -> Erased:
    """Deactivate the employee and delete their templates and cards in one transaction."""
    with write_transaction(conn, f"erasing the biometric data of {employee_id}"):
        erased = erase_rows(conn, employee_id, now=now)
    record_erasure(conn, erased, now=now, actor=actor, reason=reason)
    return erased
