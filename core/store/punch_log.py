"""Reading the punch log from a bare connection: flash-disk bundles, the heartbeat's unsent count,
port 4370 and other targets (``punches``, ``chain_head``, ``punch_corrections``).

Punches are written only by :class:`core.store.punches.PunchStore`; everything here is read-only.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from core.store.punches import Punch, format_instant

#: A punch as port 4370 encodes it: (seq, employee id, instant, method, kind).
LogEntry = tuple[int, str, str, str, str]


def chain_head(conn: sqlite3.Connection) -> dict[str, Any]:
    """The signed chain head, every column (``chain_head``). Read-only."""
    return dict(conn.execute("SELECT * FROM chain_head").fetchone())


def first_seq(conn: sqlite3.Connection) -> int:
    """The oldest sequence number still held (``punches``; 0 when none). Read-only."""
    return int(conn.execute("SELECT COALESCE(MIN(seq), 0) FROM punches").fetchone()[0])


def punches_after(conn: sqlite3.Connection, after_seq: int) -> list[Punch]:
    """Every punch with seq > ``after_seq``, oldest first (``punches``). Read-only."""
    return [Punch.from_row(r) for r in conn.execute("SELECT * FROM punches WHERE seq > ? ORDER BY seq", (after_seq,))]


def entries_after(conn: sqlite3.Connection, after_seq: int) -> list[LogEntry]:
    """(seq, employee id, instant, method, kind) of every punch with seq > ``after_seq``, oldest
    first (``punches``). Read-only."""
    rows = conn.execute(
        "SELECT seq, employee_id, instant, method, kind FROM punches WHERE seq > ? ORDER BY seq", (after_seq,)
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


def punches_between(conn: sqlite3.Connection, start: datetime, end: datetime) -> list[Punch]:
    """Punches stamped from ``start`` to ``end`` inclusive, by sequence (``punches``). Read-only."""
    rows = conn.execute(
        "SELECT * FROM punches WHERE instant >= ? AND instant <= ? ORDER BY seq", (format_instant(start), format_instant(end))
    )
    return [Punch.from_row(r) for r in rows]


def unsent_after(conn: sqlite3.Connection, acked_seq: int) -> tuple[int, str | None]:
    """(how many punches have seq > ``acked_seq``, the oldest instant among them or None)
    (``punches``). Read-only."""
    row = conn.execute("SELECT count(*), min(instant) FROM punches WHERE seq > ?", (acked_seq,)).fetchone()
    return int(row[0]), (str(row[1]) if row[1] else None)


def signed_corrections_through(conn: sqlite3.Connection, seq: int) -> list[tuple[str, str]]:
    """(body, signature) of every time correction of a punch up to ``seq``, by sequence
    (``punch_corrections``). Read-only."""
    rows = conn.execute("SELECT body, signature FROM punch_corrections WHERE seq <= ? ORDER BY seq", (seq,))
    return [(str(r["body"]), str(r["signature"])) for r in rows]
