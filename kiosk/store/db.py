"""Opening the database: WAL, synchronous=FULL, migrations, and errors mapped to ours."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from kiosk.errors import StorageError, StorageFullError

log = logging.getLogger(__name__)

DB_FILENAME = "presensi.db"

_FULL_TEXT = "Penyimpanan penuh — hubungi teknisi"


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
        from kiosk.store.migrations import migrate as run_migrations

        run_migrations(conn)
    return conn


def storage_error(exc: sqlite3.Error, doing: str) -> StorageError:
    """Our error for a sqlite3 error, with what to do next."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return StorageFullError(
            f"{doing}: the disk or database is full; free space or export and prune punches", screen_text=_FULL_TEXT
        )
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return StorageError(f"{doing}: the database is read-only; check the data directory's owner and mount")
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StorageError(f"{doing}: the database is damaged ({text}); run `presensi doctor` and restore from the server")
    if code == sqlite3.SQLITE_BUSY or "locked" in text:
        return StorageError(f"{doing}: the database stayed locked by another process; check for a stuck service")
    return StorageError(f"{doing}: {text}")


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, doing: str) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: returns only after the commit; rolls back on error."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise storage_error(exc, doing) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise storage_error(exc, doing) from exc
        raise


def integrity_ok(conn: sqlite3.Connection) -> tuple[bool, str]:
    """``PRAGMA integrity_check``: (ok, first message). Read-only."""
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.Error as exc:
        return False, str(exc)
    first = rows[0][0] if rows else "no answer"
    return first == "ok", first
