"""The roster on the server: edits by administrators, published as numbered versions.

Every edit stamps the changed row with the *draft* version (the published version + 1); units
only ever see rows up to the published version, so a half-finished edit never reaches them.
``publish`` makes the draft the published version. A unit asks for changes since the version it
holds and receives every row stamped later (an employee's faces, cards and fingers travel with
the employee).

A unit receives only its own people (``document(device_id=…)``): the employees of its office
(``devices.unit_code``; a device provisioned without one serves every office) and the employees
added to it by name (``device_members``: an event's participants, a named list). Rows of anyone
else that changed are listed as removed, so a unit erases an employee who moved to another office.
A change of a device's members stamps ``devices.scope_version``; the next roster that device
pulls is then a full one. Face templates are kept per embedder (the model file's SHA-256) and a
unit is sent only the templates of the embedder it names.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

from core.clock import ZONES, Clock
from core.errors import EnrolmentError
from core.store.punches import format_instant
from core.store.roster import LEGACY_EMBEDDER
from core.templates.face_bytes import MAX_DIMENSIONS, MIN_DIMENSIONS
from sync.server.storage import Storage, Tx

log = logging.getLogger(__name__)

#: dlib's embedder id (kiosk.face.embedders.DLIB_ID): templates of units that name no embedder.
DLIB_EMBEDDER = LEGACY_EMBEDDER
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

    def add_unit(self, code: str, name: str, *, zone: str = "Asia/Jakarta") -> None:
        """Add or rename an office; ``zone`` (Asia/Jakarta, Asia/Makassar, Asia/Jayapura) sets its
        days' calendar and the times its pages show."""
        if zone not in ZONES:
            raise EnrolmentError(f"zone {zone!r}: use one of {', '.join(ZONES)} (WIB, WITA, WIT)")
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO units (code, name, version, zone) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, version = excluded.version, deleted = 0, "
                "zone = excluded.zone",
                (code, name, self._draft(tx), zone),
            )

    def add_employee(
        self,
        employee_id: str,
        name: str,
        *,
        unit_code: str = "",
        work_code: str = "",
        card_policy: str | None = None,
        position: str = "",
    ) -> None:
        if not employee_id or len(employee_id) > 64:
            raise EnrolmentError("employee id must be 1–64 characters (NIP or staff id)")
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO employees (id, name, unit_code, work_code, card_policy, version, position, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit_code = excluded.unit_code, "
                "work_code = excluded.work_code, card_policy = excluded.card_policy, version = excluded.version, "
                "deleted = 0, active = 1, position = excluded.position",
                (employee_id, name, unit_code, work_code, card_policy, self._draft(tx), position, self._now()),
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

    def set_faces(
        self, employee_id: str, encodings: Sequence[bytes], quality: float | None = None, *, embedder: str = DLIB_EMBEDDER
    ) -> None:
        """Replace the employee's face templates made by ``embedder`` (raw float32 little-endian
        each); the other embedders' templates of the employee stay."""
        for enc in encodings:
            if len(enc) % 4 or not MIN_DIMENSIONS <= len(enc) // 4 <= MAX_DIMENSIONS:
                raise EnrolmentError(
                    f"a face encoding must be {MIN_DIMENSIONS}–{MAX_DIMENSIONS} float32 values, not {len(enc)} bytes"
                )
        with self.storage.tx() as tx:
            self._touch(tx, employee_id)
            tx.execute("DELETE FROM face_templates WHERE employee_id = ? AND embedder = ?", (employee_id, embedder))
            tx.executemany(
                "INSERT INTO face_templates (employee_id, encoding, scheme, quality, created_at, embedder) "
                "VALUES (?, ?, 'plain', ?, ?, ?)",
                [(employee_id, base64.b64encode(e).decode("ascii"), quality, self._now(), embedder) for e in encodings],
            )

    def face_coverage(self) -> dict[str, int]:
        """Employees (not removed, active) with face templates, per embedder; ``""``: how many active employees."""
        with self.storage.tx(write=False) as tx:
            rows = tx.all(
                "SELECT t.embedder, count(DISTINCT t.employee_id) AS n FROM face_templates t "
                "JOIN employees e ON e.id = t.employee_id WHERE e.deleted = 0 AND e.active = 1 GROUP BY t.embedder"
            )
            total = tx.one("SELECT count(*) AS n FROM employees WHERE deleted = 0 AND active = 1")
        return {"": int(total["n"]) if total else 0, **{r["embedder"]: int(r["n"]) for r in rows}}

    def face_templates(self, embedder: str) -> list[tuple[str, bytes]]:
        """(employee id, raw template) of every active employee for ``embedder`` (lookalike listing)."""
        with self.storage.tx(write=False) as tx:
            rows = tx.all(
                "SELECT t.employee_id, t.encoding FROM face_templates t JOIN employees e ON e.id = t.employee_id "
                "WHERE e.deleted = 0 AND e.active = 1 AND t.embedder = ? ORDER BY t.employee_id, t.id",
                (embedder,),
            )
        return [(r["employee_id"], base64.b64decode(r["encoding"])) for r in rows]

    # -- which employees a device holds ------------------------------------------------------------

    def add_members(self, device_id: str, employee_ids: Sequence[str], reason: str) -> int:
        """Add employees to what ``device_id`` receives beyond its office (an event, a named list);
        returns how many were new. Takes effect with the next publication."""
        with self.storage.tx() as tx:
            if tx.one("SELECT 1 AS x FROM devices WHERE id = ?", (device_id,)) is None:
                raise EnrolmentError(f"unknown device {device_id} (presensi server devices lists them)")
            known = {r["id"] for r in tx.all("SELECT id FROM employees WHERE deleted = 0")}
            missing = sorted(set(employee_ids) - known)
            if missing:
                raise EnrolmentError(
                    f"unknown employees: {', '.join(missing[:10])}; add them first (presensi server add-employee)"
                )
            held = {r["employee_id"] for r in tx.all("SELECT employee_id FROM device_members WHERE device_id = ?", (device_id,))}
            new = [e for e in dict.fromkeys(employee_ids) if e not in held]
            tx.executemany(
                "INSERT INTO device_members (device_id, employee_id, reason, added_at) VALUES (?, ?, ?, ?)",
                [(device_id, e, reason, self._now()) for e in new],
            )
            tx.execute("UPDATE devices SET scope_version = ? WHERE id = ?", (self._draft(tx), device_id))
        return len(new)

    def remove_members(self, device_id: str, employee_ids: Sequence[str] | None = None, *, reason: str | None = None) -> int:
        """Take employees (or every member added for ``reason``, or all) off the device's list."""
        with self.storage.tx() as tx:
            if employee_ids is not None:
                marks = ", ".join("?" * len(employee_ids))
                sql = f"DELETE FROM device_members WHERE device_id = ? AND employee_id IN ({marks})"  # noqa: S608
                count = tx.execute(sql, (device_id, *employee_ids)).rowcount
            elif reason is not None:
                count = tx.execute("DELETE FROM device_members WHERE device_id = ? AND reason = ?", (device_id, reason)).rowcount
            else:
                count = tx.execute("DELETE FROM device_members WHERE device_id = ?", (device_id,)).rowcount
            tx.execute("UPDATE devices SET scope_version = ? WHERE id = ?", (self._draft(tx), device_id))
        return int(count or 0)

    def scope(self, device_id: str) -> dict[str, Any]:
        """What ``device_id`` receives: its office and its members (id → reason)."""
        with self.storage.tx(write=False) as tx:
            device = tx.one("SELECT unit_code FROM devices WHERE id = ?", (device_id,))
            if device is None:
                raise EnrolmentError(f"unknown device {device_id} (presensi server devices lists them)")
            members = tx.all(
                "SELECT employee_id, reason FROM device_members WHERE device_id = ? ORDER BY employee_id", (device_id,)
            )
            office = device["unit_code"]
            count = tx.one(
                "SELECT count(*) AS n FROM employees e WHERE e.deleted = 0 AND (? = '' OR e.unit_code = ? OR e.id IN "
                "(SELECT employee_id FROM device_members WHERE device_id = ?))",
                (office, office, device_id),
            )
        return {
            "device_id": device_id,
            "unit_code": office,
            "members": {m["employee_id"]: m["reason"] for m in members},
            "employees": int(count["n"]) if count else 0,
        }

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

    def document(self, since: int, *, device_id: str | None = None, embedder: str | None = None) -> dict[str, Any]:
        """Changes after version ``since`` up to the published version (everything when 0): for
        ``device_id``, only its own people (the module's docstring), with the face templates of
        ``embedder`` (None: dlib's)."""
        embedder = embedder or DLIB_EMBEDDER
        with self.storage.tx(write=False) as tx:
            top = self.published_version(tx)
            since = max(0, min(since, top))
            office, members = "", None
            if device_id is not None:
                device = tx.one("SELECT unit_code, scope_version FROM devices WHERE id = ?", (device_id,))
                if device is not None:
                    office = device["unit_code"]
                    members = {
                        r["employee_id"]
                        for r in tx.all("SELECT employee_id FROM device_members WHERE device_id = ?", (device_id,))
                    }
                    if since < int(device["scope_version"]) <= top:
                        since = 0  # its scope changed: the whole roster, so that it holds exactly its people
            window = (since, top)
            rows = tx.all("SELECT * FROM employees WHERE version > ? AND version <= ? ORDER BY id", window)

            def mine(row: dict[str, Any]) -> bool:
                return not office or row["unit_code"] == office or (members is not None and row["id"] in members)

            live = [r for r in rows if not r["deleted"] and mine(r)]
            gone = [r["id"] for r in rows if r["deleted"] or not mine(r)]
            ids = [r["id"] for r in live]
            faces: dict[str, list[dict[str, Any]]] = {}
            cards: dict[str, list[str]] = {}
            fingers: dict[str, list[dict[str, Any]]] = {}
            for chunk in _chunks(ids, 500):
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT * FROM face_templates WHERE embedder = ? AND employee_id IN ({marks}) ORDER BY id"  # noqa: S608
                for f in tx.all(sql, (embedder, *chunk)):
                    faces.setdefault(f["employee_id"], []).append(
                        {"encoding": f["encoding"], "scheme": f["scheme"], "quality": f["quality"], "embedder": f["embedder"]}
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
            "removed_employees": gone,
            "units": [{"code": u["code"], "name": u["name"]} for u in units if not u["deleted"]],
            "work_codes": [{"code": c["code"], **json.loads(c["body"])} for c in codes if not c["deleted"]],
            "holidays": [{"day": d["day"], "name": d["name"]} for d in days if not d["deleted"]],
            "events": [json.loads(e["pack"]) for e in events if not e["deleted"]],
            "removed_events": [e["id"] for e in events if e["deleted"]],
        }


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
