"""What delivery keeps in the database: the cursors (``sync_cursors``), the punches other targets
refused for good (``target_rejects``), sync's plain-text values in ``settings`` (provisioning,
the roster's lists, the fork alarm) and the server a unit was provisioned for (``device``).

The names of the cursors and settings are the sync client's (:mod:`sync.state`). Values in
``settings`` written here are plain text, not JSON (:mod:`core.store.settings` stores JSON).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from core.store.punches import format_instant
from core.store.tx import write_transaction


def _stamp(now: datetime) -> str:
    return now.isoformat(timespec="milliseconds")


# -- sync_cursors ----------------------------------------------------------------------------


def get_cursor(conn: sqlite3.Connection, target: str) -> int:
    """The cursor's sequence number or version in ``sync_cursors`` (0 when never set). Read-only."""
    row = conn.execute("SELECT acked_seq FROM sync_cursors WHERE target = ?", (target,)).fetchone()
    return int(row[0]) if row else 0


def set_cursor(conn: sqlite3.Connection, target: str, value: int, now: datetime, detail: dict[str, object] | None = None) -> None:
    """Set a cursor in ``sync_cursors``, in a transaction of its own."""
    with write_transaction(conn, f"moving the {target} cursor"):
        put_cursor(conn, target, value, now, detail)


def put_cursor(conn: sqlite3.Connection, target: str, value: int, now: datetime, detail: dict[str, object] | None = None) -> None:
    """Set a cursor in ``sync_cursors`` (with its ``detail``) inside the caller's transaction."""
    conn.execute(
        "INSERT INTO sync_cursors (target, acked_seq, updated_at, detail) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(target) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at, "
        "detail = excluded.detail",
        (target, int(value), _stamp(now), json.dumps(detail or {}, sort_keys=True)),
    )


def record_delivery(
    conn: sqlite3.Connection, target: str, through_seq: int, rejects: Sequence[tuple[int, str, str]], now: datetime
) -> None:
    """One delivery round of another target, in one transaction: each reject (seq, punch id,
    reason) into ``target_rejects``, then the target's cursor in ``sync_cursors`` to
    ``through_seq`` (its ``detail`` left as it was)."""
    stamp = format_instant(now)
    with write_transaction(conn, f"moving the {target} cursor"):
        for seq, punch_id, reason in rejects:
            conn.execute(
                "INSERT OR REPLACE INTO target_rejects (target, seq, punch_id, reason, at) VALUES (?, ?, ?, ?, ?)",
                (target, seq, punch_id, reason, stamp),
            )
        conn.execute(
            "INSERT INTO sync_cursors (target, acked_seq, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(target) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at",
            (target, through_seq, stamp),
        )


# -- settings (plain text) -------------------------------------------------------------------


def get_text_setting(conn: sqlite3.Connection, key: str) -> str | None:
    """A plain-text value in ``settings``, or None. Read-only."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def put_text_setting(conn: sqlite3.Connection, key: str, value: str, now: datetime) -> None:
    """Set a plain-text value in ``settings`` inside the caller's transaction."""
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, _stamp(now)),
    )


def delete_settings(conn: sqlite3.Connection, keys: Iterable[str]) -> int:
    """Remove ``keys`` from ``settings`` inside the caller's transaction; returns how many rows went."""
    return sum(int(conn.execute("DELETE FROM settings WHERE key = ?", (key,)).rowcount) for key in keys)


# -- device ----------------------------------------------------------------------------------


def record_server(conn: sqlite3.Connection, server_url: str, now: datetime) -> None:
    """The server this unit was provisioned for, and when, in ``device`` (inside the caller's
    transaction)."""
    conn.execute("UPDATE device SET server_url = ?, provisioned_at = ?", (server_url, format_instant(now)))
