"""``presensi cards …``: registered cards, registering by the printed number, and reader tools."""

from __future__ import annotations

import argparse
import json

from kiosk.commands._runtime import make_runtime


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("cards", help="card registrations and card reader tools", parents=[common])
    sub = parser.add_subparsers(dest="cards_command", metavar="COMMAND")

    p = sub.add_parser("list", help="registered cards", parents=[common])
    p.add_argument("--employee", help="only this employee's cards")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_list)

    p = sub.add_parser("register", help="register a card by its number (hex UID, or the decimal printed on it)", parents=[common])
    p.add_argument("employee", help="employee id (NIP or staff id)")
    p.add_argument("number", help="04A1B2C3, 04:A1:B2:C3, 0001193046 or 018,13398")
    p.add_argument("--actor", default="cli", help="who is registering (for the audit log)")
    p.set_defaults(func=run_register)

    p = sub.add_parser("remove", help="remove a card registration", parents=[common])
    p.add_argument("number", help="the card's number as registered")
    p.add_argument("--actor", default="cli", help="who is removing (for the audit log)")
    p.set_defaults(func=run_remove)

    p = sub.add_parser(
        "listen",
        help="print what the configured reader sees (stop the kiosk service first: it holds the reader)",
        parents=[common],
    )
    p.add_argument("--count", type=int, default=0, help="stop after this many cards (0: until Ctrl-C)")
    p.set_defaults(func=run_listen)

    p = sub.add_parser("vpcd-card", help="put a virtual contactless card on pcscd's vpcd reader until Ctrl-C", parents=[common])
    p.add_argument("uid", help="the card's UID in hex")
    p.add_argument("--port", type=int, default=35963, help="vpcd's port (see /etc/reader.conf.d/vpcd)")
    p.set_defaults(func=run_vpcd_card)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_list(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.card_uid import display_uid
    from core.store.cards import list_cards

    runtime = make_runtime(args)
    conn = runtime.connect()
    try:
        cards = list_cards(conn, args.employee)
    finally:
        conn.close()
    if args.json:
        print(json.dumps([c.__dict__ | {"display": display_uid(c.uid)} for c in cards], ensure_ascii=False, indent=2))
        return 0
    for card in cards:
        print(f"{display_uid(card.uid):<36} {card.employee_id:<22} {card.employee_name}")
    if not cards:
        print("no cards registered")
    return 0


def run_register(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.card_uid import display_uid, normalise_uid
    from core.store.cards import bind_card

    runtime = make_runtime(args)
    uid = normalise_uid(args.number)
    conn = runtime.connect()
    try:
        employee, new = bind_card(conn, uid, args.employee, actor=args.actor, now=runtime.clock.now())
    finally:
        conn.close()
    state = "registered to" if new else "was already registered to"
    print(f"card {display_uid(uid)} {state} {employee.name} ({employee.id})")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.card_uid import normalise_uid
    from core.store.cards import unbind_card

    runtime = make_runtime(args)
    uid = normalise_uid(args.number)
    conn = runtime.connect()
    try:
        removed = unbind_card(conn, uid, actor=args.actor, now=runtime.clock.now())
    finally:
        conn.close()
    print("removed" if removed else f"no card {uid} is registered (give the number exactly as `presensi cards list` shows it)")
    return 0 if removed else 1


def run_listen(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.card_uid import display_uid
    from kiosk.cards.base import CardEventKind
    from kiosk.cards.factory import make_reader

    runtime = make_runtime(args)
    reader = make_reader(runtime.config.cards, runtime.clock)
    if reader is None:
        print("no card reader is configured (cards.reader = 'none')")
        return 1
    seen = 0
    with reader:
        print(f"listening on {reader.name}; tap a card (Ctrl-C to stop)")
        while not args.count or seen < args.count:
            event = reader.read(0.5)
            if event is None:
                continue
            if event.kind is CardEventKind.PRESENT and event.uid:
                seen += 1
                print(f"card {display_uid(event.uid)}", flush=True)
            elif event.kind is CardEventKind.UNREADABLE:
                print(f"unreadable card: {event.detail}", flush=True)
    return 0


def run_vpcd_card(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.cards.vpcd_card import VirtualContactlessCard

    card = VirtualContactlessCard(args.uid, port=args.port).insert()
    print(f"{card!r}; Ctrl-C takes it off the reader", flush=True)
    try:
        card.disconnected.wait()
        print("vpcd closed the connection (pcscd stopped?)")
    finally:
        card.remove()
    return 0
