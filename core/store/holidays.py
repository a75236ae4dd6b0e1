"""Holidays known to the unit (``holidays``): one row per day, from the roster or typed."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


def all_holidays(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Every stored holiday as (ISO day, name, scope). Read-only."""
    return [(str(r["day"]), str(r["name"]), str(r["scope"])) for r in conn.execute("SELECT day, name, scope FROM holidays")]


def put_holidays(conn: sqlite3.Connection, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
    """Insert or replace holidays, each (ISO day, name, scope, source, updated_at). Runs inside
    the caller's write transaction."""
    conn.executemany(
        "INSERT INTO holidays (day, name, scope, source, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(day) DO UPDATE SET name = excluded.name, scope = excluded.scope, "
        "source = excluded.source, updated_at = excluded.updated_at",
        rows,
    )
