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
    parser.add_argument("--punches", type=int, default=5, help="simulated punches to record")
    parser.add_argument(
        "--once", action="store_true", help="run the scripted part, print the results and exit (no servers left running)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.demo import run_demo

    return run_demo(args)
