"""Employees, cards and punches as the maintenance page reads and changes them."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.clock import zone_abbreviation
from core.errors import EnrolmentError
from core.nip import check_staff_id
from core.store.punches import parse_instant
from core.store.tx import write_transaction

EMPLOYEE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HEX_UID = re.compile(r"^[0-9A-F]{4,20}$")


def normalise_uid(raw: str) -> str:
    """Upper-case hex without separators; a 10-digit decimal (EM4100 keyboard readers) becomes
    the hex of its low 32 bits."""
    text = re.sub(r"[\s:\-]", "", raw.strip()).upper()
    if text.isdigit() and len(text) == 10:
        return f"{int(text) & 0xFFFFFFFF:08X}"
    if not HEX_UID.match(text):
        raise EnrolmentError(f"{raw!r} is not a card UID", screen_text="UID kartu tidak valid")
    return text


@dataclass(frozen=True)
class EmployeeRow:
    id: str
    name: str
    unit_code: str
    active: bool
    source: str
    faces: int
    cards: int
    fingers: int


def employees(conn: sqlite3.Connection, query: str = "", limit: int = 500) -> list[EmployeeRow]:
    """With their enrolment counts. Read-only."""
    like = f"%{query.strip()}%"
    rows = conn.execute(
        """SELECT e.id, e.name, e.unit_code, e.active, e.source,
                  (SELECT count(*) FROM face_templates f WHERE f.employee_id = e.id) AS faces,
                  (SELECT count(*) FROM cards c WHERE c.employee_id = e.id) AS cards,
                  (SELECT count(*) FROM finger_templates t WHERE t.employee_id = e.id) AS fingers
           FROM employees e WHERE e.id LIKE ? OR e.name LIKE ? ORDER BY e.name LIMIT ?""",
        (like, like, limit),
    ).fetchall()
    return [
        EmployeeRow(r["id"], r["name"], r["unit_code"], bool(r["active"]), r["source"], r["faces"], r["cards"], r["fingers"])
        for r in rows
    ]


def employee(conn: sqlite3.Connection, employee_id: str) -> EmployeeRow | None:
    """Read-only."""
    for row in employees(conn, employee_id, limit=50):
        if row.id == employee_id:
            return row
    return None


def add_employee(
    conn: sqlite3.Connection, employee_id: str, name: str, unit_code: str, now: datetime, *, staff_id_pattern: str = ""
) -> None:
    if not EMPLOYEE_ID.match(employee_id):
        raise EnrolmentError("employee id: 1–64 letters, digits, '.', '_' or '-'", screen_text="NIP/ID tidak valid")
    check_staff_id(employee_id, staff_id_pattern)
    if not name.strip():
        raise EnrolmentError("a name is needed", screen_text="Nama wajib diisi")
    with write_transaction(conn, "adding an employee"):
        if conn.execute("SELECT 1 FROM employees WHERE id = ?", (employee_id,)).fetchone():
            raise EnrolmentError(f"employee {employee_id} exists", screen_text=f"Pegawai {employee_id} sudah ada")
        conn.execute(
            "INSERT INTO employees (id, name, unit_code, source, updated_at) VALUES (?, ?, ?, 'local', ?)",
            (employee_id, name.strip()[:120], unit_code.strip()[:40], now.isoformat(timespec="seconds")),
        )


def cards_of(conn: sqlite3.Connection, employee_id: str) -> list[dict[str, str]]:
    """Read-only."""
    rows = conn.execute("SELECT uid, source, created_at FROM cards WHERE employee_id = ? ORDER BY created_at", (employee_id,))
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class FingerRow:
    finger: int  # 0 right thumb … 9 left little finger
    family: str
    source: str
    created_at: str


def fingers_of(conn: sqlite3.Connection, employee_id: str) -> list[FingerRow]:
    """Which fingers are enrolled (never the template bytes). Read-only."""
    rows = conn.execute(
        "SELECT finger, family, source, created_at FROM finger_templates WHERE employee_id = ? ORDER BY finger, family",
        (employee_id,),
    )
    return [FingerRow(int(r["finger"]), r["family"], r["source"], r["created_at"]) for r in rows]


def register_card(conn: sqlite3.Connection, uid: str, employee_id: str, now: datetime) -> str:
    """Bind a card to an employee; refuses a card that belongs to someone else."""
    norm = normalise_uid(uid)
    with write_transaction(conn, "registering a card"):
        if not conn.execute("SELECT 1 FROM employees WHERE id = ?", (employee_id,)).fetchone():
            raise EnrolmentError(f"no employee {employee_id}", screen_text="Pegawai tidak ditemukan")
        row = conn.execute("SELECT employee_id FROM cards WHERE uid = ?", (norm,)).fetchone()
        if row is not None and row["employee_id"] != employee_id:
            raise EnrolmentError(
                f"card {norm} belongs to {row['employee_id']}", screen_text=f"Kartu {norm} sudah terdaftar untuk pegawai lain"
            )
        if row is None:
            conn.execute(
                "INSERT INTO cards (uid, employee_id, source, created_at) VALUES (?, ?, 'local', ?)",
                (norm, employee_id, now.isoformat(timespec="seconds")),
            )
    return norm


def remove_card(conn: sqlite3.Connection, uid: str) -> str | None:
    """Unbind a card; returns the employee it belonged to."""
    norm = normalise_uid(uid)
    with write_transaction(conn, "removing a card"):
        row = conn.execute("SELECT employee_id FROM cards WHERE uid = ?", (norm,)).fetchone()
        conn.execute("DELETE FROM cards WHERE uid = ?", (norm,))
    return str(row["employee_id"]) if row else None


@dataclass(frozen=True)
class PunchRow:
    seq: int
    id: str
    employee_id: str
    name: str | None
    local_time: str
    zone: str
    method: str
    kind: str
    status: str
    minutes: int
    clock_state: str
    event_id: str | None
    photo: bool = False  # an evidence photo is kept with it (GET /punches/<id>/photo)


def search_punches(
    conn: sqlite3.Connection,
    zone: str,
    *,
    start: date | None = None,
    end: date | None = None,
    employee: str = "",
    limit: int = 500,
) -> list[PunchRow]:
    """By local date range (inclusive) and employee id or name part, newest first. Read-only."""
    tz = ZoneInfo(zone)
    clauses, params = [], []
    if start is not None:
        clauses.append("p.instant >= ?")
        params.append(day_bound(start, tz))
    if end is not None:
        clauses.append("p.instant < ?")
        params.append(day_bound(end, tz, next_day=True))
    if employee.strip():
        clauses.append("(p.employee_id = ? OR e.name LIKE ?)")
        params += [employee.strip(), f"%{employee.strip()}%"]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"""SELECT p.*, e.name, EXISTS (SELECT 1 FROM evidence_photos v WHERE v.punch_id = p.id) AS photo
            FROM punches p LEFT JOIN employees e ON e.id = p.employee_id
            {where} ORDER BY p.seq DESC LIMIT ?""",  # noqa: S608 - fixed clauses, values bound
        (*params, limit),
    ).fetchall()
    out = []
    for r in rows:
        local = parse_instant(r["instant"]).astimezone(ZoneInfo(r["zone"]))
        out.append(
            PunchRow(
                r["seq"],
                r["id"],
                r["employee_id"],
                r["name"],
                local.strftime("%Y-%m-%d %H:%M:%S"),
                zone_abbreviation(r["zone"]),
                r["method"],
                r["kind"],
                r["status"],
                r["minutes"],
                r["clock_state"],
                r["event_id"],
                bool(r["photo"]),
            )
        )
    return out


def day_bound(day: date, tz: ZoneInfo, *, next_day: bool = False) -> str:
    """The UTC instant (as stored) at the start of ``day`` (or of the day after) in ``tz``; days
    at the ends of the calendar (0001-01-01, 9999-12-31) bound nothing instead of overflowing."""
    try:
        start = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1 if next_day else 0)
        return start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    except OverflowError:
        return "0000" if day.year < 5000 else "9999-99"
