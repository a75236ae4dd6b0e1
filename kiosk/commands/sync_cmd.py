"""``presensi sync`` (the long-running uploader), ``presensi sync once`` and ``presensi sync status``."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "sync", help="deliver punches to the central server and fetch the roster (run | once | status)", parents=[common]
    )
    parser.add_argument(
        "mode",
        nargs="?",
        choices=["run", "once", "status", "clear-fork"],
        default="run",
        help="run: keep syncing until stopped (default); once: drain the queue, pull the roster, send a heartbeat, exit; "
        "status: show the queue and cursors; clear-fork: forget the server's fork alarm once its operator has settled it",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON (once, status)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.commands._runtime import make_runtime
    from sync.service import run_forever, run_once, status

    runtime = make_runtime(args)
    if args.mode == "clear-fork":
        # late: every command module is imported when presensi starts; this loads only when it runs
        from sync.state import clear_fork

        print("the fork alarm is cleared" if clear_fork(runtime.connect(), runtime.clock.now()) else "no fork alarm")
        return 0
    if args.mode == "status":
        result = status(runtime)
    elif args.mode == "once":
        result = run_once(runtime)
    else:
        return run_forever(runtime)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {'-' if value is None else value}")  # "-": nothing measured yet
    return 0 if result.get("ok", True) else 1
