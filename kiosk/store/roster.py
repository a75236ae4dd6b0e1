"""Employees and their face templates in the unit's database.

Generic helpers over the ``employees`` and ``face_templates`` tables (migration 0001_core): who
works here, who is active, and the stored (already sealed) face templates. Sealing is the face
package's business (``kiosk.face.templates``); this module stores and returns bytes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from kiosk.store.db import write_transaction
from kiosk.store.punches import format_instant


@dataclass(frozen=True)
class Employee:
    id: str
    name: str
    unit_code: str = ""
    work_code: str = ""
    active: bool = True
    source: str = "local"


@dataclass(frozen=True)
class StoredTemplate:
    id: int
    employee_id: str
    blob: bytes
    scheme: str
    quality: float | None
    source: str


def _employee(row: sqlite3.Row) -> Employee:
    return Employee(
        id=row["id"],
        name=row["name"],
        unit_code=row["unit_code"],
        work_code=row["work_code"],
        active=bool(row["active"]),
        source=row["source"],
    )


def upsert_employee(
    conn: sqlite3.Connection,
    employee_id: str,
    name: str,
    *,
    now: datetime,
    unit_code: str = "",
    work_code: str = "",
    active: bool = True,
    source: str = "local",
) -> Employee:
    """Add the employee, or update their name, codes and active flag."""
    if not employee_id or len(employee_id) > 64:
        raise ValueError("employee id must be 1–64 characters")
    if not name.strip():
        raise ValueError("employee name must not be empty")
    with write_transaction(conn, f"saving employee {employee_id}"):
        conn.execute(
            """INSERT INTO employees (id, name, unit_code, work_code, active, source, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET name = excluded.name, unit_code = excluded.unit_code,
                 work_code = excluded.work_code, active = excluded.active, source = excluded.source,
                 updated_at = excluded.updated_at""",
            (employee_id, name.strip(), unit_code, work_code, int(active), source, format_instant(now)),
        )
    return Employee(employee_id, name.strip(), unit_code, work_code, active, source)


def get_employee(conn: sqlite3.Connection, employee_id: str) -> Employee | None:
    """The employee, active or not. Read-only."""
    row = conn.execute("SELECT * FROM employees WHERE id = ?", (employee_id,)).fetchone()
    return _employee(row) if row else None


def set_active(conn: sqlite3.Connection, employee_id: str, active: bool, *, now: datetime) -> bool:
    """Mark an employee active or not; False when there is no such employee."""
    with write_transaction(conn, f"updating employee {employee_id}"):
        changed = conn.execute(
            "UPDATE employees SET active = ?, updated_at = ? WHERE id = ?", (int(active), format_instant(now), employee_id)
        ).rowcount
    return bool(changed)


def list_active_employees(conn: sqlite3.Connection) -> list[Employee]:
    """Active employees, by id. Read-only."""
    return [_employee(r) for r in conn.execute("SELECT * FROM employees WHERE active = 1 ORDER BY id")]


def add_face_template(
    conn: sqlite3.Connection,
    employee_id: str,
    blob: bytes,
    scheme: str,
    *,
    now: datetime,
    quality: float | None = None,
    source: str = "local",
) -> int:
    """Store one sealed template for an existing employee; returns its id."""
    with write_transaction(conn, f"adding a face template for {employee_id}"):
        cursor = conn.execute(
            "INSERT INTO face_templates (employee_id, encoding, scheme, quality, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (employee_id, blob, scheme, quality, source, format_instant(now)),
        )
    return int(cursor.lastrowid or 0)


def remove_face_templates(conn: sqlite3.Connection, employee_id: str) -> int:
    """Delete every face template of the employee; returns how many."""
    with write_transaction(conn, f"removing face templates of {employee_id}"):
        return int(conn.execute("DELETE FROM face_templates WHERE employee_id = ?", (employee_id,)).rowcount)


def count_face_templates(conn: sqlite3.Connection, employee_id: str | None = None) -> int:
    """Templates stored (for one employee, or all). Read-only."""
    if employee_id is None:
        return int(conn.execute("SELECT count(*) FROM face_templates").fetchone()[0])
    return int(conn.execute("SELECT count(*) FROM face_templates WHERE employee_id = ?", (employee_id,)).fetchone()[0])


def active_face_templates(conn: sqlite3.Connection) -> list[tuple[StoredTemplate, Employee]]:
    """Every template of every active employee, with the employee. Read-only."""
    rows = conn.execute(
        """SELECT t.id AS t_id, t.employee_id, t.encoding, t.scheme, t.quality, t.source AS t_source, e.*
           FROM face_templates t JOIN employees e ON e.id = t.employee_id
           WHERE e.active = 1 ORDER BY t.employee_id, t.id"""
    ).fetchall()
    return [
        (
            StoredTemplate(r["t_id"], r["employee_id"], bytes(r["encoding"]), r["scheme"], r["quality"], r["t_source"]),
            _employee(r),
        )
        for r in rows
    ]
