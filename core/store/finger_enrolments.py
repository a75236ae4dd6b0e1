"""Fingerprint enrolment requests (``finger_enrolments``): the maintenance page queues them, the
bridge moves them on. The states and their meaning are the bridge's
(:mod:`firmware_bridge.enrolment`), so every function here is given the states it reads or moves
from. Rows come back as :class:`sqlite3.Row`; the bridge makes them its ``Enrolment``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from core.store.punches import format_instant
from core.store.tx import write_transaction


def _marks(states: Sequence[str]) -> str:
    return ", ".join("?" * len(states))


def enrolment_in(conn: sqlite3.Connection, states: Sequence[str]) -> int | None:
    """The id of an enrolment in one of ``states``, or None. Read-only (also used inside the
    caller's transaction, before :func:`add_enrolment`)."""
    row = conn.execute(f"SELECT id FROM finger_enrolments WHERE state IN ({_marks(states)})", tuple(states)).fetchone()  # noqa: S608 - placeholders only
    return None if row is None else int(row["id"])


def add_enrolment(
    conn: sqlite3.Connection, employee_id: str, finger: int, *, state: str, message: str, requested_by: str, now: datetime
) -> int:
    """Queue a request (step 0) inside the caller's transaction; returns its id."""
    stamp = format_instant(now)
    cursor = conn.execute(
        "INSERT INTO finger_enrolments (employee_id, finger, state, step, message, requested_by, created_at, updated_at) "
        "VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
        (employee_id, finger, state, message, requested_by, stamp, stamp),
    )
    return int(cursor.lastrowid or 0)


def enrolment_row(conn: sqlite3.Connection, enrolment_id: int) -> sqlite3.Row | None:
    """Every column of the request. Read-only."""
    row: sqlite3.Row | None = conn.execute("SELECT * FROM finger_enrolments WHERE id = ?", (enrolment_id,)).fetchone()
    return row


def oldest_in_state(conn: sqlite3.Connection, state: str) -> sqlite3.Row | None:
    """Every column of the oldest request in ``state``. Read-only."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM finger_enrolments WHERE state = ? ORDER BY id LIMIT 1", (state,)
    ).fetchone()
    return row


def cancel_enrolment(
    conn: sqlite3.Connection, enrolment_id: int, *, state: str, message: str, now: datetime, unfinished: Sequence[str]
) -> bool:
    """Put a request still in one of ``unfinished`` into ``state`` (in a transaction of its
    own); False when it was not there."""
    with write_transaction(conn, "cancelling a fingerprint enrolment"):
        changed = conn.execute(
            f"UPDATE finger_enrolments SET state = ?, message = ?, updated_at = ? WHERE id = ? AND state IN ({_marks(unfinished)})",  # noqa: S608 - placeholders only
            (state, message, format_instant(now), enrolment_id, *unfinished),
        ).rowcount
    return bool(changed)


def update_enrolment(
    conn: sqlite3.Connection,
    enrolment_id: int,
    *,
    state: str,
    message: str,
    now: datetime,
    unfinished: Sequence[str],
    step: int | None = None,
    template_id: int | None = None,
) -> bool:
    """Move a request still in one of ``unfinished`` on (state, message, and the step and
    template when given), in a transaction of its own; False when it was not there."""
    with write_transaction(conn, "updating a fingerprint enrolment"):
        changed = conn.execute(
            "UPDATE finger_enrolments SET state = ?, message = ?, step = COALESCE(?, step), "  # noqa: S608 - placeholders only
            f"template_id = COALESCE(?, template_id), updated_at = ? WHERE id = ? AND state IN ({_marks(unfinished)})",
            (state, message, step, template_id, format_instant(now), enrolment_id, *unfinished),
        ).rowcount
    return bool(changed)


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
