"""Per-event attendance on the reference server: who came to an apel or senam, from the punches
every unit uploaded (or brought on a flash disk) and the roster of the event's pack.

The rules are the unit's own (:func:`core.schedule.report.build_report`): a participant counts
once however many units they punched at (the earliest punch counts, ties by punch id), each is
hadir or tidak hadir under the unit that serves them, and a punch the unit classified
``terlambat`` shows as "Terlambat N menit". Punches of people who are not in the pack are
ignored (and counted, so an administrator sees them). The server adds what only it can see:
how many punches arrived, from which devices, and how many were duplicates.

:class:`EventAttendance` reads; :mod:`sync.server.event_pages` puts it on the server's web UI
(``/events``, ``/events/{id}``) and its admin API (``/admin/events…``, JSON, CSV and PDF).
:func:`roster_entry` is what publishing a pack stores: the pack signed with the server's key, so
a unit receives it with the roster in the form ``presensi event load`` verifies.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.clock import Clock
from core.schedule.events import FORMAT, EventPack, EventPackError, format_utc, parse_pack, sign_pack, verify_pack
from core.schedule.report import AttendanceReport, build_report
from sync.server.ledger import Ledger
from sync.server.storage import Storage

log = logging.getLogger(__name__)

LOCAL_SIGNER_PREFIX = "device:"
PUNCH_FIELDS = "id, device_id, seq, employee_id, instant, method, kind, status, minutes, event_id"


class UnknownEvent(EventPackError, LookupError):
    """No event with that id is stored on the server."""


@dataclass(frozen=True)
class ServerEventReport:
    """The attendance report plus what the server saw of the event's punches (over all units,
    whatever ``report.unit`` filters)."""

    report: AttendanceReport
    received: int  # punches tagged with the event
    devices: dict[str, int]  # device id → punches tagged with the event
    duplicates: int  # punches of participants beyond the one that counts
    not_participants: int  # punches of people the pack does not list (ignored)

    @property
    def late(self) -> int:
        return sum(1 for r in self.report.rows if r.note)

    def summary_lines(self) -> list[str]:
        """The report in a few lines of Bahasa Indonesia (the command prints these)."""
        r = self.report
        lines = [f"Daftar hadir {r.title()}"]
        lines += [f"  {s.label}: hadir {s.present}, tidak hadir {s.absent}, dari {s.expected}" for s in r.summaries]
        lines.append(f"  Jumlah: hadir {r.present} (terlambat {self.late}), tidak hadir {r.absent}, dari {r.expected}")
        lines.append(
            f"  Presensi diterima server: {self.received} dari {len(self.devices)} perangkat; "
            f"{self.duplicates} ganda tidak dihitung; {self.not_participants} dari bukan peserta diabaikan"
        )
        return lines

    def as_json(self) -> dict[str, Any]:
        r = self.report
        pack = r.pack
        return {
            "event": {
                "id": pack.id,
                "kind": pack.kind,
                "title": pack.title,
                "location": pack.location.name,
                "zone": pack.zone,
                "starts_at": pack.starts_at,
                "ends_at": pack.ends_at,
                "on_time_until": pack.on_time_until,
                "origin": pack.origin,
                "version": pack.version,
            },
            "unit": r.unit,
            "generated_at": r.generated_at,
            "expected": r.expected,
            "present": r.present,
            "absent": r.absent,
            "late": self.late,
            "units": [
                {"code": s.unit, "label": s.label, "expected": s.expected, "present": s.present, "absent": s.absent}
                for s in r.summaries
            ],
            "punches": {
                "received": self.received,
                "duplicates": self.duplicates,
                "not_participants": self.not_participants,
                "devices": dict(sorted(self.devices.items())),
            },
            "rows": [
                {
                    "unit": row.unit,
                    "office": row.office,
                    "employee_id": row.employee_id,
                    "name": row.name,
                    "present": row.present,
                    "status": row.status_text,
                    "late": bool(row.note),
                    "time": row.time,
                    "note": row.note,
                    "method": row.method,
                    "device_id": row.device_id,
                }
                for row in r.rows
            ],
        }


def stored_pack(text: str, event_id: str) -> EventPack:
    """The pack of a stored event: the bare pack ``presensi server publish-event`` stores, or a
    signed envelope (its ``pack`` member)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventPackError(f"event {event_id}: the stored pack is not JSON ({exc}); publish it again") from exc
    if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("pack"), dict):
        data = data["pack"]
    if not isinstance(data, dict):
        raise EventPackError(f"event {event_id}: the stored pack is not a JSON object; publish it again")
    try:
        return parse_pack(data, f"event {event_id} on the server")
    except EventPackError as exc:
        raise EventPackError(f"{exc}; publish a corrected pack (presensi server publish-event FILE)") from exc


def roster_entry(raw: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """What ``presensi server publish-event`` stores and the roster document carries for a pack:
    the envelope signed with the server's key (the key units pin at provisioning, so a unit can
    check it like a pack loaded from a file), plus the fields units index events by (``id``,
    ``kind``, ``title``, ``location`` as its name, ``starts_at``, ``ends_at``).

    ``raw`` is a bare pack or an envelope (its signature is not trusted; the server signs again).
    A pack that is not a complete event pack comes back as it was, with a warning: units can list
    it but not run it, and the server cannot report on it."""
    data = raw.get("pack") if raw.get("format") == FORMAT and isinstance(raw.get("pack"), Mapping) else raw
    assert isinstance(data, Mapping)
    try:
        pack = parse_pack(data, f"event {data.get('id')!r}")
    except EventPackError as exc:
        log.warning("publishing an incomplete event pack as it is (units cannot run it): %s", exc)
        return dict(data)
    if pack.origin != "server":
        raise EventPackError(
            f"event {pack.id} is a local pack (made on a unit); the server publishes only its own packs "
            "(give the unit's signed pack file as it is, and the server keeps it for reports)"
        )
    envelope = sign_pack(pack, key, signer="server")
    summary = {"id": pack.id, "kind": pack.kind, "title": pack.title, "location": pack.location.name}
    return {**summary, "starts_at": pack.starts_at, "ends_at": pack.ends_at, **envelope}


def local_signer(envelope: Mapping[str, Any]) -> str | None:
    """The device id that signed a local pack's envelope (``signer`` = ``device:PK-…``), or None
    when ``envelope`` is not the envelope of a local pack."""
    pack, signature = envelope.get("pack"), envelope.get("signature")
    if envelope.get("format") != FORMAT or not isinstance(pack, Mapping) or not isinstance(signature, Mapping):
        return None
    signer = signature.get("signer")
    if pack.get("origin") != "local" or not isinstance(signer, str) or not signer.startswith(LOCAL_SIGNER_PREFIX):
        return None
    return signer.removeprefix(LOCAL_SIGNER_PREFIX)


def keep_local_pack(storage: Storage, ledger: Ledger, envelope: Mapping[str, Any], received_at: str) -> EventPack:
    """Keep a local pack (made on a unit with no network, brought back on the flash disk) so the
    server can report on that event. It is verified against the key the server registered for
    the device that signed it, and it is never sent to other units. Storing it again is harmless."""
    device_id = local_signer(envelope)
    if device_id is None:
        raise EventPackError("not the envelope of a local pack (origin local, signed by a device)")
    device = ledger.device(device_id)
    if device is None:
        raise EventPackError(
            f"the local pack was signed by {device_id}, which this server does not know; "
            "provision that unit (or import its bundle) first, then add the pack again"
        )
    pack = verify_pack(envelope, None, device_public_key_hex=device.public_hex)
    with storage.tx() as tx:
        if tx.one("SELECT id FROM events WHERE id = ? AND deleted = 0", (pack.id,)) is not None:
            raise EventPackError(f"event {pack.id} is already published by this server; a local pack cannot replace it")
        held = tx.one("SELECT device_id FROM local_events WHERE id = ?" + tx.for_update, (pack.id,))  # noqa: S608
        if held is not None and held["device_id"] != device_id:
            raise EventPackError(
                f"event {pack.id} already holds the local pack of {held['device_id']}; the pack of {device_id} "
                "has the same id: make one server pack for both units instead"
            )
        tx.execute(
            "INSERT INTO local_events (id, device_id, starts_at, pack, received_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET starts_at = excluded.starts_at, pack = excluded.pack, received_at = excluded.received_at",
            (pack.id, device_id, pack.starts_at, json.dumps(dict(envelope), sort_keys=True), received_at),
        )
    log.info("kept the local pack of event %s from %s for reports", pack.id, device_id)
    return pack


class EventAttendance:
    """Read-only views of the events stored on the server and their attendance."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    def __repr__(self) -> str:
        return f"EventAttendance({self.storage!r})"

    def events(self, limit: int = 200) -> list[dict[str, Any]]:
        """Stored events (published, and local packs kept for reports), latest start first, with
        participants, present and punches received. Read-only."""
        with self.storage.tx(write=False) as tx:
            rows = [
                {**r, "origin": "server"}
                for r in tx.all(
                    "SELECT id, kind, title, starts_at, ends_at, pack FROM events WHERE deleted = 0 ORDER BY starts_at DESC LIMIT ?",
                    (limit,),
                )
            ]
            published = {r["id"] for r in rows}
            for r in tx.all("SELECT id, starts_at, pack FROM local_events ORDER BY starts_at DESC LIMIT ?", (limit,)):
                if r["id"] not in published:
                    rows.append({**r, "origin": "local", "kind": "", "title": "", "ends_at": ""})
            rows = sorted(rows, key=lambda r: (r["starts_at"], r["id"]), reverse=True)[:limit]
            punched = {
                r["id"]: [p["employee_id"] for p in tx.all("SELECT employee_id FROM punches WHERE event_id = ?", (r["id"],))]
                for r in rows
            }
        listed = []
        for r in rows:
            entry: dict[str, Any] = {k: r[k] for k in ("id", "kind", "title", "starts_at", "ends_at", "origin")}
            ids = punched[r["id"]]
            entry["received"] = len(ids)
            try:
                pack = stored_pack(r["pack"], r["id"])
            except EventPackError as exc:
                entry.update(location="", participants=None, present=None, problem=str(exc))
            else:
                members = {p.id for p in pack.participants}
                entry.update(
                    kind=pack.kind,
                    title=pack.title,
                    ends_at=pack.ends_at,
                    location=pack.location.name,
                    participants=len(members),
                    present=len(members & set(ids)),
                    problem=None,
                )
            listed.append(entry)
        return listed

    def pack(self, event_id: str) -> EventPack:
        """The event's pack as published on the server (or a local pack kept for reports). Read-only."""
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT pack FROM events WHERE id = ? AND deleted = 0", (event_id,))
            if row is None:
                row = tx.one("SELECT pack FROM local_events WHERE id = ?", (event_id,))
        if row is None:
            raise UnknownEvent(
                f"no event {event_id!r} on this server; publish its pack first (presensi server publish-event FILE)"
            )
        return stored_pack(row["pack"], event_id)

    def punches(self, event_id: str) -> list[dict[str, Any]]:
        """Every punch the units delivered tagged with ``event_id``, by device and sequence. Read-only."""
        with self.storage.tx(write=False) as tx:
            rows = tx.all(
                f"SELECT {', '.join('p.' + f.strip() for f in PUNCH_FIELDS.split(','))}, c.corrected_instant "  # noqa: S608 - constant columns
                "FROM punches p LEFT JOIN punch_corrections c ON c.device_id = p.device_id AND c.seq = p.seq "
                "WHERE p.event_id = ? ORDER BY p.device_id, p.seq",
                (event_id,),
            )
        # a punch whose unit learnt the true time later counts at its corrected instant (marked)
        for r in rows:
            corrected = r.pop("corrected_instant")
            r["recorded_instant"], r["corrected"] = r["instant"], corrected is not None
            if corrected is not None:
                r["instant"] = corrected
        return rows

    def report(self, event_id: str, unit: str | None = None) -> ServerEventReport:
        """The attendance of ``unit``'s participants (everyone's when None). Read-only."""
        pack = self.pack(event_id)
        if unit is not None and pack.unit(unit) is None and not any(p.unit == unit for p in pack.participants):
            codes = ", ".join(u.code for u in pack.units) or "(none)"
            raise UnknownEvent(f"event {event_id} has no unit {unit!r}; its units are {codes}")
        punches = self.punches(event_id)
        report = build_report(pack, punches, unit=unit, generated_at=format_utc(self.clock.now()))
        members = {p.id for p in pack.participants}
        of_members = [p for p in punches if p["employee_id"] in members]
        counted = len({p["employee_id"] for p in of_members})
        return ServerEventReport(
            report=report,
            received=len(punches),
            devices=dict(Counter(str(p["device_id"]) for p in punches)),
            duplicates=len(of_members) - counted,
            not_participants=len(punches) - len(of_members),
        )
