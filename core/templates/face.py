"""The one place where a face template becomes a vector and back.

The bytes, their check and their sealing are :mod:`core.templates.face_bytes` (numpy-free, for the
sync client); this module turns them into the float32 vectors the face pipeline compares. Every
reader and writer of ``face_templates.encoding`` goes through :func:`seal` and :func:`unseal` (or
their byte forms). Templates are biometric data: never log them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.errors import FaceError
from core.templates.face_bytes import DIMENSIONS, MAX_DIMENSIONS, MIN_DIMENSIONS, PLAIN, TEMPLATE_BYTES, open_raw, seal_raw

if TYPE_CHECKING:
    from core.privacy.seal import Sealer

__all__ = [
    "DIMENSIONS",
    "MAX_DIMENSIONS",
    "MIN_DIMENSIONS",
    "PLAIN",
    "TEMPLATE_BYTES",
    "Encoding",
    "as_encoding",
    "seal",
    "unseal",
]

_DTYPE = np.dtype("<f4")

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


def seal(encoding: npt.ArrayLike, *, employee_id: str = "", sealer: Sealer | None = None) -> tuple[bytes, str]:
    """The stored form of ``encoding`` for ``employee_id``: (bytes, scheme); plain without a sealer."""
    return seal_raw(as_encoding(encoding, None).astype(_DTYPE).tobytes(), employee_id=employee_id, sealer=sealer)


def unseal(blob: bytes, scheme: str, *, employee_id: str = "", sealer: Sealer | None = None) -> Encoding:
    """The encoding stored as ``blob`` under ``scheme``; FaceError when it cannot be read,
    TemplateKeyError when it is sealed and this unit's key cannot open it."""
    return as_encoding(np.frombuffer(open_raw(blob, scheme, employee_id=employee_id, sealer=sealer), dtype=_DTYPE), None)
