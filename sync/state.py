"""What sync keeps in the unit's database: cursors, provisioning settings and the server clock offset.

``sync_cursors`` rows: ``presensi_v1`` (last sequence number the server acknowledged), ``roster``
(roster version applied), ``bundle`` (last sequence number written to a flash disk).
``settings`` keys: ``sync.server_url``, ``sync.server_public_key``, ``sync.unit_code`` (from
provisioning). The server's clock offset, measured from every answer's Date header, is the clock
keeper's (``core.timekeeping``): it turns new punches ``unsynced`` while the offset exceeds
``clock.max_offset_s``, anchors the boot and raises the lower bound. Stored punches are never
rewritten.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from core.store import audit
from core.store.tx import write_transaction

UPLOAD_CURSOR = "presensi_v1"
ROSTER_CURSOR = "roster"
#: The face embedder the held roster's templates are for (a change fetches the whole roster again).
ROSTER_EMBEDDER = "roster.embedder"
#: Set when the server found another chain signed with this unit's key (a clone): doctor and the
#: dashboard say FAIL until an operator settles it (``presensi sync clear-fork``, docs/time.md).
FORK_KEY = "sync.fork"
BUNDLE_CURSOR = "bundle"

SERVER_URL_KEY = "sync.server_url"
SERVER_KEY_KEY = "sync.server_public_key"
UNIT_CODE_KEY = "sync.unit_code"
#: The server's CA, pinned at provisioning, in the data directory.
CA_FILENAME = "server-ca.pem"


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


def effective_server(
    conn: sqlite3.Connection, data_dir: Path, server_url: str = "", ca_file: Path | None = None
) -> tuple[str, Path | None]:
    """Where the sync service syncs: (URL, CA) from the configuration (``sync.server_url``,
    ``sync.ca_file``) first, else what provisioning recorded in the database and the data
    directory; ("", None) when neither. The sync service, the dashboard and the diagnostics all
    read this one answer. Read-only."""
    url = server_url or get_setting(conn, SERVER_URL_KEY) or ""
    pinned = data_dir / CA_FILENAME
    return url, ca_file or (pinned if pinned.exists() else None)


def clear_fork(conn: sqlite3.Connection, now: datetime) -> bool:
    """Forget the server's fork alarm (once the server's operator has settled which unit is
    genuine, and the copy is gone); audited. True when there was one."""
    with write_transaction(conn, "clearing the fork alarm"):
        cleared = conn.execute("DELETE FROM settings WHERE key = ?", (FORK_KEY,)).rowcount
    if cleared:
        audit.record(conn, "cli", "sync.clear_fork", now=now)
    return bool(cleared)
