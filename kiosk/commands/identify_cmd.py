"""``presensi identify PHOTO [--json]``: who the faces in a photo are, against this unit's gallery."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "identify",
        help="identify the faces in a photo against the enrolled templates (best match, distance, margin)",
        parents=[common],
    )
    parser.add_argument("photo", type=Path, help="a photo (JPEG or PNG)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def identify_photo(runtime: Any, photo: Path) -> dict[str, Any]:
    """Every face in ``photo``, largest first, with the gallery's verdict on it."""
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.camera.file import read_image
    from kiosk.face.detect import make_detector, to_rgb
    from kiosk.face.identify import unit_gallery

    config = runtime.config.face
    rules = config.rules
    gallery = unit_gallery(runtime.store().conn, config)
    detector = make_detector(config, scale=1.0)
    rgb = to_rgb(read_image(photo))
    faces = []
    for box in detector.detect(rgb):
        match = gallery.identify(detector.encode(rgb, box), threshold=rules.threshold, margin=rules.margin)
        faces.append({"box": {"top": box[0], "right": box[1], "bottom": box[2], "left": box[3]}, **match.as_dict()})
    best = faces[0] if faces else None
    return {
        "photo": str(photo),
        "gallery_templates": len(gallery),
        "gallery_employees": gallery.employee_count,
        "embedder": detector.embedder.info.short,
        "threshold": rules.threshold,
        "margin_required": rules.margin,
        "result": "no_face" if best is None else ("match" if best["accepted"] else "unknown"),
        "employee_id": best["employee_id"] if best else None,
        "name": best["name"] if best else None,
        "distance": best["distance"] if best else None,
        "margin": best["margin"] if best else None,
        "faces": faces,
    }


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.errors import FaceError
    from kiosk.commands._runtime import make_runtime

    if not args.photo.is_file():
        raise FaceError(f"{args.photo} does not exist; give a JPEG or PNG photo")
    runtime = make_runtime(args)
    try:
        report = identify_photo(runtime, args.photo)
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(report))
        return 0
    if not report["faces"]:
        print(f"{args.photo}: no face found")
    for i, face in enumerate(report["faces"], 1):
        who = f"{face['employee_id']} ({face['name']})" if face["accepted"] else f"unknown ({face['reason']})"
        print(f"face {i}: {who}  distance={face['distance']}  margin={face['margin']}  nearest={face['nearest_employee_id']}")
    return 0
