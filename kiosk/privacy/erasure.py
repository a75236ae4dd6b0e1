"""Erasure: an employee removed from the roster (or erased on the maintenance page) loses every
biometric template and card on the unit at once. Their fingerprint module slots go with the
templates (``finger_slots`` cascades); the fingerprint bridge deletes them from the module at its
next reconciliation. Punches stay: they are attendance records the regency must keep, and hold
no biometric data. The audit log records the erasure by counts, never the data."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from kiosk import audit
from kiosk.store.db import write_transaction
from kiosk.store.punches import format_instant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    employee_id: str
    face_templates: int
    finger_templates: int
    cards: int


def erase_employee(conn: sqlite3.Connection, employee_id: str, *, now: datetime, actor: str, reason: str) -> Erased:
    """Deactivate the employee and delete their templates and cards in one transaction."""
    with write_transaction(conn, f"erasing the biometric data of {employee_id}"):
        faces = conn.execute("DELETE FROM face_templates WHERE employee_id = ?", (employee_id,)).rowcount
        fingers = conn.execute("DELETE FROM finger_templates WHERE employee_id = ?", (employee_id,)).rowcount
        cards = conn.execute("DELETE FROM cards WHERE employee_id = ?", (employee_id,)).rowcount
        conn.execute("UPDATE employees SET active = 0, updated_at = ? WHERE id = ?", (format_instant(now), employee_id))
    erased = Erased(employee_id, faces, fingers, cards)
    audit.record(
        conn, actor, "employee.erase", now=now, employee=employee_id, reason=reason, faces=faces, fingers=fingers, cards=cards
    )
    log.info("erased employee %s: %d face, %d finger templates, %d cards", employee_id, faces, fingers, cards)
    return erased
