"""Punch corrections on the server: a unit's signed statement that one of its punches, recorded
while its clock was not trusted, happened at another instant (``core.timekeeping``).

The stored punch is never rewritten on either side. A correction is accepted only when

- it names the signing device and its Ed25519 signature verifies over its canonical bytes;
- the punch it names is stored here for that device, with the same id, hash and recorded instant;
- its anchor belongs to the punch's boot, and the corrected instant follows from the anchor and
  the punch's own monotonic time (``anchor.true_utc + punch.mono_ns − anchor.mono_ns``, to 1 ms).

A request is all or nothing, like a punch upload. The same correction again is a duplicate
(acknowledged, not stored twice); a different correction of a punch already corrected replaces it
only when its anchor's source is more trusted (server over NTP over a technician's time; the old one
is kept in ``superseded_corrections``), and is refused otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from core.identity import verify_signature
from core.store.punches import format_instant, parse_instant
from core.timekeeping import Anchor
from core.wire import CORRECTION_SOURCES, CorrectionsAck, WireCorrection, correction_from_wire
from sync.server.ledger import Ledger, PunchRejected
from sync.server.storage import Tx

log = logging.getLogger(__name__)

#: How far a corrected instant may differ from the one the server computes (rounding).
TOLERANCE_S = 0.001
#: How much later than its receipt a corrected punch may fall: a server Date header has whole
#: seconds and the anchor is taken a request later (a typed time an hour ahead is far beyond it).
RECEIPT_TOLERANCE_S = 5.0


class CorrectionRejected(PunchRejected):
    """A corrections request failed verification; nothing of it was stored."""


def expected_instant(correction: WireCorrection, punch_mono_ns: int) -> str:
    """The corrected instant that follows from the correction's anchor and the punch."""
    a = correction.anchor
    anchor = Anchor(0, str(a["boot_id"]), int(a["mono_ns"]), parse_instant(str(a["true_utc"])), str(a["source"]))
    return format_instant(anchor.true_time_of(punch_mono_ns))


class CorrectionLedger:
    """Corrections of every device, beside the punches of :class:`Ledger` (same storage)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.storage = ledger.storage

    def __repr__(self) -> str:
        return f"CorrectionLedger({self.storage!r})"

    def ingest(self, device_id: str, wire: Sequence[Any]) -> CorrectionsAck:
        """Verify and store the corrections of one device; all or nothing (CorrectionRejected)."""
        corrections = self._verified(device_id, wire)
        now = format_instant(self.ledger.clock.now())
        accepted, duplicates, acked = 0, 0, []
        with self.storage.tx() as tx:
            tx.one("SELECT id FROM devices WHERE id = ?" + tx.for_update, (device_id,))  # noqa: S608 - serialise per device
            for c in corrections:
                label = f"correction of punch {c.seq}"
                punch = tx.one(
                    "SELECT id, hash, instant, boot_id, mono_ns, received_at FROM punches WHERE device_id = ? AND seq = ?",
                    (device_id, c.seq),
                )
                if punch is None:
                    raise CorrectionRejected(f"{label} refers to a punch this server does not hold; upload the punches first")
                if (punch["id"], punch["hash"], punch["instant"]) != (
                    c.punch_id,
                    c.body["punch_hash"],
                    c.body["recorded_instant"],
                ):
                    raise CorrectionRejected(f"{label} does not match the stored punch (its id, hash or recorded instant differ)")
                if c.anchor["boot_id"] != punch["boot_id"]:
                    raise CorrectionRejected(f"{label} uses a time anchor of another boot than the punch's")
                expected = expected_instant(c, int(punch["mono_ns"]))
                drift = abs((parse_instant(expected) - parse_instant(c.body["corrected_instant"])).total_seconds())
                if drift > TOLERANCE_S:
                    raise CorrectionRejected(
                        f"{label} does not follow from its anchor (it says {c.body['corrected_instant']}, the anchor gives {expected})"
                    )
                if (
                    parse_instant(c.body["corrected_instant"]) - parse_instant(punch["received_at"])
                ).total_seconds() > RECEIPT_TOLERANCE_S:
                    # A punch cannot have happened after this server received it: the anchor is
                    # wrong (a technician's typed time ahead of the truth, an NTP flag on a wrong clock).
                    raise CorrectionRejected(
                        f"{label} puts the punch at {c.body['corrected_instant']}, after this server received it "
                        f"({punch['received_at']}): its time anchor ({c.anchor['source']}) is wrong"
                    )
                canonical = c.canonical().decode("ascii")
                held = tx.one("SELECT * FROM punch_corrections WHERE device_id = ? AND seq = ?", (device_id, c.seq))
                if held is not None and (held["body"] == canonical or _was_superseded(tx, device_id, c.seq, canonical)):
                    # the same again, or one this server already replaced by a better one (a unit
                    # restored from a backup, or one sending what it had before it learnt better)
                    duplicates += 1
                elif held is not None and not _more_trusted(c.anchor["source"], held["anchor_source"]):
                    raise CorrectionRejected(
                        f"{label} differs from the correction of punch {c.seq} already stored, and its time source "
                        f"({c.anchor['source']}) is not more trusted than that one's ({held['anchor_source']})"
                    )
                else:
                    if held is not None:  # a better source: the old correction is kept, replaced
                        _supersede(tx, held, now)
                    a = c.anchor
                    tx.execute(
                        "INSERT INTO punch_corrections (device_id, seq, punch_id, recorded_instant, corrected_instant, "
                        "anchor_boot_id, anchor_mono_ns, anchor_true_utc, anchor_source, body, signature, received_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            device_id,
                            c.seq,
                            c.punch_id,
                            c.body["recorded_instant"],
                            c.body["corrected_instant"],
                            a["boot_id"],
                            a["mono_ns"],
                            a["true_utc"],
                            a["source"],
                            canonical,
                            c.signature,
                            now,
                        ),
                    )
                    accepted += 1
                acked.append(c.punch_id)
        if accepted:
            log.info("device %s: %d corrections accepted, %d duplicate", device_id, accepted, duplicates)
        return CorrectionsAck(tuple(acked), accepted, duplicates)

    def _verified(self, device_id: str, wire: Sequence[Any]) -> list[WireCorrection]:
        """Parse each correction and check its device and signature, ordered by seq."""
        corrections: list[WireCorrection] = []
        for index, item in enumerate(wire):
            try:
                corrections.append(correction_from_wire(item))
            except ValueError as exc:
                raise CorrectionRejected(f"correction #{index + 1} in the request is malformed: {exc}") from exc
        corrections.sort(key=lambda c: c.seq)
        seqs = [c.seq for c in corrections]
        if len(set(seqs)) != len(seqs):
            raise CorrectionRejected("the request corrects the same punch twice")
        device = self.ledger.device(device_id)
        if device is None:
            raise CorrectionRejected(f"unknown device {device_id}")
        for c in corrections:
            if c.body["device_id"] != device_id:
                raise CorrectionRejected(f"correction of punch {c.seq} names device {c.body['device_id']}, not {device_id}")
            if not verify_signature(device.public_key, c.signature, c.canonical()):
                raise CorrectionRejected(
                    f"correction of punch {c.seq} has a signature that does not verify with the device key (altered?)"
                )
        return corrections

    # -- reading ------------------------------------------------------------------------------

    def count(self, device_id: str | None = None) -> int:
        with self.storage.tx(write=False) as tx:
            if device_id is None:
                row = tx.one("SELECT count(*) AS n FROM punch_corrections")
            else:
                row = tx.one("SELECT count(*) AS n FROM punch_corrections WHERE device_id = ?", (device_id,))
        return int(row["n"]) if row else 0

    def of_device(self, device_id: str) -> list[dict[str, Any]]:
        """Every stored correction of a device, by punch sequence number."""
        with self.storage.tx(write=False) as tx:
            return tx.all(
                "SELECT seq, punch_id, recorded_instant, corrected_instant, anchor_source, anchor_true_utc, received_at "
                "FROM punch_corrections WHERE device_id = ? ORDER BY seq",
                (device_id,),
            )


def _more_trusted(source: str, than: str) -> bool:
    order = {name: rank for rank, name in enumerate(CORRECTION_SOURCES)}
    return order.get(source, len(order)) < order.get(than, len(order))


def _supersede(tx: Tx, held: dict[str, Any], now: str) -> None:
    tx.execute(
        "INSERT INTO superseded_corrections (device_id, seq, corrected_instant, anchor_source, body, signature, "
        "received_at, superseded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            held["device_id"],
            held["seq"],
            held["corrected_instant"],
            held["anchor_source"],
            held["body"],
            held["signature"],
            held["received_at"],
            now,
        ),
    )
    tx.execute("DELETE FROM punch_corrections WHERE device_id = ? AND seq = ?", (held["device_id"], held["seq"]))
    log.info("device %s: correction of punch %s from %s superseded", held["device_id"], held["seq"], held["anchor_source"])


def _was_superseded(tx: Tx, device_id: str, seq: int, body: str) -> bool:
    return (
        tx.one("SELECT 1 AS x FROM superseded_corrections WHERE device_id = ? AND seq = ? AND body = ?", (device_id, seq, body))
        is not None
    )
