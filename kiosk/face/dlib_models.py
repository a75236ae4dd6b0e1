"""dlib through face_recognition: the one process-wide lock and the models it loads once.

face_recognition keeps one dlib detector, shape predictor and encoder for the whole process; the
detector (:mod:`kiosk.face.detect`) and the dlib embedder (:mod:`kiosk.face.embedders`) share them
through this module, so neither imports the other for them.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from core.errors import FaceError

#: face_recognition keeps one dlib detector, shape predictor and encoder for the whole process, and
#: dlib's detector is not safe to call from two threads at once (it keeps scratch buffers in the
#: object: two callers corrupt the heap). Every call goes through this lock; the face service is
#: the only steady caller, so it costs nothing there, and an enrolment or the demo's video
#: tracker waits its turn instead of crashing the kiosk.
DLIB_LOCK = threading.Lock()


@functools.cache
def face_recognition_module() -> Any:
    """face_recognition, imported once on first use (it loads its models at import, ~1 s)."""
    try:
        # late: face_recognition loads only when this runs
        import face_recognition
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise FaceError(
            "face_recognition is not installed; reinstall the kiosk package (it needs dlib-bin and face-recognition-models)"
        ) from exc
    return face_recognition


def five_point_predictor() -> Any:
    """dlib's 5-point shape predictor, which aligns the chip for the encoder."""
    # late: dlib loads only when this runs
    import dlib

    # late: face_recognition_models loads only when this runs
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
