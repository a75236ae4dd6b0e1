"""``presensi config check|show``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.config import describe, load_config, redacted
from core.config.toml_text import toml_text


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("config", help="check or show the configuration", parents=[common])
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a configuration file; exit 2 on any problem", parents=[common])
    check.add_argument("file", nargs="?", type=Path, help="file to check (default: the effective configuration file)")
    check.set_defaults(func=run_check)
    show = sub.add_parser("show", help="print the effective configuration, secrets redacted", parents=[common])
    show.add_argument("--json", action="store_true", help="as JSON")
    show.add_argument("--describe", action="store_true", help="list every key with its default and description")
    show.add_argument("--markdown", action="store_true", help="the configuration reference as Markdown (docs/configuration.md)")
    show.set_defaults(func=run_show)


def run_check(args: argparse.Namespace) -> int:
    path = args.file or getattr(args, "config", None)
    config = load_config(path)  # ConfigError → one line per problem, exit 2 (in cli.main)
    where = config.source or "built-in defaults"
    print(f"{where}: OK")
    print(default_work_code_line(config.schedule.default_work_code))
    return 0


def default_work_code_line(code: str) -> str:
    """What the default work code is and its weekly hours against the regulation's minimum.

    Informational: a shortfall or an assumption is printed, never an exit code, because this
    check runs before the kiosk starts (ExecStartPre) and a unit that does not start takes no
    punch at all. ``presensi doctor`` lists the assumptions in force."""
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.schedule.workcodes import presets

    key = "schedule.default_work_code"
    if not code:
        return f"{key}: not set (employees whose roster entry names no work code punch 'Tanpa jadwal')"
    found = presets().get(code)
    if found is None:
        return f"{key} = {code!r}: not a shipped preset; a roster work code is checked on the unit by presensi doctor"
    line = f"{key} = {code!r} ({found.region or 'preset'}): {found.weekly_summary()}"
    assumed = len(found.assumptions) + len(found.pending)
    if assumed:
        line += f"; {assumed} assumption(s) in force (presensi doctor lists them)"
    return line


def run_show(args: argparse.Namespace) -> int:
    if args.markdown:
        # late: every command module is imported when presensi starts; this loads only when it runs
        from core.config.doc import reference_markdown

        sys.stdout.write(reference_markdown())
        return 0
    if args.describe:
        for key, default, text in describe():
            print(f"{key} = {default}\n    {text}")
        return 0
    config = load_config(getattr(args, "config", None))
    data = redacted(config)
    if getattr(args, "data_dir", None):
        data["unit"]["data_dir"] = str(args.data_dir)
    if args.json:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    print(f"# effective configuration ({config.source or 'built-in defaults'})")
    sys.stdout.write(toml_text(data))
    return 0
