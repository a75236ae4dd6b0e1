"""``presensi provision``: register this unit's key with the central server."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "provision", help="register this unit with the central server using a one-time token", parents=[common]
    )
    parser.add_argument("--server", required=True, help="server base URL, https://…")
    parser.add_argument("--token", required=True, help="one-time provisioning token from the server admin")
    parser.add_argument("--ca", type=Path, help="the server's CA certificate (PEM); pinned from now on")
    parser.add_argument("--name", default="", help="name of this unit on the server's device page (default: unit.name)")
    parser.add_argument("--client-cert", type=Path, help="client certificate (PEM), when the server asks for one")
    parser.add_argument("--client-key", type=Path, help="key of the client certificate (PEM)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.commands._runtime import make_runtime
    from sync.provision import provision

    runtime = make_runtime(args)
    try:
        answer = provision(
            runtime, args.server, args.token, args.ca, name=args.name, client_cert=args.client_cert, client_key=args.client_key
        )
    finally:
        runtime.close()
    print(f"Terdaftar / provisioned: device {answer['device_id']}, unit {answer.get('unit_code') or '-'}, server {args.server}")
    return 0
