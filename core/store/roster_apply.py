"""The rows a server's roster writes on the unit (``source = 'roster'``): ``employees``,
``face_templates``, ``cards`` and ``finger_templates`` (the server's events are stored by
:mod:`core.store.events`, which owns that table).

Every function here runs inside the caller's transaction (:func:`sync.roster_pull.apply_roster` opens
one for the whole document): none commits. Templates arrive already sealed; nothing here logs.
"""

from __future__ import annotations

import sqlite3


def clear_roster_rows(conn: sqlite3.Connection) -> None:
    """Before a full roster: drop every face template, card and finger template that came from
    the roster, and mark the roster's employees inactive (``face_templates``, ``cards``,
    ``finger_templates``, ``employees``)."""
    conn.execute("DELETE FROM face_templates WHERE source = 'roster'")
    conn.execute("DELETE FROM cards WHERE source = 'roster'")
    conn.execute("DELETE FROM finger_templates WHERE source = 'roster'")
    conn.execute("UPDATE employees SET active = 0 WHERE source = 'roster'")


def roster_employee_ids(conn: sqlite3.Connection) -> list[str]:
    """Ids of the employees the roster made (``employees``). Read-only."""
    return [str(r[0]) for r in conn.execute("SELECT id FROM employees WHERE source = 'roster'")]


def employee_known(conn: sqlite3.Connection, employee_id: str) -> bool:
    """Whether ``employees`` holds this id, active or not, whatever its source. Read-only."""
    return conn.execute("SELECT 1 FROM employees WHERE id = ?", (employee_id,)).fetchone() is not None


def upsert_roster_employee(
    conn: sqlite3.Connection,
    employee_id: str,
    name: str,
    *,
    unit_code: str,
    work_code: str,
    card_policy: str | None,
    active: bool,
    stamp: str,
) -> None:
    """Add or update the employee in ``employees`` as the roster's (``source = 'roster'``)."""
    conn.execute(
        "INSERT INTO employees (id, name, unit_code, work_code, card_policy, active, source, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'roster', ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
        "unit_code = excluded.unit_code, work_code = excluded.work_code, card_policy = excluded.card_policy, "
        "active = excluded.active, source = 'roster', updated_at = excluded.updated_at",
        (employee_id, name, unit_code, work_code, card_policy, int(active), stamp),
    )


def clear_roster_faces(conn: sqlite3.Connection, employee_id: str) -> None:
    """Drop the employee's face templates that came from the roster (``face_templates``)."""
    conn.execute("DELETE FROM face_templates WHERE employee_id = ? AND source = 'roster'", (employee_id,))


def add_roster_face(
    conn: sqlite3.Connection, employee_id: str, blob: bytes, *, scheme: str, quality: float | None, embedder: str, stamp: str
) -> None:
    """Store one sealed face template from the roster (``face_templates``)."""
    conn.execute(
        "INSERT INTO face_templates (employee_id, encoding, scheme, quality, source, created_at, embedder) "
        "VALUES (?, ?, ?, ?, 'roster', ?, ?)",
        (employee_id, blob, scheme, quality, stamp, embedder),
    )


def clear_roster_cards(conn: sqlite3.Connection, employee_id: str) -> None:
    """Drop the employee's cards that came from the roster (``cards``)."""
    conn.execute("DELETE FROM cards WHERE employee_id = ? AND source = 'roster'", (employee_id,))


def assign_roster_card(conn: sqlite3.Connection, uid: str, employee_id: str, stamp: str) -> None:
    """Give the card to the employee as the roster's (``cards``): a uid held by anyone else, even
    a card registered on the unit, moves to this employee."""
    conn.execute(
        "INSERT INTO cards (uid, employee_id, source, created_at) VALUES (?, ?, 'roster', ?) "
        "ON CONFLICT(uid) DO UPDATE SET employee_id = excluded.employee_id, source = 'roster'",
        (uid, employee_id, stamp),
    )


def clear_roster_fingers(conn: sqlite3.Connection, employee_id: str) -> None:
    """Drop the employee's finger templates that came from the roster (``finger_templates``)."""
    conn.execute("DELETE FROM finger_templates WHERE employee_id = ? AND source = 'roster'", (employee_id,))


def put_roster_finger(
    conn: sqlite3.Connection,
    employee_id: str,
    finger: int,
    family: str,
    *,
    stored: bytes,
    scheme: str,
    digest: str,
    stamp: str,
) -> None:
    """Store one sealed finger template from the roster (``finger_templates``), replacing the
    one held for the same finger and family."""
    conn.execute(
        "INSERT INTO finger_templates (employee_id, finger, family, template, scheme, digest, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'roster', ?) ON CONFLICT(employee_id, finger, family) DO UPDATE SET "
        "template = excluded.template, scheme = excluded.scheme, digest = excluded.digest, source = 'roster', "
        "created_at = excluded.created_at",
        (employee_id, finger, family, stored, scheme, digest, stamp),
    )
