"""``presensi liveness FILE [--json]``: judge an image or a video as the kiosk would, with every score."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from kiosk.commands._runtime import make_runtime

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "liveness",
        help="judge an image or video (live or spoof) with the configured checks; prints every score",
        parents=[common],
    )
    parser.add_argument("file", type=Path, help="an image or a video file")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--challenge",
        choices=["config", "face_only", "auto", "always", "never"],
        default="config",
        help="override liveness.challenge (a recorded video cannot answer a random prompt: see --prompt)",
    )
    parser.add_argument("--prompt", choices=["left", "right", "blink"], help="the prompt the video answers, when one is asked")
    parser.add_argument(
        "--card-then-face",
        action="store_true",
        help="judge as a face confirming a card (1:1): with challenge 'face_only' the passive checks may decide alone",
    )
    parser.add_argument(
        "--models", type=Path, help="folder with MiniFASNetV2.onnx and MiniFASNetV1SE.onnx (overrides the config)"
    )
    parser.add_argument("--max-frames", type=int, default=150, help="video frames to read at most")
    parser.add_argument("--seed", type=int, default=None, help="seed for the random prompt (reproducible runs)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.liveness.judge import judge_file

    runtime = make_runtime(args)
    config = runtime.config.liveness
    update: dict[str, Any] = {}
    if args.challenge != "config":
        update["challenge"] = args.challenge
    if args.models is not None:
        update["minifasnet_v2"] = args.models / "MiniFASNetV2.onnx"
        update["minifasnet_v1se"] = args.models / "MiniFASNetV1SE.onnx"
    if update:
        config = config.model_copy(update=update)
    if not args.file.exists():
        print(f"presensi liveness: {args.file} does not exist")
        return 1
    report = judge_file(
        args.file,
        config,
        rng=random.Random(args.seed),
        prompt=args.prompt,
        max_frames=args.max_frames,
        image=args.file.suffix.lower() in IMAGE_SUFFIXES,
        one_to_one=args.card_then_face,
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['verdict'].upper()}: {report['reason'] or 'semua pemeriksaan lolos'}")
        print(f"  frames with a face: {report['frames_with_face']} of {report['frames_read']}; prompt: {report['prompt']}")
        for key, value in sorted(report["scores"].items()):
            print(f"  {key} = {value}")
    return 0 if report["verdict"] == "live" else 1
