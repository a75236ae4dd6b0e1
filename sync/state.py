"""What sync keeps in the unit's database: cursors, provisioning settings and the server clock offset.

``sync_cursors`` rows: ``presensi_v1`` (last sequence number the server acknowledged), ``roster``
(roster version applied), ``bundle`` (last sequence number written to a flash disk).
``settings`` keys: ``sync.server_url``, ``sync.server_public_key``, ``sync.unit_code`` (from
provisioning) and ``clock.server_offset_s`` / ``clock.server_offset_at`` (measured from the
server's Date header; positive when the server is ahead of the unit).

:class:`ServerOffsetClockState` wraps the kiosk's clock state source: while the last measured
offset exceeds ``clock.max_offset_s`` new punches are recorded ``unsynced``. Stored punches are
never rewritten.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from kiosk.clock import ClockState, ClockStateSource
from kiosk.store.db import write_transaction

UPLOAD_CURSOR = "presensi_v1"
ROSTER_CURSOR = "roster"
BUNDLE_CURSOR = "bundle"

OFFSET_KEY = "clock.server_offset_s"
OFFSET_AT_KEY = "clock.server_offset_at"
SERVER_URL_KEY = "sync.server_url"
SERVER_KEY_KEY = "sync.server_public_key"
UNIT_CODE_KEY = "sync.unit_code"


def _stamp(now: datetime) -> str:
    return now.isoformat(timespec="milliseconds")


def get_cursor(conn: sqlite3.Connection, target: str) -> int:
    """The cursor's sequence number or version (0 when never set). Read-only."""
    row = conn.execute("SELECT acked_seq FROM sync_cursors WHERE target = ?", (target,)).fetchone()
    return int(row[0]) if row else 0


def set_cursor(conn: sqlite3.Connection, target: str, value: int, now: datetime, detail: dict[str, object] | None = None) -> None:
    with write_transaction(conn, f"moving the {target} cursor"):
        put_cursor(conn, target, value, now, detail)


def put_cursor(conn: sqlite3.Connection, target: str, value: int, now: datetime, detail: dict[str, object] | None = None) -> None:
    """Set a cursor inside the caller's transaction."""
    conn.execute(
        "INSERT INTO sync_cursors (target, acked_seq, updated_at, detail) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(target) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at, "
        "detail = excluded.detail",
        (target, int(value), _stamp(now), json.dumps(detail or {}, sort_keys=True)),
    )


def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    """A setting's value, or None. Read-only."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def put_setting(conn: sqlite3.Connection, key: str, value: str, now: datetime) -> None:
    """Set a setting inside the caller's transaction."""
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, _stamp(now)),
    )


def record_clock_offset(conn: sqlite3.Connection, offset_s: float, now: datetime) -> None:
    """Remember the offset of the server's clock from the unit's (positive: server ahead)."""
    with write_transaction(conn, "recording the clock offset"):
        put_setting(conn, OFFSET_KEY, f"{offset_s:.3f}", now)
        put_setting(conn, OFFSET_AT_KEY, _stamp(now), now)


def clock_offset(conn: sqlite3.Connection) -> float | None:
    """The last measured offset in seconds, or None if never measured. Read-only."""
    value = get_setting(conn, OFFSET_KEY)
    return float(value) if value is not None else None


class ServerOffsetClockState:
    """A clock state source that says ``unsynced`` while the server's clock is further than
    ``max_offset_s`` from ours, and otherwise defers to ``inner`` (the kernel's verdict)."""

    def __init__(self, inner: ClockStateSource, conn: sqlite3.Connection, max_offset_s: float) -> None:
        self.inner = inner
        self.conn = conn
        self.max_offset_s = max_offset_s

    def state(self) -> ClockState:
        offset = clock_offset(self.conn)
        if offset is not None and abs(offset) > self.max_offset_s:
            return ClockState.UNSYNCED
        return ClockState(self.inner.state())

    def __repr__(self) -> str:
        return f"ServerOffsetClockState(max={self.max_offset_s}s, inner={self.inner!r})"
