"""``presensi run``: the kiosk service (face, cards, GPIO, kiosk screen, maintenance page)."""

from __future__ import annotations

import argparse
import signal
import threading


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help="run the kiosk: camera and face pipeline, card reader, GPIO, kiosk screen and maintenance page",
        parents=[common],
    )
    parser.add_argument("--no-web", action="store_true", help="do not serve the kiosk screen and maintenance page")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.commands._runtime import make_runtime
    from kiosk.unit import KioskUnit, run_until

    runtime = make_runtime(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with KioskUnit(runtime).start(web=not args.no_web) as unit:
        if unit.web is not None:
            print(f"kiosk screen:     {unit.web.screen.url}/", flush=True)
            print(f"maintenance page: {unit.web.maintenance.url}/", flush=True)
            code = unit.web.setup_code
            if code:
                print(f"setup code (first account): {code}", flush=True)
        return run_until(unit, stop)
