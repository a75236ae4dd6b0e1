"""Canonical bytes, hash and signature of a punch, and verification of a chain.

The canonical encoding (docs/punch-chain.md) is what the central server verifies:

    JSON of the punch's fields, keys sorted, no whitespace, ASCII only (non-ASCII as \\uXXXX),
    integers as JSON integers, measurements as decimal strings with four places, absent values
    as null, prefixed by nothing.

``hash`` is the lower-case hex SHA-256 of those bytes; ``signature`` the hex Ed25519 signature of
the same bytes by the device key. ``prev_hash`` is inside the bytes, which makes a chain.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.identity import verify_signature

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
    workers: int | None = None,
) -> VerifyReport:
    """Check ``rows`` (ordered by seq) against the key, each other, and the signed head.

    Names the first sequence number at which anything is wrong: a missing punch, a punch whose
    bytes changed, a forged or reordered punch, or a head that disagrees with the last punch.
    Links and hashes are checked in order; signatures, the costly part, are checked in chunks
    on ``workers`` processes (default: every core) when there are many.
    """
    expected_seq, prev_hash = base_seq + 1, base_hash
    signed: list[tuple[int, str, bytes]] = []
    failure: VerifyReport | None = None
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            if seq > expected_seq:
                failure = VerifyReport(0, expected_seq, f"punch {expected_seq} is missing (next present is {seq})")
            else:
                failure = VerifyReport(0, seq, f"punch {seq} is out of order (expected {expected_seq})")
            break
        if row["device_id"] != device_id:
            failure = VerifyReport(0, seq, f"punch {seq} names device {row['device_id']}, not {device_id}")
            break
        if row["prev_hash"] != prev_hash:
            failure = VerifyReport(0, seq, f"punch {seq} does not link to punch {seq - 1} (prev_hash differs)")
            break
        try:
            canonical = canonical_bytes(row)
        except (ValueError, TypeError, AttributeError):
            failure = VerifyReport(0, seq, f"punch {seq} is malformed (a field cannot be read); it was altered")
            break
        if digest(canonical) != row["hash"]:
            failure = VerifyReport(0, seq, f"punch {seq} was altered (its hash does not match its fields)")
            break
        signed.append((seq, row["signature"], canonical))
        prev_hash, expected_seq = row["hash"], seq + 1
    bad_signature = first_bad_signature(public_key, signed, workers)
    if bad_signature is not None:
        return VerifyReport(
            bad_signature - base_seq - 1, bad_signature, f"punch {bad_signature} has a signature that does not verify"
        )
    checked = len(signed)
    if failure is not None:
        return VerifyReport(checked, failure.first_bad_seq, failure.reason)
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


_PARALLEL_FROM = 4000
_CHUNK = 2000


def first_bad_signature(
    public_key: Ed25519PublicKey, signed: list[tuple[int, str, bytes]], workers: int | None = None
) -> int | None:
    """The lowest seq among ``(seq, signature_hex, message)`` whose signature fails, or None."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(signed) < _PARALLEL_FROM:
        return _first_bad_in_chunk(public_key.public_bytes_raw(), signed)
    chunks = [signed[i : i + _CHUNK] for i in range(0, len(signed), _CHUNK)]
    raw = public_key.public_bytes_raw()
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = pool.map(_first_bad_in_chunk, [raw] * len(chunks), chunks)
        bad = [seq for seq in results if seq is not None]
    return min(bad) if bad else None


def _first_bad_in_chunk(public_raw: bytes, chunk: list[tuple[int, str, bytes]]) -> int | None:
    key = Ed25519PublicKey.from_public_bytes(public_raw)
    for seq, signature, message in chunk:
        if not verify_signature(key, signature, message):
            return seq
    return None
