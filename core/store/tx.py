"""Write transactions and the errors of SQLite in our words: the one way every module writes."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from core.errors import StorageError, StorageFullError

_FULL_TEXT = "Penyimpanan penuh — hubungi teknisi"


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
