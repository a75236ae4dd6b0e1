"""The server's face work, done by the command line: templates from enrolment photos and the
lookalike report. The reference server itself never loads a camera or a face model (an import
contract); ``presensi server enrol-face`` and ``presensi server faces`` bring them here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.config import FaceConfig
from core.errors import DeviceError, EnrolmentError, FaceError
from core.templates.face import unseal
from kiosk.camera.file import read_image
from kiosk.face.detect import make_detector, to_rgb
from kiosk.face.identify import Gallery
from sync.server.admin import ServerAdmin
from sync.server.roster_versions import DLIB_EMBEDDER


def enrol_faces(admin: ServerAdmin, employee_id: str, photos: list[Path]) -> int:
    """Face templates from enrolment photos (exactly one face each), one set per embedder the
    units use (dlib and each of ``face_models``: the photos are not kept, so every embedder's
    template is made now). Returns how many photos."""
    configs = [FaceConfig(), *(m.face_config() for m in admin.config.face_models)]
    for face in configs:
        embedder, encodings = face_encodings_from_photos(photos, face)
        admin.roster.set_faces(employee_id, encodings, embedder=embedder)
    return len(photos)


def face_report(admin: ServerAdmin) -> dict[str, Any]:
    """Per embedder: employees with templates, without, and lookalike pairs (the units' rules)."""
    coverage = admin.roster.face_coverage()
    active = coverage.pop("", 0)
    report: dict[str, Any] = {"active_employees": active, "embedders": []}
    for embedder, count in sorted(coverage.items()):
        rows = admin.roster.face_templates(embedder)
        rules = FaceConfig().rules if embedder == DLIB_EMBEDDER else FaceConfig().model_copy(update={"embedder": "onnx"}).rules
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


def face_encodings_from_photos(photos: list[Path], face: FaceConfig) -> tuple[str, list[bytes]]:
    """(embedder id, float32 little-endian templates) from photos holding exactly one face each,
    by the embedder and detector of ``face``."""
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
