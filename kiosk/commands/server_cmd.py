"""``presensi server …``: run the reference central server and administer it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    server_common = argparse.ArgumentParser(add_help=False, parents=[common])
    server_common.add_argument(
        "--server-config", type=Path, help="the server's TOML file (else $PRESENSI_SERVER_CONFIG, else defaults)"
    )
    server_common.add_argument("--database", help="database URL, overriding the file: sqlite:///path or postgresql://…")
    parser = subparsers.add_parser("server", help="the reference central server and its administration", parents=[common])
    sub = parser.add_subparsers(dest="server_command", metavar="ACTION", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, parents=[server_common])
        p.set_defaults(func=run, action=name)
        return p

    p = add("run", "serve the API and the device page (TLS)")
    p.add_argument("--host", help="listen address (overrides the file)")
    p.add_argument("--port", type=int, help="listen port; 0 picks a free one (overrides the file)")
    add("init", "create the database and the server key; print the key")
    _add_roster(add)
    p = add("remove-employee", "remove an employee (units deactivate them)")
    p.add_argument("employee_id")
    p = add("enrol-face", "enrol an employee's face from photos (one face per photo; photos are not kept)")
    p.add_argument("employee_id")
    p.add_argument("photos", nargs="+", type=Path)
    p = add("add-card", "give an employee a card (uid as hex)")
    p.add_argument("uid")
    p.add_argument("employee_id")
    p = add("add-work-code", "add or replace a work code from a JSON file")
    p.add_argument("code")
    p.add_argument("file", type=Path)
    p = add("add-holiday", "add a holiday")
    p.add_argument("day", help="YYYY-MM-DD")
    p.add_argument("name")
    p = add("publish-event", "add an event pack (JSON) and publish the roster (a unit's local pack: kept for reports)")
    p.add_argument("file", type=Path)
    _add_event_report(add("event-report", "attendance at an event from every unit's punches (hadir / tidak hadir per unit)"))
    add("publish", "publish every roster change made since the last publication")
    p = add("issue-token", "issue a one-time provisioning token")
    p.add_argument("--unit", default="", help="unit code the device will serve")
    p.add_argument("--hours", type=float, help="validity (default: the file's token_valid_hours)")
    p = add("import", "import flash-disk bundles (verified like uploads; repeats change nothing)")
    p.add_argument("bundles", nargs="+", type=Path)
    p = add("devices", "list devices: last seen, acknowledged seq, queue, clock offset, gap, rejections, corrections")
    p.add_argument("--json", action="store_true")
    _add_punches(add("punches", "list recent punches: recorded instant and, when the unit corrected it, the corrected one"))
    _add_face_commands(add)
    _add_make_pki(add)
    _add_backoffice(add)


def _add_roster(add: Any) -> None:
    p = add("add-unit", "add or rename a unit (office)")
    p.add_argument("code")
    p.add_argument("name")
    p.add_argument(
        "--zone", default="Asia/Jakarta", choices=["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"], help="WIB, WITA or WIT"
    )
    p = add("add-employee", "add or update an employee")
    p.add_argument("employee_id", help="NIP or staff id")
    p.add_argument("name")
    p.add_argument("--unit", default="", help="unit code")
    p.add_argument("--work-code", default="", help="work code, e.g. '(GLOBAL) 5 HARI (NON SEKOLAH)'")
    p.add_argument("--card-policy", choices=["card", "card_face", "face"], help="override of the unit's card policy")
    p.add_argument("--position", default="", help="jabatan (a column of the monthly recap)")


def _add_backoffice(add: Any) -> None:
    p = add("recap", "the monthly recap per office (Jember Lampiran II columns) as PDF, CSV or XLSX")
    p.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    p.add_argument("--office", help="one office's code (default: every office)")
    p.add_argument("--format", choices=["pdf", "csv", "xlsx"], default="pdf")
    p.add_argument("--output", type=Path, help="file to write (default: rekap-OFFICE-MONTH.FORMAT here)")
    p.add_argument("--place", default="", help="the place before the date on the signature block, e.g. Jember")
    p = add(
        "manual-form", "blank manual attendance forms of an office: Jember Lampiran I for a day, Purbalingga's list for a month"
    )
    p.add_argument("--office", required=True)
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--day", help="YYYY-MM-DD: the daily form (Jember Lampiran I)")
    when.add_argument("--month", help="YYYY-MM: the monthly list (Purbalingga)")
    p.add_argument("--output", type=Path, help="PDF to write (default: formulir-OFFICE-DATE.pdf here)")
    p.add_argument("--place", default="", help="the place before the date on the signature block")
    p = add("add-officer", "add a back-office account (asks for the password on the terminal)")
    p.add_argument("name")
    p.add_argument("--role", choices=["admin_pd", "bkpsdm"], required=True)
    p.add_argument("--unit", default="", help="the office an Admin PD serves")


def _add_make_pki(add: Any) -> None:
    p = add("make-pki", "make a CA and a server certificate for HOSTS (demo or a first deployment)")
    p.add_argument("dir", type=Path)
    p.add_argument("--host", action="append", dest="hosts", help="DNS name or IP of the server (repeatable)")


def _add_face_commands(add: Any) -> None:
    p = add("scope", "which employees a device receives: its office, plus employees added by name or by event")
    p.add_argument("device_id")
    p.add_argument("--add", nargs="+", default=[], metavar="EMPLOYEE", help="add these employees to the device")
    p.add_argument("--event", help="add the participants of this published event pack")
    p.add_argument("--remove", nargs="+", metavar="EMPLOYEE", help="take these employees off the device's list")
    p.add_argument("--remove-event", metavar="EVENT", help="take the participants added for this event off")
    p.add_argument("--json", action="store_true")
    p = add("faces", "face templates per embedder: employees with and without one, and lookalike pairs")
    p.add_argument("--json", action="store_true")


def _add_event_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("event_id")
    p.add_argument("--unit", help="only the participants this event unit serves (e.g. IV)")
    p.add_argument("--csv", type=Path, help="write the list as CSV (UTF-8 with BOM)")
    p.add_argument("--pdf", type=Path, help="write the list as PDF, to print and sign")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")


def _add_punches(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", help="only this device's punches")
    p.add_argument("--limit", type=int, default=50, help="how many, newest first (default 50)")
    p.add_argument("--json", action="store_true")


def _print_punches(admin: Any, args: argparse.Namespace) -> None:
    punches = admin.punches(args.device, args.limit)
    if args.json:
        print(json.dumps(punches, default=str))
        return
    for p in punches:
        corrected = f"  corrected={p['corrected_instant']} ({p['correction_source']})" if p["corrected_instant"] else ""
        print(
            f"{p['device_id']}  seq={p['seq']}  recorded={p['instant']}  clock={p['clock_state']}{corrected}"
            f"  {p['employee_id']}  {p['method']}  {p['kind']}"
        )


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.clock import SystemClock
    from sync.server.admin import ServerAdmin
    from sync.server.config import load_server_config
    from sync.server.storage import Storage

    if args.action == "make-pki":
        # late: every command module is imported when presensi starts; this loads only when it runs
        from sync.server.certs import demo_pki

        files = demo_pki(args.dir, tuple(args.hosts or ("127.0.0.1", "localhost")))
        print(f"CA: {files.ca_cert}\ncertificate: {files.cert}\nkey: {files.key}")
        return 0
    config = load_server_config(args.server_config)
    if args.database:
        config.database_url = args.database
    storage = Storage(config.database_url)
    if args.action == "run":
        # late: every command module is imported when presensi starts; this loads only when it runs
        from sync.server.run import serve

        if args.host:
            config.host = args.host
        if args.port is not None:
            config.port = args.port
        serve(config, storage)
        return 0
    admin = ServerAdmin(config, storage, SystemClock())
    try:
        return _admin(admin, args)
    finally:
        storage.close()


def _admin(admin: Any, args: argparse.Namespace) -> int:

    action = args.action
    if action == "init":
        print(f"database ready; roster-signing key {admin.public_key_hex()}")
    elif action == "add-unit":
        admin.roster.add_unit(args.code, args.name, zone=args.zone)
    elif action == "add-employee":
        admin.roster.add_employee(
            args.employee_id,
            args.name,
            unit_code=args.unit,
            work_code=args.work_code,
            card_policy=args.card_policy,
            position=args.position,
        )
    elif action == "remove-employee":
        admin.roster.remove_employee(args.employee_id)
    elif action == "enrol-face":
        from kiosk.commands._server_faces import enrol_faces  # loads the face models only for this action

        count = enrol_faces(admin, args.employee_id, args.photos)
        print(f"{count} face template(s) for {args.employee_id}; run `presensi server publish` to send them to units")
    elif action == "add-card":
        print(f"card {admin.roster.add_card(args.uid, args.employee_id)} → {args.employee_id}")
    elif action == "add-work-code":
        admin.roster.add_work_code(args.code, json.loads(args.file.read_text(encoding="utf-8")))
    elif action == "add-holiday":
        admin.roster.add_holiday(args.day, args.name)
    elif action == "publish-event":
        event_id = admin.load_event_pack(args.file)
        device = admin.local_event_device(event_id)
        if device:
            print(f"event {event_id}: the local pack of {device} is kept for reports (local packs are not sent to units)")
        else:
            print(f"event {event_id} published in roster version {admin.roster.publish()}")
    elif action == "event-report":
        return _event_report(admin, args)
    elif action == "publish":
        print(f"roster version {admin.roster.publish()} published")
    elif action == "issue-token":
        print(admin.issue_token(args.unit, args.hours))
    elif action == "import":
        return _import_bundles(admin, args)
    elif action == "devices":
        devices = admin.devices()
        if args.json:
            print(json.dumps(devices, default=str))
        for d in devices if not args.json else []:
            gap = f" gap {d['gap'][0]}–{d['gap'][1]}" if d["gap"] else ""
            print(
                f"{d['id']}  unit={d['unit_code'] or '-'}  seen={d['last_seen'] or 'never'}  acked={d['acked_seq']}"
                f"  queue={d['queue_depth']}  offset={d['clock_offset_s']}  rejections={d['rejections']}"
                f"  corrections={d['corrections']}{gap}"
                + (
                    f"  FORK since {d['forked_at']}: {d['forked_punches']} punches of another chain kept apart"
                    if d.get("forked_at")
                    else ""
                )
                + (f"  OUTSIDE ROSTER: {d['outside_roster']} punches" if d.get("outside_roster") else "")
            )
    elif action == "punches":
        _print_punches(admin, args)
    elif action == "scope":
        _scope(admin, args)
    elif action == "faces":
        _faces(admin, args)
    elif action == "recap":
        return _recap(admin, args)
    elif action == "add-officer":
        _add_officer(admin, args)
    elif action == "manual-form":
        return _manual_form(admin, args)
    return 0


def _recap(admin: Any, args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from sync.server.recap import Recaps
    from sync.server.recap_export import render

    recaps = Recaps(admin.storage, admin.clock, admin.days)
    if args.office and not recaps.offices(args.office):
        print(f"presensi: unknown office {args.office!r}; see the codes with the server's pages or add it (server add-unit)")
        return 1
    found = recaps.all_offices(args.month, args.office)
    data, _ = render(found, args.format, args.place)
    path = args.output or Path(f"rekap-{args.office or 'semua'}-{args.month}.{args.format}")
    path.write_bytes(data)
    rows = sum(len(r.rows) for r in found)
    print(f"{path}: {len(found)} office(s), {rows} employee(s), {args.month}")
    return 0


def _manual_form(admin: Any, args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from datetime import date

    from sync.server.manual_forms import daily_form_pdf, monthly_list_pdf
    from sync.server.recap import Recaps

    recaps = Recaps(admin.storage, admin.clock, admin.days)
    office = recaps.offices(args.office)
    if not office:
        print(f"presensi: unknown office {args.office!r}")
        return 1
    people = recaps.people_on(args.office, date.today())
    name, zone = office[0]["name"], office[0]["zone"]
    if args.day:
        data = daily_form_pdf(name, zone, date.fromisoformat(args.day), people, args.place)
    else:
        data = monthly_list_pdf(name, zone, args.month, people, args.place)
    path = args.output or Path(f"formulir-{args.office}-{args.day or args.month}.pdf")
    path.write_bytes(data)
    print(f"{path}: {len(people)} employee(s)")
    return 0


def _add_officer(admin: Any, args: argparse.Namespace) -> None:
    # late: every command module is imported when presensi starts; this loads only when it runs
    import getpass

    from sync.server.officers import Officers

    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        # late: every command module is imported when presensi starts; this loads only when it runs
        from core.errors import AuthError

        raise AuthError("the passwords differ")
    officer = Officers(admin.storage, admin.clock).create(args.name, password, args.role, args.unit)
    print(f"{officer.name}: {officer.role} {officer.unit_code}".rstrip())


def _import_bundles(admin: Any, args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.errors import PresensiError

    failed = 0
    for path in args.bundles:
        try:
            ack = admin.import_bundle(path)
        except PresensiError as exc:  # each bundle on its own; report and go on
            failed += 1
            print(f"{path.name}: REFUSED: {getattr(exc, 'reason', exc)}")
            continue
        print(
            f"{path.name}: {ack.accepted} new, {ack.duplicates} already held, acknowledged through {ack.acked_seq}"
            + (f"; {ack.held} held beyond missing {ack.gap[0]}–{ack.gap[1]}" if ack.gap else "")
        )
    return 1 if failed else 0


def _faces(admin: Any, args: argparse.Namespace) -> None:
    from kiosk.commands._server_faces import face_report  # loads the face models only for this action

    report = face_report(admin)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['active_employees']} active employees")
    for e in report["embedders"]:
        print(f"{e['label']} {e['embedder'][:12]}: {e['with_template']} with a template, {e['without_template']} without")
        for pair in e["lookalikes"]:
            print(
                f"  lookalikes {pair['employee_id']} ~ {pair['other_id']}  distance {pair['distance']} (< {e['lookalike_distance']})"
            )


def _scope(admin: Any, args: argparse.Namespace) -> None:
    roster = admin.roster
    changed = False
    if args.add:
        roster.add_members(args.device_id, args.add, "named")
        changed = True
    if args.event:
        roster.add_members(args.device_id, admin.event_participants(args.event), f"event:{args.event}")
        changed = True
    if args.remove:
        roster.remove_members(args.device_id, args.remove)
        changed = True
    if args.remove_event:
        roster.remove_members(args.device_id, reason=f"event:{args.remove_event}")
        changed = True
    scope = roster.scope(args.device_id)
    if args.json:
        print(json.dumps(scope))
    else:
        print(
            f"{scope['device_id']}: office {scope['unit_code'] or '(every office)'}, {len(scope['members'])} added by name, "
            f"{scope['employees']} employees in all"
        )
    if changed:
        print("run `presensi server publish` to send the change to the unit")


def _event_report(admin: Any, args: argparse.Namespace) -> int:
    found = admin.event_report(args.event_id, args.unit)  # an unknown event: EventPackError, said by the CLI
    if args.csv:
        found.report.write_csv(args.csv)
    if args.pdf:
        found.report.write_pdf(args.pdf)
    if args.json:
        print(json.dumps(found.as_json(), ensure_ascii=False))
    else:
        print("\n".join(found.summary_lines()))
        for label, path in (("CSV", args.csv), ("PDF", args.pdf)):
            if path:
                print(f"{label}: {path}")
    return 0
