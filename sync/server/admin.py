"""Administration of the reference server: the operations behind ``presensi server …``."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from core.clock import Clock
from core.errors import EnrolmentError
from core.store.punches import format_instant
from core.wire import Ack
from sync.bundle import BundleRejected
from sync.server.api import import_bundle_bytes
from sync.server.app import server_key, server_public_hex
from sync.server.config import ServerConfig
from sync.server.daybook import DayBook
from sync.server.events import EventAttendance, ServerEventReport, keep_local_pack, local_signer, roster_entry
from sync.server.ledger import Ledger
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage

log = logging.getLogger(__name__)


class ServerAdmin:
    """Everything an administrator does, against the server's database (no running server needed)."""

    def __init__(self, config: ServerConfig, storage: Storage, clock: Clock) -> None:
        self.config = config
        self.storage = storage
        self.clock = clock
        storage.create_schema()
        self.ledger = Ledger(storage, clock)
        self.roster = RosterAdmin(storage, clock)
        self.days = DayBook(storage, clock, workers=os.cpu_count() or 1)  # the command line: bulk work on every CPU

    def public_key_hex(self) -> str:
        return server_public_hex(server_key(self.storage))

    def issue_token(self, unit_code: str = "", hours: float | None = None) -> str:
        return self.ledger.issue_token(unit_code, valid_hours=hours or self.config.token_valid_hours)

    def load_event_pack(self, path: Path) -> str:
        try:
            pack = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise EnrolmentError(f"cannot read the event pack {path}: {exc}") from exc
        if not isinstance(pack, dict):
            raise EnrolmentError(f"the event pack {path} must be a JSON object")
        if local_signer(pack) is not None:  # a unit's own pack, for reports only: never sent to units
            return keep_local_pack(self.storage, self.ledger, pack, format_instant(self.clock.now())).id
        return self.roster.add_event(roster_entry(pack, server_key(self.storage)))

    def event_participants(self, event_id: str) -> list[str]:
        """The employee ids of a published event pack's participants."""
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT pack FROM events WHERE id = ? AND deleted = 0", (event_id,))
        if row is None:
            raise EnrolmentError(f"no event {event_id} on the server (presensi server publish-event FILE)")
        pack = json.loads(row["pack"])
        inner = pack.get("pack", pack) if isinstance(pack, dict) else {}
        participants = inner.get("participants", []) if isinstance(inner, dict) else []
        ids = [str(p["id"]) for p in participants if isinstance(p, dict) and p.get("id")]
        if not ids:
            raise EnrolmentError(f"event {event_id} lists no participants")
        return ids

    def local_event_device(self, event_id: str) -> str | None:
        """The device whose local pack the server keeps for ``event_id`` (None: not a local event)."""
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT device_id FROM local_events WHERE id = ?", (event_id,))
        return str(row["device_id"]) if row else None

    def event_report(self, event_id: str, unit: str | None = None) -> ServerEventReport:
        return EventAttendance(self.storage, self.clock).report(event_id, unit)

    def import_bundle(self, path: Path) -> Ack:

        data = path.read_bytes()
        try:
            ack = import_bundle_bytes(self.ledger, data)
        except BundleRejected as exc:
            self.ledger.reject(exc.device_id, "bundle", exc.reason, f"file {path.name}")
            raise
        self.days.refresh()
        return ack

    def devices(self) -> list[dict[str, Any]]:
        return self.ledger.devices()

    def punches(self, device_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent punches, newest first, each with its recorded instant (``instant``) and, when the
        unit sent a correction, the corrected one (``corrected_instant``, ``correction_source``)."""
        return self.ledger.recent_punches(device_id, limit)
