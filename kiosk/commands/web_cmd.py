"""``presensi web``: the kiosk screen (127.0.0.1) and the maintenance page (LAN, TLS)."""

from __future__ import annotations

import argparse
import threading


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "web", help="serve the kiosk screen and the maintenance page (prints the setup code on first boot)", parents=[common]
    )
    parser.add_argument("--screen-port", type=int, default=None, help="port of the kiosk screen (default: web.screen_port)")
    parser.add_argument(
        "--maintenance-port", type=int, default=None, help="port of the maintenance page (default: web.maintenance_port)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.commands._runtime import make_runtime
    from kiosk.web.runner import start_web

    runtime = make_runtime(args)
    running = start_web(runtime, screen_port=args.screen_port, maintenance_port=args.maintenance_port)
    print(f"kiosk screen:     {running.screen.url}/")
    print(f"maintenance page: {running.ctx.maintenance_url}/  (SHA-256 {running.ctx.tls_fingerprint})")
    code = running.setup_code
    if code:
        print(f"setup code (first account): {code}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        runtime.close()
    return 0
