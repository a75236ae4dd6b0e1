"""Test support for the back office: punches stored straight into the server's table (the day
book reads stored rows; signatures and chains are the ledger's business, tested elsewhere)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.store.punches import format_instant
from sync.server.storage import Storage

_SEQ = itertools.count(1)


def local(day: str, hhmm: str, zone: str = "Asia/Jakarta") -> datetime:
    """``2026-11-02``, ``07:12`` in ``zone`` → an aware UTC instant."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def store_punch(
    storage: Storage,
    employee_id: str,
    instant: datetime,
    *,
    device: str = "unit-a",
    kind: str = "masuk",
    zone: str = "Asia/Jakarta",
    event_id: str | None = None,
    received: datetime | None = None,
) -> str:
    """Store a punch row as the ledger would after verifying it; returns its id."""
    seq = next(_SEQ)
    punch_id = f"p-{device}-{seq}"
    with storage.tx() as tx:
        tx.execute(
            "INSERT INTO punches (device_id, seq, id, employee_id, instant, zone, method, kind, status, minutes, event_id, "
            "liveness_verdict, liveness_scores, match_distance, clock_state, boot_id, mono_ns, prev_hash, hash, signature, "
            "received_at, source) VALUES (?, ?, ?, ?, ?, ?, 'face', ?, 'tepat_waktu', 0, ?, NULL, '{}', NULL, 'synced', 'b', 0, "
            "'x', 'y', 'z', ?, 'test')",
            (
                device,
                seq,
                punch_id,
                employee_id,
                format_instant(instant),
                zone,
                kind,
                event_id,
                format_instant(received or instant),
            ),
        )
    return punch_id
