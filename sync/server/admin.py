"""Administration of the reference server: the operations behind ``presensi server …``."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from kiosk.clock import Clock
from kiosk.errors import EnrolmentError, FaceError
from kiosk.store.punches import format_instant
from sync.protocol import Ack
from sync.server.app import import_bundle_bytes, server_key, server_public_hex
from sync.server.config import ServerConfig
from sync.server.daybook import DayBook
from sync.server.events import EventAttendance, ServerEventReport, keep_local_pack, local_signer, roster_entry
from sync.server.ledger import Ledger
from sync.server.roster import DLIB_EMBEDDER, RosterAdmin
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

    def enrol_faces(self, employee_id: str, photos: list[Path]) -> int:
        """Face templates from enrolment photos (exactly one face each), one set per embedder the
        units use (dlib and each of ``face_models``: the photos are not kept, so every embedder's
        template is made now). Returns how many photos."""
        from kiosk.config import FaceConfig

        configs = [FaceConfig(), *(m.face_config() for m in self.config.face_models)]
        for face in configs:
            embedder, encodings = face_encodings_from_photos(photos, face)
            self.roster.set_faces(employee_id, encodings, embedder=embedder)
        return len(photos)

    def face_report(self) -> dict[str, Any]:
        """Per embedder: employees with templates, without, and lookalike pairs (the units' rules)."""
        import numpy as np

        from kiosk.config import FaceConfig
        from kiosk.face.identify import Gallery
        from kiosk.face.templates import unseal

        coverage = self.roster.face_coverage()
        active = coverage.pop("", 0)
        report: dict[str, Any] = {"active_employees": active, "embedders": []}
        for embedder, count in sorted(coverage.items()):
            rows = self.roster.face_templates(embedder)
            rules = (
                FaceConfig().rules if embedder == DLIB_EMBEDDER else FaceConfig().model_copy(update={"embedder": "onnx"}).rules
            )
            encodings = [unseal(raw, "plain") for _, raw in rows]
            gallery = Gallery(np.stack(encodings), [e for e, _ in rows]) if encodings else Gallery.empty()
            gallery.calibrate(threshold=rules.threshold, gap=rules.gap, lookalike=rules.lookalike)
            report["embedders"].append(
                {
                    "embedder": embedder,
                    "label": "dlib" if embedder == DLIB_EMBEDDER else "onnx",
                    "with_template": count,
                    "without_template": active - count,
                    "lookalike_distance": rules.lookalike,
                    "lookalikes": [
                        {"employee_id": a, "other_id": b, "distance": round(d, 4)}
                        for (a, b), d in sorted(gallery.lookalikes.items(), key=lambda x: x[1])
                    ],
                }
            )
        return report

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
        from sync.bundle import BundleRejected

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


def face_encodings_from_photos(photos: list[Path], face: Any) -> tuple[str, list[bytes]]:
    """(embedder id, float32 little-endian templates) from photos holding exactly one face each,
    by the embedder and detector of ``face`` (a kiosk FaceConfig)."""
    import numpy as np

    from kiosk.camera.file import read_image
    from kiosk.errors import DeviceError
    from kiosk.face.detect import make_detector, to_rgb

    detector = make_detector(face, scale=1.0)
    out = []
    for path in photos:
        try:
            rgb = to_rgb(read_image(path))
        except DeviceError as exc:
            raise FaceError(f"cannot read the photo {path}: {exc}") from exc
        boxes = detector.detect(rgb)
        if len(boxes) != 1:
            found = "no face" if not boxes else f"{len(boxes)} faces"
            raise EnrolmentError(f"{path.name}: {found} found; use a photo with exactly one face, frontal and well lit")
        out.append(np.asarray(detector.encode(rgb, boxes[0]), dtype="<f4").tobytes())
    return detector.embedder.info.id, out
