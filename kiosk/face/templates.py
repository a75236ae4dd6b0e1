"""The one place where a face template becomes bytes and back.

A template is one embedder's face encoding (``kiosk.face.embedders``): dlib's 128 values, or an
ONNX model's 64–2048, as float32 little-endian; ``face_templates.embedder`` names the embedder. In the database (``face_templates.encoding``) it is sealed with the unit's key
(:mod:`kiosk.privacy`, ``scheme = 'aesgcm-v1'``) and bound to its employee, so a template moved
to another employee's row fails to open; without a key (a bare test database) it is stored as
the 512 bytes with ``scheme = 'plain'``. Every reader and writer of that column goes through
:func:`seal` and :func:`unseal`. Templates are biometric data: never log them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kiosk.errors import FaceError
from kiosk.privacy.seal import SCHEME as SEALED
from kiosk.privacy.seal import TemplateKeyError

if TYPE_CHECKING:
    from kiosk.privacy.seal import Sealer

DIMENSIONS = 128  # dlib's
MIN_DIMENSIONS, MAX_DIMENSIONS = 64, 2048
PLAIN = "plain"
_DTYPE = np.dtype("<f4")
TEMPLATE_BYTES = DIMENSIONS * _DTYPE.itemsize

Encoding = npt.NDArray[np.float32]


def as_encoding(values: npt.ArrayLike, dimensions: int | None = DIMENSIONS) -> Encoding:
    """``values`` as a finite float32 vector of ``dimensions`` values (None: any size an embedder
    may give); FaceError otherwise."""
    vector = np.asarray(values, dtype=np.float32).reshape(-1)
    if dimensions is None:
        if not MIN_DIMENSIONS <= vector.size <= MAX_DIMENSIONS:
            raise FaceError(f"a face template has {MIN_DIMENSIONS}–{MAX_DIMENSIONS} values, not {vector.size}")
    elif vector.shape != (dimensions,):
        raise FaceError(f"a face template has {dimensions} values, not {vector.size}")
    if not np.all(np.isfinite(vector)):
        raise FaceError("a face template holds a NaN or infinite value; enrol the person again")
    return vector


def context(employee_id: str) -> str:
    """What a sealed face template is bound to (the AEAD's associated data)."""
    return f"face_templates:{employee_id}"


def seal(encoding: npt.ArrayLike, *, employee_id: str = "", sealer: Sealer | None = None) -> tuple[bytes, str]:
    """The stored form of ``encoding`` for ``employee_id``: (bytes, scheme); plain without a sealer."""
    raw = as_encoding(encoding, None).astype(_DTYPE).tobytes()
    if sealer is None:
        return raw, PLAIN
    if not employee_id:
        raise ValueError("a sealed face template must name its employee")
    return sealer.seal(raw, context(employee_id)), SEALED


def unseal(blob: bytes, scheme: str, *, employee_id: str = "", sealer: Sealer | None = None) -> Encoding:
    """The encoding stored as ``blob`` under ``scheme``; FaceError when it cannot be read,
    TemplateKeyError when it is sealed and this unit's key cannot open it."""
    if scheme == SEALED:
        if sealer is None:
            raise TemplateKeyError(
                "a face template is sealed but this unit has no template key; check [privacy] (presensi doctor)"
            )
        blob = sealer.open(bytes(blob), context(employee_id))
    elif scheme != PLAIN:
        raise FaceError(f"face template scheme {scheme!r} is not supported by this version; update the kiosk software")
    if len(blob) % _DTYPE.itemsize or not MIN_DIMENSIONS <= len(blob) // _DTYPE.itemsize <= MAX_DIMENSIONS:
        raise FaceError(f"a stored face template has {len(blob)} bytes, not a template; re-enrol the employee")
    return as_encoding(np.frombuffer(blob, dtype=_DTYPE), None)
