"""What turns a face into a template: one interface (``face.embedder``), two kinds.

- ``dlib`` (built in, the default): dlib's ResNet on a 150×150 chip aligned by dlib's 5-point
  predictor (``kiosk.face.encoder``), 128 values, compared by Euclidean distance.
- ``onnx``: any 112×112 ArcFace-style model the operator gives by path (``face.onnx_model``). The
  face is warped by a similarity transform so that its five points (eye centres, nose tip, mouth
  corners: from YuNet, or from the 68 landmarks) land on the standard ArcFace template; the output
  is L2-normalised, so the Euclidean distance used everywhere is d = √(2 − 2·cos). The input
  contract (names, channel order, layout, normalisation) comes from ``MODEL.json`` beside the model,
  then from the ``face.onnx_*`` fields; a model whose input or output does not fit it is refused
  when it is loaded, never half-used.

Every template records the embedder that made it: its :attr:`EmbedderInfo.id`, the model file's
SHA-256. A gallery only ever holds templates of the active embedder (``kiosk.face.identify``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from core.errors import ConfigError, FaceError
from core.store.roster import LEGACY_EMBEDDER
from core.templates.embedder_ids import dlib_model_path, file_sha256
from core.templates.face import Encoding, as_encoding
from kiosk.face.encoder import CHIP_PADDING, CHIP_SIZE, load_encoder

if TYPE_CHECKING:
    from core.config import FaceConfig
    from kiosk.liveness.base import Box

log = logging.getLogger(__name__)

RGB = npt.NDArray[np.uint8]
#: Five points in image coordinates, in the template's order: the eye on the image's left, the
#: eye on its right, the nose tip, the mouth corner on the left, the one on the right.
Points = npt.NDArray[np.float32]

#: SHA-256 of dlib_face_recognition_resnet_model_v1.dat as face_recognition_models 0.3.0 installs
#: it: the embedder id of every template made before templates recorded theirs (migration 0012).
DLIB_ID = LEGACY_EMBEDDER

ALIGNED_SIZE = 112
#: The standard ArcFace 112×112 template (InsightFace; the MobileFaceNet README's alignment).
ARCFACE_POINTS = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
#: Output sizes accepted from a model: anything outside is not a face embedding.
MIN_DIMENSIONS, MAX_DIMENSIONS = 64, 2048


@dataclass(frozen=True)
class EmbedderInfo:
    kind: str  # "dlib" | "onnx"
    id: str  # SHA-256 of the model file
    label: str  # for people: "dlib" or "onnx mobilefacenet.onnx"
    dimensions: int

    @property
    def short(self) -> str:
        return f"{self.label} ({self.id[:12]})"


class Embedder(Protocol):
    info: EmbedderInfo
    #: Whether :meth:`embed` needs the five points (dlib aligns with its own predictor).
    needs_points: bool

    def embed(self, rgb: RGB, box: Box, points: Points | None) -> Encoding: ...


def five_points(landmarks: Mapping[str, Sequence[tuple[int, int]]]) -> Points:
    """The template's five points from face_recognition's 68 landmarks: the centres of the eyes
    (points 36–41 and 42–47), the nose tip (30) and the mouth corners (48 and 54)."""
    try:
        left_eye = np.mean(np.asarray(landmarks["left_eye"], dtype=np.float32), axis=0)
        right_eye = np.mean(np.asarray(landmarks["right_eye"], dtype=np.float32), axis=0)
        nose = np.asarray(landmarks["nose_bridge"][3], dtype=np.float32)
        lip = landmarks["top_lip"]
        mouth_left, mouth_right = np.asarray(lip[0], dtype=np.float32), np.asarray(lip[6], dtype=np.float32)
    except (KeyError, IndexError) as exc:
        raise FaceError(f"the face's landmarks lack {exc}; no alignment possible") from exc
    return np.stack([left_eye, right_eye, nose, mouth_left, mouth_right]).astype(np.float32)


def align(rgb: RGB, points: Points, size: int = ALIGNED_SIZE) -> RGB:
    """The face warped onto the ArcFace template (a similarity transform fitted to the five points)."""
    src = np.asarray(points, dtype=np.float32).reshape(5, 2)
    dst = ARCFACE_POINTS * (size / ALIGNED_SIZE)
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if matrix is None or not np.all(np.isfinite(matrix)):
        raise FaceError("the face's five points do not fit the alignment template")
    warped = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, dtype=np.uint8)


class DlibEmbedder:
    """dlib's network on dlib's own aligned chip (what face_recognition computes)."""

    needs_points = False

    def __init__(self) -> None:
        path = dlib_model_path()
        self.info = EmbedderInfo("dlib", file_sha256(path), "dlib", 128)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DlibEmbedder({self.info.id[:12]})"

    def embed(self, rgb: RGB, box: Box, points: Points | None = None) -> Encoding:
        # late: dlib loads only when this runs
        import dlib

        from kiosk.face.dlib_models import DLIB_LOCK, five_point_predictor  # dlib loads only for this embedder

        top, right, bottom, left = box
        if right - left < 2 or bottom - top < 2:
            raise FaceError("no encoding could be made of the face")
        with DLIB_LOCK:
            shape = five_point_predictor()(rgb, dlib.rectangle(left, top, right, bottom))
            chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return as_encoding(load_encoder().encode_chip(np.asarray(chip, dtype=np.uint8)))


@dataclass(frozen=True)
class OnnxContract:
    """How a model wants its 112×112 face: tensor names, channel order, layout, normalisation
    ((pixel / 255 − mean) / std per channel)."""

    input_name: str | None = None
    output_name: str | None = None
    colour: str = "RGB"
    layout: str = "NCHW"
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    @classmethod
    def for_model(cls, model: Path, overrides: Mapping[str, Any] | None = None) -> OnnxContract:
        """Defaults, then ``MODEL.json`` beside the model, then ``overrides`` (the config's onnx_* fields)."""
        contract = cls()
        sidecar = model.with_name(model.name + ".json")
        if sidecar.exists():
            try:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ConfigError(f"{sidecar} is not readable JSON ({exc}); fix or remove it") from exc
            contract = contract._with(data, str(sidecar))
        return contract._with(dict(overrides or {}), "face.onnx_*")

    def _with(self, data: Mapping[str, Any], where: str) -> OnnxContract:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: the input contract must be an object with input_name, colour, layout, mean, std")
        unknown = set(data) - {"input_name", "output_name", "colour", "layout", "mean", "std", "size"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))} in the input contract")
        if data.get("size", ALIGNED_SIZE) != ALIGNED_SIZE:
            raise ConfigError(f"{where}: only 112×112 ArcFace-style models are supported, not size {data['size']}")
        values = {k: v for k, v in data.items() if v is not None and k != "size"}
        if values.get("colour", "RGB") not in ("RGB", "BGR") or values.get("layout", "NCHW") not in ("NCHW", "NHWC"):
            raise ConfigError(f"{where}: colour must be RGB or BGR and layout NCHW or NHWC")
        for key in ("mean", "std"):
            if key in values:
                triple = values[key]
                if not (isinstance(triple, Sequence) and len(triple) == 3 and all(isinstance(x, int | float) for x in triple)):
                    raise ConfigError(f"{where}: {key} must be three numbers")
                if key == "std" and any(x == 0 for x in triple):
                    raise ConfigError(f"{where}: std must not be 0")
                values[key] = tuple(float(x) for x in triple)
        return replace(self, **values)


class OnnxEmbedder:
    """An ArcFace-style model through onnxruntime, checked against its contract when loaded."""

    needs_points = True

    def __init__(self, path: Path, contract: OnnxContract, *, flip: bool = False, threads: int = 1) -> None:
        # late: onnxruntime loads only when this runs
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"face.onnx_model {path} does not exist; install a model file (docs/install.md)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ConfigError(f"cannot load the face model {path}: {exc}; check face.onnx_model") from exc
        self.contract = contract
        self.flip = flip
        self._input = self._pick(self._session.get_inputs(), contract.input_name, "input", path)
        self._output = self._pick(self._session.get_outputs(), contract.output_name, "output", path)
        shape = list(self._input.shape)
        want = [3, ALIGNED_SIZE, ALIGNED_SIZE] if contract.layout == "NCHW" else [ALIGNED_SIZE, ALIGNED_SIZE, 3]
        if len(shape) != 4 or [d if isinstance(d, int) else None for d in shape[1:]] != want:
            raise ConfigError(
                f"the face model {path.name} takes {shape}, not [N, {', '.join(map(str, want))}] ({contract.layout}); "
                "it is not a 112×112 ArcFace-style model, or its layout is set wrong (MODEL.json / face.onnx_layout)"
            )
        if "float" not in self._input.type:
            raise ConfigError(f"the face model {path.name} takes {self._input.type}, not float32")
        self._mean = np.asarray(contract.mean, dtype=np.float32)
        self._std = np.asarray(contract.std, dtype=np.float32)
        probe = self._run(np.full((ALIGNED_SIZE, ALIGNED_SIZE, 3), 128, dtype=np.uint8))
        if probe.ndim != 1 or not MIN_DIMENSIONS <= probe.size <= MAX_DIMENSIONS:
            raise ConfigError(
                f"the face model {path.name} answers {self._output.name} with shape {list(probe.shape)}: "
                f"not one embedding of {MIN_DIMENSIONS}–{MAX_DIMENSIONS} values"
            )
        self.info = EmbedderInfo("onnx", file_sha256(path), f"onnx {path.name}", int(probe.size))
        log.info("face embedder: %s, %d values", self.info.short, self.info.dimensions)

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.info.short})"

    @staticmethod
    def _pick(items: Sequence[Any], name: str | None, what: str, path: Path) -> Any:
        if name is None:
            if len(items) != 1:
                names = ", ".join(i.name for i in items)
                raise ConfigError(f"the face model {path.name} has {len(items)} {what}s ({names}); name one in MODEL.json")
            return items[0]
        for item in items:
            if item.name == name:
                return item
        names = ", ".join(i.name for i in items)
        raise ConfigError(f"the face model {path.name} has no {what} {name!r} (it has {names}); fix MODEL.json")

    def _run(self, face: RGB) -> npt.NDArray[np.float32]:
        pixels = face if self.contract.colour == "RGB" else face[:, :, ::-1]
        x = (pixels.astype(np.float32) / np.float32(255.0) - self._mean) / self._std
        if self.contract.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        tensor = np.ascontiguousarray(x[np.newaxis], dtype=np.float32)
        try:
            out = self._session.run([self._output.name], {self._input.name: tensor})[0]
        except Exception as exc:  # onnxruntime's own errors
            raise FaceError(f"the face model failed on a face: {exc}") from exc
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def embed_aligned(self, face: RGB) -> Encoding:
        vector = self._run(face)
        if self.flip:
            vector = vector + self._run(np.ascontiguousarray(face[:, ::-1]))
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm == 0.0:
            raise FaceError("the face model gave an empty template for this face")
        return as_encoding(vector / norm, self.info.dimensions)

    def embed(self, rgb: RGB, box: Box, points: Points | None) -> Encoding:
        if points is None:
            raise FaceError("the ONNX embedder needs the face's five points")
        return self.embed_aligned(align(rgb, points))


def onnx_overrides(config: FaceConfig) -> dict[str, Any]:
    return {
        "input_name": config.onnx_input_name,
        "output_name": config.onnx_output_name,
        "colour": config.onnx_colour,
        "layout": config.onnx_layout,
        "mean": config.onnx_mean,
        "std": config.onnx_std,
    }


_LOADED: dict[tuple[Any, ...], Embedder] = {}
_LOADED_LOCK = threading.Lock()


def load_embedder(config: FaceConfig) -> Embedder:
    """The configured embedder, loaded once per process and configuration; ConfigError when the
    model cannot be used (what is wrong and what to change)."""
    if config.embedder == "dlib":
        key: tuple[Any, ...] = ("dlib",)
    else:
        assert config.onnx_model is not None  # the config refuses onnx without a model
        key = ("onnx", str(config.onnx_model), tuple(sorted(onnx_overrides(config).items())), config.onnx_flip)
    with _LOADED_LOCK:
        if key not in _LOADED:
            if config.embedder == "dlib":
                _LOADED[key] = DlibEmbedder()
            else:
                assert config.onnx_model is not None
                contract = OnnxContract.for_model(config.onnx_model, onnx_overrides(config))
                _LOADED[key] = OnnxEmbedder(config.onnx_model, contract, flip=config.onnx_flip)
        return _LOADED[key]


def embedder_label(config: FaceConfig) -> str:
    return "dlib" if config.embedder == "dlib" else f"onnx {Path(config.onnx_model or '').name}"
