"""``presensi retention``: prune what the unit no longer needs (run daily by a systemd timer)."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "retention",
        help="prune acknowledged punches past retention and expired evidence photos; report what was removed",
        parents=[common],
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.commands._runtime import make_runtime
    from kiosk.privacy.retention import CENTRAL_CURSOR, enforce, prune_exports

    runtime = make_runtime(args)
    config = runtime.config
    store = runtime.store()
    cursors = [CENTRAL_CURSOR, *(f"{t.type}:{t.name}" for t in config.targets)]
    report = enforce(
        store,
        now=runtime.clock.now(),
        retention_days=config.store.retention_days,
        evidence_days=config.privacy.evidence_days,
        cursors=cursors,
    )
    exports = prune_exports(runtime.data_dir / "exports", now=runtime.clock.now())
    if args.json:
        print(json.dumps(report.__dict__ | {"exports_deleted": exports}))
    else:
        print(f"{report.summary()}; {exports} old export files deleted")
    return 0
