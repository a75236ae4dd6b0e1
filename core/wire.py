"""Protocol v1 between a unit and the central server: paths, wire forms, errors.

The wire is JSON over HTTPS. A punch travels as the exact stored row (``core.store.punches.Punch``)
so that the server can rebuild the canonical bytes (``core.store.chain.canonical_bytes``) and
verify the device's signature and the chain. Upload bodies are gzip-compressed
(``Content-Encoding: gzip``). Every request of a provisioned unit carries an HTTP message
signature (see :mod:`core.signing`). docs/sync-protocol.md is the reference.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from core.errors import SyncError
from core.store.punches import PUNCH_COLUMNS, Punch

VERSION = 1

PROVISION_PATH = "/v1/provision"
PUNCHES_PATH = "/v1/punches"
BUNDLES_PATH = "/v1/bundles"
ROSTER_PATH = "/v1/roster"
#: The roster request's ``embedder``: the id of the unit's face embedder, its model file's SHA-256.
EMBEDDER_ID = re.compile(r"[0-9a-f]{64}")
HEALTH_PATH = "/v1/health"
CORRECTIONS_PATH = "/v1/corrections"

#: The largest decompressed body either side accepts (a batch of 10,000 punches is ~8 MB).
MAX_BODY_BYTES = 32 * 1024 * 1024

#: Header carrying the server's Ed25519 signature over a roster document's body.
ROSTER_SIGNATURE_HEADER = "X-Presensi-Roster-Signature"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

#: Fields of a correction as signed (``core.timekeeping.correction_body``), and of its anchor.
CORRECTION_FIELDS = (
    "v",
    "type",
    "device_id",
    "punch_id",
    "seq",
    "punch_hash",
    "recorded_instant",
    "corrected_instant",
    "anchor",
)
ANCHOR_FIELDS = ("boot_id", "mono_ns", "true_utc", "source")
#: Sources of a correction's anchor, most trusted first (core.timekeeping.ANCHOR_SOURCES): a
#: correction from a better source supersedes one from a worse.
CORRECTION_SOURCES = ("server", "ntp", "technician")


class SyncUnavailable(SyncError):
    """The server could not be reached or asked us to come back later; retry with backoff."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SyncRejected(SyncError):
    """The server refused the request for a reason that retrying will not change."""

    def __init__(self, message: str, *, reason: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.status = status


def punch_to_wire(punch: Punch) -> dict[str, Any]:
    """A punch as it travels: every stored column, unchanged."""
    return punch.as_dict()


def punch_from_wire(data: Mapping[str, Any]) -> Punch:
    """A punch from its wire form; raises ValueError naming what is malformed."""
    if not isinstance(data, Mapping):
        raise ValueError("a punch must be a JSON object")
    missing = [name for name in PUNCH_COLUMNS if name not in data]
    if missing:
        raise ValueError(f"punch lacks {', '.join(missing)}")
    extra = sorted(set(data) - set(PUNCH_COLUMNS))
    if extra:
        raise ValueError(f"punch has unknown fields {', '.join(extra)}")
    for name in ("seq", "minutes", "mono_ns"):
        if not isinstance(data[name], int) or isinstance(data[name], bool):
            raise ValueError(f"punch field {name} must be an integer")
    if data["seq"] < 1:
        raise ValueError("punch seq must be ≥ 1")
    for name in ("id", "device_id", "employee_id", "instant", "zone", "method", "kind", "status", "liveness_scores"):
        if not isinstance(data[name], str):
            raise ValueError(f"punch field {name} must be a string")
    for name in ("event_id", "liveness_verdict", "match_distance"):
        if data[name] is not None and not isinstance(data[name], str):
            raise ValueError(f"punch field {name} must be a string or null")
    for name in ("prev_hash", "hash"):
        if not isinstance(data[name], str) or not _HEX64.match(data[name]):
            raise ValueError(f"punch field {name} must be 64 lower-case hex characters")
    if not isinstance(data["signature"], str) or not re.fullmatch(r"[0-9a-f]{128}", data["signature"]):
        raise ValueError("punch signature must be 128 lower-case hex characters")
    return Punch.from_row(data)


@dataclass(frozen=True)
class WireCorrection:
    """A correction from its wire form: the signed statement (``body``) and the signature."""

    body: dict[str, Any]
    signature: str

    @property
    def seq(self) -> int:
        return int(self.body["seq"])

    @property
    def punch_id(self) -> str:
        return str(self.body["punch_id"])

    @property
    def anchor(self) -> dict[str, Any]:
        return dict(self.body["anchor"])

    def canonical(self) -> bytes:
        """The bytes the device signed: JSON, keys sorted, no whitespace, ASCII."""
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def correction_from_wire(data: Any) -> WireCorrection:
    """A correction from its wire form (the signed fields plus ``signature``); raises
    ValueError naming what is malformed."""
    if not isinstance(data, Mapping):
        raise ValueError("a correction must be a JSON object")
    body = {k: v for k, v in data.items() if k != "signature"}
    missing = [name for name in CORRECTION_FIELDS if name not in body]
    if missing:
        raise ValueError(f"correction lacks {', '.join(missing)}")
    extra = sorted(set(body) - set(CORRECTION_FIELDS))
    if extra:
        raise ValueError(f"correction has unknown fields {', '.join(extra)}")
    if body["v"] != 1 or body["type"] != "correction":
        raise ValueError('correction must have "v": 1 and "type": "correction"')
    if not _is_int(body["seq"]) or body["seq"] < 1:
        raise ValueError("correction seq must be an integer ≥ 1")
    for name in ("device_id", "punch_id"):
        if not isinstance(body[name], str) or not body[name]:
            raise ValueError(f"correction field {name} must be a non-empty string")
    if not isinstance(body["punch_hash"], str) or not _HEX64.match(body["punch_hash"]):
        raise ValueError("correction field punch_hash must be 64 lower-case hex characters")
    for name in ("recorded_instant", "corrected_instant"):
        if not isinstance(body[name], str) or not _INSTANT.match(body[name]):
            raise ValueError(f"correction field {name} must be RFC 3339 UTC with milliseconds")
    anchor = body["anchor"]
    if not isinstance(anchor, Mapping) or sorted(anchor) != sorted(ANCHOR_FIELDS):
        raise ValueError(f"correction anchor must be an object with exactly {', '.join(ANCHOR_FIELDS)}")
    if not isinstance(anchor["boot_id"], str) or not anchor["boot_id"]:
        raise ValueError("correction anchor boot_id must be a non-empty string")
    if not _is_int(anchor["mono_ns"]) or anchor["mono_ns"] < 0:
        raise ValueError("correction anchor mono_ns must be an integer ≥ 0")
    if not isinstance(anchor["true_utc"], str) or not _INSTANT.match(anchor["true_utc"]):
        raise ValueError("correction anchor true_utc must be RFC 3339 UTC with milliseconds")
    if anchor["source"] not in CORRECTION_SOURCES:
        raise ValueError(f"correction anchor source must be one of {', '.join(CORRECTION_SOURCES)}")
    signature = data.get("signature")
    if not isinstance(signature, str) or not re.fullmatch(r"[0-9a-f]{128}", signature):
        raise ValueError("correction signature must be 128 lower-case hex characters")
    return WireCorrection(body, signature)


@dataclass(frozen=True)
class CorrectionsAck:
    """The server's answer to a corrections upload: the punch ids whose correction it now holds
    (new or already held); only these may be marked delivered."""

    acked: tuple[str, ...]
    accepted: int = 0
    duplicates: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CorrectionsAck:
        acked = data["acked"]
        if not isinstance(acked, list) or not all(isinstance(a, str) for a in acked):
            raise ValueError("acked must be a list of punch ids")
        return cls(tuple(acked), int(data.get("accepted", 0)), int(data.get("duplicates", 0)))

    def to_json(self) -> dict[str, Any]:
        return {"acked": list(self.acked), "accepted": self.accepted, "duplicates": self.duplicates}


def encode_body(document: Mapping[str, Any], *, compress: bool = True) -> tuple[bytes, dict[str, str]]:
    """JSON bytes (gzip-compressed when asked) and the headers that describe them."""
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    headers = {"Content-Type": "application/json"}
    if compress:
        raw = gzip.compress(raw, compresslevel=5, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return raw, headers


def decode_body(body: bytes, content_encoding: str | None) -> Any:
    """The JSON document of a request body; raises ValueError when it is not one."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
                body = stream.read(MAX_BODY_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"body is not valid gzip: {exc}") from exc
        if len(body) > MAX_BODY_BYTES:
            raise ValueError("decompressed body is too large")
    elif encoding != "identity":
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_http_date(value: str | None) -> datetime | None:
    """The instant in a Date header, or None when absent or malformed."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Ack:
    """The server's answer to an upload: everything up to ``acked_seq`` is stored, verified."""

    acked_seq: int
    accepted: int = 0
    duplicates: int = 0
    held: int = 0
    gap: tuple[int, int] | None = None  # first and last missing seq, when punches are held
    #: Punches of this request that contradict the chain the server holds for the device (the same
    #: key on two units: a copied data directory). The server kept them apart and counts them as
    #: stored; ``acked_seq`` covers them. An operator decides which unit is genuine.
    forked: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ack:
        gap = data.get("gap")
        return cls(
            acked_seq=int(data["acked_seq"]),
            accepted=int(data.get("accepted", 0)),
            duplicates=int(data.get("duplicates", 0)),
            held=int(data.get("held", 0)),
            gap=(int(gap[0]), int(gap[1])) if gap else None,
            forked=int(data.get("forked", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "acked_seq": self.acked_seq,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "held": self.held,
            "gap": list(self.gap) if self.gap else None,
            "forked": self.forked,
        }
