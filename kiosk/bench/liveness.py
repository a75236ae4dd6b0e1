"""``presensi bench liveness``: the attack harness in ISO/IEC 30107-3 terms, and the passive cost.

Genuine presentations (the shared stills recaptured as the kiosk camera would see them, and runs
of the real video) and attacks made from them (print, screen replay, a photo moved as a flat or
bent sheet) go through the engine built from the configuration; see :mod:`kiosk.liveness.harness`.
Figures are reported on the held-out split by default (the defaults were tuned on ``calibration``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from core.config import load_config
from kiosk.camera.file import read_video_frames, video_fps
from kiosk.liveness import harness, recaptures, turns
from kiosk.liveness.challenge import ChallengeSettings

NAME = "liveness"
HELP = "APCER per attack type, BPCER on genuine material, passive liveness time per face"

_SHARED = Path(os.environ.get("PRESENSI_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faces", type=Path, default=_SHARED / "testdata" / "faces", help="the shared test faces folder")
    parser.add_argument(
        "--models",
        type=Path,
        default=_SHARED / "models" / "minifasnet",
        help="folder of the MiniFASNet models, used when the config names none",
    )
    parser.add_argument(
        "--split", choices=["holdout", "calibration", "all"], default="holdout", help="which sources to report on"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the attack generators")
    parser.add_argument(
        "--attacks-per-source", type=int, default=2, help="print and screen instances made from each genuine face"
    )
    parser.add_argument("--frames", type=int, default=5, help="frames per presentation")
    parser.add_argument(
        "--pad",
        type=Path,
        default=_SHARED / "testdata" / "pad" / "replay-attack",
        help="the Replay-Attack frames (real recaptures; read from ../shared, never copied)",
    )
    parser.add_argument(
        "--pad-splits", default="devel", help="comma-separated Replay-Attack splits to report (defaults tuned on train)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(getattr(args, "config", None)).liveness
    if config.minifasnet_v2 is None and config.minifasnet_v1se is None:
        config = config.model_copy(
            update={"minifasnet_v2": args.models / "MiniFASNetV2.onnx", "minifasnet_v1se": args.models / "MiniFASNetV1SE.onnx"}
        )
    sources = harness.still_sources(args.faces) + harness.video_sources(args.faces / "short_hamilton_clip.mp4")
    report = harness.evaluate(
        config, sources, split=args.split, seed=args.seed, frames=args.frames, attacks_per_source=args.attacks_per_source
    )
    out: dict[str, Any] = {
        "split": args.split,
        "seed": args.seed,
        **report.summary(),
        **harness.challenge_tracks(ChallengeSettings.from_config(config), seed=args.seed),
    }
    out.update(_real_recaptures(config, args))
    out["replayed_video"] = _replayed_video(config, args.faces / "short_hamilton_clip.mp4")
    return out


def _real_recaptures(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    """``replay_attack_<split>``: APCER per attack type on real recaptures (kiosk.liveness.recaptures)."""
    out: dict[str, Any] = {}
    for split in [s.strip() for s in args.pad_splits.split(",") if s.strip()]:
        if not (args.pad / split).is_dir():
            out[f"replay_attack_{split}"] = {"skipped": f"no Replay-Attack frames at {args.pad / split} (../shared is absent)"}
            continue
        out[f"replay_attack_{split}"] = recaptures.report(config, args.pad, split, seed=args.seed)
    return out


def _replayed_video(config: Any, video: Path) -> dict[str, Any]:
    """A real recording through the challenge: how long its natural turns take (a genuine person's
    time to answer, plus an assumed reaction) and how often it answers a random prompt (a replay)."""
    if not video.is_file():
        return {"skipped": f"no video at {video} (../shared is absent)"}
    fps = video_fps(video)
    return {
        "video": video.name,
        **turns.measure(turns.track_video(read_video_frames(video)), fps, ChallengeSettings.from_config(config)),
    }
