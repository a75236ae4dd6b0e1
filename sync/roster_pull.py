"""Applying a roster document on the unit: verified with the server key, applied in one transaction.

Rows that came from the roster are marked ``source = 'roster'``; rows enrolled on the unit itself
(``source = 'local'``) are left alone, except that a card uid the roster assigns moves to the
roster's employee, and that an employee the roster removes is erased from the unit altogether
(:mod:`core.store.erasure`: every face and finger template and card, whatever its source;
the bridge then deletes their slots from the fingerprint modules). Templates arrive plain inside
the signed document over TLS and are sealed with the unit's key before they are stored. The rows
are written by :mod:`core.store.roster_apply`, inside the one transaction opened here.

Work codes, units and holidays have no table of their own on the unit yet: they are kept as
JSON in ``settings`` (``roster.work_codes``, ``roster.units``, ``roster.holidays``), merged by
key, for the schedule rules to read.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import sqlite3
from datetime import datetime
from typing import Any

from core.errors import FaceError
from core.identity import public_key_from_hex
from core.privacy.seal import Sealer, TemplateKeyError
from core.schedule.events import EventPackError, parse_pack
from core.signing import verify_document
from core.store import events
from core.store import roster_apply as rows
from core.store.erasure import Erased, erase_rows, record_erasure
from core.store.finger_templates import seal_template
from core.store.punches import format_instant
from core.store.roster import LEGACY_EMBEDDER
from core.store.sync_state import delete_settings, get_text_setting, put_cursor, put_text_setting
from core.store.tx import write_transaction
from core.store.vault import unit_sealer
from core.templates.face_bytes import MAX_DIMENSIONS, MIN_DIMENSIONS, PLAIN, seal_raw
from core.wire import EMBEDDER_ID, SyncRejected
from sync.state import ROSTER_CURSOR, ROSTER_EMBEDDER

log = logging.getLogger(__name__)


def verify_roster(body: bytes, signature_hex: str, server_key_hex: str, device_id: str, since: int) -> dict[str, Any]:
    """The roster document, once its signature, addressee and version check out."""
    if not signature_hex or not verify_document(public_key_from_hex(server_key_hex), body, signature_hex):
        raise SyncRejected(
            "the roster's signature does not verify with the server key from provisioning", reason="bad roster signature"
        )
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SyncRejected(f"the roster is not JSON: {exc}", reason="bad roster format") from exc
    if not isinstance(doc, dict) or doc.get("format") != "presensi-roster-v1":
        raise SyncRejected("the roster is not a presensi-roster-v1 document", reason="bad roster format")
    if doc.get("device_id") != device_id:
        raise SyncRejected("the roster was made for another device", reason="roster for another device")
    if int(doc.get("since", -1)) != since and not doc.get("full"):
        raise SyncRejected("the roster does not continue from the version we hold", reason="roster version mismatch")
    return doc


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SyncRejected(f"{what} in the roster is not base64", reason="bad roster encoding") from exc


def _apply_event(conn: sqlite3.Connection, event: dict[str, Any], stamp: str) -> None:
    """One event of the roster, stored as `presensi event load` stores a pack: the signed envelope
    (the roster's own signature covers it) and, for a complete pack, its participants, so the
    unit can run it. Whether it is the running event is the unit's own choice: kept as it was."""
    location = event.get("location", "")
    if isinstance(location, dict):  # a server sending the pack's location object
        location = location.get("name", "")
    participants: list[tuple[str, str, str, str]] = []
    if isinstance(event.get("pack"), dict):
        try:
            pack = parse_pack(event["pack"], f"roster event {event.get('id')}")
        except EventPackError as exc:
            log.warning("roster event %s cannot be run on this unit: %s", event.get("id"), exc)
        else:
            participants = [(p.id, p.name, p.office, p.unit) for p in pack.participants]
    held = events.event_origin(conn, event["id"])
    if held is not None and held != "server":
        log.warning("roster event %s has the id of a pack made on this unit; the unit's own pack is kept", event["id"])
        return
    events.put_event(
        conn,
        event_id=event["id"],
        kind=event["kind"],
        title=event["title"],
        location=str(location),
        starts_at=event["starts_at"],
        ends_at=event["ends_at"],
        origin="server",
        pack_json=json.dumps(event, sort_keys=True),
        loaded_at=stamp,
    )
    if participants:
        events.replace_participants(conn, event["id"], participants)


def _carries_templates(doc: dict[str, Any]) -> bool:
    return any(e.get("faces") or e.get("fingers") for e in doc.get("employees", []))


def apply_roster(
    conn: sqlite3.Connection, doc: dict[str, Any], now: datetime, *, sealer: Sealer | None = None, embedder: str | None = None
) -> int:
    """Apply a verified document atomically; returns the roster version now held. Templates are
    sealed with ``sealer`` (by default the unit's: :func:`core.store.vault.unit_sealer`); only
    those of ``embedder`` are kept (each face names its embedder; none: dlib's), when given.
    When the unit's key cannot be read, the employees the roster removes are still erased, then
    TemplateKeyError says what to do (the rest waits for the next pull)."""
    stamp = format_instant(now)
    version = int(doc["version"])
    if sealer is None and _carries_templates(doc):
        try:
            sealer = unit_sealer(conn)
        except TemplateKeyError:
            with write_transaction(conn, "erasing employees removed from the roster"):
                erased = _erase_removed(conn, doc, now)
            _audit(conn, erased, now, version)
            raise
    with write_transaction(conn, "applying the roster"):
        if doc.get("full"):
            rows.clear_roster_rows(conn)
            # The server's event list is replaced, but never the running event: a unit at an apel
            # that syncs mid-ceremony stays in event mode (it leaves with `presensi event stop`
            # or when the server removes the event).
            events.drop_idle_server_events(conn, [str(e.get("id", "")) for e in doc.get("events", []) if isinstance(e, dict)])
            delete_settings(conn, ("roster.units", "roster.work_codes", "roster.holidays"))
        for e in doc.get("employees", []):
            _apply_employee(conn, e, stamp, sealer, embedder)
        erased = _erase_removed(conn, doc, now)
        for event in doc.get("events", []):
            _apply_event(conn, event, stamp)
        for event_id in doc.get("removed_events", []):
            events.remove_server_event(conn, event_id)
        for key, items, field in (
            ("roster.units", doc.get("units", []), "code"),
            ("roster.work_codes", doc.get("work_codes", []), "code"),
            ("roster.holidays", doc.get("holidays", []), "day"),
        ):
            if items:
                merged = {item[field]: item for item in json.loads(get_text_setting(conn, key) or "[]")}
                merged.update({item[field]: item for item in items})
                put_text_setting(conn, key, json.dumps([merged[k] for k in sorted(merged)], sort_keys=True), now)
        put_cursor(conn, ROSTER_CURSOR, version, now)
        if embedder is not None:
            put_text_setting(conn, ROSTER_EMBEDDER, embedder, now)
    _audit(conn, erased, now, version)
    log.info("applied roster version %d (%d employees changed)", version, len(doc.get("employees", [])))
    return version


def _erase_removed(conn: sqlite3.Connection, doc: dict[str, Any], now: datetime) -> list[Erased]:
    """Erase every removed employee the unit knows (inside the caller's transaction); after a full
    document, also every employee from the roster that it no longer lists (moved to another office,
    taken off this unit's list): a unit holds only its own people."""
    erased = []
    removed = [str(e) for e in doc.get("removed_employees", [])]
    if doc.get("full"):
        listed = {str(e.get("id")) for e in doc.get("employees", []) if isinstance(e, dict)}
        held = rows.roster_employee_ids(conn)
        removed += [e for e in held if e not in listed and e not in removed]
    for employee_id in removed:
        if not rows.employee_known(conn, str(employee_id)):
            continue
        erased.append(erase_rows(conn, str(employee_id), now=now))
    return erased


def _audit(conn: sqlite3.Connection, erased: list[Erased], now: datetime, version: int) -> None:
    for e in erased:
        if e.anything:
            record_erasure(conn, e, now=now, actor="sync", reason=f"removed from the roster (version {version})")


def _apply_employee(conn: sqlite3.Connection, e: dict[str, Any], stamp: str, sealer: Sealer | None, embedder: str | None) -> None:
    employee_id = str(e["id"])
    rows.upsert_roster_employee(
        conn,
        employee_id,
        e["name"],
        unit_code=e.get("unit_code", ""),
        work_code=e.get("work_code", ""),
        card_policy=e.get("card_policy"),
        active=bool(e.get("active", True)),
        stamp=stamp,
    )
    rows.clear_roster_faces(conn, employee_id)
    for face in e.get("faces", []):
        made_by = str(face.get("embedder") or LEGACY_EMBEDDER)
        if not EMBEDDER_ID.fullmatch(made_by):
            raise SyncRejected("a face template in the roster names no valid embedder", reason="bad face template")
        if embedder is not None and made_by != embedder:
            continue  # another embedder's template: never compared here, so never stored
        raw = _b64(face["encoding"], "a face template")
        values = len(raw) // 4
        if len(raw) % 4 or not MIN_DIMENSIONS <= values <= MAX_DIMENSIONS or face.get("scheme", PLAIN) != PLAIN:
            raise SyncRejected(
                f"a face template in the roster is not {MIN_DIMENSIONS}–{MAX_DIMENSIONS} float32 values",
                reason="bad face template",
            )
        try:
            blob, scheme = seal_raw(raw, employee_id=employee_id, sealer=sealer)
        except FaceError as exc:
            raise SyncRejected(f"a face template in the roster cannot be used: {exc}", reason="bad face template") from exc
        rows.add_roster_face(conn, employee_id, blob, scheme=scheme, quality=face.get("quality"), embedder=made_by, stamp=stamp)
    rows.clear_roster_cards(conn, employee_id)
    for uid in e.get("cards", []):
        rows.assign_roster_card(conn, str(uid).upper(), employee_id, stamp)
    rows.clear_roster_fingers(conn, employee_id)
    for finger in e.get("fingers", []):
        raw = _b64(finger["template"], "a finger template")
        number, family = int(finger["finger"]), str(finger["family"])
        stored, scheme, digest = seal_template(raw, employee_id=employee_id, finger=number, family=family, sealer=sealer)
        rows.put_roster_finger(conn, employee_id, number, family, stored=stored, scheme=scheme, digest=digest, stamp=stamp)
