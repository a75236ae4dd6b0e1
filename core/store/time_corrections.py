"""Signed corrections of punch instants (``punch_corrections``), beside the punches they
correct, and their delivery to the server. What is corrected and how is core.timekeeping's."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.store.punches import format_instant
from core.store.tx import write_transaction


def _rank(alias: str, sources: Sequence[str]) -> str:
    """SQL for the trust rank of ``alias``.source (0: most trusted, as ``sources``)."""
    cases = " ".join(f"WHEN '{source}' THEN {i}" for i, source in enumerate(sources))
    return f"(CASE {alias}.source {cases} ELSE {len(sources)} END)"


def correction_candidates(conn: sqlite3.Connection, max_offset_s: float, sources: Sequence[str]) -> list[sqlite3.Row]:
    """Punches that may need a correction now (``punches``, ``time_anchors``, ``punch_corrections``),
    ordered by seq, each with ``held_instant`` (the correction it has, else NULL):

    * not-synced punches of an anchored boot without a correction;
    * "synced" punches further than ``max_offset_s`` from where their boot's server anchor puts them;
    * corrected punches whose boot now has an anchor of a more trusted source (``sources``, most
      trusted first) than the correction's.

    Read-only."""
    columns = "p.id, p.seq, p.hash, p.instant, p.boot_id, p.mono_ns"
    rows: list[sqlite3.Row] = conn.execute(
        f"""SELECT {columns}, NULL AS held_instant FROM punches p
           LEFT JOIN punch_corrections c ON c.punch_id = p.id
           WHERE c.punch_id IS NULL AND p.clock_state != 'synced'
             AND p.boot_id IN (SELECT boot_id FROM time_anchors)
           UNION
           SELECT {columns}, NULL FROM punches p
           JOIN time_anchors a ON a.id = (SELECT max(id) FROM time_anchors WHERE boot_id = p.boot_id AND source = 'server')
           LEFT JOIN punch_corrections c ON c.punch_id = p.id
           WHERE c.punch_id IS NULL AND p.clock_state = 'synced'
             AND abs((julianday(p.instant) - julianday(a.true_utc)) * 86400.0 - (p.mono_ns - a.mono_ns) / 1e9) > ?
           UNION
           SELECT {columns}, c.corrected_instant FROM punch_corrections c
           JOIN punches p ON p.id = c.punch_id
           JOIN time_anchors held ON held.id = c.anchor_id
           WHERE EXISTS (SELECT 1 FROM time_anchors b WHERE b.boot_id = p.boot_id AND {_rank("b", sources)} < {_rank("held", sources)})
           ORDER BY 2""",  # noqa: S608 - constant fragments only
        (max_offset_s,),
    ).fetchall()
    return rows


def put_correction(
    conn: sqlite3.Connection,
    *,
    punch_id: str,
    seq: int,
    corrected_instant: str,
    anchor_id: int,
    body: str,
    signature: str,
    created_at: str,
) -> None:
    """Store a punch's correction, replacing a worse one (which is then delivered again). Runs
    inside the caller's write transaction."""
    conn.execute(
        "INSERT OR REPLACE INTO punch_corrections "
        "(punch_id, seq, corrected_instant, anchor_id, body, signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (punch_id, seq, corrected_instant, anchor_id, body, signature, created_at),
    )


@dataclass(frozen=True)
class SignedCorrection:
    """A stored correction as it travels: the signed statement and the device's signature."""

    punch_id: str
    seq: int
    body: str  # canonical JSON, exactly the bytes signed
    signature: str  # hex Ed25519 by the device key

    def wire(self) -> dict[str, object]:
        return {**json.loads(self.body), "signature": self.signature}


def undelivered_corrections(conn: sqlite3.Connection, through_seq: int, limit: int) -> list[SignedCorrection]:
    """Corrections the server has not acknowledged, of punches up to ``through_seq`` (those the
    server already holds), oldest punch first. Read-only."""
    rows = conn.execute(
        "SELECT punch_id, seq, body, signature FROM punch_corrections WHERE acked_at IS NULL AND seq <= ? ORDER BY seq LIMIT ?",
        (through_seq, limit),
    ).fetchall()
    return [SignedCorrection(r["punch_id"], int(r["seq"]), r["body"], r["signature"]) for r in rows]


def count_undelivered_corrections(conn: sqlite3.Connection) -> int:
    """How many corrections still wait for the server's acknowledgement. Read-only."""
    return int(conn.execute("SELECT count(*) FROM punch_corrections WHERE acked_at IS NULL").fetchone()[0])


def mark_corrections_delivered(conn: sqlite3.Connection, delivered: list[tuple[str, str]], now: datetime) -> int:
    """Record the server's acknowledgement of these corrections, each (punch id, signature sent):
    once; a repeat changes nothing, and a correction replaced since it was sent stays pending."""
    if not delivered:
        return 0
    stamp = format_instant(now)
    with write_transaction(conn, "recording delivered corrections"):
        changed = sum(
            conn.execute(
                "UPDATE punch_corrections SET acked_at = ? WHERE punch_id = ? AND signature = ? AND acked_at IS NULL",
                (stamp, punch_id, signature),
            ).rowcount
            for punch_id, signature in delivered
        )
    return int(changed)
