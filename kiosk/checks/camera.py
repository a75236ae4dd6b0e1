"""Doctor checks of the camera and the face gallery."""

from __future__ import annotations

import importlib.util

from core.errors import ConfigError, PresensiError
from core.runtime import Runtime
from kiosk.checks.findings import Finding, Status, check


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
    # late: the face models load only when doctor checks the camera
    from core.templates.embedder_ids import dlib_model_path as model_path
    from kiosk.face.encoder import ResnetEncoder

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
    # late: the face models load only when doctor checks the camera
    from core.store.db import open_database
    from core.store.roster import template_coverage
    from kiosk.face.embedders import embedder_label
    from kiosk.face.identify import unit_gallery

    face = rt.config.face
    conn = open_database(rt.db_path, busy_timeout_ms=rt.config.store.busy_timeout_ms)
    try:
        gallery = unit_gallery(conn, face)
        assert gallery.embedder is not None
        coverage = template_coverage(conn, gallery.embedder)
    except PresensiError as exc:
        return [Finding("face gallery", Status.FAIL, str(exc), "re-enrol the employees named, or pull the roster again")]
    finally:
        conn.close()
    label = embedder_label(face)
    findings = []
    if coverage.other_embedder_only:
        findings.append(
            Finding(
                "face templates",
                Status.WARN,
                f"{coverage.other_embedder_only} of {coverage.active} active employees have templates only of another "
                f"embedder, not of the active one ({label}): their faces are not recognised",
                "enrol them again (photos are never kept), or pull the roster from a server that holds their templates "
                "for this model",
            )
        )
    if gallery.lookalikes:
        pairs = ", ".join(f"{a}~{b} ({d:.2f})" for (a, b), d in sorted(gallery.lookalikes.items(), key=lambda x: x[1])[:5])
        findings.append(
            Finding(
                "face lookalikes",
                Status.WARN,
                f"{len(gallery.lookalikes)} pair(s) of employees closer than {face.rules.lookalike:g}: {pairs}; "
                "they punch by card then face",
                "re-enrol them with good frontal photos; if they stay listed, they keep card then face",
            )
        )
    if face.embedder == "dlib" and gallery.employee_count > 200:
        findings.append(
            Finding(
                "face embedder",
                Status.WARN,
                f"{gallery.employee_count} employees on dlib's network, which separates Asian faces less well "
                "(docs/face.md): expect lookalikes and refusals as the gallery grows",
                "configure an ONNX ArcFace-style model you have the rights to (face.embedder = 'onnx', docs/install.md)",
            )
        )
    if not len(gallery):
        return [
            *findings,
            Finding(
                "face gallery",
                Status.WARN,
                f"no faces enrolled for the active embedder ({label})",
                "enrol faces: presensi enroll --employee ID --name NAME PHOTO",
            ),
        ]
    return [
        *findings,
        Finding(
            "face gallery",
            Status.OK,
            f"{len(gallery)} templates of {gallery.employee_count} active employees ({label}); "
            f"{coverage.without_template} of {coverage.active} active employees without a face template",
        ),
    ]


@check
def face_models(rt: Runtime) -> list[Finding]:
    """The configured embedder and detector models load and fit their contracts."""
    face = rt.config.face
    if not face.enabled or (face.embedder == "dlib" and face.detector == "hog"):
        return []
    # late: the face models load only when doctor checks the camera
    from kiosk.face.detect import make_detector

    try:
        detector = make_detector(face)
    except PresensiError as exc:
        return [Finding("face models", Status.FAIL, str(exc), "fix face.onnx_model / face.yunet_model (docs/install.md)")]
    return [Finding("face models", Status.OK, f"{detector!r}")]
