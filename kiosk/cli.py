"""The ``presensi`` command. Each subcommand lives in a module that registers itself here."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from core import __version__
from core.errors import ConfigError, PresensiError

log = logging.getLogger("presensi")


def command_modules() -> list[str]:
    """Every module in :mod:`kiosk.commands`; each has ``register(subparsers, common)``."""
    # late: every command module is imported when presensi starts; this loads only when it runs
    import kiosk.commands

    return sorted(f"kiosk.commands.{m.name}" for m in pkgutil.iter_modules(kiosk.commands.__path__) if not m.name.startswith("_"))


EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="configuration file (else $PRESENSI_CONFIG, else /etc/presensi/kiosk.toml, else built-in defaults)",
    )
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="where the database and device key live (default: from the config)",
    )
    common.add_argument(
        "--log-level", default=argparse.SUPPRESS, choices=["debug", "info", "warning", "error"], help="log verbosity"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="presensi",
        description="Presensi Kiosk: attendance by face, card and fingerprint, signed and synced.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"presensi-kiosk {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(name).register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", None) or os.environ.get("PRESENSI_LOG_LEVEL", "warning")
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    except PresensiError as exc:
        print(f"presensi: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
