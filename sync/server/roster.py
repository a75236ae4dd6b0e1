"""The roster on the server: edits by administrators, published as numbered versions.

Every edit stamps the changed row with the *draft* version (the published version + 1); units
only ever see rows up to the published version, so a half-finished edit never reaches them.
``publish`` makes the draft the published version. A unit asks for changes since the version it
holds and receives every row stamped later (an employee's faces, cards and fingers travel with
the employee).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

from kiosk.clock import Clock
from kiosk.errors import EnrolmentError
from kiosk.store.punches import format_instant
from sync.server.storage import Storage, Tx

log = logging.getLogger(__name__)

FACE_ENCODING_BYTES = 128 * 4  # 128 float32, little-endian
PUBLISHED_KEY = "roster_published_version"


def normalise_card(uid: str) -> str:
    """A card uid as the unit stores it: upper-case hex without separators."""
    cleaned = uid.replace(":", "").replace("-", "").replace(" ", "").upper()
    if not cleaned or any(c not in "0123456789ABCDEF" for c in cleaned):
        raise EnrolmentError(f"card uid {uid!r} is not hexadecimal; type it as printed by the reader (e.g. 04A1B2C3)")
    return cleaned


class RosterAdmin:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    def published_version(self, tx: Tx | None = None) -> int:
        if tx is None:
            with self.storage.tx(write=False) as own:
                return self.published_version(own)
        row = tx.one("SELECT value FROM meta WHERE key = ?", (PUBLISHED_KEY,))
        return int(row["value"]) if row else 0

    def _draft(self, tx: Tx) -> int:
        return self.published_version(tx) + 1

    def _now(self) -> str:
        return format_instant(self.clock.now())

    # -- edits -------------------------------------------------------------------------------------

    def add_unit(self, code: str, name: str) -> None:
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO units (code, name, version) VALUES (?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, version = excluded.version, deleted = 0",
                (code, name, self._draft(tx)),
            )

    def add_employee(
        self, employee_id: str, name: str, *, unit_code: str = "", work_code: str = "", card_policy: str | None = None
    ) -> None:
        if not employee_id or len(employee_id) > 64:
            raise EnrolmentError("employee id must be 1–64 characters (NIP or staff id)")
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO employees (id, name, unit_code, work_code, card_policy, version) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit_code = excluded.unit_code, "
                "work_code = excluded.work_code, card_policy = excluded.card_policy, version = excluded.version, "
                "deleted = 0, active = 1",
                (employee_id, name, unit_code, work_code, card_policy, self._draft(tx)),
            )

    def remove_employee(self, employee_id: str) -> None:
        with self.storage.tx() as tx:
            self._touch(tx, employee_id)
            tx.execute("UPDATE employees SET deleted = 1 WHERE id = ?", (employee_id,))
            tx.execute("DELETE FROM face_templates WHERE employee_id = ?", (employee_id,))
            tx.execute("DELETE FROM cards WHERE employee_id = ?", (employee_id,))
            tx.execute("DELETE FROM finger_templates WHERE employee_id = ?", (employee_id,))

    def _touch(self, tx: Tx, employee_id: str) -> None:
        updated = tx.execute(
            "UPDATE employees SET version = ? WHERE id = ? AND deleted = 0", (self._draft(tx), employee_id)
        ).rowcount
        if not updated:
            raise EnrolmentError(f"unknown employee {employee_id}; add them first (presensi server add-employee)")

    def set_faces(self, employee_id: str, encodings: Sequence[bytes], quality: float | None = None) -> None:
        """Replace the employee's face templates (raw 128 × float32 little-endian each)."""
        for enc in encodings:
            if len(enc) != FACE_ENCODING_BYTES:
                raise EnrolmentError(f"a face encoding must be {FACE_ENCODING_BYTES} bytes (128 float32), not {len(enc)}")
        with self.storage.tx() as tx:
            self._touch(tx, employee_id)
            tx.execute("DELETE FROM face_templates WHERE employee_id = ?", (employee_id,))
            tx.executemany(
                "INSERT INTO face_templates (employee_id, encoding, scheme, quality, created_at) VALUES (?, ?, 'plain', ?, ?)",
                [(employee_id, base64.b64encode(e).decode("ascii"), quality, self._now()) for e in encodings],
            )

    def add_card(self, uid: str, employee_id: str) -> str:
        card = normalise_card(uid)
        with self.storage.tx() as tx:
            previous = tx.one("SELECT employee_id FROM cards WHERE uid = ?", (card,))
            self._touch(tx, employee_id)
            if previous and previous["employee_id"] != employee_id:
                self._touch(tx, previous["employee_id"])
            tx.execute(
                "INSERT INTO cards (uid, employee_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (uid) DO UPDATE SET employee_id = excluded.employee_id",
                (card, employee_id, self._now()),
            )
        return card

    def add_finger(self, employee_id: str, finger: int, family: str, template: bytes) -> None:
        if not 0 <= finger <= 9:
            raise EnrolmentError("finger must be 0–9")
        with self.storage.tx() as tx:
            self._touch(tx, employee_id)
            tx.execute(
                "INSERT INTO finger_templates (employee_id, finger, family, template, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (employee_id, finger, family) DO UPDATE SET template = excluded.template",
                (employee_id, finger, family, base64.b64encode(template).decode("ascii"), self._now()),
            )

    def add_work_code(self, code: str, body: dict[str, Any]) -> None:
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO work_codes (code, body, version) VALUES (?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET body = excluded.body, version = excluded.version, deleted = 0",
                (code, json.dumps(body, sort_keys=True), self._draft(tx)),
            )

    def add_holiday(self, day: str, name: str) -> None:
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO holidays (day, name, version) VALUES (?, ?, ?) "
                "ON CONFLICT (day) DO UPDATE SET name = excluded.name, version = excluded.version, deleted = 0",
                (day, name, self._draft(tx)),
            )

    def add_event(self, pack: dict[str, Any]) -> str:
        """Store an event pack (JSON object with id, kind, title, starts_at, ends_at; location optional)."""
        missing = [k for k in ("id", "kind", "title", "starts_at", "ends_at") if not isinstance(pack.get(k), str)]
        if missing:
            raise EnrolmentError(f"the event pack lacks {', '.join(missing)} (strings)")
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO events (id, kind, title, location, starts_at, ends_at, pack, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, title = excluded.title, location = excluded.location, "
                "starts_at = excluded.starts_at, ends_at = excluded.ends_at, pack = excluded.pack, "
                "version = excluded.version, deleted = 0",
                (
                    pack["id"],
                    pack["kind"],
                    pack["title"],
                    str(pack.get("location", "")),
                    pack["starts_at"],
                    pack["ends_at"],
                    json.dumps(pack, sort_keys=True),
                    self._draft(tx),
                ),
            )
        return str(pack["id"])

    def publish(self) -> int:
        """Make every edit since the last publication visible to units; returns the new version."""
        with self.storage.tx() as tx:
            if self.storage.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(7276)")
            version = self._draft(tx)
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (PUBLISHED_KEY, str(version)),
            )
        log.info("published roster version %d", version)
        return version

    # -- the document units download ---------------------------------------------------------------

    def document(self, since: int) -> dict[str, Any]:
        """Changes after version ``since`` up to the published version (everything when 0)."""
        with self.storage.tx(write=False) as tx:
            top = self.published_version(tx)
            since = max(0, min(since, top))
            window = (since, top)
            rows = tx.all("SELECT * FROM employees WHERE version > ? AND version <= ? ORDER BY id", window)
            live = [r for r in rows if not r["deleted"]]
            ids = [r["id"] for r in live]
            faces: dict[str, list[dict[str, Any]]] = {}
            cards: dict[str, list[str]] = {}
            fingers: dict[str, list[dict[str, Any]]] = {}
            for chunk in _chunks(ids, 500):
                marks = ", ".join("?" * len(chunk))
                for f in tx.all(f"SELECT * FROM face_templates WHERE employee_id IN ({marks}) ORDER BY id", chunk):  # noqa: S608
                    faces.setdefault(f["employee_id"], []).append(
                        {"encoding": f["encoding"], "scheme": f["scheme"], "quality": f["quality"]}
                    )
                for c in tx.all(f"SELECT * FROM cards WHERE employee_id IN ({marks}) ORDER BY uid", chunk):  # noqa: S608
                    cards.setdefault(c["employee_id"], []).append(c["uid"])
                for g in tx.all(f"SELECT * FROM finger_templates WHERE employee_id IN ({marks})", chunk):  # noqa: S608
                    fingers.setdefault(g["employee_id"], []).append(
                        {"finger": g["finger"], "family": g["family"], "template": g["template"]}
                    )
            units = tx.all("SELECT code, name, deleted FROM units WHERE version > ? AND version <= ? ORDER BY code", window)
            codes = tx.all("SELECT code, body, deleted FROM work_codes WHERE version > ? AND version <= ? ORDER BY code", window)
            days = tx.all("SELECT day, name, deleted FROM holidays WHERE version > ? AND version <= ? ORDER BY day", window)
            events = tx.all("SELECT * FROM events WHERE version > ? AND version <= ? ORDER BY id", window)
        return {
            "format": "presensi-roster-v1",
            "since": since,
            "version": top,
            "full": since == 0,
            "employees": [
                {
                    "id": r["id"],
                    "name": r["name"],
                    "unit_code": r["unit_code"],
                    "work_code": r["work_code"],
                    "card_policy": r["card_policy"],
                    "active": bool(r["active"]),
                    "faces": faces.get(r["id"], []),
                    "cards": cards.get(r["id"], []),
                    "fingers": fingers.get(r["id"], []),
                }
                for r in live
            ],
            "removed_employees": [r["id"] for r in rows if r["deleted"]],
            "units": [{"code": u["code"], "name": u["name"]} for u in units if not u["deleted"]],
            "work_codes": [{"code": c["code"], **json.loads(c["body"])} for c in codes if not c["deleted"]],
            "holidays": [{"day": d["day"], "name": d["name"]} for d in days if not d["deleted"]],
            "events": [json.loads(e["pack"]) for e in events if not e["deleted"]],
            "removed_events": [e["id"] for e in events if e["deleted"]],
        }


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
