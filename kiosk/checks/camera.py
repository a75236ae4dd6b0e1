"""Doctor checks of the camera and the face gallery."""

from __future__ import annotations

import importlib.util

from kiosk.doctor import Finding, Status, check
from kiosk.errors import ConfigError, PresensiError
from kiosk.runtime import Runtime


@check
def camera_driver(rt: Runtime) -> list[Finding]:
    """picamera2 must be importable when configured (the v4l2 node and file path are checked by the core)."""
    cfg = rt.config
    if cfg.unit.hardware == "sim" or cfg.camera.source != "picamera2":
        return []
    if importlib.util.find_spec("picamera2") is None:
        return [
            Finding(
                "camera",
                Status.FAIL,
                "camera.source is 'picamera2' but picamera2 is not installed",
                "apt install python3-picamera2 (Raspberry Pi OS), or set camera.source = 'v4l2'",
            )
        ]
    return [Finding("camera", Status.OK, "picamera2 available")]


@check
def face_encoder(rt: Runtime) -> list[Finding]:
    """The face encodings run dlib's network through numpy (kiosk.face.encoder), not dlib's slower code."""
    if not rt.config.face.enabled or importlib.util.find_spec("face_recognition_models") is None:
        return []  # face_gallery reports both
    from kiosk.face.encoder import ResnetEncoder, model_path

    try:
        encoder = ResnetEncoder(model_path())
    except ConfigError as exc:
        return [Finding("face encoder", Status.WARN, f"{exc}; encodings use dlib's own code, several times slower")]
    return [Finding("face encoder", Status.OK, f"dlib's face network through numpy ({encoder!r})")]


@check
def face_gallery(rt: Runtime) -> list[Finding]:
    """The face models load and every stored template of an active employee can be read."""
    if not rt.config.face.enabled:
        return [Finding("face gallery", Status.OK, "face punching is off (face.enabled = false)")]
    if importlib.util.find_spec("face_recognition") is None or importlib.util.find_spec("face_recognition_models") is None:
        return [
            Finding("face models", Status.FAIL, "face_recognition or its models are not installed", "reinstall the kiosk package")
        ]
    if not rt.db_path.exists():
        return [
            Finding("face gallery", Status.WARN, "no database yet", "start the kiosk once, then enrol faces (presensi enroll)")
        ]
    from kiosk.face.identify import Gallery
    from kiosk.store.db import open_database

    conn = open_database(rt.db_path, busy_timeout_ms=rt.config.store.busy_timeout_ms)
    try:
        gallery = Gallery.from_database(conn)
    except PresensiError as exc:
        return [Finding("face gallery", Status.FAIL, str(exc), "re-enrol the employees named, or pull the roster again")]
    finally:
        conn.close()
    if not len(gallery):
        return [
            Finding(
                "face gallery", Status.WARN, "no faces enrolled", "enrol faces: presensi enroll --employee ID --name NAME PHOTO"
            )
        ]
    return [Finding("face gallery", Status.OK, f"{len(gallery)} templates of {gallery.employee_count} active employees")]
