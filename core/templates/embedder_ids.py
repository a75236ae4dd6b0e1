"""Which embedder made a face template, named without loading a model: the SHA-256 of its model
file (dlib's from face_recognition_models, or the operator's ONNX file). Templates are only ever
compared with templates of the same embedder; the sync client asks the roster for its embedder's
templates by this id (so it must not load numpy, cv2 or a network to know it)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from core.config import FaceConfig
from core.errors import ConfigError


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The file's SHA-256 (cached while its size and time stay the same)."""
    stat = path.stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


def dlib_model_path() -> Path:
    """dlib's face recognition model as face_recognition_models installs it."""
    # late: face_recognition_models is found through pkg_resources (slow), and only a face unit needs it
    import face_recognition_models

    return Path(face_recognition_models.face_recognition_model_location())


def embedder_id(config: FaceConfig) -> str:
    """The active embedder's id without loading a model (doctor, counts, the roster request)."""
    if config.embedder == "onnx" and config.onnx_model is not None:
        try:
            return file_sha256(config.onnx_model)
        except OSError as exc:
            raise ConfigError(f"face.onnx_model {config.onnx_model} cannot be read ({exc})") from exc
    return file_sha256(dlib_model_path())
