"""The roster's work codes (``work_codes``), each stored as its JSON definition. What a
definition means is core.schedule.workcodes'."""

from __future__ import annotations

import sqlite3

from core.store.tx import write_transaction


def definition_of(conn: sqlite3.Connection, code: str) -> str | None:
    """The stored definition (JSON text) of ``code``, or None. Read-only."""
    row = conn.execute("SELECT definition FROM work_codes WHERE code = ?", (code,)).fetchone()
    return str(row["definition"]) if row else None


def codes(conn: sqlite3.Connection) -> set[str]:
    """Every stored code. Read-only."""
    return {str(r["code"]) for r in conn.execute("SELECT code FROM work_codes").fetchall()}


def put_definition(conn: sqlite3.Connection, code: str, definition: str, *, source: str, version: int, updated_at: str) -> None:
    """Insert or replace ``code``'s definition in its own write transaction."""
    with write_transaction(conn, "storing a work code"):
        conn.execute(
            "INSERT INTO work_codes (code, definition, source, version, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET definition = excluded.definition, source = excluded.source, "
            "version = excluded.version, updated_at = excluded.updated_at",
            (code, definition, source, version, updated_at),
        )
