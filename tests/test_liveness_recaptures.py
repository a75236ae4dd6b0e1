"""Real recaptures (Replay-Attack devel frames from ../shared/testdata/pad; never copied here):
the prints that the passive checks score >= 0.9 punched with the former default ('auto', passive
alone) and are refused with the default ('face_only': every face-only punch answers the
challenge), while live faces still pass (issue 18)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from core.config import LivenessConfig
from kiosk.liveness import recaptures
from kiosk.liveness.base import Verdict
from kiosk.liveness.texture import MiniFasNet, model_paths


@pytest.fixture(scope="module")
def pad_root(shared_dir: Path) -> Path:
    root = shared_dir / "testdata" / "pad" / "replay-attack"
    if not (root / "devel").is_dir():
        pytest.skip(f"needs the Replay-Attack frames at {root} (../shared/testdata/pad)")
    return root


@pytest.fixture(scope="module")
def config(models_dir: Path) -> LivenessConfig:
    folder = models_dir / "minifasnet"
    return LivenessConfig(minifasnet_v2=folder / "MiniFASNetV2.onnx", minifasnet_v1se=folder / "MiniFASNetV1SE.onnx")


@pytest.fixture(scope="module")
def devel(pad_root: Path) -> list[recaptures.PadFrame]:
    return recaptures.load_split(pad_root, "devel")


def test_file_names_say_the_attack() -> None:
    assert recaptures.kind_of(Path("devel/attack/hand/attack_print_client1_session01_highdef_photo_adverse.jpg")) == "print"
    assert (
        recaptures.kind_of(Path("devel/attack/fixed/attack_highdef_client1_session01_highdef_video_adverse.jpg"))
        == "tablet_video"
    )
    assert recaptures.kind_of(Path("devel/attack/hand/attack_mobile_client1_session01_mobile_photo_adverse.jpg")) == "phone_photo"
    assert recaptures.kind_of(Path("devel/real/none/client003_session01_webcam_authenticate_adverse_1.jpg")) == "genuine"


def test_confident_prints_punched_before_and_are_refused_now(config: LivenessConfig, devel: list[recaptures.PadFrame]) -> None:
    paths, problems = model_paths(config)
    assert not problems
    model = MiniFasNet(paths, threads=1, box_scale=config.texture_box_scale)
    confident = [p for p in devel if p.kind == "print" and p.box is not None and model.real_probability(p.frame, p.box) >= 0.9]
    assert len(confident) >= 5, "the devel split has prints the texture model scores >= 0.9"
    former = config.model_copy(update=recaptures.FORMER_DEFAULTS)
    before = recaptures.evaluate(former, confident)
    assert sum(o.verdict is Verdict.LIVE for o in before) >= len(confident) // 2  # the former default punched them
    now = recaptures.evaluate(config, confident)
    assert all(o.asked for o in now)
    assert [o.name for o in now if o.verdict is Verdict.LIVE] == []


def test_live_faces_pass_the_challenge(config: LivenessConfig, devel: list[recaptures.PadFrame]) -> None:
    live = [p for p in devel if p.kind == "genuine"]
    outcomes = recaptures.evaluate(config, live)
    refused = [o.name for o in outcomes if o.verdict is not Verdict.LIVE]
    # Measured: 3–5 of 60 (5.0–8.3 %, by the random draw of how far each person turns, 15–35°):
    # two faces in adverse light that the texture model refuses, the rest turns under 20°. The
    # target of 5 % is not met with margin (docs/liveness.md); this guards against getting worse.
    assert len(refused) <= 0.10 * len(live), refused
    assert all(o.asked for o in outcomes)


def test_bench_says_why_without_the_frames(tmp_path: Path, config: LivenessConfig) -> None:
    from kiosk.bench.liveness import _real_recaptures

    out = _real_recaptures(config, argparse.Namespace(pad=tmp_path / "absent", pad_splits="devel", seed=7))
    assert "../shared is absent" in out["replay_attack_devel"]["skipped"]
