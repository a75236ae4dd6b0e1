"""``presensi bench NAME [--json]``."""

from __future__ import annotations

import argparse
import importlib
import json

from kiosk.bench import benchmarks


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("bench", help="measure speed and memory; prints one JSON object", parents=[common])
    sub = parser.add_subparsers(dest="bench_name", metavar="NAME", required=True)
    for name, module in benchmarks().items():
        bench = sub.add_parser(name, help=module.HELP, parents=[common])
        bench.add_argument("--json", action="store_true", help="print only the JSON object (the default prints it indented)")
        module.add_arguments(bench)
        bench.set_defaults(func=run, bench_module=module.__name__)


def run(args: argparse.Namespace) -> int:
    result = importlib.import_module(args.bench_module).run(args)
    result = {"bench": args.bench_name, **result}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0
