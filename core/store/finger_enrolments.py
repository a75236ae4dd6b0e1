"""Fingerprint enrolment requests (``finger_enrolments``) as the maintenance page finds them;
the bridge's side of the table (requesting, progress, cancelling) is firmware_bridge.enrolment's."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


def latest_enrolment_id(conn: sqlite3.Connection, employee_id: str, states: Sequence[str] = ()) -> int | None:
    """The id of the employee's newest enrolment request (only in ``states`` when given), or
    None. Read-only."""
    if states:
        marks = ", ".join("?" * len(states))
        row = conn.execute(
            f"SELECT id FROM finger_enrolments WHERE employee_id = ? AND state IN ({marks}) ORDER BY id DESC LIMIT 1",  # noqa: S608 - placeholders only
            (employee_id, *states),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT id FROM finger_enrolments WHERE employee_id = ? ORDER BY id DESC LIMIT 1", (employee_id,)
        ).fetchone()
    return int(row["id"]) if row is not None else None
