"""Passive texture check: MiniFASNetV2 and MiniFASNetV1SE through onnxruntime.

Each model looks at an enlarged crop around the face (2.7× and 4.0× the box, clamped to the
frame, 80×80 BGR float32 0–255): the border around the face (paper edge, bezel, moiré) is part of
what it judges. The authors sum both models' softmax; we take the mean of the two 'real'
probabilities (the same ranking, kept in [0, 1]) and the median over several frames of one
approach, so one bad frame neither passes nor refuses a person.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import numpy.typing as npt

from core.config import LivenessConfig
from core.errors import LivenessError
from kiosk.liveness.base import Box, CheckScore, CheckSession, FaceSample, LivenessCheck

log = logging.getLogger(__name__)

INPUT_SIZE = 80
#: (config field, crop scale) of each model, as the authors trained them.
MODELS: tuple[tuple[str, float], ...] = (("minifasnet_v2", 2.7), ("minifasnet_v1se", 4.0))


def enlarged_crop(frame: npt.NDArray[np.uint8], box: Box, scale: float, size: int = INPUT_SIZE) -> npt.NDArray[np.uint8]:
    """The box enlarged ``scale``× about its centre, shifted (not cut) to stay inside the frame,
    resized to ``size``×``size``. Follows the authors' ``CropImage._get_new_box``."""
    top, right, bottom, left = box
    height, width = frame.shape[:2]
    box_w, box_h = max(right - left, 1), max(bottom - top, 1)
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = left + box_w / 2, top + box_h / 2
    x0, y0, x1, y1 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x0 < 0:
        x1, x0 = x1 - x0, 0
    if y0 < 0:
        y1, y0 = y1 - y0, 0
    if x1 > width - 1:
        x0, x1 = x0 - (x1 - width + 1), width - 1
    if y1 > height - 1:
        y0, y1 = y0 - (y1 - height + 1), height - 1
    crop = frame[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1]
    return np.asarray(cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def scale_box(box: Box, factor: float) -> Box:
    """The box grown ``factor``× about its centre (not clamped: the crop clamps)."""
    if factor == 1.0:
        return box
    top, right, bottom, left = box
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = (right - left) * factor / 2, (bottom - top) * factor / 2
    return (round(cy - half_h), round(cx + half_w), round(cy + half_h), round(cx - half_w))


def _softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    shifted = logits.astype(np.float64) - logits.max()
    exp = np.exp(shifted)
    probabilities: npt.NDArray[np.float64] = exp / exp.sum()
    return probabilities


class MiniFasNet:
    """Both ONNX models, loaded once; :meth:`real_probability` scores one face."""

    def __init__(self, paths: dict[str, Path], *, threads: int = 1, box_scale: float = 1.0) -> None:
        # late: onnxruntime loads only when this runs
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._models: list[tuple[str, float, Any, str]] = []
        for name, crop_scale in MODELS:
            path = paths[name]
            try:
                session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise LivenessError(
                    f"cannot load the liveness model {path}: {exc}; check liveness.{name} (presensi doctor)"
                ) from exc
            self._models.append((name, crop_scale, session, session.get_inputs()[0].name))
        self.box_scale = box_scale

    def probabilities(self, frame: npt.NDArray[np.uint8], box: Box) -> dict[str, float]:
        """Each model's 'real' probability for the face in ``box``."""
        box = scale_box(box, self.box_scale)
        out = {}
        for name, crop_scale, session, input_name in self._models:
            crop = enlarged_crop(frame, box, crop_scale)
            tensor = crop.astype(np.float32).transpose(2, 0, 1)[np.newaxis]
            logits = session.run(None, {input_name: tensor})[0][0]
            out[name] = float(_softmax(logits)[1])
        return out

    def real_probability(self, frame: npt.NDArray[np.uint8], box: Box) -> float:
        """The two models' mean 'real' probability (the authors' sum, halved)."""
        probs = self.probabilities(frame, box)
        return sum(probs.values()) / len(probs)


def model_paths(config: LivenessConfig) -> tuple[dict[str, Path], list[str]]:
    """(configured paths, problems): a problem per model that is not configured or not a file."""
    paths: dict[str, Path] = {}
    problems = []
    for name, _ in MODELS:
        path = getattr(config, name)
        if path is None:
            problems.append(f"liveness.{name} is not set")
        elif not Path(path).is_file():
            problems.append(f"liveness.{name}: {path} does not exist")
        else:
            paths[name] = Path(path)
    return paths, problems


@dataclass(frozen=True)
class TextureSettings:
    frames: int = 5
    min_frames: int = 3
    threshold: float = 0.5

    @classmethod
    def from_config(cls, config: LivenessConfig) -> TextureSettings:
        return cls(
            frames=config.texture_frames,
            min_frames=min(config.texture_min_frames, config.texture_frames),
            threshold=config.texture_threshold,
        )


class TextureCheck(LivenessCheck):
    type_key: ClassVar[str] = "texture"

    def __init__(self, model: MiniFasNet, settings: TextureSettings) -> None:
        self.model = model
        self.settings = settings

    def new_session(self) -> TextureSession:
        return TextureSession(self)


class TextureSession(CheckSession):
    """Scores the first ``frames`` samples of an approach; the median is the check's score."""

    def __init__(self, check: TextureCheck) -> None:
        self._check = check
        self._scores: list[float] = []

    def add(self, sample: FaceSample) -> None:
        if len(self._scores) >= self._check.settings.frames:
            return
        self._scores.append(self._check.model.real_probability(sample.frame_bgr, sample.box))

    def score(self) -> CheckScore | None:
        if not self._scores:
            return None
        median = statistics.median(self._scores)
        return CheckScore(
            TextureCheck.type_key,
            median,
            confident=len(self._scores) >= self._check.settings.min_frames,
            detail={"frames": float(len(self._scores)), "min": min(self._scores), "max": max(self._scores)},
        )
