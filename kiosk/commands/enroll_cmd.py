"""``presensi enroll --employee ID [--name NAME] PHOTO...``: face templates from photos.

Photos are read, checked (one dominant face, quality gates), compared with every other
employee's face (a duplicate is refused) and turned into templates; the photos themselves are
never stored.
"""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "enroll", help="enrol an employee's face from photos (templates only; photos are not kept)", parents=[common]
    )
    parser.add_argument("--employee", required=True, help="employee id (NIP or staff id)")
    parser.add_argument("--name", default=None, help="employee name (required when the employee is new to this unit)")
    parser.add_argument("--replace", action="store_true", help="remove the employee's existing face templates first")
    parser.add_argument(
        "--rename", action="store_true", help="allow --name to change the name of an employee the unit already has"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="photos showing the employee's face")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.store import audit
    from core.store.roster import get_employee
    from kiosk.commands._runtime import make_runtime
    from kiosk.face.enroll import Enroller

    runtime = make_runtime(args)
    try:
        store = runtime.store()
        existing = get_employee(store.conn, args.employee)
        if existing is not None and args.name and args.name.strip() != existing.name and not args.rename:
            print(
                f"presensi enroll: employee {args.employee} is {existing.name!r} on this unit, not {args.name!r}; "
                "check the NIP, or add --rename to change the name (recorded in the audit log)"
            )
            return 2
        enroller = Enroller(store.conn, runtime.config.face, runtime.clock)
        result = enroller.enrol_photos(args.employee, args.name, list(args.photos), replace=args.replace)
        audit.record(
            store.conn,
            f"cli:{getpass.getuser()}",
            "face.enrol",
            now=runtime.clock.now(),
            employee_id=result.employee_id,
            faces_added=result.templates_added,
            faces_replaced=result.replaced,
            renamed_from=existing.name if existing is not None and existing.name != result.name else None,
        )
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        print(
            f"enrolled {result.employee_id} ({result.name}): {result.templates_added} template(s) added, "
            f"{result.templates_total} in total" + (f", {result.replaced} replaced" if result.replaced else "")
        )
        if result.nearest_other is not None and result.nearest_other_distance is not None:
            print(f"nearest other employee: {result.nearest_other} at distance {result.nearest_other_distance:.3f}")
        for warning in result.warnings:
            print(f"warning: {warning}")
    return 0
