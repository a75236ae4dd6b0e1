"""The development models beside the repository (``../shared/models``), for the demo, the tests
and measurement only: MobileFaceNet (its weights' rights are unclear, so the product and the image
never bundle it) and YuNet. A user's clone has none: callers then say so and use dlib and HOG.

The MobileFaceNet export has no sidecar file; its input contract (from its README: input0,
RGB NCHW, ImageNet mean and std, output0) is given here as configuration fields.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import kiosk

MOBILEFACENET = Path("face-embedding") / "mobilefacenet.onnx"
YUNET = Path("yunet") / "face_detection_yunet_2023mar.onnx"
MOBILEFACENET_CONTRACT: dict[str, Any] = {
    "onnx_input_name": "input0",
    "onnx_output_name": "output0",
    "onnx_colour": "RGB",
    "onnx_layout": "NCHW",
    "onnx_mean": (0.485, 0.456, 0.406),
    "onnx_std": (0.229, 0.224, 0.225),
}


def shared_models() -> Path:
    """``$PRESENSI_SHARED/models``, else ``../shared/models`` beside the repository."""
    shared = os.environ.get("PRESENSI_SHARED")
    root = Path(shared) if shared else Path(kiosk.__file__).resolve().parents[2] / "shared"
    return root / "models"


def onnx_settings(models: Path | None = None) -> dict[str, Any] | None:
    """``face`` settings for the shared MobileFaceNet (embedder, model, contract); None without it."""
    path = (models or shared_models()) / MOBILEFACENET
    return {"embedder": "onnx", "onnx_model": path, **MOBILEFACENET_CONTRACT} if path.is_file() else None


def yunet_settings(models: Path | None = None) -> dict[str, Any] | None:
    """``face`` settings for the shared YuNet; None without it."""
    path = (models or shared_models()) / YUNET
    return {"detector": "yunet", "yunet_model": path} if path.is_file() else None
