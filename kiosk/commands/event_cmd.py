"""``presensi event load|create|list|start|stop|status|report``: event mode for apel and senam."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.i18n import language, text
from core.runtime import Runtime
from core.schedule.event_mode import EventBook, EventMode
from core.schedule.events import EventPackError, read_envelope, verify_pack, write_envelope
from kiosk.commands._runtime import make_runtime


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("event", help="event mode (apel, senam): load packs, run, report", parents=[common])
    sub = parser.add_subparsers(dest="event_command", metavar="ACTION", required=True)

    load = sub.add_parser("load", help="verify and load an event pack (JSON) and make it the running event", parents=[common])
    load.add_argument("pack", type=Path, help="the pack file (from the server, or made by `event create --out`)")
    load.add_argument("--no-start", action="store_true", help="load only; do not switch the unit to this event")
    load.set_defaults(func=run_load)

    create = sub.add_parser("create", help="make a local pack from the unit's roster (no network) and start it", parents=[common])
    create.add_argument("--id", required=True, help="event id, e.g. APEL-2026-11-23")
    create.add_argument("--kind", required=True, choices=["apel", "senam", "tausiyah", "lainnya"], help="kind of event")
    create.add_argument("--title", required=True, help="title shown on the screen")
    create.add_argument("--location", required=True, help="where, e.g. 'Halaman Kantor Bupati'")
    create.add_argument("--lat", help="latitude (decimal)")
    create.add_argument("--lon", help="longitude (decimal)")
    create.add_argument("--start", required=True, help="local start 'YYYY-MM-DD HH:MM' in the unit's zone")
    create.add_argument("--minutes", type=int, default=90, help="how long punches are taken (default 90)")
    create.add_argument(
        "--on-time-minutes", type=int, default=None, help="punches later than this after the start are 'terlambat'"
    )
    create.add_argument("--office", action="append", default=[], help="office (unit kerja) code served; repeat; none: everyone")
    create.add_argument("--out", type=Path, help="also write the signed pack to this file (for other units)")
    create.set_defaults(func=run_create)

    listing = sub.add_parser("list", help="events loaded on this unit", parents=[common])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)

    start = sub.add_parser("start", help="make a loaded event the running one", parents=[common])
    start.add_argument("event_id")
    start.set_defaults(func=run_start)

    stop = sub.add_parser("stop", help="leave event mode (back to masuk/pulang)", parents=[common])
    stop.set_defaults(func=run_stop)

    status = sub.add_parser("status", help="the running event's banner and count", parents=[common])
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=run_status)

    report = sub.add_parser("report", help="attendance against the roster: hadir / tidak hadir per unit", parents=[common])
    report.add_argument("event_id", nargs="?", help="event (default: the running one)")
    report.add_argument("--csv", type=Path, help="write the list as CSV")
    report.add_argument("--pdf", type=Path, help="write the list as PDF")
    report.add_argument("--all-units", action="store_true", help="every unit's participants, not only this unit's")
    report.set_defaults(func=run_report)


def _mode(runtime: Runtime, event_id: str | None = None) -> EventMode:
    store = runtime.store()
    book = EventBook(store.conn, runtime.clock)
    if event_id:
        found = book.get(event_id)
        if found is None:
            raise EventPackError(f"no event {event_id!r} is loaded here (see `presensi event list`)")
        pack = found[0]
    else:
        active = book.active()
        if active is None:
            raise EventPackError("no event is running; load a pack (`presensi event load`) or start one (`presensi event start`)")
        pack = active
    cfg = runtime.config.event
    return EventMode.for_device(
        pack,
        store,
        runtime.clock,
        unit=cfg.unit,
        early=timedelta(minutes=cfg.early_minutes),
        grace=timedelta(minutes=cfg.grace_minutes),
    )


def run_load(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    try:
        envelope = read_envelope(args.pack)
        store = runtime.store()
        pack = verify_pack(
            envelope, runtime.config.event.server_public_key or None, device_public_key_hex=store.identity.public_hex
        )
        EventBook(store.conn, runtime.clock).save(pack, envelope, activate=not args.no_start)
        mode = _mode(runtime, pack.id)
        banner = mode.banner()
        print(f"loaded {pack.id}: {banner.headline}, {banner.location}, {banner.window}; {banner.expected} peserta")
        if banner.unit:
            print(f"  this unit: {banner.unit} — {banner.serves}")
        print("  running now" if not args.no_start else "  loaded; start it with `presensi event start " + pack.id + "`")
    finally:
        runtime.close()
    return 0


def run_create(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.schedule.events import parse_pack
    from core.schedule.local_packs import create_local_pack

    runtime = make_runtime(args)
    try:
        zone = runtime.config.unit.zone
        try:
            start = datetime.strptime(args.start, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            print(f"presensi event create: --start {args.start!r} is not 'YYYY-MM-DD HH:MM'", file=sys.stderr)
            return 2
        store = runtime.store()
        envelope = create_local_pack(
            store.conn,
            store.identity,
            event_id=args.id,
            kind=args.kind,
            title=args.title,
            location=args.location,
            lat=args.lat,
            lon=args.lon,
            starts_at=start,
            ends_at=start + timedelta(minutes=args.minutes),
            on_time_until=start + timedelta(minutes=args.on_time_minutes) if args.on_time_minutes is not None else None,
            zone=zone,
            offices=args.office,
            issued_at=runtime.clock.now(),
        )
        pack = parse_pack(envelope["pack"])
        EventBook(store.conn, runtime.clock).save(pack, envelope, activate=True)
        if args.out:
            write_envelope(envelope, args.out)
        print(
            f"created local pack {pack.id} ({len(pack.participants)} peserta) and started it"
            + (f"; written to {args.out}" if args.out else "")
        )
    finally:
        runtime.close()
    return 0


def run_list(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    try:
        events = EventBook(runtime.store().conn, runtime.clock).list()
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(events))
        return 0
    if not events:
        print("no events loaded")
    for e in events:
        mark = "*" if e["active"] else " "
        print(f"{mark} {e['id']}  {e['kind']:<8} {e['starts_at']} – {e['ends_at']}  {e['origin']:<6} {e['title']}")
    return 0


def run_start(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    try:
        EventBook(runtime.store().conn, runtime.clock).activate(args.event_id)
        print(f"event {args.event_id} is running")
    finally:
        runtime.close()
    return 0


def run_stop(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    try:
        EventBook(runtime.store().conn, runtime.clock).activate(None)
        print("event mode off")
    finally:
        runtime.close()
    return 0


def run_status(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    try:
        banner = _mode(runtime).banner()
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(banner.as_dict()))
    else:
        print(banner.headline)
        print(f"  {banner.location}  {banner.coordinates}".rstrip())
        print(f"  {banner.window}" + (f"  {banner.unit}: {banner.serves}" if banner.unit else ""))
        print(f"  {banner.progress}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    runtime = make_runtime(args)
    try:
        report = _mode(runtime, args.event_id).attendance(all_units=args.all_units)
        if args.csv:
            report.write_csv(args.csv)
        if args.pdf:
            report.write_pdf(args.pdf)
        lang = language(runtime.config.unit.language)  # the operator's words, in the unit's language
    finally:
        runtime.close()
    print(report.title())
    for s in report.summaries:
        print(text("cli.event_unit", lang, label=s.label, present=s.present, absent=s.absent, expected=s.expected))
    print(text("cli.event_total", lang, present=report.present, absent=report.absent, expected=report.expected))
    for path in (args.csv, args.pdf):
        if path:
            print(text("cli.written", lang, path=path))
    return 0
