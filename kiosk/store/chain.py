"""Canonical bytes, hash and signature of a punch, and verification of a chain.

The canonical encoding (docs/punch-chain.md) is what the central server verifies:

    JSON of the punch's fields, keys sorted, no whitespace, ASCII only (non-ASCII as \\uXXXX),
    integers as JSON integers, measurements as decimal strings with four places, absent values
    as null, prefixed by nothing.

``hash`` is the lower-case hex SHA-256 of those bytes; ``signature`` the hex Ed25519 signature of
the same bytes by the device key. ``prev_hash`` is inside the bytes, which makes a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.identity import verify_signature

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64

#: The fields covered by the hash and signature, in the order documented.
CANONICAL_FIELDS = (
    "v",
    "id",
    "device_id",
    "seq",
    "employee_id",
    "instant",
    "zone",
    "method",
    "kind",
    "status",
    "minutes",
    "event_id",
    "liveness_verdict",
    "liveness_scores",
    "match_distance",
    "clock_state",
    "boot_id",
    "mono_ns",
    "prev_hash",
)


def decimal(value: float | None) -> str | None:
    """A measurement as the canonical decimal string (four places), or None."""
    if value is None:
        return None
    return f"{float(value):.4f}"


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed and signed. ``fields`` holds the stored values of a punch
    (``liveness_scores`` as its stored JSON text or as a mapping)."""
    body: dict[str, Any] = {"v": FORMAT_VERSION}
    for name in CANONICAL_FIELDS[1:]:
        body[name] = fields[name]
    scores = body["liveness_scores"]
    if isinstance(scores, str):
        scores = json.loads(scores)
    body["liveness_scores"] = dict(scores)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def scores_json(scores: Mapping[str, float | str]) -> str:
    """Liveness scores as stored: canonical JSON of name → decimal string."""
    return json.dumps(
        {str(k): (v if isinstance(v, str) else decimal(v)) for k, v in scores.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def digest(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def head_bytes(device_id: str, base_seq: int, base_hash: str, seq: int, hash_: str) -> bytes:
    """What the chain head's signature covers: the last seq and hash, and the pruned base."""
    return f"presensi-head-v1\n{device_id}\n{base_seq}\n{base_hash}\n{seq}\n{hash_}".encode("ascii")


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of verifying a chain; ``first_bad_seq`` is None when everything verified."""

    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    last_seq: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_rows(
    rows: Iterable[Mapping[str, Any]],
    public_key: Ed25519PublicKey,
    *,
    device_id: str,
    base_seq: int = 0,
    base_hash: str = GENESIS_HASH,
    head: Mapping[str, Any] | None = None,
) -> VerifyReport:
    """Check ``rows`` (ordered by seq) against the key, each other, and the signed head.

    Names the first sequence number at which anything is wrong: a missing punch, a punch whose
    bytes changed, a forged or reordered punch, or a head that disagrees with the last punch.
    """
    expected_seq, prev_hash, checked = base_seq + 1, base_hash, 0
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            if seq > expected_seq:
                return VerifyReport(checked, expected_seq, f"punch {expected_seq} is missing (next present is {seq})")
            return VerifyReport(checked, seq, f"punch {seq} is out of order (expected {expected_seq})")
        if row["device_id"] != device_id:
            return VerifyReport(checked, seq, f"punch {seq} names device {row['device_id']}, not {device_id}")
        if row["prev_hash"] != prev_hash:
            return VerifyReport(checked, seq, f"punch {seq} does not link to punch {seq - 1} (prev_hash differs)")
        canonical = canonical_bytes(row)
        if digest(canonical) != row["hash"]:
            return VerifyReport(checked, seq, f"punch {seq} was altered (its hash does not match its fields)")
        if not verify_signature(public_key, row["signature"], canonical):
            return VerifyReport(checked, seq, f"punch {seq} has a signature that does not verify")
        checked += 1
        prev_hash, expected_seq = row["hash"], seq + 1
    last_seq = expected_seq - 1
    if head is not None:
        message = head_bytes(device_id, head["base_seq"], head["base_hash"], head["seq"], head["hash"])
        if head["device_id"] != device_id or not verify_signature(public_key, head["signature"], message):
            return VerifyReport(checked, last_seq + 1, "the chain head's signature does not verify", last_seq)
        if head["base_seq"] != base_seq or head["base_hash"] != base_hash:
            return VerifyReport(checked, base_seq + 1, "the chain's pruned base differs from the signed head", last_seq)
        if head["seq"] > last_seq:
            return VerifyReport(
                checked, last_seq + 1, f"punch {last_seq + 1} is missing (the head records {head['seq']})", last_seq
            )
        if head["seq"] < last_seq:
            return VerifyReport(checked, head["seq"] + 1, f"punch {head['seq'] + 1} is beyond the signed head", last_seq)
        if head["hash"] != prev_hash:
            return VerifyReport(checked, last_seq, f"punch {last_seq} differs from the signed head", last_seq)
    return VerifyReport(checked, None, "", last_seq)
