"""``presensi bench NAME [--json]``.

The benchmark modules are imported only when ``presensi bench`` runs: several import numpy and
OpenCV at the top, and every service (``presensi bridge run``, ``presensi sync run`` …) builds
this command line, so registering them eagerly cost each service tens of megabytes
(``presensi bench memory``).
"""

from __future__ import annotations

import argparse
import importlib
import json

from kiosk.bench import benchmark_names


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    names = benchmark_names()
    parser = subparsers.add_parser(
        "bench",
        help="measure speed and memory; prints one JSON object",
        description="Benchmarks: " + ", ".join(names) + ". `presensi bench NAME --help` tells what each measures.",
        parents=[common],
    )
    parser.add_argument("bench_name", metavar="NAME", choices=names, help="the benchmark: " + ", ".join(names))
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="the benchmark's own options (NAME --help)")
    parser.set_defaults(func=run, bench_common=common)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"kiosk.bench.{args.bench_name}")
    bench = argparse.ArgumentParser(
        prog=f"presensi bench {args.bench_name}", description=module.HELP, parents=[args.bench_common]
    )
    bench.add_argument("--json", action="store_true", help="print only the JSON object (the default prints it indented)")
    module.add_arguments(bench)
    options = argparse.Namespace(**{k: v for k, v in vars(args).items() if k not in ("bench_args", "bench_common")})
    bench.parse_args(args.bench_args, namespace=options)
    result = {"bench": args.bench_name, **module.run(options)}
    print(json.dumps(result) if options.json else json.dumps(result, indent=2))
    return 0
