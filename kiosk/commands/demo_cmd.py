"""``presensi demo``: the unit in simulation mode on test data."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("demo", help="run the kiosk in simulation mode on test data", parents=[common])
    parser.add_argument(
        "--faces",
        type=Path,
        default=None,
        help="face test data folder with train/ and test/ (default: ../shared/testdata/faces if present)",
    )
    parser.add_argument(
        "--video", type=Path, default=None, help="a video whose faces are tracked (default: the clip beside the faces, if any)"
    )
    parser.add_argument(
        "--event", action="store_true", help="event mode: a sample apel is running, this unit serves unit IX (Diskominfo)"
    )
    parser.add_argument(
        "--staff", type=int, default=3, help="staff with a simulated card and finger besides the faces (default 3)"
    )
    parser.add_argument(
        "--embedder",
        choices=["dlib", "onnx"],
        default=None,
        help="face templates by dlib's network or by an ONNX model (default: the file's face.embedder; "
        "onnx without face.onnx_model uses the shared development MobileFaceNet, never bundled)",
    )
    parser.add_argument(
        "--detector",
        choices=["hog", "yunet"],
        default=None,
        help="face detector (default: the file's face.detector; yunet without face.yunet_model uses the shared YuNet)",
    )
    parser.add_argument("--panel-port", type=int, default=0, help="port of the demo control panel (default: a free one)")
    parser.add_argument(
        "--punches", type=int, default=4, help="with --once: card and finger presses by staff, alternating (default 4)"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="play a short script (camera, cards, fingers, sync), print what happened and exit (nothing left running)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.demo import run_demo

    return run_demo(args)
