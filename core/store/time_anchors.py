"""Time anchors (``time_anchors``): (boot id, monotonic ns, true UTC, source) when the unit
learnt the true time. What they mean is core.timekeeping's."""

from __future__ import annotations

import sqlite3

from core.store.tx import write_transaction


def add_anchor(conn: sqlite3.Connection, *, boot_id: str, mono_ns: int, true_utc: str, source: str, recorded_at: str) -> int:
    """Insert an anchor in its own write transaction; returns its id."""
    with write_transaction(conn, "recording a time anchor"):
        cursor = conn.execute(
            "INSERT INTO time_anchors (boot_id, mono_ns, true_utc, source, recorded_at) VALUES (?, ?, ?, ?, ?)",
            (boot_id, mono_ns, true_utc, source, recorded_at),
        )
    return int(cursor.lastrowid or 0)


def anchors_of(conn: sqlite3.Connection, boot_id: str) -> list[sqlite3.Row]:
    """Every anchor of ``boot_id``, latest first. Read-only."""
    return conn.execute("SELECT * FROM time_anchors WHERE boot_id = ? ORDER BY id DESC", (boot_id,)).fetchall()


def latest_anchor(conn: sqlite3.Connection, boot_id: str, source: str) -> sqlite3.Row | None:
    """The latest anchor of ``boot_id`` from ``source``, or None. Read-only."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM time_anchors WHERE boot_id = ? AND source = ? ORDER BY id DESC LIMIT 1", (boot_id, source)
    ).fetchone()
    return row


def has_anchor(conn: sqlite3.Connection, boot_id: str, source: str) -> bool:
    """Whether ``boot_id`` has an anchor from ``source``. Read-only."""
    return conn.execute("SELECT 1 FROM time_anchors WHERE boot_id = ? AND source = ?", (boot_id, source)).fetchone() is not None
