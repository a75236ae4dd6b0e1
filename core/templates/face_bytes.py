"""A face template as bytes: its size, its check, and its sealing at rest, without numpy.

A template is one embedder's face encoding: dlib's 128 values, or an ONNX model's 64–2048, as
float32 little-endian. In the database (``face_templates.encoding``) it is sealed with the unit's
key (:mod:`core.privacy`, ``scheme = 'aesgcm-v1'``) and bound to its employee, so a template moved
to another employee's row fails to open; without a key (a bare test database) it is stored plain
with ``scheme = 'plain'``. The sync client applies a roster through these functions, so it never
loads numpy; :mod:`core.templates.face` turns the bytes into vectors for the face pipeline.
Templates are biometric data: never log them.
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

from core.errors import FaceError
from core.privacy.seal import SCHEME as SEALED
from core.privacy.seal import TemplateKeyError

if TYPE_CHECKING:
    from core.privacy.seal import Sealer

DIMENSIONS = 128  # dlib's
MIN_DIMENSIONS, MAX_DIMENSIONS = 64, 2048
PLAIN = "plain"
VALUE_BYTES = 4  # float32
TEMPLATE_BYTES = DIMENSIONS * VALUE_BYTES


def context(employee_id: str) -> str:
    """What a sealed face template is bound to (the AEAD's associated data)."""
    return f"face_templates:{employee_id}"


def check_raw(raw: bytes) -> bytes:
    """``raw`` when it is a template (64–2048 finite float32 little-endian values); FaceError otherwise."""
    if len(raw) % VALUE_BYTES or not MIN_DIMENSIONS <= len(raw) // VALUE_BYTES <= MAX_DIMENSIONS:
        raise FaceError(f"a stored face template has {len(raw)} bytes, not a template; re-enrol the employee")
    if not all(math.isfinite(v) for v in struct.unpack(f"<{len(raw) // VALUE_BYTES}f", raw)):
        raise FaceError("a face template holds a NaN or infinite value; enrol the person again")
    return raw


def seal_raw(raw: bytes, *, employee_id: str = "", sealer: Sealer | None = None) -> tuple[bytes, str]:
    """The stored form of the template ``raw`` for ``employee_id``: (bytes, scheme); plain without a sealer."""
    check_raw(raw)
    if sealer is None:
        return raw, PLAIN
    if not employee_id:
        raise ValueError("a sealed face template must name its employee")
    return sealer.seal(raw, context(employee_id)), SEALED


def open_raw(blob: bytes, scheme: str, *, employee_id: str = "", sealer: Sealer | None = None) -> bytes:
    """The template bytes stored as ``blob`` under ``scheme``; FaceError when it cannot be read,
    TemplateKeyError when it is sealed and this unit's key cannot open it."""
    if scheme == SEALED:
        if sealer is None:
            raise TemplateKeyError(
                "a face template is sealed but this unit has no template key; check [privacy] (presensi doctor)"
            )
        blob = sealer.open(bytes(blob), context(employee_id))
    elif scheme != PLAIN:
        raise FaceError(f"face template scheme {scheme!r} is not supported by this version; update the kiosk software")
    return check_raw(bytes(blob))
