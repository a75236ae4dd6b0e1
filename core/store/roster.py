"""Employees and their face templates in the unit's database.

Generic helpers over the ``employees`` and ``face_templates`` tables (migration 0001_core): who
works here, who is active, and the stored (already sealed) face templates. Sealing is the face
package's business (``core.templates.face``); this module stores and returns bytes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.store.punches import format_instant
from core.store.tx import write_transaction

#: The embedder of face templates that do not name theirs: dlib's network (the SHA-256 of
#: dlib_face_recognition_resnet_model_v1.dat; migration 0012's default, kiosk.face.embedders.DLIB_ID).
LEGACY_EMBEDDER = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"


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
    embedder: str


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


def insert_roster(
    conn: sqlite3.Connection,
    employees: Sequence[tuple[str, str, str]],
    cards: Sequence[tuple[str, str]] = (),
    *,
    source: str,
    stamp: str,
) -> None:
    """New active employees, each (id, name, office code), and their cards, each (uid, employee
    id), in one write transaction (``employees``, ``cards``): a whole roster at once for
    benchmarks and load tests; an id or uid already present is an error."""
    with write_transaction(conn, "loading a roster"):
        conn.executemany(
            "INSERT INTO employees (id, name, unit_code, active, source, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
            [(*e, source, stamp) for e in employees],
        )
        conn.executemany(
            "INSERT INTO cards (uid, employee_id, source, created_at) VALUES (?, ?, ?, ?)", [(*c, source, stamp) for c in cards]
        )


def get_employee(conn: sqlite3.Connection, employee_id: str) -> Employee | None:
    """The employee, active or not. Read-only."""
    row = conn.execute("SELECT * FROM employees WHERE id = ?", (employee_id,)).fetchone()
    return _employee(row) if row else None


def active_employees(conn: sqlite3.Connection, offices: Sequence[str] = ()) -> list[Employee]:
    """Active employees of ``offices`` (``employees.unit_code``; every office when none), by id.
    Read-only."""
    if offices:
        marks = ",".join("?" * len(offices))
        rows = conn.execute(
            f"SELECT * FROM employees WHERE active = 1 AND unit_code IN ({marks}) ORDER BY id",  # noqa: S608 - only placeholders
            list(offices),
        ).fetchall()
    else:
        rows = conn.execute("SELECT * FROM employees WHERE active = 1 ORDER BY id").fetchall()
    return [_employee(r) for r in rows]


def all_employees(conn: sqlite3.Connection) -> list[Employee]:
    """Every employee, active or not, by id (``employees``). Read-only."""
    return [_employee(r) for r in conn.execute("SELECT * FROM employees ORDER BY id")]


def count_employees(conn: sqlite3.Connection, *, active: bool) -> int:
    """How many employees are (in)active. Read-only."""
    return int(conn.execute("SELECT count(*) FROM employees WHERE active = ?", (int(active),)).fetchone()[0])


def work_code_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many active employees name each work code ('' for none). Read-only."""
    rows = conn.execute("SELECT work_code, count(*) AS n FROM employees WHERE active = 1 GROUP BY work_code").fetchall()
    return {r["work_code"]: int(r["n"]) for r in rows}


def gallery_version(conn: sqlite3.Connection) -> tuple[object, ...]:
    """Changes whenever face templates or employees change (counts, latest id and update,
    active employees of ``face_templates`` and ``employees``). Read-only."""
    t = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM face_templates").fetchone()
    e = conn.execute("SELECT count(*), coalesce(max(updated_at), ''), coalesce(sum(active), 0) FROM employees").fetchone()
    return (*tuple(t), *tuple(e))


def is_lookalike(conn: sqlite3.Connection, employee_id: str) -> bool:
    """Whether ``face_lookalikes`` lists the employee as a lookalike of a colleague. Read-only."""
    return conn.execute("SELECT 1 FROM face_lookalikes WHERE employee_id = ? LIMIT 1", (employee_id,)).fetchone() is not None


def set_active(conn: sqlite3.Connection, employee_id: str, active: bool, *, now: datetime) -> bool:
    """Mark an employee active or not; False when there is no such employee."""
    with write_transaction(conn, f"updating employee {employee_id}"):
        changed = conn.execute(
            "UPDATE employees SET active = ?, updated_at = ? WHERE id = ?", (int(active), format_instant(now), employee_id)
        ).rowcount
    return bool(changed)


def add_face_template(
    conn: sqlite3.Connection,
    employee_id: str,
    blob: bytes,
    scheme: str,
    *,
    now: datetime,
    quality: float | None = None,
    source: str = "local",
    embedder: str | None = None,
) -> int:
    """Store one sealed template for an existing employee; returns its id. ``embedder``: the id of
    the embedder that made it (None: the column's default, dlib's)."""
    with write_transaction(conn, f"adding a face template for {employee_id}"):
        cursor = conn.execute(
            "INSERT INTO face_templates (employee_id, encoding, scheme, quality, source, created_at, embedder) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (employee_id, blob, scheme, quality, source, format_instant(now), embedder or LEGACY_EMBEDDER),
        )
    return int(cursor.lastrowid or 0)


def remove_face_templates(conn: sqlite3.Connection, employee_id: str) -> int:
    """Delete every face template of the employee; returns how many."""
    with write_transaction(conn, f"removing face templates of {employee_id}"):
        return int(conn.execute("DELETE FROM face_templates WHERE employee_id = ?", (employee_id,)).rowcount)


def count_face_templates(conn: sqlite3.Connection, employee_id: str | None = None, *, embedder: str | None = None) -> int:
    """Templates stored (for one employee, or all; of one embedder, or any). Read-only."""
    where, args = ["1"], []
    if employee_id is not None:
        where.append("employee_id = ?")
        args.append(employee_id)
    if embedder is not None:
        where.append("embedder = ?")
        args.append(embedder)
    sql = f"SELECT count(*) FROM face_templates WHERE {' AND '.join(where)}"  # noqa: S608 - fixed fragments
    return int(conn.execute(sql, args).fetchone()[0])


def active_face_templates(conn: sqlite3.Connection, embedder: str | None = None) -> list[tuple[StoredTemplate, Employee]]:
    """Every template of every active employee (made by ``embedder``, or by any), with the
    employee. Read-only."""
    rows = conn.execute(
        """SELECT t.id AS t_id, t.employee_id, t.encoding, t.scheme, t.quality, t.source AS t_source,
                  t.embedder AS t_embedder, e.*
           FROM face_templates t JOIN employees e ON e.id = t.employee_id
           WHERE e.active = 1 AND (? IS NULL OR t.embedder = ?) ORDER BY t.employee_id, t.id""",
        (embedder, embedder),
    ).fetchall()
    return [
        (
            StoredTemplate(
                r["t_id"], r["employee_id"], bytes(r["encoding"]), r["scheme"], r["quality"], r["t_source"], r["t_embedder"]
            ),
            _employee(r),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class TemplateCoverage:
    """How many active employees the active embedder can recognise, and how many it cannot."""

    embedder: str
    active: int  # active employees
    with_template: int  # … with a template of this embedder
    other_embedder_only: int  # … with templates, but only of another embedder (re-enrolment needed)

    @property
    def without_template(self) -> int:
        return self.active - self.with_template


def template_coverage(conn: sqlite3.Connection, embedder: str) -> TemplateCoverage:
    """Active employees with and without a template of ``embedder``. Read-only."""
    row = conn.execute(
        """SELECT count(*) AS active,
                  sum(EXISTS (SELECT 1 FROM face_templates t WHERE t.employee_id = e.id AND t.embedder = ?)) AS mine,
                  sum(EXISTS (SELECT 1 FROM face_templates t WHERE t.employee_id = e.id AND t.embedder != ?)
                      AND NOT EXISTS (SELECT 1 FROM face_templates t WHERE t.employee_id = e.id AND t.embedder = ?)) AS other
           FROM employees e WHERE e.active = 1""",
        (embedder, embedder, embedder),
    ).fetchone()
    return TemplateCoverage(embedder, int(row["active"] or 0), int(row["mine"] or 0), int(row["other"] or 0))


@dataclass(frozen=True)
class Lookalike:
    employee_id: str
    other_id: str
    distance: float
    found_at: str


def lookalikes(conn: sqlite3.Connection, embedder: str) -> list[Lookalike]:
    """Pairs of employees closer than the lookalike distance under ``embedder``, each pair once
    (employee_id < other_id), nearest first. Read-only."""
    return [
        Lookalike(r["employee_id"], r["other_id"], float(r["distance"]), r["found_at"])
        for r in conn.execute(
            "SELECT * FROM face_lookalikes WHERE embedder = ? AND employee_id < other_id ORDER BY distance, employee_id",
            (embedder,),
        )
    ]


def replace_lookalikes(
    conn: sqlite3.Connection, embedder: str, pairs: dict[tuple[str, str], float], *, now: datetime
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Make ``pairs`` ((a, b) with a < b → distance) the stored lookalikes of ``embedder``; returns
    the pairs that appeared and those that went."""
    with write_transaction(conn, "recording lookalike employees"):
        held = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                "SELECT employee_id, other_id, found_at FROM face_lookalikes WHERE embedder = ? AND employee_id < other_id",
                (embedder,),
            )
        }
        # Only the active embedder's pairs are kept: the card policy reads the table as it stands.
        conn.execute("DELETE FROM face_lookalikes")
        stamp = format_instant(now)
        rows = []
        for (a, b), distance in pairs.items():
            since = held.get((a, b), stamp)
            rows += [(a, b, embedder, distance, since), (b, a, embedder, distance, since)]
        conn.executemany(
            "INSERT INTO face_lookalikes (employee_id, other_id, embedder, distance, found_at) VALUES (?, ?, ?, ?, ?)", rows
        )
    return set(pairs) - set(held), set(held) - set(pairs)
