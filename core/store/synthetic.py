"""Large, real, signed punch chains made fast (one transaction), for benchmarks and load tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.store.chain import canonical_bytes, digest, head_bytes, scores_json
from core.store.punches import INSERT_PUNCH, PUNCH_COLUMNS, PunchStore, format_instant
from core.store.tx import write_transaction

METHODS = ("card", "face", "finger")


def build_signed_chain(
    conn: sqlite3.Connection,
    identity: DeviceIdentity,
    count: int,
    *,
    employee_ids: Sequence[str] = ("199001012019031001",),
    clock: FakeClock | None = None,
    step_s: float = 0.25,
) -> int:
    """Append ``count`` genuinely hashed and signed punches after the current head, cycling
    through ``employee_ids``; returns the new last seq. Same bytes as ``PunchStore.record``."""
    clock = clock or FakeClock()
    PunchStore(conn, identity, clock, FixedClockState())  # registers the device if new
    head = conn.execute("SELECT * FROM chain_head").fetchone()
    prev: str = head["hash"]
    first: int = head["seq"] + 1
    rows = []
    for seq in range(first, first + count):
        clock.advance(step_s)
        values: dict[str, Any] = {
            "id": f"0190{seq:028x}",
            "device_id": identity.device_id,
            "seq": seq,
            "employee_id": employee_ids[seq % len(employee_ids)],
            "instant": format_instant(clock.now()),
            "zone": "Asia/Jakarta",
            "method": METHODS[seq % len(METHODS)],
            "kind": "masuk" if seq % 2 else "pulang",
            "status": "tepat_waktu",
            "minutes": 0,
            "event_id": None,
            "liveness_verdict": None,
            "liveness_scores": scores_json({}),
            "match_distance": None,
            "clock_state": "synced",
            "boot_id": clock.boot_id(),
            "mono_ns": clock.monotonic_ns(),
            "prev_hash": prev,
        }
        canonical = canonical_bytes(values)
        values["hash"] = digest(canonical)
        values["signature"] = identity.sign(canonical)
        prev = values["hash"]
        rows.append([values[name] for name in PUNCH_COLUMNS])
    last = first + count - 1
    with write_transaction(conn, "building a synthetic chain"):
        conn.executemany(INSERT_PUNCH, rows)
        signature = identity.sign(head_bytes(identity.device_id, head["base_seq"], head["base_hash"], last, prev))
        conn.execute("UPDATE chain_head SET seq = ?, hash = ?, signature = ?", (last, prev, signature))
    return last
