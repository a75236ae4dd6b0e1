"""What the server does with devices and their punches: registration, verification, chain
continuity, deduplication, held gaps, replay protection and the record of every rejection."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.clock import Clock
from core.errors import AuthError, SyncError
from core.identity import device_id_for, public_key_from_hex, verify_signature
from core.store.chain import GENESIS_HASH, canonical_bytes, digest
from core.store.punches import PUNCH_COLUMNS, Punch, format_instant
from core.wire import Ack, punch_from_wire, punch_to_wire
from sync.server.storage import Storage, Tx

log = logging.getLogger(__name__)

#: Flags the punches a device just stored (seq above the acknowledged one before) whose employee
#: was not in the device's scope at that moment: not an active employee of its office (any office
#: for a device without one), nor added to the device (device_members). Event punches are judged
#: by the event's participant list instead (events.py). The punch itself is kept unchanged.
_FLAG_OUTSIDE_ROSTER = (
    "INSERT INTO outside_roster (device_id, seq, employee_id, received_at) "
    "SELECT p.device_id, p.seq, p.employee_id, p.received_at FROM punches p JOIN devices d ON d.id = p.device_id "
    "WHERE p.device_id = ? AND p.seq > ? AND p.event_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM employees e WHERE e.id = p.employee_id AND e.deleted = 0 AND e.active = 1 "
    "AND (d.unit_code = '' OR e.unit_code = d.unit_code)) "
    "AND NOT EXISTS (SELECT 1 FROM device_members m WHERE m.device_id = p.device_id AND m.employee_id = p.employee_id) "
    "ON CONFLICT (device_id, seq) DO NOTHING"
)
_INSERT_PUNCH = (
    f"INSERT INTO punches ({', '.join(PUNCH_COLUMNS)}, received_at, source) "  # noqa: S608 - constant column list
    f"VALUES ({', '.join('?' * (len(PUNCH_COLUMNS) + 2))})"
)


_LISTED_PUNCH_COLUMNS = (
    "device_id",
    "seq",
    "id",
    "employee_id",
    "instant",
    "zone",
    "method",
    "kind",
    "status",
    "minutes",
    "clock_state",
    "received_at",
    "source",
)


class PunchRejected(SyncError):
    """A batch or bundle failed verification; nothing of it was stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"punches refused: {reason}")
        self.reason = reason


class ProvisioningRefused(AuthError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"provisioning refused: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Device:
    id: str
    public_key: Ed25519PublicKey
    public_hex: str
    unit_code: str
    acked_seq: int


_VERIFY_CHUNK = 250
_VERIFIER: list[concurrent.futures.ThreadPoolExecutor] = []


def _verifier() -> concurrent.futures.ThreadPoolExecutor:
    if not _VERIFIER:
        _VERIFIER.append(concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="verify"))
    return _VERIFIER[0]


def _first_bad(key: Ed25519PublicKey, chunk: list[tuple[Punch, bytes]]) -> int | None:
    for punch, canonical in chunk:
        if not verify_signature(key, punch.signature, canonical):
            return punch.seq
    return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Ledger:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    def _now(self) -> str:
        return format_instant(self.clock.now())

    # -- tokens and devices --------------------------------------------------------------------

    def issue_token(self, unit_code: str = "", *, valid_hours: float = 72.0) -> str:
        """A one-time provisioning token (only its hash is stored)."""
        token = secrets.token_urlsafe(18)
        now = self.clock.now()
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO tokens (token_hash, unit_code, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (hash_token(token), unit_code, format_instant(now), format_instant(now + timedelta(hours=valid_hours))),
            )
        return token

    def provision(self, token: str, public_hex: str, name: str = "") -> dict[str, Any]:
        """Register a device key with a one-time token; returns the device id and unit."""
        try:
            public_key_from_hex(public_hex)
        except AuthError as exc:
            raise ProvisioningRefused("not an Ed25519 public key") from exc
        device_id = device_id_for(bytes.fromhex(public_hex))
        now = self._now()
        with self.storage.tx() as tx:
            row = tx.one("SELECT * FROM tokens WHERE token_hash = ?" + tx.for_update, (hash_token(token),))  # noqa: S608
            if row is None:
                raise ProvisioningRefused("unknown provisioning token")
            existing = tx.one("SELECT id, public_key FROM devices WHERE id = ?", (device_id,))
            if row["used_at"] is not None:
                if row["device_id"] == device_id and existing is not None:
                    return {"device_id": device_id, "unit_code": row["unit_code"]}  # the same unit asking again
                raise ProvisioningRefused("provisioning token already used")
            if row["expires_at"] < now:
                raise ProvisioningRefused("provisioning token expired")
            if existing is None:
                tx.execute(
                    "INSERT INTO devices (id, public_key, unit_code, name, registered_at, last_hash) VALUES (?, ?, ?, ?, ?, ?)",
                    (device_id, public_hex, row["unit_code"], name[:80], now, GENESIS_HASH),
                )
            tx.execute("UPDATE tokens SET used_at = ?, device_id = ? WHERE token_hash = ?", (now, device_id, row["token_hash"]))
        log.info("provisioned device %s for unit %r", device_id, row["unit_code"])
        return {"device_id": device_id, "unit_code": row["unit_code"]}

    def device(self, device_id: str) -> Device | None:
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT id, public_key, unit_code, acked_seq FROM devices WHERE id = ?", (device_id,))
        if row is None:
            return None
        return Device(row["id"], public_key_from_hex(row["public_key"]), row["public_key"], row["unit_code"], row["acked_seq"])

    # -- replay protection and the record of refusals ---------------------------------------------

    def use_nonce(
        self, nonce: str, device_id: str, window_s: float, *, remote: str = "", clock_offset_s: float | None = None
    ) -> bool:
        """Record a request nonce (and that the device was seen); False when the nonce was seen
        before (a replay), in which case nothing is recorded."""
        now_s = self.clock.now().timestamp()
        with self.storage.tx() as tx:
            inserted = tx.execute(
                "INSERT INTO nonces (nonce, device_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
                (nonce, device_id, now_s + 2 * window_s),
            ).rowcount
            if not inserted:
                return False
            if secrets.randbelow(64) == 0:
                tx.execute("DELETE FROM nonces WHERE expires_at < ?", (now_s,))
            tx.execute(
                "UPDATE devices SET last_seen = ?, last_addr = ?, clock_offset_s = COALESCE(?, clock_offset_s) WHERE id = ?",
                (self._now(), remote[:100], clock_offset_s, device_id),
            )
        return True

    def reject(self, device_id: str, source: str, reason: str, remote: str = "") -> None:
        """Remember a refusal so the device page can show it."""
        with self.storage.tx() as tx:
            known = tx.one("SELECT 1 AS x FROM devices WHERE id = ?", (device_id,)) is not None
            tx.execute(
                "INSERT INTO rejections (at, device_id, known, source, reason, remote) VALUES (?, ?, ?, ?, ?, ?)",
                (self._now(), device_id[:64], int(known), source, reason[:500], remote[:100]),
            )
        log.warning("refused %s from %s (%s): %s", source, device_id, remote, reason)

    def record_health(self, device_id: str, report: dict[str, Any], remote: str) -> None:
        offset = report.get("clock_offset_s")
        queue = report.get("queue_depth")
        roster = report.get("roster_version")
        with self.storage.tx() as tx:
            tx.execute(
                "UPDATE devices SET last_seen = ?, last_addr = ?, health = ?, clock_offset_s = COALESCE(?, clock_offset_s), queue_depth = ?, "
                "roster_version = COALESCE(?, roster_version) WHERE id = ?",
                (
                    self._now(),
                    remote[:100],
                    json.dumps(report, sort_keys=True)[:20000],
                    float(offset) if isinstance(offset, int | float) else None,
                    int(queue) if isinstance(queue, int) else None,
                    int(roster) if isinstance(roster, int) else None,
                    device_id,
                ),
            )

    # -- punches --------------------------------------------------------------------------------

    def ingest(self, device_id: str, wire_punches: Sequence[Any], source: str) -> Ack:
        """Verify and store punches of one device; all or nothing.

        Each punch must carry the device's id, hash to its canonical bytes and bear the device's
        signature; otherwise the whole request is refused (:class:`PunchRejected`). Punches at or
        below the acknowledged sequence are duplicates when identical and a refusal when not.
        The next punch must link to the last stored one; punches beyond a gap are held (verified,
        not accepted) until the gap is filled.
        """
        punches = self._verified(device_id, wire_punches)
        now = self._now()
        with self.storage.tx() as tx:
            row = tx.one("SELECT acked_seq, last_hash, forked_at FROM devices WHERE id = ?" + tx.for_update, (device_id,))  # noqa: S608
            assert row is not None
            acked, last_hash = int(row["acked_seq"]), str(row["last_hash"])
            accepted, held = 0, 0
            old = [p for p in punches if p.seq <= acked]
            # punches that contradict the stored chain are kept apart (a clone): the branch
            branch, duplicates = self._against_stored(tx, device_id, old)
            new = [p for p in punches if p.seq > acked]
            if branch:  # the rest of this request continues the contradicting chain
                branch += new
                new = []
            if new:
                ids = [p.id for p in new]
                # ids are unique per device: another unit's punch with the same id (ids leak in
                # CSVs and bundles) must never block this unit's chain
                clash = tx.all(
                    f"SELECT id, seq FROM punches WHERE device_id = ? AND id IN ({', '.join('?' * len(ids))})",  # noqa: S608 - placeholders only
                    [device_id, *ids],
                )
                if clash:
                    c = clash[0]
                    raise PunchRejected(f"punch id {c['id']} is already stored as seq {c['seq']} of this device")
            rows: list[list[Any]] = []
            for p in new:
                if branch or (row["forked_at"] is not None and self._continues_branch(tx, device_id, p)):
                    branch.append(p)
                    continue
                if p.seq == acked + 1:
                    if p.prev_hash != last_hash:
                        branch.append(p)  # links to another punch than the stored one: a fork
                        continue
                    rows.append([*(getattr(p, c) for c in PUNCH_COLUMNS), now, source])
                    acked, last_hash = p.seq, p.hash
                    accepted += 1
                else:
                    inserted = tx.execute(
                        "INSERT INTO held_punches (device_id, seq, body, received_at, source) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (device_id, seq) DO NOTHING",
                        (device_id, p.seq, json.dumps(punch_to_wire(p)), now, source),
                    ).rowcount
                    held += int(bool(inserted))
            tx.executemany(_INSERT_PUNCH, rows)
            forked = self._keep_branch(tx, device_id, branch, now, source)
            acked, last_hash, promoted = self._promote_held(tx, device_id, acked, last_hash, now)
            accepted += promoted
            tx.execute(_FLAG_OUTSIDE_ROSTER, (device_id, int(row["acked_seq"])))
            tx.execute(
                "UPDATE devices SET acked_seq = ?, last_hash = ?, last_seen = ? WHERE id = ?", (acked, last_hash, now, device_id)
            )
            gap_row = tx.one("SELECT min(seq) AS first, count(*) AS n FROM held_punches WHERE device_id = ?", (device_id,))
        gap = None
        held_total = int(gap_row["n"]) if gap_row else 0
        if held_total:
            assert gap_row is not None
            gap = (acked + 1, int(gap_row["first"]) - 1)
        if accepted or held:
            log.info("device %s: %d accepted, %d duplicate, %d held; acked %d", device_id, accepted, duplicates, held, acked)
        return self._answer(device_id, source, Ack(acked, accepted, duplicates, held_total, gap), branch, forked)

    def _answer(self, device_id: str, source: str, ack: Ack, branch: Sequence[Any], forked: int) -> Ack:
        """The acknowledgement; with a contradicting chain, the alarm for the device page and an
        acknowledgement that covers the punches kept apart (the unit that sent them must not
        resend them forever, nor stop syncing its roster)."""
        if not branch:
            return ack
        self.reject(
            device_id,
            source,
            f"FORK: {len(branch)} punches ({branch[0].seq}–{branch[-1].seq}) signed by this device's key contradict its "
            "stored chain: two units hold the same key (a copied data directory?); both chains are kept, an operator "
            "decides which unit is genuine (presensi server devices)",
        )
        return replace(ack, acked_seq=max(ack.acked_seq, branch[-1].seq), forked=forked or len(branch))

    def _against_stored(self, tx: Tx, device_id: str, old: Sequence[Any]) -> tuple[list[Any], int]:
        """(the punches at or below the acknowledged seq that differ from the stored ones, how
        many are identical: duplicates)."""
        if not old:
            return [], 0
        stored = {
            r["seq"]: r["hash"]
            for r in tx.all(
                "SELECT seq, hash FROM punches WHERE device_id = ? AND seq >= ? AND seq <= ?",
                (device_id, old[0].seq, old[-1].seq),
            )
        }
        differ = [p for p in old if stored.get(p.seq) != p.hash]
        return differ, len(old) - len(differ)

    def _continues_branch(self, tx: Tx, device_id: str, p: Any) -> bool:
        """``p`` links to a punch kept on the device's contradicting chain."""
        return (
            tx.one(
                "SELECT 1 AS x FROM forked_punches WHERE device_id = ? AND seq = ? AND hash = ?",
                (device_id, p.seq - 1, p.prev_hash),
            )
            is not None
        )

    def _keep_branch(self, tx: Tx, device_id: str, branch: Sequence[Any], now: str, source: str) -> int:
        """Store punches of a contradicting chain apart, mark the device forked; returns how
        many were new. Nothing of the stored chain changes."""
        if not branch:
            return 0
        new = 0
        for p in branch:
            new += int(
                bool(
                    tx.execute(
                        "INSERT INTO forked_punches (device_id, seq, hash, body, received_at, source) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (device_id, seq, hash) DO NOTHING",
                        (device_id, p.seq, p.hash, json.dumps(punch_to_wire(p)), now, source),
                    ).rowcount
                )
            )
        tx.execute("UPDATE devices SET forked_at = coalesce(forked_at, ?) WHERE id = ?", (now, device_id))
        log.error(
            "device %s: %d punches of a contradicting chain kept apart (seq %d–%d)", device_id, new, branch[0].seq, branch[-1].seq
        )
        return new

    def _verified(self, device_id: str, wire_punches: Sequence[Any]) -> list[Punch]:
        """Parse and verify each punch on its own (device, hash, signature), ordered by seq."""
        punches: list[Punch] = []
        for index, item in enumerate(wire_punches):
            try:
                punches.append(punch_from_wire(item))
            except ValueError as exc:
                raise PunchRejected(f"punch #{index + 1} in the request is malformed: {exc}") from exc
        punches.sort(key=lambda p: p.seq)
        seqs = [p.seq for p in punches]
        if len(set(seqs)) != len(seqs):
            raise PunchRejected("the request carries the same sequence number twice")
        device = self.device(device_id)
        if device is None:
            raise PunchRejected(f"unknown device {device_id}")
        signed: list[tuple[Punch, bytes]] = []
        for p in punches:
            if p.device_id != device_id:
                raise PunchRejected(f"punch {p.seq} names device {p.device_id}, not {device_id}")
            canonical = canonical_bytes(p.as_dict())
            if digest(canonical) != p.hash:
                raise PunchRejected(f"punch {p.seq} was altered (its hash does not match its fields)")
            signed.append((p, canonical))
        key = device.public_key
        # Ed25519 verification releases the GIL for most of its work: spread a large batch over
        # the cores (the first bad punch is still the one named).
        chunks = [signed[i : i + _VERIFY_CHUNK] for i in range(0, len(signed), _VERIFY_CHUNK)]
        results = (
            list(_verifier().map(lambda chunk: _first_bad(key, chunk), chunks)) if len(chunks) > 1 else [_first_bad(key, signed)]
        )
        bad = next((seq for seq in results if seq is not None), None)
        if bad is not None:
            raise PunchRejected(f"punch {bad} has a signature that does not verify with the device key")
        return punches

    def _promote_held(self, tx: Tx, device_id: str, acked: int, last_hash: str, now: str) -> tuple[int, str, int]:
        """Move held punches that now continue the chain into the ledger."""
        promoted = 0
        while True:
            row = tx.one("SELECT body, source FROM held_punches WHERE device_id = ? AND seq = ?", (device_id, acked + 1))
            if row is None:
                break
            p = punch_from_wire(json.loads(row["body"]))
            tx.execute("DELETE FROM held_punches WHERE device_id = ? AND seq = ?", (device_id, p.seq))
            if p.prev_hash != last_hash:
                raise PunchRejected(f"held punch {p.seq} does not link to punch {p.seq - 1} (prev_hash differs)")
            tx.execute(_INSERT_PUNCH, [*(getattr(p, c) for c in PUNCH_COLUMNS), now, row["source"]])
            acked, last_hash = p.seq, p.hash
            promoted += 1
        # Held punches at or below the acknowledged sequence arrived again in order: drop them.
        tx.execute("DELETE FROM held_punches WHERE device_id = ? AND seq <= ?", (device_id, acked))
        return acked, last_hash, promoted

    # -- reading (for pages, tests and admins) --------------------------------------------------

    def punch_count(self, device_id: str | None = None) -> int:
        with self.storage.tx(write=False) as tx:
            if device_id is None:
                row = tx.one("SELECT count(*) AS n FROM punches")
            else:
                row = tx.one("SELECT count(*) AS n FROM punches WHERE device_id = ?", (device_id,))
        return int(row["n"]) if row else 0

    def held_seqs(self, device_id: str, seqs: Sequence[int]) -> set[int]:
        """Which of ``seqs`` this server stores for the device (in its chain, not waiting)."""
        if not seqs:
            return set()
        with self.storage.tx(write=False) as tx:
            rows = tx.all(
                "SELECT seq FROM punches WHERE device_id = ? AND seq >= ? AND seq <= ?", (device_id, min(seqs), max(seqs))
            )
        return {int(r["seq"]) for r in rows} & set(seqs)

    def punch_seqs(self, device_id: str) -> list[int]:
        with self.storage.tx(write=False) as tx:
            return [int(r["seq"]) for r in tx.all("SELECT seq FROM punches WHERE device_id = ? ORDER BY seq", (device_id,))]

    def devices(self) -> list[dict[str, Any]]:
        with self.storage.tx(write=False) as tx:
            rows = tx.all("SELECT * FROM devices ORDER BY id")
            held = {
                r["device_id"]: r
                for r in tx.all("SELECT device_id, count(*) AS n, min(seq) AS first FROM held_punches GROUP BY device_id")
            }
            rejected = {
                r["device_id"]: r["n"] for r in tx.all("SELECT device_id, count(*) AS n FROM rejections GROUP BY device_id")
            }
            corrected = {
                r["device_id"]: r["n"]
                for r in tx.all("SELECT device_id, count(*) AS n FROM punch_corrections GROUP BY device_id")
            }
            forked = {
                r["device_id"]: r["n"] for r in tx.all("SELECT device_id, count(*) AS n FROM forked_punches GROUP BY device_id")
            }
            outside = {
                r["device_id"]: r["n"] for r in tx.all("SELECT device_id, count(*) AS n FROM outside_roster GROUP BY device_id")
            }
        for r in rows:
            h = held.get(r["id"])
            r["held"] = int(h["n"]) if h else 0
            r["gap"] = (r["acked_seq"] + 1, int(h["first"]) - 1) if h else None
            r["rejections"] = int(rejected.get(r["id"], 0))
            r["corrections"] = int(corrected.get(r["id"], 0))
            r["forked_punches"] = int(forked.get(r["id"], 0))
            r["outside_roster"] = int(outside.get(r["id"], 0))
            r["health"] = json.loads(r["health"] or "{}")
        return rows

    def outside_roster(self, device_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Who punched on ``device_id`` without being in its roster scope: per employee, how many
        punches and when (the first and last instant), the most recent first."""
        with self.storage.tx(write=False) as tx:
            return tx.all(
                "SELECT o.employee_id, count(*) AS punches, min(p.instant) AS first, max(p.instant) AS last, "
                "max(o.received_at) AS received FROM outside_roster o JOIN punches p ON p.device_id = o.device_id "
                "AND p.seq = o.seq WHERE o.device_id = ? GROUP BY o.employee_id ORDER BY max(o.received_at) DESC, "
                "o.employee_id LIMIT ?",
                (device_id, limit),
            )

    def rejections(self, device_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        with self.storage.tx(write=False) as tx:
            if device_id is None:
                return tx.all("SELECT * FROM rejections ORDER BY id DESC LIMIT ?", (limit,))
            return tx.all("SELECT * FROM rejections WHERE device_id = ? ORDER BY id DESC LIMIT ?", (device_id, limit))

    def recent_punches(self, device_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Punches as recorded, each with its correction (``corrected_instant`` and
        ``correction_source``, None when it has none): the server shows both instants."""
        cols = ", ".join(f"p.{c}" for c in _LISTED_PUNCH_COLUMNS)
        select = (
            f"SELECT {cols}, c.corrected_instant, c.anchor_source AS correction_source FROM punches p "  # noqa: S608
            "LEFT JOIN punch_corrections c ON c.device_id = p.device_id AND c.seq = p.seq"
        )
        with self.storage.tx(write=False) as tx:
            if device_id is None:
                return tx.all(f"{select} ORDER BY p.received_at DESC, p.seq DESC LIMIT ?", (limit,))
            return tx.all(f"{select} WHERE p.device_id = ? ORDER BY p.seq DESC LIMIT ?", (device_id, limit))
