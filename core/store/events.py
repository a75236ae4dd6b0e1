"""Event packs loaded on this unit (``events``, ``event_participants``) and the punches made at
an event (``punches`` with ``punch_corrections``, read-only here)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any


def held_pack(conn: sqlite3.Connection, event_id: str) -> str | None:
    """The stored envelope (JSON text) of ``event_id``, or None (table ``events``). Read-only."""
    row = conn.execute("SELECT pack FROM events WHERE id = ?", (event_id,)).fetchone()
    return str(row["pack"]) if row is not None else None


def put_event(
    conn: sqlite3.Connection,
    *,
    event_id: str,
    kind: str,
    title: str,
    location: str,
    starts_at: str,
    ends_at: str,
    origin: str,
    pack_json: str,
    loaded_at: str,
) -> None:
    """Insert or replace an event's row in ``events`` (a new row is not active; a replaced one
    keeps its ``active`` flag). Runs inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO events (id, kind, title, location, starts_at, ends_at, origin, pack, active, loaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, "
        "title = excluded.title, location = excluded.location, starts_at = excluded.starts_at, "
        "ends_at = excluded.ends_at, origin = excluded.origin, pack = excluded.pack, loaded_at = excluded.loaded_at",
        (event_id, kind, title, location, starts_at, ends_at, origin, pack_json, loaded_at),
    )


def replace_participants(conn: sqlite3.Connection, event_id: str, participants: Iterable[tuple[str, str, str, str]]) -> None:
    """The event's roster in ``event_participants``, each (employee id, name, office, unit),
    replacing what was there. Runs inside the caller's write transaction."""
    conn.execute("DELETE FROM event_participants WHERE event_id = ?", (event_id,))
    conn.executemany(
        "INSERT INTO event_participants (event_id, employee_id, name, office, unit) VALUES (?, ?, ?, ?, ?)",
        [(event_id, *p) for p in participants],
    )


def set_active(conn: sqlite3.Connection, event_id: str | None) -> None:
    """Make ``event_id`` the one active row of ``events`` (None: none). Runs inside the caller's
    write transaction."""
    conn.execute("UPDATE events SET active = 0 WHERE active = 1")
    if event_id is not None:
        conn.execute("UPDATE events SET active = 1 WHERE id = ?", (event_id,))


def active_id(conn: sqlite3.Connection) -> str | None:
    """The id of the active event in ``events``, or None. Read-only."""
    row = conn.execute("SELECT id FROM events WHERE active = 1").fetchone()
    return str(row["id"]) if row else None


def list_events(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Loaded events (``events``, without their packs), latest start first. Read-only."""
    rows = conn.execute(
        "SELECT id, kind, title, location, starts_at, ends_at, origin, active FROM events ORDER BY starts_at DESC"
    ).fetchall()
    return [dict(r) for r in rows]


def first_punch_at(conn: sqlite3.Connection, event_id: str, employee_id: str) -> str | None:
    """The instant of the employee's first punch at the event (``punches``). Read-only."""
    row = conn.execute(
        "SELECT min(instant) AS first FROM punches WHERE event_id = ? AND employee_id = ?", (event_id, employee_id)
    ).fetchone()
    return str(row["first"]) if row and row["first"] else None


def employees_punched(conn: sqlite3.Connection, event_id: str) -> set[str]:
    """Who has punched at the event (``punches``). Read-only."""
    rows = conn.execute("SELECT DISTINCT employee_id FROM punches WHERE event_id = ?", (event_id,)).fetchall()
    return {str(r["employee_id"]) for r in rows}


def event_punches(conn: sqlite3.Connection, event_id: str) -> list[dict[str, Any]]:
    """The event's punches, oldest first, each at its corrected instant where there is one
    (``punches`` with ``punch_corrections``; ``recorded_instant`` keeps what the clock said).
    Read-only."""
    rows = conn.execute(
        "SELECT p.id, p.employee_id, coalesce(c.corrected_instant, p.instant) AS instant, p.instant AS recorded_instant, "
        "c.corrected_instant IS NOT NULL AS corrected, p.method, p.status, p.minutes, p.event_id, p.device_id "
        "FROM punches p LEFT JOIN punch_corrections c ON c.punch_id = p.id WHERE p.event_id = ? ORDER BY p.seq",
        (event_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def active_event(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The active event's id, kind, title, location, starts_at and ends_at (``events``), or
    None. Read-only."""
    row = conn.execute(
        "SELECT id, kind, title, location, starts_at, ends_at FROM events WHERE active = 1 ORDER BY starts_at LIMIT 1"
    ).fetchone()
    return dict(row) if row else None


# -- the server's events, as a roster brings them (inside sync.roster_pull's one transaction) ----


def event_origin(conn: sqlite3.Connection, event_id: str) -> str | None:
    """Who made the event held under ``event_id`` (``events.origin``: 'server' or the unit's
    own), None when there is none. Read-only."""
    row = conn.execute("SELECT origin FROM events WHERE id = ?", (event_id,)).fetchone()
    return None if row is None else str(row[0])


def drop_idle_server_events(conn: sqlite3.Connection, keep: Sequence[str]) -> None:
    """Delete the server's events (``events``) that are not running, except those in ``keep``."""
    listed = list(keep)
    others = f" AND id NOT IN ({', '.join('?' * len(listed))})" if listed else ""
    conn.execute(f"DELETE FROM events WHERE origin = 'server' AND active = 0{others}", listed)  # noqa: S608 - placeholders only


def remove_server_event(conn: sqlite3.Connection, event_id: str) -> None:
    """Delete the server's event ``event_id`` (``events``), running or not; the unit's own
    packs are never touched."""
    conn.execute("DELETE FROM events WHERE id = ? AND origin = 'server'", (event_id,))
