"""Administration of the reference server: the operations behind ``presensi server …``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from kiosk.clock import Clock
from kiosk.errors import EnrolmentError, FaceError
from kiosk.store.punches import format_instant
from sync.protocol import Ack
from sync.server.app import import_bundle_bytes, server_key, server_public_hex
from sync.server.config import ServerConfig
from sync.server.events import EventAttendance, ServerEventReport, keep_local_pack, local_signer, roster_entry
from sync.server.ledger import Ledger
from sync.server.roster import RosterAdmin
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

    def public_key_hex(self) -> str:
        return server_public_hex(server_key(self.storage))

    def issue_token(self, unit_code: str = "", hours: float | None = None) -> str:
        return self.ledger.issue_token(unit_code, valid_hours=hours or self.config.token_valid_hours)

    def enrol_faces(self, employee_id: str, photos: list[Path]) -> int:
        """Face encodings from enrolment photos (exactly one face each); the photos are not kept."""
        encodings = [face_encoding_from_photo(p) for p in photos]
        self.roster.set_faces(employee_id, encodings)
        return len(encodings)

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

    def local_event_device(self, event_id: str) -> str | None:
        """The device whose local pack the server keeps for ``event_id`` (None: not a local event)."""
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT device_id FROM local_events WHERE id = ?", (event_id,))
        return str(row["device_id"]) if row else None

    def event_report(self, event_id: str, unit: str | None = None) -> ServerEventReport:
        return EventAttendance(self.storage, self.clock).report(event_id, unit)

    def import_bundle(self, path: Path) -> Ack:
        from sync.bundle import BundleRejected

        data = path.read_bytes()
        try:
            return import_bundle_bytes(self.ledger, data)
        except BundleRejected as exc:
            self.ledger.reject(exc.device_id, "bundle", exc.reason, f"file {path.name}")
            raise

    def devices(self) -> list[dict[str, Any]]:
        return self.ledger.devices()

    def punches(self, device_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent punches, newest first, each with its recorded instant (``instant``) and, when the
        unit sent a correction, the corrected one (``corrected_instant``, ``correction_source``)."""
        return self.ledger.recent_punches(device_id, limit)


def face_encoding_from_photo(path: Path) -> bytes:
    """128 float32 little-endian from a photo holding exactly one face (face_recognition/dlib)."""
    import face_recognition
    import numpy as np

    try:
        image = face_recognition.load_image_file(str(path))
    except (OSError, ValueError) as exc:
        raise FaceError(f"cannot read the photo {path}: {exc}") from exc
    boxes = face_recognition.face_locations(image, number_of_times_to_upsample=1, model="hog")
    if len(boxes) != 1:
        found = "no face" if not boxes else f"{len(boxes)} faces"
        raise EnrolmentError(f"{path.name}: {found} found; use a photo with exactly one face, frontal and well lit")
    encodings = face_recognition.face_encodings(image, known_face_locations=boxes, num_jitters=1)
    return np.asarray(encodings[0], dtype="<f4").tobytes()
