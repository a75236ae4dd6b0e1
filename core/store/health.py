"""Each part's last health report (``health``), shared between the unit's processes. What the
statuses mean is core.health's; never put biometric data or secrets here."""

from __future__ import annotations

import sqlite3

from core.store.tx import write_transaction


def put_report(
    conn: sqlite3.Connection,
    part: str,
    *,
    status: str,
    detail: str,
    error: str | None,
    error_at: str | None,
    metrics_json: str,
    process: str,
    updated_at: str,
) -> None:
    """Replace ``part``'s row in its own write transaction; an earlier last error is kept when
    ``error`` is None."""
    with write_transaction(conn, f"reporting health of {part}"):
        conn.execute(
            """INSERT INTO health (part, status, detail, last_error, last_error_at, metrics, process, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(part) DO UPDATE SET status = excluded.status, detail = excluded.detail,
                 last_error = COALESCE(excluded.last_error, health.last_error),
                 last_error_at = COALESCE(excluded.last_error_at, health.last_error_at),
                 metrics = excluded.metrics, process = excluded.process, updated_at = excluded.updated_at""",
            (part, status, detail, error, error_at, metrics_json, process, updated_at),
        )


def all_reports(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every part's row, by part name. Read-only."""
    return conn.execute("SELECT * FROM health ORDER BY part").fetchall()


def part_report(conn: sqlite3.Connection, part: str) -> sqlite3.Row | None:
    """``part``'s row, or None. Read-only."""
    row: sqlite3.Row | None = conn.execute("SELECT * FROM health WHERE part = ?", (part,)).fetchone()
    return row
