"""The names of what sync keeps in the unit's database (cursors, provisioning settings), where it
syncs, and the fork alarm. The reads and writes are the store's (:mod:`core.store.sync_state`).

``sync_cursors`` rows: ``presensi_v1`` (last sequence number the server acknowledged), ``roster``
(roster version applied), ``bundle`` (last sequence number written to a flash disk).
``settings`` keys: ``sync.server_url``, ``sync.server_public_key``, ``sync.unit_code`` (from
provisioning). The server's clock offset, measured from every answer's Date header, is the clock
keeper's (``core.timekeeping``): it turns new punches ``unsynced`` while the offset exceeds
``clock.max_offset_s``, anchors the boot and raises the lower bound. Stored punches are never
rewritten.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from core.store import audit
from core.store.sync_state import delete_settings, get_text_setting
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


def effective_server(
    conn: sqlite3.Connection, data_dir: Path, server_url: str = "", ca_file: Path | None = None
) -> tuple[str, Path | None]:
    """Where the sync service syncs: (URL, CA) from the configuration (``sync.server_url``,
    ``sync.ca_file``) first, else what provisioning recorded in the database and the data
    directory; ("", None) when neither. The sync service, the dashboard and the diagnostics all
    read this one answer. Read-only."""
    url = server_url or get_text_setting(conn, SERVER_URL_KEY) or ""
    pinned = data_dir / CA_FILENAME
    return url, ca_file or (pinned if pinned.exists() else None)


def clear_fork(conn: sqlite3.Connection, now: datetime) -> bool:
    """Forget the server's fork alarm (once the server's operator has settled which unit is
    genuine, and the copy is gone); audited. True when there was one."""
    with write_transaction(conn, "clearing the fork alarm"):
        cleared = delete_settings(conn, [FORK_KEY])
    if cleared:
        audit.record(conn, "cli", "sync.clear_fork", now=now)
    return bool(cleared)
