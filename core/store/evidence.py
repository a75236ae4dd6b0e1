"""Evidence photos at rest (``evidence_photos``): the sealed JPEG of the face kept with a face
punch (cut by :mod:`kiosk.privacy.evidence`), opened only for an administrator's review and
deleted with its employee."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from core.errors import StorageError
from core.privacy.seal import SCHEME
from core.store.punches import Punch, format_instant
from core.store.tx import write_transaction
from core.store.vault import unit_sealer


def context(punch_id: str) -> str:
    """What a sealed photo is bound to (the AEAD's associated data)."""
    return f"evidence_photos:{punch_id}"


def keep_photo(conn: sqlite3.Connection, punch: Punch, sealed: bytes, now: datetime) -> None:
    """Store the sealed photo of ``punch`` (sealed under :func:`context`); a second one is ignored."""
    with write_transaction(conn, "keeping an evidence photo"):
        conn.execute(
            "INSERT OR IGNORE INTO evidence_photos (punch_id, seq, photo, scheme, created_at) VALUES (?, ?, ?, ?, ?)",
            (punch.id, punch.seq, sealed, SCHEME, format_instant(now)),
        )


def photo_of(conn: sqlite3.Connection, punch_id: str) -> bytes | None:
    """The JPEG kept with a punch, or None; TemplateKeyError when it cannot be opened here."""
    row = conn.execute("SELECT photo, scheme FROM evidence_photos WHERE punch_id = ?", (punch_id,)).fetchone()
    if row is None:
        return None
    sealer = unit_sealer(conn)
    if sealer is None or row["scheme"] != SCHEME:
        raise StorageError("the evidence photo cannot be opened: this database has no unit key")
    return sealer.open(bytes(row["photo"]), context(punch_id))


def erase_for(conn: sqlite3.Connection, employee_id: str) -> int:
    """Delete the photos of an employee's punches, inside the caller's transaction."""
    return conn.execute(
        "DELETE FROM evidence_photos WHERE punch_id IN (SELECT id FROM punches WHERE employee_id = ?)", (employee_id,)
    ).rowcount


def expire_photos(conn: sqlite3.Connection, *, stamp: str, acked_seq: int, cutoff: str, through_seq: int) -> int:
    """In one write transaction: stamp the photos of punches the server has acknowledged (seq
    <= ``acked_seq``) with ``stamp``, then delete those stamped at or before ``cutoff`` and
    those of punches up to ``through_seq`` (about to be pruned). Returns how many were deleted."""
    with write_transaction(conn, "deleting expired evidence photos"):
        conn.execute("UPDATE evidence_photos SET acked_at = ? WHERE acked_at IS NULL AND seq <= ?", (stamp, acked_seq))
        deleted = conn.execute(
            "DELETE FROM evidence_photos WHERE (acked_at IS NOT NULL AND acked_at <= ?) OR seq <= ?", (cutoff, through_seq)
        ).rowcount
    return int(deleted)


def count_photos(conn: sqlite3.Connection) -> int:
    """How many evidence photos are kept. Read-only."""
    return int(conn.execute("SELECT count(*) FROM evidence_photos").fetchone()[0])
