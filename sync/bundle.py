"""Flash-disk bundles: a signed zip of punches the server imports like an upload, and a CSV for people.

A bundle ``presensi-<device>-<first>-<last>.zip`` holds three members, and a fourth when the
unit has time corrections:

- ``punches.jsonl``: one punch per line, in its wire form (every stored column), by sequence;
- ``corrections.jsonl`` (when there are any): the signed time corrections (docs/time.md) of the
  punches up to the bundle's last, one per line in their wire form, so a unit that never reaches
  the network still delivers them; the server stores those of punches it holds;
- ``manifest.json``: format, device id and public key, sequence range, count, SHA-256 of
  ``punches.jsonl`` (and of ``corrections.jsonl`` with their count), the hash of the last punch,
  the device's signed chain head, time of export;
- ``manifest.sig``: hex Ed25519 signature by the device key over ``presensi-bundle-v1\\n`` + the
  manifest bytes.

The server trusts only the key it registered for the device: a bundle from an unknown device, or
with any byte changed, is refused as a whole; punches it already holds are counted as duplicates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.clock import Clock, local_time, zone_abbreviation
from core.errors import StorageError, SyncError
from core.i18n import text
from core.identity import DeviceIdentity, device_id_for, public_key_from_hex, verify_signature
from core.store import punch_log
from core.store.chain import verify_rows
from core.store.punches import Punch, format_instant
from core.store.roster import all_employees
from core.wire import correction_from_wire, punch_from_wire, punch_to_wire

log = logging.getLogger(__name__)

FORMAT = "presensi-bundle-v1"
MEMBERS = ("manifest.json", "manifest.sig", "punches.jsonl")
CORRECTIONS = "corrections.jsonl"
#: What a bundle's members may hold once expanded (about 400,000 punches).
#: A bundle file as uploaded or read (a year of one unit's punches is a few megabytes).
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
#: The signed manifest is a few hundred bytes; anything near this is not a manifest.
MAX_MANIFEST_BYTES = 64 * 1024
#: One punch in wire form is under 1.5 KB (scores, signature, hashes); a line over this is refused.
MAX_WIRE_PUNCH_BYTES = 4096
#: Punches in one bundle (a unit offline for months holds tens of thousands).
MAX_BUNDLE_PUNCHES = 500_000
CSV_HEADER = ["urut", "waktu_lokal", "zona", "nip", "nama", "metode", "jenis", "status", "menit", "jam", "id_presensi"]


class BundleRejected(SyncError):
    """A bundle failed verification; ``device_id`` is what its manifest claims (if readable)."""

    def __init__(self, reason: str, device_id: str = "unknown") -> None:
        super().__init__(f"bundle refused: {reason}")
        self.reason = reason
        self.device_id = device_id


def _manifest_message(manifest_bytes: bytes) -> bytes:
    return FORMAT.encode("ascii") + b"\n" + manifest_bytes


@dataclass(frozen=True)
class ExportResult:
    bundle: Path
    csv: Path
    first_seq: int
    last_seq: int
    count: int


def export_bundle(
    conn: sqlite3.Connection,
    identity: DeviceIdentity,
    clock: Clock,
    to_dir: Path,
    *,
    after_seq: int = 0,
    corrections: bool = True,
) -> ExportResult | None:
    """Write the bundle and the CSV of every punch after ``after_seq`` into ``to_dir``; None when
    there is nothing to export. Files appear whole (written aside, synced, then renamed).
    ``corrections=False`` leaves the time corrections out (``sync.bundle_corrections``: a server
    older than the corrections member accepts only the three members)."""
    punches = punch_log.punches_after(conn, after_seq)
    if not punches:
        return None
    head = punch_log.chain_head(conn)
    lines = b"".join(json.dumps(punch_to_wire(p), separators=(",", ":"), sort_keys=True).encode("ascii") + b"\n" for p in punches)
    correction_rows = punch_log.signed_corrections_through(conn, punches[-1].seq) if corrections else []
    correction_lines = b"".join(
        json.dumps({**json.loads(body), "signature": signature}, separators=(",", ":"), sort_keys=True).encode("ascii") + b"\n"
        for body, signature in correction_rows
    )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "device_id": identity.device_id,
        "public_key": identity.public_hex,
        "first_seq": punches[0].seq,
        "last_seq": punches[-1].seq,
        "count": len(punches),
        "punches_sha256": hashlib.sha256(lines).hexdigest(),
        "last_hash": punches[-1].hash,
        "head": {k: head[k] for k in ("device_id", "base_seq", "base_hash", "seq", "hash", "signature")},
        "created_at": format_instant(clock.now()),
    }
    if correction_lines:
        manifest["corrections_sha256"] = hashlib.sha256(correction_lines).hexdigest()
        manifest["corrections_count"] = len(correction_rows)
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode("ascii")
    signature = identity.sign(_manifest_message(manifest_bytes))
    stem = f"presensi-{identity.device_id}-{punches[0].seq:07d}-{punches[-1].seq:07d}"
    to_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sig", signature.encode("ascii"))
        zf.writestr("punches.jsonl", lines)
        if correction_lines:
            zf.writestr(CORRECTIONS, correction_lines)
    bundle_path = to_dir / f"{stem}.zip"
    csv_path = to_dir / f"{stem}.csv"
    _write_whole(bundle_path, buffer.getvalue())
    _write_whole(csv_path, _csv_bytes(conn, punches))
    log.info("exported punches %d–%d to %s", punches[0].seq, punches[-1].seq, bundle_path)
    return ExportResult(bundle_path, csv_path, punches[0].seq, punches[-1].seq, len(punches))


def _csv_bytes(conn: sqlite3.Connection, punches: list[Punch]) -> bytes:
    names = {e.id: e.name for e in all_employees(conn)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for p in punches:
        local = local_time(p.at, p.zone)
        writer.writerow(
            [
                p.seq,
                local.strftime("%Y-%m-%d %H:%M:%S"),
                zone_abbreviation(p.zone),
                p.employee_id,
                names.get(p.employee_id, ""),
                p.method,
                p.kind,
                p.status,
                p.minutes,
                "tersinkron" if p.clock_state == "synced" else p.clock_state,
                p.id,
            ]
        )
    # A byte-order mark lets spreadsheet programs on office PCs read the names correctly.
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _write_whole(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc.strerror}; check the flash disk is mounted and writable") from exc
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (vfat over FUSE) refuse fsync on a directory
    finally:
        os.close(fd)


@dataclass(frozen=True)
class OpenedBundle:
    device_id: str
    manifest: dict[str, Any]
    punches: list[dict[str, Any]]
    corrections: list[dict[str, Any]] = field(default_factory=list)  # wire form; each signed on its own


def read_bundle(data: bytes, key_for: Callable[[str], Ed25519PublicKey | None]) -> OpenedBundle:
    """Open and verify a bundle against the key registered for its device (``key_for``).

    Checks the members, the manifest signature, the digest of the punches and that range and
    count agree; the punches themselves are verified again when ingested."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRejected("bundle is larger than the server accepts")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = sorted(zf.namelist())
        if names not in (sorted(MEMBERS), sorted((*MEMBERS, CORRECTIONS))):
            raise BundleRejected(f"bundle must hold exactly {', '.join(MEMBERS)} (and {CORRECTIONS} when there are any)")
        # The small signed part first: nothing else is expanded before its signature verifies, so a
        # bundle from no registered unit costs at most these few kilobytes (a zip bomb costs nothing).
        manifest_bytes = _bounded(zf, "manifest.json", MAX_MANIFEST_BYTES)
        signature = _bounded(zf, "manifest.sig", 1024).decode("ascii").strip()
    except BundleRejected:
        raise
    except Exception as exc:  # zipfile, zlib, unicode errors of a damaged or hostile archive
        raise BundleRejected(f"not a readable bundle: {exc}") from exc
    try:
        manifest = json.loads(manifest_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRejected(f"manifest is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleRejected(f"manifest is not a {FORMAT} manifest")
    device_id = str(manifest.get("device_id", "unknown"))[:64]
    key = key_for(device_id)
    if key is None:
        raise BundleRejected(f"unknown device key {device_id} (provision the unit first)", device_id)
    if not verify_signature(key, signature, _manifest_message(manifest_bytes)):
        raise BundleRejected("manifest signature does not verify with the registered device key", device_id)
    count = manifest.get("count")
    if not isinstance(count, int) or not 0 < count <= MAX_BUNDLE_PUNCHES:
        raise BundleRejected(f"the manifest's count must be 1–{MAX_BUNDLE_PUNCHES}", device_id)
    try:  # signed by a registered unit: now the rest, each member bounded by what the manifest states
        lines = _bounded(zf, "punches.jsonl", count * MAX_WIRE_PUNCH_BYTES)
        correction_lines = _bounded(zf, CORRECTIONS, count * MAX_WIRE_PUNCH_BYTES) if CORRECTIONS in names else None
    except BundleRejected as exc:
        raise BundleRejected(exc.reason, device_id) from exc
    except Exception as exc:
        raise BundleRejected(f"not a readable bundle: {exc}", device_id) from exc
    if hashlib.sha256(lines).hexdigest() != manifest.get("punches_sha256"):
        raise BundleRejected("punches.jsonl does not match the digest in the signed manifest", device_id)
    try:
        punches = [json.loads(line) for line in lines.splitlines() if line.strip()]
        parsed = [punch_from_wire(p) for p in punches]
    except (ValueError, json.JSONDecodeError) as exc:
        raise BundleRejected(f"a punch in the bundle is malformed: {exc}", device_id) from exc
    seqs = [p.seq for p in parsed]
    if (
        len(parsed) != manifest.get("count")
        or not parsed
        or seqs[0] != manifest.get("first_seq")
        or seqs[-1] != manifest.get("last_seq")
        or seqs != list(range(seqs[0], seqs[-1] + 1))
    ):
        raise BundleRejected("the punches do not match the range and count in the manifest", device_id)
    return OpenedBundle(device_id, manifest, punches, _corrections(correction_lines, manifest, device_id))


def _bounded(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, read as a stream and refused past ``limit`` (whatever its header says)."""
    if zf.getinfo(name).file_size > limit:
        raise BundleRejected(f"{name} expands to more than {limit} bytes")
    out = bytearray()
    with zf.open(name) as member:
        while chunk := member.read(65536):
            out += chunk
            if len(out) > limit:
                raise BundleRejected(f"{name} expands to more than {limit} bytes")
    return bytes(out)


def _corrections(lines: bytes | None, manifest: dict[str, Any], device_id: str) -> list[dict[str, Any]]:
    """The corrections member, bound to the signed manifest by digest and count; each correction
    is checked again (its own signature, the punch it corrects) when the server stores it."""
    if lines is None:
        if "corrections_sha256" in manifest:
            raise BundleRejected(f"{CORRECTIONS} named in the signed manifest is missing", device_id)
        return []
    if hashlib.sha256(lines).hexdigest() != manifest.get("corrections_sha256"):
        raise BundleRejected(f"{CORRECTIONS} does not match the digest in the signed manifest", device_id)
    try:
        corrections = [json.loads(line) for line in lines.splitlines() if line.strip()]
        for item in corrections:
            correction_from_wire(item)
    except (ValueError, json.JSONDecodeError) as exc:
        raise BundleRejected(f"a correction in the bundle is malformed: {exc}", device_id) from exc
    if len(corrections) != manifest.get("corrections_count"):
        raise BundleRejected("the corrections do not match the count in the manifest", device_id)
    return corrections


@dataclass(frozen=True)
class BundleCheck:
    ok: bool
    message: str  # Bahasa Indonesia, for the page
    reason: str = ""  # the verifier's own words (English), for the technician and the audit log
    device_id: str = ""
    count: int = 0
    first_seq: int = 0
    last_seq: int = 0


#: The verifier's reasons (sync.bundle, core.store.chain) in plain words, most specific first: the
#: catalogue's ``bundle.*`` texts (core.i18n), in Bahasa Indonesia here; the pages say them in
#: the reader's language.
_REJECTIONS = (
    ("bundle must hold exactly", text("bundle.incomplete", "id")),
    ("not a readable bundle", text("bundle.unreadable", "id")),
    ("manifest is not", text("bundle.manifest", "id")),
    ("unknown device key", text("bundle.other_unit", "id")),
    ("manifest signature does not verify", text("bundle.manifest_signature", "id")),
    ("punches.jsonl does not match", text("bundle.punches_changed", "id")),
    ("corrections.jsonl", text("bundle.corrections_changed", "id")),
    ("a correction in the bundle", text("bundle.correction_broken", "id")),
    ("the corrections do not match", text("bundle.corrections_count", "id")),
    ("a punch in the bundle is malformed", text("bundle.punch_broken", "id")),
    ("the punches do not match the range", text("bundle.range", "id")),
    ("bundle is larger", text("bundle.too_large", "id")),
)


def check_bundle(data: bytes, public_key_hex: str) -> BundleCheck:
    """The whole check the server makes: members, the manifest's signature by the device key,
    the digest, range and count, then every punch's hash, link and signature."""
    # late: the name is taken at module level
    from core.wire import punch_from_wire

    key = public_key_from_hex(public_key_hex)
    own_id = device_id_for(bytes.fromhex(public_key_hex))
    try:
        opened = read_bundle(data, lambda device_id: key if device_id == own_id else None)
    except BundleRejected as exc:
        said = next((phrase for words, phrase in _REJECTIONS if words in exc.reason), text("bundle.invalid", "id"))
        return BundleCheck(False, f"Bundel DITOLAK: {said}.", exc.reason, exc.device_id)
    punches = [punch_from_wire(p).as_dict() for p in opened.punches]
    report = verify_rows(
        punches, key, device_id=opened.device_id, base_seq=punches[0]["seq"] - 1, base_hash=punches[0]["prev_hash"], workers=1
    )
    manifest = opened.manifest
    if not report.ok or manifest.get("last_hash") != punches[-1]["hash"]:
        reason = report.reason or "the last punch differs from the manifest's last_hash"
        return BundleCheck(False, f"Bundel DITOLAK: presensi nomor {report.first_bad_seq} tidak sah.", reason, opened.device_id)
    # Each correction is signed on its own. The server stores the punches all the same, refuses
    # the bundle's corrections as a set when one fails and says so on the device page: a warning.
    unsigned = [
        correction.seq
        for correction in map(correction_from_wire, opened.corrections)
        if correction.body["device_id"] != opened.device_id
        or not verify_signature(key, correction.signature, correction.canonical())
    ]
    warning = (
        f" PERINGATAN: koreksi waktu presensi nomor {', '.join(map(str, unsigned))} tidak sah; koreksi waktu "
        "bundel ini tidak akan disimpan server."
        if unsigned
        else ""
    )
    return BundleCheck(
        True,
        f"Bundel sah: {len(punches)} presensi (nomor {punches[0]['seq']}–{punches[-1]['seq']}) ditandatangani alat "
        f"{opened.device_id}.{warning}",
        f"corrections of punches {unsigned} are not signed by this device" if unsigned else "",
        opened.device_id,
        len(punches),
        punches[0]["seq"],
        punches[-1]["seq"],
    )
