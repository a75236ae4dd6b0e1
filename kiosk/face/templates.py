"""The one place where a face template becomes bytes and back.

A template is dlib's 128-dimensional face encoding. In the database (``face_templates.encoding``)
it is stored as 128 float32 little-endian values (512 bytes) with ``scheme = 'plain'``. Every
reader and writer of that column goes through :func:`seal` and :func:`unseal`, so that sealing
(encryption at rest, the privacy issue) is added here and nowhere else. Templates are biometric
data: never log them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kiosk.errors import FaceError

DIMENSIONS = 128
PLAIN = "plain"
_DTYPE = np.dtype("<f4")
TEMPLATE_BYTES = DIMENSIONS * _DTYPE.itemsize

Encoding = npt.NDArray[np.float32]


def as_encoding(values: npt.ArrayLike) -> Encoding:
    """``values`` as a finite (128,) float32 vector; FaceError otherwise."""
    vector = np.asarray(values, dtype=np.float32).reshape(-1)
    if vector.shape != (DIMENSIONS,):
        raise FaceError(f"a face template has {DIMENSIONS} values, not {vector.size}")
    if not np.all(np.isfinite(vector)):
        raise FaceError("a face template holds a NaN or infinite value; enrol the person again")
    return vector


def seal(encoding: npt.ArrayLike) -> tuple[bytes, str]:
    """The stored form of ``encoding``: (bytes, scheme)."""
    return as_encoding(encoding).astype(_DTYPE).tobytes(), PLAIN


def unseal(blob: bytes, scheme: str) -> Encoding:
    """The encoding stored as ``blob`` under ``scheme``; FaceError when it cannot be read."""
    if scheme != PLAIN:
        raise FaceError(f"face template scheme {scheme!r} is not supported by this version; update the kiosk software")
    if len(blob) != TEMPLATE_BYTES:
        raise FaceError(f"a stored face template has {len(blob)} bytes, not {TEMPLATE_BYTES}; re-enrol the employee")
    return as_encoding(np.frombuffer(blob, dtype=_DTYPE))
