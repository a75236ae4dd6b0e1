"""Opening the database: WAL, synchronous=FULL, migrations, and errors mapped to ours."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from core.store.migrations import migrate as run_migrations
from core.store.tx import storage_error

log = logging.getLogger(__name__)

DB_FILENAME = "presensi.db"


def create_private(path: Path) -> None:
    """Make the database file (and a missing parent folder) private before SQLite opens it: the
    folder 0750 for the service's group, the file 0600 (it holds password hashes, the setup code
    and sealed templates), whatever the umask of the command that made it. SQLite gives its
    -wal and -shm files the database file's mode. Existing files are left as they are."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o750, exist_ok=True)
        os.chmod(path.parent, 0o750)  # noqa: S103 - the service's group reads it (mkdir's mode is filtered by the umask)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def open_database(
    path: Path | str, *, busy_timeout_ms: int = 5000, migrate: bool = True, readonly: bool = False
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL journal, FULL sync.

    ``path`` may be ``":memory:"`` for tests. With ``readonly`` the file is opened with
    ``mode=ro`` and nothing is migrated (for ``verify`` on a copied database).
    """
    target = str(path)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            if target != ":memory:":
                create_private(Path(target))
            conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if target != ":memory:" and mode.lower() != "wal":
                log.warning("database %s is not in WAL mode (%s)", target, mode)
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise storage_error(exc, f"cannot open the database {target}") from exc
    if migrate and not readonly:
        run_migrations(conn)
    return conn


def integrity_ok(conn: sqlite3.Connection) -> tuple[bool, str]:
    """``PRAGMA integrity_check``: (ok, first message). Read-only."""
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.Error as exc:
        return False, str(exc)
    first = rows[0][0] if rows else "no answer"
    return first == "ok", first


def data_version(conn: sqlite3.Connection) -> int:
    """``PRAGMA data_version``: changes when another connection commits. Read-only."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])
