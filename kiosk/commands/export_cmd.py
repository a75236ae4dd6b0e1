"""``presensi export --to DIR``: a signed bundle and a CSV on a flash disk."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "export", help="write punches to a flash disk: a signed bundle for the server and a CSV for people", parents=[common]
    )
    parser.add_argument("--to", type=Path, required=True, help="target directory (the mounted flash disk)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--all", action="store_true", help="every punch still on the unit (default: those the server has not acknowledged)"
    )
    which.add_argument("--since", type=int, help="punches after this sequence number")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.commands._runtime import make_runtime
    from sync.service import export

    runtime = make_runtime(args)
    try:
        result = export(runtime, args.to, all_punches=args.all, since=args.since)
    finally:
        runtime.close()
    if result is None:
        print("Tidak ada presensi untuk diekspor / nothing to export")
        return 0
    print(f"{result.count} presensi (urut {result.first_seq}–{result.last_seq})")
    print(f"  bundle: {result.bundle}")
    print(f"  CSV:    {result.csv}")
    return 0
