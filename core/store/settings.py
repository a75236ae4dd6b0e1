"""Small named values shared between processes (``settings`` table), stored as JSON."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from core.store.tx import write_transaction


def get_setting(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default``. Read-only."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def put_setting(conn: sqlite3.Connection, key: str, value: Any, *, now: datetime) -> None:
    with write_transaction(conn, f"saving setting {key}"):
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, json.dumps(value), now.isoformat(timespec="seconds")),
        )
