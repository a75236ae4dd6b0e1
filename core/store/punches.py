"""Recording punches: one transaction per punch, durable before ``record()`` returns."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from core.clock import Clock, ClockState, ClockStateSource
from core.errors import ChainError, ClockError, StorageError
from core.identity import DeviceIdentity, public_key_from_hex
from core.ids import uuid7
from core.store.chain import (
    GENESIS_HASH,
    VerifyReport,
    canonical_bytes,
    decimal,
    digest,
    head_bytes,
    scores_json,
    verify_rows,
)
from core.store.tx import storage_error, write_transaction

log = logging.getLogger(__name__)

METHODS = ("face", "card", "finger", "card+face", "card+finger", "manual")
KINDS = ("masuk", "pulang", "apel", "senam", "tausiyah", "lainnya")


def format_instant(instant: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: ``2026-11-23T00:42:13.123Z``."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class PunchRequest:
    """What a pipeline decided: who, how, and what the schedule made of it."""

    employee_id: str
    method: str
    kind: str = "lainnya"
    status: str = ""  # tepat_waktu, terlambat, pulang_cepat, di_luar_jadwal, lembur, hadir…
    minutes: int = 0  # minutes late or early, as shown
    event_id: str | None = None
    liveness_verdict: str | None = None  # live | spoof | skipped | None (not a face punch)
    liveness_scores: Mapping[str, float] = field(default_factory=dict)
    match_distance: float | None = None

    def __post_init__(self) -> None:
        if not self.employee_id or len(self.employee_id) > 64:
            raise ValueError("employee_id must be 1–64 characters")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r} (expected one of {', '.join(METHODS)})")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} (expected one of {', '.join(KINDS)})")


@dataclass(frozen=True)
class Punch:
    """A recorded punch, exactly as stored and signed."""

    seq: int
    id: str
    device_id: str
    employee_id: str
    instant: str
    zone: str
    method: str
    kind: str
    status: str
    minutes: int
    event_id: str | None
    liveness_verdict: str | None
    liveness_scores: str
    match_distance: str | None
    clock_state: str
    boot_id: str
    mono_ns: int
    prev_hash: str
    hash: str
    signature: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Punch:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def at(self) -> datetime:
        return parse_instant(self.instant)

    @property
    def scores(self) -> dict[str, float]:
        return {k: float(v) for k, v in json.loads(self.liveness_scores).items()}


PUNCH_COLUMNS = tuple(f.name for f in fields(Punch))
#: Built from the constant column list above, never from input.
INSERT_PUNCH = f"INSERT INTO punches ({', '.join(PUNCH_COLUMNS)}) VALUES ({', '.join('?' * len(PUNCH_COLUMNS))})"  # noqa: S608


class PunchStore:
    """The unit's punches. Thread-safe only by giving each thread its own store; processes
    share the file and serialise writes through SQLite's lock (``BEGIN IMMEDIATE``)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        identity: DeviceIdentity,
        clock: Clock,
        clock_state: ClockStateSource,
        *,
        zone: str = "Asia/Jakarta",
        unsynced_policy: str = "accept",
        randbytes: Any = os.urandom,
    ) -> None:
        self.conn = conn
        self.identity = identity
        self.clock = clock
        self.clock_state = clock_state
        self.zone = zone
        self.unsynced_policy = unsynced_policy
        self._randbytes = randbytes
        self._register_device()

    def __repr__(self) -> str:
        return f"PunchStore(device={self.identity.device_id}, zone={self.zone})"

    def _register_device(self) -> None:
        with write_transaction(self.conn, "registering the device key"):
            row = self.conn.execute("SELECT id, public_key FROM device").fetchone()
            if row is None:
                self.conn.execute(
                    "INSERT INTO device (id, public_key, created_at) VALUES (?, ?, ?)",
                    (self.identity.device_id, self.identity.public_hex, format_instant(self.clock.now())),
                )
                head = head_bytes(self.identity.device_id, 0, GENESIS_HASH, 0, GENESIS_HASH)
                self.conn.execute(
                    "INSERT INTO chain_head VALUES (1, ?, 0, ?, 0, ?, ?)",
                    (self.identity.device_id, GENESIS_HASH, GENESIS_HASH, self.identity.sign(head)),
                )
            elif row["public_key"] != self.identity.public_hex:
                raise ChainError(
                    f"this database belongs to device {row['id']}, but the key in the data directory is "
                    f"{self.identity.device_id}'s; restore the matching device key or use a new data directory"
                )

    # -- recording -------------------------------------------------------------------------

    def record(self, request: PunchRequest) -> Punch:
        """Commit one punch (``synchronous=FULL``) and return it; raises StorageFullError
        when the disk is full and ClockError when the policy refuses an unsynced clock."""
        now = self.clock.now()
        state = ClockState(self.clock_state.state())
        if state is ClockState.UNSYNCED and self.unsynced_policy == "refuse":
            raise ClockError("the clock is not synchronised and the policy refuses punches; set the time on the maintenance page")
        values: dict[str, Any] = {
            "id": str(uuid7(int(now.timestamp() * 1000), self._randbytes)),
            "device_id": self.identity.device_id,
            "employee_id": request.employee_id,
            "instant": format_instant(now),
            "zone": self.zone,
            "method": request.method,
            "kind": request.kind,
            "status": request.status,
            "minutes": int(request.minutes),
            "event_id": request.event_id,
            "liveness_verdict": request.liveness_verdict,
            "liveness_scores": scores_json(request.liveness_scores),
            "match_distance": decimal(request.match_distance),
            "clock_state": state.value,
            "boot_id": self.clock.boot_id(),
            "mono_ns": self.clock.monotonic_ns(),
        }
        with write_transaction(self.conn, "recording a punch"):
            head = self.conn.execute("SELECT * FROM chain_head").fetchone()
            values["seq"] = head["seq"] + 1
            values["prev_hash"] = head["hash"]
            canonical = canonical_bytes(values)
            values["hash"] = digest(canonical)
            values["signature"] = self.identity.sign(canonical)
            punch = Punch(**{name: values[name] for name in PUNCH_COLUMNS})
            self.conn.execute(INSERT_PUNCH, [values[name] for name in PUNCH_COLUMNS])
            head_sig = self.identity.sign(
                head_bytes(self.identity.device_id, head["base_seq"], head["base_hash"], punch.seq, punch.hash)
            )
            self.conn.execute("UPDATE chain_head SET seq = ?, hash = ?, signature = ?", (punch.seq, punch.hash, head_sig))
        log.info("recorded punch %s seq %d method %s", punch.id, punch.seq, punch.method)
        return punch

    # -- reading (read-only) ---------------------------------------------------------------

    def get(self, seq: int) -> Punch | None:
        """The punch with this sequence number. Read-only."""
        row = self.conn.execute("SELECT * FROM punches WHERE seq = ?", (seq,)).fetchone()
        return Punch.from_row(row) if row else None

    def last_seq(self) -> int:
        """The last recorded sequence number (0 when none). Read-only."""
        return int(self.conn.execute("SELECT seq FROM chain_head").fetchone()["seq"])

    def since(self, after_seq: int, limit: int = 1000) -> list[Punch]:
        """Punches with seq > ``after_seq``, oldest first. Read-only."""
        rows = self.conn.execute("SELECT * FROM punches WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
        return [Punch.from_row(r) for r in rows]

    def recent(self, limit: int = 20) -> list[Punch]:
        """The newest punches, newest first. Read-only."""
        rows = self.conn.execute("SELECT * FROM punches ORDER BY seq DESC LIMIT ?", (limit,))
        return [Punch.from_row(r) for r in rows]

    def repeats_last(self, employee_id: str, now: datetime, interval_s: float) -> Punch | None:
        """The employee's latest punch when a new one at ``now`` would repeat it (within
        ``interval_s`` after it); None otherwise. A latest punch stamped *after* ``now`` — the
        clock went back since (a dead RTC battery, a wrong time corrected) — is never repeated:
        a wrong clock never costs a punch (docs/time.md: accept, flag, correct later). Read-only."""
        last = self.last_for(employee_id)
        if last is None:
            return None
        return last if 0 <= (now - last.at).total_seconds() < interval_s else None

    def last_for(self, employee_id: str) -> Punch | None:
        """The employee's latest punch. Read-only."""
        row = self.conn.execute(
            "SELECT * FROM punches WHERE employee_id = ? ORDER BY seq DESC LIMIT 1", (employee_id,)
        ).fetchone()
        return Punch.from_row(row) if row else None

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM punches").fetchone()[0])

    def data_version(self) -> int:
        """Changes when another connection commits (``PRAGMA data_version``). Read-only."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def iter_all(self) -> Iterator[Punch]:
        for row in self.conn.execute("SELECT * FROM punches ORDER BY seq"):
            yield Punch.from_row(row)

    # -- pruning ---------------------------------------------------------------------------

    def prune_through(self, seq: int) -> int:
        """Delete punches up to ``seq`` (already acknowledged by the server, past retention),
        moving the chain's signed base so ``verify`` still checks the rest."""
        with write_transaction(self.conn, "pruning punches"):
            head = self.conn.execute("SELECT * FROM chain_head").fetchone()
            if seq <= head["base_seq"]:
                return 0
            last = self.conn.execute("SELECT seq, hash FROM punches WHERE seq <= ? ORDER BY seq DESC LIMIT 1", (seq,)).fetchone()
            if last is None:
                return 0
            removed = self.conn.execute("DELETE FROM punches WHERE seq <= ?", (last["seq"],)).rowcount
            signature = self.identity.sign(
                head_bytes(self.identity.device_id, last["seq"], last["hash"], head["seq"], head["hash"])
            )
            self.conn.execute(
                "UPDATE chain_head SET base_seq = ?, base_hash = ?, signature = ?", (last["seq"], last["hash"], signature)
            )
        return int(removed)


def registered_device_id(conn: sqlite3.Connection) -> str | None:
    """The id of the device this database belongs to (``device``), or None before the first
    store opened it. Read-only."""
    row = conn.execute("SELECT id FROM device").fetchone()
    return str(row["id"]) if row else None


def head_seq(conn: sqlite3.Connection) -> int:
    """The chain head's sequence number (``chain_head``; 0 without a head). Read-only."""
    row = conn.execute("SELECT seq FROM chain_head").fetchone()
    return int(row["seq"]) if row else 0


def count_punches(conn: sqlite3.Connection, *, after_seq: int | None = None) -> int:
    """How many punches are kept (with ``after_seq``: only those after it). Read-only."""
    if after_seq is None:
        return int(conn.execute("SELECT count(*) FROM punches").fetchone()[0])
    return int(conn.execute("SELECT count(*) FROM punches WHERE seq > ?", (after_seq,)).fetchone()[0])


def employee_punches_between(conn: sqlite3.Connection, employee_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The employee's punches from ``start`` to ``end`` (inclusive), oldest first: instant, kind,
    event_id and ``counts`` (their event pack's ``counts_as_masuk``, NULL when unset or no event;
    tables ``punches`` and ``events``). Read-only."""
    rows = conn.execute(
        """SELECT p.instant, p.kind, p.event_id,
                  coalesce(json_extract(e.pack, '$.pack.counts_as_masuk'), json_extract(e.pack, '$.counts_as_masuk')) AS counts
           FROM punches p LEFT JOIN events e ON e.id = p.event_id
           WHERE p.employee_id = ? AND p.instant >= ? AND p.instant <= ? ORDER BY p.instant, p.seq""",
        (employee_id, format_instant(start), format_instant(end)),
    ).fetchall()
    return [dict(r) for r in rows]


def verify_database(conn: sqlite3.Connection, public_key_hex: str | None = None) -> VerifyReport:
    """Verify every punch in the database against the device key (``public_key_hex``, else
    the key the database records) and the signed chain head. Read-only."""
    try:
        device = conn.execute("SELECT id, public_key FROM device").fetchone()
        head = conn.execute("SELECT * FROM chain_head").fetchone()
    except sqlite3.Error as exc:
        raise storage_error(exc, "reading the device record") from exc
    if device is None or head is None:
        raise StorageError("this database has no device record; it was never used by a unit")
    key_hex = public_key_hex or device["public_key"]
    if public_key_hex is not None and public_key_hex != device["public_key"]:
        return VerifyReport(0, head["base_seq"] + 1, "the database records a different device key than the one given")
    rows = conn.execute("SELECT * FROM punches ORDER BY seq")
    return verify_rows(
        rows,
        public_key_from_hex(key_hex),
        device_id=device["id"],
        base_seq=head["base_seq"],
        base_hash=head["base_hash"],
        head=head,
    )
