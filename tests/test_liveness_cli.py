"""``presensi liveness FILE --json``, the doctor check and ``presensi bench liveness`` end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from core.config import KioskConfig, LivenessConfig
from core.runtime import Runtime
from kiosk.checks.findings import Status


def test_liveness_command_judges_a_genuine_image(
    presensi_cmd: list[str], faces_dir: Path, models_dir: Path, tmp_path: Path
) -> None:
    def judge(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [*presensi_cmd, "liveness", str(faces_dir / "obama-480p.jpg"), "--json", *extra]
        command += ["--models", str(models_dir / "minifasnet"), "--data-dir", str(tmp_path)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    # In the default ('always') a still must answer the challenge on both paths, and cannot.
    for path in ((), ("--card-then-face",)):
        out = judge(*path)
        refused = json.loads(out.stdout)
        assert out.returncode == 1 and refused["verdict"] != "live" and refused["prompt"], out.stdout
    # mode 'face_only' lets a card vouch: the confident passive checks decide alone
    out = judge("--card-then-face", "--challenge", "face_only")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["verdict"] == "live" and report["one_to_one"] is True
    assert report["frames_with_face"] >= 3
    assert {"texture", "cues", "cues_moire_peak_db", "cues_glare_area", "cues_border_sides"} <= set(report["scores"])


def test_liveness_command_refuses_a_printed_photo(
    presensi_cmd: list[str], faces_dir: Path, models_dir: Path, tmp_path: Path
) -> None:
    import random

    import cv2

    from kiosk.liveness import attacks
    from kiosk.liveness.harness import detect

    frame = cv2.imread(str(faces_dir / "test" / "obama1.jpg"))
    shot = attacks.print_attack(frame, detect(frame)[0], random.Random(4))
    image = tmp_path / "print.png"
    cv2.imwrite(str(image), shot.frame)
    out = subprocess.run(
        [
            *presensi_cmd,
            "liveness",
            str(image),
            "--json",
            "--models",
            str(models_dir / "minifasnet"),
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["verdict"] == "spoof" and report["reason"]


def _doctor(config: LivenessConfig, tmp_path: Path) -> list:  # type: ignore[type-arg]
    from kiosk.checks.liveness import liveness_models

    return liveness_models(Runtime(config=KioskConfig(liveness=config), data_dir=tmp_path))


def test_doctor_reports_models(models_dir: Path, tmp_path: Path) -> None:
    folder = models_dir / "minifasnet"
    ok = _doctor(
        LivenessConfig(minifasnet_v2=folder / "MiniFASNetV2.onnx", minifasnet_v1se=folder / "MiniFASNetV1SE.onnx"), tmp_path
    )
    assert ok[0].status is Status.OK
    missing = _doctor(LivenessConfig(), tmp_path)
    assert missing[0].status is Status.FAIL and "refused" in missing[0].detail and "allow_challenge_only" in missing[0].todo
    allowed = _doctor(LivenessConfig(allow_challenge_only=True), tmp_path)
    assert allowed[0].status is Status.WARN and "challenge alone" in allowed[0].detail
