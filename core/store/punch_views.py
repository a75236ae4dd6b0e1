"""Punches as the screen, the exports and the demo list them: ``punches`` joined with the
employee's name from ``employees``. Read-only; recording is core.store.punches'."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def named_punches_after(conn: sqlite3.Connection, after_seq: int, limit: int = 50) -> list[sqlite3.Row]:
    """Punches after ``after_seq``, oldest first, with the employee's ``name`` (``punches``,
    ``employees``): seq, id, employee_id, method, kind, status, minutes, instant, name. Read-only."""
    rows: list[sqlite3.Row] = conn.execute(
        """SELECT p.seq, p.id, p.employee_id, p.method, p.kind, p.status, p.minutes, p.instant, e.name
           FROM punches p LEFT JOIN employees e ON e.id = p.employee_id
           WHERE p.seq > ? ORDER BY p.seq LIMIT ?""",
        (after_seq, limit),
    ).fetchall()
    return rows


def punches_with_names(conn: sqlite3.Connection, *, since: str | None = None, before: str | None = None) -> Iterator[sqlite3.Row]:
    """Every punch column and the employee's ``name``, by seq, with ``since`` <= instant <
    ``before`` where given (``punches``, ``employees``); rows are read as iterated. Read-only."""
    clauses, params = [], []
    if since is not None:
        clauses.append("p.instant >= ?")
        params.append(since)
    if before is not None:
        clauses.append("p.instant < ?")
        params.append(before)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return iter(
        conn.execute(
            f"SELECT p.*, e.name FROM punches p LEFT JOIN employees e ON e.id = p.employee_id {where} ORDER BY p.seq",  # noqa: S608 - fixed clauses, values bound
            params,
        )
    )


def last_punch_seq(conn: sqlite3.Connection) -> int:
    """The highest seq among the punches kept (0 when none). Read-only."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM punches").fetchone()[0])


def punch_listing(conn: sqlite3.Connection, after_seq: int, method: str | None = None) -> list[sqlite3.Row]:
    """Punches after ``after_seq`` (only ``method``'s when given), oldest first: seq,
    employee_id, name, method, kind, status, minutes, instant, hash, liveness_verdict,
    match_distance. Read-only."""
    rows: list[sqlite3.Row] = conn.execute(
        "SELECT p.seq, p.employee_id, e.name, p.method, p.kind, p.status, p.minutes, p.instant, p.hash, "
        "p.liveness_verdict, p.match_distance FROM punches p LEFT JOIN employees e ON e.id = p.employee_id "
        "WHERE p.seq > ? AND (? IS NULL OR p.method = ?) ORDER BY p.seq",
        (after_seq, method, method),
    ).fetchall()
    return rows


def newest_punches(conn: sqlite3.Connection, limit: int = 12) -> list[sqlite3.Row]:
    """The newest punches, newest first: seq, employee_id, name, method, kind, status, minutes,
    instant, liveness_verdict. Read-only."""
    rows: list[sqlite3.Row] = conn.execute(
        "SELECT p.seq, p.employee_id, e.name, p.method, p.kind, p.status, p.minutes, p.instant, p.liveness_verdict "
        "FROM punches p LEFT JOIN employees e ON e.id = p.employee_id ORDER BY p.seq DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return rows
