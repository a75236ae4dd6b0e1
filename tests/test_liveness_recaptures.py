"""Real recaptures (Replay-Attack devel frames from ../shared/testdata/pad; never copied here):
the prints that the passive checks score >= 0.9 punched with the former defaults ('auto', passive
alone; then 'face_only', passive alone for a face confirming a card) and are refused with the
default ('always': every face punch answers the challenge, with or without a card), while live
faces still pass (issue 18)."""

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


@pytest.fixture(scope="module")
def confident_prints(config: LivenessConfig, devel: list[recaptures.PadFrame]) -> list[recaptures.PadFrame]:
    """The devel prints the texture model scores >= 0.9 (13 of 60 when measured)."""
    paths, problems = model_paths(config)
    assert not problems
    model = MiniFasNet(paths, threads=1, box_scale=config.texture_box_scale)
    confident = [p for p in devel if p.kind == "print" and p.box is not None and model.real_probability(p.frame, p.box) >= 0.9]
    assert len(confident) >= 5, "the devel split has prints the texture model scores >= 0.9"
    return confident


def test_confident_prints_punched_before_and_are_refused_now(
    config: LivenessConfig, confident_prints: list[recaptures.PadFrame]
) -> None:
    confident = confident_prints
    former = config.model_copy(update=recaptures.FORMER_DEFAULTS)
    before = recaptures.evaluate(former, confident)
    assert sum(o.verdict is Verdict.LIVE for o in before) >= len(confident) // 2  # the former default punched them
    now = recaptures.evaluate(config, confident)
    assert all(o.asked for o in now)
    assert [o.name for o in now if o.verdict is Verdict.LIVE] == []


def test_confident_prints_held_with_a_card_are_not_accepted_without_the_challenge(
    config: LivenessConfig, confident_prints: list[recaptures.PadFrame]
) -> None:
    """Card then face (1:1): someone taps a colleague's card and holds up a print of the
    colleague's face. Each print here scores >= 0.9 on texture; the default must ask the challenge
    (and the print cannot turn), where mode 'face_only' (the default before) let the card vouch."""
    vouching = config.model_copy(update=recaptures.CARD_VOUCHES)
    before = recaptures.evaluate(vouching, confident_prints, one_to_one=True)
    punched_before = [o.name for o in before if o.verdict is Verdict.LIVE and not o.asked]
    assert len(punched_before) >= len(confident_prints) // 2, "the card vouched for these prints in mode 'face_only'"
    now = recaptures.evaluate(config, confident_prints, one_to_one=True)
    assert [o.name for o in now if not o.asked] == []
    assert [o.name for o in now if o.verdict is Verdict.LIVE] == []


def test_live_faces_pass_the_challenge_with_a_card(config: LivenessConfig, devel: list[recaptures.PadFrame]) -> None:
    live = [p for p in devel if p.kind == "genuine"]
    outcomes = recaptures.evaluate(config, live, one_to_one=True)
    refused = [o.name for o in outcomes if o.verdict is not Verdict.LIVE]
    assert len(refused) <= 0.10 * len(live), refused  # as face-only: the same challenge (see below)
    assert all(o.asked for o in outcomes)


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
