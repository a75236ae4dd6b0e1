"""Applying a roster document on the unit: verified with the server key, applied in one transaction.

Rows that came from the roster are marked ``source = 'roster'``; rows enrolled on the unit itself
(``source = 'local'``) are left alone, except that a card uid the roster assigns moves to the
roster's employee, and that an employee the roster removes is erased from the unit altogether
(:mod:`core.store.erasure`: every face and finger template and card, whatever its source;
the bridge then deletes their slots from the fingerprint modules). Templates arrive plain inside
the signed document over TLS and are sealed with the unit's key before they are stored.

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
from core.store.erasure import Erased, erase_rows, record_erasure
from core.store.finger_templates import seal_template
from core.store.punches import format_instant
from core.store.roster import LEGACY_EMBEDDER
from core.store.sync_state import get_text_setting, put_cursor, put_text_setting
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
    participants: list[tuple[str, str, str, str, str]] = []
    if isinstance(event.get("pack"), dict):
        try:
            pack = parse_pack(event["pack"], f"roster event {event.get('id')}")
        except EventPackError as exc:
            log.warning("roster event %s cannot be run on this unit: %s", event.get("id"), exc)
        else:
            participants = [(pack.id, p.id, p.name, p.office, p.unit) for p in pack.participants]
    held = conn.execute("SELECT origin FROM events WHERE id = ?", (event["id"],)).fetchone()
    if held is not None and held[0] != "server":
        log.warning("roster event %s has the id of a pack made on this unit; the unit's own pack is kept", event["id"])
        return
    conn.execute(
        "INSERT INTO events (id, kind, title, location, starts_at, ends_at, origin, pack, active, loaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'server', ?, 0, ?) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, "
        "title = excluded.title, location = excluded.location, starts_at = excluded.starts_at, "
        "ends_at = excluded.ends_at, pack = excluded.pack, loaded_at = excluded.loaded_at",
        (
            event["id"],
            event["kind"],
            event["title"],
            str(location),
            event["starts_at"],
            event["ends_at"],
            json.dumps(event, sort_keys=True),
            stamp,
        ),
    )
    if participants:
        conn.execute("DELETE FROM event_participants WHERE event_id = ?", (event["id"],))
        conn.executemany(
            "INSERT INTO event_participants (event_id, employee_id, name, office, unit) VALUES (?, ?, ?, ?, ?)", participants
        )


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
            conn.execute("DELETE FROM face_templates WHERE source = 'roster'")
            conn.execute("DELETE FROM cards WHERE source = 'roster'")
            conn.execute("DELETE FROM finger_templates WHERE source = 'roster'")
            conn.execute("UPDATE employees SET active = 0 WHERE source = 'roster'")
            # The server's event list is replaced, but never the running event: a unit at an apel
            # that syncs mid-ceremony stays in event mode (it leaves with `presensi event stop`
            # or when the server removes the event).
            listed = [str(e.get("id", "")) for e in doc.get("events", []) if isinstance(e, dict)]
            keep = f" AND id NOT IN ({', '.join('?' * len(listed))})" if listed else ""
            conn.execute(f"DELETE FROM events WHERE origin = 'server' AND active = 0{keep}", listed)  # noqa: S608 - placeholders only
            for key in ("roster.units", "roster.work_codes", "roster.holidays"):
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        for e in doc.get("employees", []):
            _apply_employee(conn, e, stamp, sealer, embedder)
        erased = _erase_removed(conn, doc, now)
        for event in doc.get("events", []):
            _apply_event(conn, event, stamp)
        for event_id in doc.get("removed_events", []):
            conn.execute("DELETE FROM events WHERE id = ? AND origin = 'server'", (event_id,))
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
        held = [r[0] for r in conn.execute("SELECT id FROM employees WHERE source = 'roster'")]
        removed += [e for e in held if e not in listed and e not in removed]
    for employee_id in removed:
        if conn.execute("SELECT 1 FROM employees WHERE id = ?", (str(employee_id),)).fetchone() is None:
            continue
        erased.append(erase_rows(conn, str(employee_id), now=now))
    return erased


def _audit(conn: sqlite3.Connection, erased: list[Erased], now: datetime, version: int) -> None:
    for e in erased:
        if e.anything:
            record_erasure(conn, e, now=now, actor="sync", reason=f"removed from the roster (version {version})")


def _apply_employee(conn: sqlite3.Connection, e: dict[str, Any], stamp: str, sealer: Sealer | None, embedder: str | None) -> None:
    employee_id = str(e["id"])
    conn.execute(
        "INSERT INTO employees (id, name, unit_code, work_code, card_policy, active, source, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'roster', ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
        "unit_code = excluded.unit_code, work_code = excluded.work_code, card_policy = excluded.card_policy, "
        "active = excluded.active, source = 'roster', updated_at = excluded.updated_at",
        (
            employee_id,
            e["name"],
            e.get("unit_code", ""),
            e.get("work_code", ""),
            e.get("card_policy"),
            int(bool(e.get("active", True))),
            stamp,
        ),
    )
    conn.execute("DELETE FROM face_templates WHERE employee_id = ? AND source = 'roster'", (employee_id,))
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
        conn.execute(
            "INSERT INTO face_templates (employee_id, encoding, scheme, quality, source, created_at, embedder) "
            "VALUES (?, ?, ?, ?, 'roster', ?, ?)",
            (employee_id, blob, scheme, face.get("quality"), stamp, made_by),
        )
    conn.execute("DELETE FROM cards WHERE employee_id = ? AND source = 'roster'", (employee_id,))
    for uid in e.get("cards", []):
        conn.execute(
            "INSERT INTO cards (uid, employee_id, source, created_at) VALUES (?, ?, 'roster', ?) "
            "ON CONFLICT(uid) DO UPDATE SET employee_id = excluded.employee_id, source = 'roster'",
            (str(uid).upper(), employee_id, stamp),
        )
    conn.execute("DELETE FROM finger_templates WHERE employee_id = ? AND source = 'roster'", (employee_id,))
    for finger in e.get("fingers", []):
        raw = _b64(finger["template"], "a finger template")
        number, family = int(finger["finger"]), str(finger["family"])
        stored, scheme, digest = seal_template(raw, employee_id=employee_id, finger=number, family=family, sealer=sealer)
        conn.execute(
            "INSERT INTO finger_templates (employee_id, finger, family, template, scheme, digest, source, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'roster', ?) ON CONFLICT(employee_id, finger, family) DO UPDATE SET "
            "template = excluded.template, scheme = excluded.scheme, digest = excluded.digest, source = 'roster', "
            "created_at = excluded.created_at",
            (employee_id, number, family, stored, scheme, digest, stamp),
        )
