"""``presensi doctor [--json]``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from kiosk.checks.findings import Status
from kiosk.commands._runtime import make_runtime
from kiosk.doctor import run_checks


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("doctor", help="check the unit and say what to do about each problem", parents=[common])
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    findings = run_checks(runtime)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], ensure_ascii=False, indent=2))
    else:
        width = max(len(f.part) for f in findings)
        for f in findings:
            line = f"{f.part:<{width}}  {f.status.value:<4}  {f.detail}"
            if f.todo:
                line += f"\n{'':<{width}}        → {f.todo}"
            print(line)
    return 1 if any(f.status is Status.FAIL for f in findings) else 0
