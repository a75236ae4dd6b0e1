"""``presensi privacy …``: what personal data the unit holds, and erasing one employee's."""

from __future__ import annotations

import argparse
import json
import os

from core.errors import PresensiError
from core.privacy.keys import KeyFileProvider, SimOtpKeyProvider
from core.runtime import Runtime
from kiosk.commands._runtime import make_runtime


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("privacy", help="personal data on this unit: inventory and erasure", parents=[common])
    sub = parser.add_subparsers(dest="privacy_command", metavar="COMMAND")

    p = sub.add_parser("status", help="what is stored (counts only), the template key, retention settings", parents=[common])
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_status)

    p = sub.add_parser(
        "erase",
        help="erase an employee's face and finger templates and cards (punches stay); the bridge clears the module",
        parents=[common],
    )
    p.add_argument("employee", help="employee id (NIP or staff id)")
    p.add_argument("--reason", required=True, help="why (kept in the audit log), e.g. 'pindah tugas'")
    p.add_argument("--actor", default="cli", help="who is erasing (for the audit log)")
    p.set_defaults(func=run_erase)

    p = sub.add_parser(
        "prepare-key",
        help="at boot, as root (presensi-provision): make the key file, or program an empty OTP key once",
        parents=[common],
    )
    p.add_argument("--root", default="", help="another root's /etc (tests of the image)")
    p.set_defaults(func=run_prepare_key)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_status(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.privacy import TemplateKeyError
    from kiosk.privacy.inventory import take

    runtime = make_runtime(args)
    try:
        sealer = runtime.template_key.sealer()
        key = f"{runtime.template_key.provider().describe()}, key id {sealer.key_id.hex()}"
    except TemplateKeyError as exc:
        sealer, key = None, f"cannot be read: {exc}"
    conn = runtime.connect()
    try:
        inventory = take(conn, runtime.config, sealer, key)
    finally:
        conn.close()
    if args.json:
        print(json.dumps(inventory.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"template key      {inventory.key}")
    print(f"employees         {inventory.employees_active} active, {inventory.employees_inactive} inactive")
    for c in inventory.templates:
        print(
            f"{c.table:<17} {c.total} ({c.sealed_here} sealed with this unit's key, {c.sealed_elsewhere} with another key, {c.plain} unsealed)"
        )
    print(f"cards             {inventory.cards}")
    print(f"punches           {inventory.punches} ({inventory.punches_unacknowledged} not yet acknowledged by the server)")
    print(f"evidence photos   {inventory.evidence_photos}")
    print(f"audit entries     {inventory.audit_entries}")
    print(f"web accounts      {inventory.web_accounts}")
    r = inventory.retention
    print(
        f"retention         punches {r['punches_days_after_acknowledgement']} days after acknowledgement; evidence photos "
        f"{'on' if r['evidence_photos'] else 'off'}, {r['evidence_days_after_acknowledgement']} days after acknowledgement"
    )
    return 0


def run_erase(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.store.erasure import erase_employee
    from core.store.roster import get_employee

    runtime = make_runtime(args)
    conn = runtime.connect()
    try:
        if get_employee(conn, args.employee) is None:
            print(f"employee {args.employee} is not on this unit")
            return 1
        erased = erase_employee(conn, args.employee, now=runtime.clock.now(), actor=args.actor, reason=args.reason)
    finally:
        conn.close()
    print(
        f"erased {erased.employee_id}: {erased.face_templates} face and {erased.finger_templates} finger templates, "
        f"{erased.cards} cards; the fingerprint bridge deletes the module slots at its next check"
    )
    return 0


def run_prepare_key(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.privacy.provision import prepare_template_key

    runtime = make_runtime(args)
    print(prepare_template_key(runtime.config, runtime.data_dir, root=args.root))
    if not args.root and (outcome := seal_plain_device_key(runtime)):  # on the unit itself (the boot service)
        print(outcome)
    return 0


def seal_plain_device_key(runtime: Runtime) -> str | None:
    """Seal the unit's plain signing key under its key, if it has one; one line of outcome
    (None: there is no plain key)."""
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.identity import KEY_FILENAME

    if not (runtime.data_dir / KEY_FILENAME).exists():
        return None
    provider = runtime.template_key.provider()
    if os.geteuid() == 0 and not isinstance(provider, KeyFileProvider | SimOtpKeyProvider):
        # root reads the OTP directly, the services only through what they are given: a key sealed
        # here under it could not be opened by them, and the unit could not sign a punch
        return f"device key: left a plain file ({provider.describe()} is read differently by root and by the services)"
    try:
        identity = runtime.seal_device_key()
    except PresensiError as exc:
        return f"device key: left a plain file, the unit's key cannot be read ({exc})"
    return f"device key of {identity.device_id} sealed under the unit's key"
