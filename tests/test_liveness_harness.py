"""A short run of the attack harness (the bench runs the full held-out split)."""

from __future__ import annotations

from pathlib import Path

import cv2

from core.config import LivenessConfig
from kiosk.liveness.harness import Source, detect, evaluate


def test_harness_reports_apcer_and_bpcer_on_one_source(faces_dir: Path, models_dir: Path) -> None:
    folder = models_dir / "minifasnet"
    config = LivenessConfig(minifasnet_v2=folder / "MiniFASNetV2.onnx", minifasnet_v1se=folder / "MiniFASNetV1SE.onnx")
    frame = cv2.imread(str(faces_dir / "two_people.jpg"))
    box = max(detect(frame), key=lambda b: b[1] - b[3])
    source = Source("two_people.jpg#0", (frame,), (box,), "holdout")
    summary = evaluate(config, [source], frames=4, attacks_per_source=1, motion_frames=6).summary()
    assert summary["bpcer_pct"] == 0.0
    for kind in ("print", "screen", "flat_motion_flat", "flat_motion_vertical", "flat_motion_horizontal"):
        assert summary[f"n_{kind}"] == 1
        assert summary[f"apcer_{kind}_pct"] == 0.0, kind
    assert summary["apcer_worst_pct"] == 0.0
    assert summary["passive_cpu_ms_median"] > 0
