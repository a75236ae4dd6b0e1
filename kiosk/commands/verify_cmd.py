"""``presensi verify [DB]``: check the punch chain and every signature."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.i18n import text
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import verify_database
from kiosk.commands._runtime import make_runtime


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "verify", help="verify the punch chain and signatures; exit 0 only if all verify", parents=[common]
    )
    parser.add_argument(
        "db", nargs="?", type=Path, help="database file (default: the data directory's), or a flash-disk bundle (.zip)"
    )
    parser.add_argument(
        "--public-key",
        help="device public key (hex) to verify against (default: the data directory's key, else the one the database records)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    """Whether the file starts with SQLite's header (an empty file is not a database here)."""
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    if args.db is not None and args.db.suffix == ".zip":
        return run_bundle(args, runtime.data_dir)
    db_path = args.db or runtime.db_path
    if not db_path.exists():
        print(f"presensi verify: {db_path} does not exist (give the database file, or --data-dir)")
        return 1
    if not is_sqlite_file(db_path):
        # for whoever holds the file, in both languages: no configuration says whose it is
        print(
            f"presensi verify: {text('cli.not_a_database', 'id', path=db_path)} / {text('cli.not_a_database', 'en', path=db_path)}"
        )
        return 1
    key_hex = args.public_key
    trusted = "given on the command line" if key_hex else ""
    if key_hex is None and args.db is None:
        key_hex = DeviceIdentity.public_hex_of(db_path.parent)
        trusted = f"the device key in {db_path.parent}" if key_hex else ""
    conn = open_database(db_path, readonly=True)
    try:
        report = verify_database(conn, key_hex)
    finally:
        conn.close()
    if not trusted:
        trusted = "the key recorded in the database (give --public-key to check against the registered key)"
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "last_seq": report.last_seq,
                    "first_bad_seq": report.first_bad_seq,
                    "reason": report.reason,
                    "key": trusted,
                }
            )
        )
    elif report.ok:
        print(f"OK: {report.checked} punches verify (last seq {report.last_seq}); key: {trusted}")
    else:
        print(f"FAIL at seq {report.first_bad_seq}: {report.reason}")
    return 0 if report.ok else 1


def run_bundle(args: argparse.Namespace, data_dir: Path) -> int:
    """A bundle is checked as the server checks it: the manifest's signature by the device key,
    digest, range and count, then every punch's hash, link and signature."""
    # late: every command module is imported when presensi starts; this loads only when it runs
    from sync.bundle import check_bundle

    bundle: Path = args.db
    if not bundle.is_file():
        print(f"presensi verify: {bundle} does not exist")
        return 1
    key_hex = args.public_key
    if key_hex is None:
        key_hex = DeviceIdentity.public_hex_of(data_dir)
        if key_hex is None:
            print(
                f"presensi verify: no device key in {data_dir}: give --data-dir of the unit that made the bundle, or --public-key"
            )
            return 1
    result = check_bundle(bundle.read_bytes(), key_hex)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "checked": result.count,
                    "first_seq": result.first_seq,
                    "last_seq": result.last_seq,
                    "device_id": result.device_id,
                    "reason": result.reason,
                }
            )
        )
    elif result.ok:
        print(
            f"OK: {result.count} punches verify (seq {result.first_seq}–{result.last_seq}), bundle of device {result.device_id}"
        )
    else:
        print(f"FAIL: {result.reason or result.message}")
    return 0 if result.ok else 1
