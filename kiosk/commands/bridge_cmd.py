"""``presensi bridge``: the fingerprint bridge service, plus its tools.

- ``presensi bridge`` runs the service (identification, enrolment, reconciliation) until stopped;
  with ``fingerprint.module = 'sim'`` (or ``unit.hardware = 'sim'``) on a simulated module.
- ``presensi bridge enrol EMPLOYEE [--finger N]`` queues an enrolment for the running bridge and
  follows it, as the maintenance page does.
- ``presensi bridge simulate`` runs a module simulator on a pty and prints its port, for trying
  a driver or pyfingerprint by hand.
- ``presensi bridge status`` prints the bridge's health and slot map.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("bridge", help="the fingerprint module bridge (service and tools)", parents=[common])
    parser.set_defaults(func=run_service)
    sub = parser.add_subparsers(dest="bridge_command", metavar="ACTION")
    service = sub.add_parser("run", help="run the bridge service (the default action; what systemd starts)", parents=[common])
    service.set_defaults(func=run_service)

    enrol = sub.add_parser("enrol", help="enrol a finger through the running bridge", parents=[common])
    enrol.add_argument("employee", help="employee id (NIP)")
    enrol.add_argument("--finger", type=int, default=0, help="0 right thumb … 9 left little finger")
    enrol.add_argument("--timeout", type=float, default=120.0, help="seconds to follow the enrolment")
    enrol.set_defaults(func=run_enrol)

    simulate = sub.add_parser("simulate", help="run a simulated module on a pty and print its port", parents=[common])
    simulate.add_argument("--family", choices=["zhiantec", "gt521"], default="zhiantec")
    simulate.add_argument("--model", choices=["r503", "r307"], default="r503")
    simulate.add_argument("--baud", type=int, default=None, help="module baud (default 57600 / 9600)")
    simulate.add_argument("--link", type=Path, default=None, help="stable path to symlink to the pty")
    simulate.add_argument("--library", type=Path, default=None, help="file the module keeps its templates in")
    simulate.add_argument("--finger", default=None, help="put this finger on the glass at start")
    simulate.add_argument("--no-pace", action="store_true", help="answer at full speed instead of at the baud")
    simulate.set_defaults(func=run_simulate)

    status = sub.add_parser("status", help="the bridge's health and slot map", parents=[common])
    status.set_defaults(func=run_status)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_service(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.errors import ConfigError
    from core.notify import Notifier, Watchdog
    from firmware_bridge.factory import build_service, start_simulated_bridge
    from kiosk.commands._runtime import make_runtime

    runtime = make_runtime(args)
    config = runtime.config.fingerprint
    stop = threading.Event()
    _stop_on_signals(stop)
    notifier = Notifier.from_env()
    if config.module == "sim" or (runtime.config.unit.hardware == "sim" and config.module != "none"):
        unit = start_simulated_bridge(runtime)
        print(f"fingerprint bridge on a simulated {config.sim_family} module at {unit.simulator.port}", flush=True)
        if unit.service.connected.wait(30):
            print("module connected", flush=True)
        with Watchdog(notifier, runtime.clock) as watchdog:
            notifier.ready("sidik jari (simulasi)")
            while not stop.wait(2):
                if not unit.service.running:
                    return 1
                watchdog.progress()
        unit.stop()
        return 0
    if config.module == "none":
        raise ConfigError("fingerprint.module is 'none': nothing to bridge (set zhiantec, gt521 or sim)")
    service = build_service(runtime, family=config.module, port=config.port)

    def relay() -> None:
        stop.wait()
        service.stop(timeout=0)

    threading.Thread(target=relay, name="bridge-signals", daemon=True).start()
    with Watchdog(notifier, runtime.clock) as watchdog:
        notifier.ready(f"sidik jari {config.module} di {config.port}")
        service.run(on_turn=watchdog.progress)  # a turn stuck on the serial line stops the pings
    return 0


def run_enrol(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from firmware_bridge import enrolment
    from kiosk.commands._runtime import make_runtime

    runtime = make_runtime(args)
    conn = runtime.connect()
    request = enrolment.request_enrolment(conn, args.employee, args.finger, requested_by="cli", now=runtime.clock.now())
    print(f"enrolment {request} queued; follow the prompts at the module")
    last = ""
    status = enrolment.enrolment_status(conn, request)
    # late: every command module is imported when presensi starts; this loads only when it runs
    import time

    deadline = time.monotonic() + args.timeout
    while status is not None and not status.finished and time.monotonic() < deadline:
        if status.message != last:
            print(f"  {status.message}", flush=True)
            last = status.message
        status = enrolment.wait_enrolment(conn, request, timeout_s=0.5)
    if status is None or not status.finished:
        enrolment.cancel_enrolment(conn, request, now=runtime.clock.now())
        print("no answer from the bridge: is `presensi bridge` running? (enrolment cancelled)", file=sys.stderr)
        return 1
    print(f"  {status.message}")
    return 0 if status.state == enrolment.DONE else 1


def run_simulate(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from firmware_bridge.factory import make_simulator

    sim = make_simulator(
        args.family, link=args.link, library_file=args.library, baud=args.baud, model=args.model, pace=not args.no_pace
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    sim.start()
    if args.finger:
        sim.place_finger(args.finger)
    print(json.dumps({"family": args.family, "port": sim.port, "baud": sim.baud}), flush=True)
    stop.wait()
    sim.stop()
    return 0


def run_status(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.health import read_all
    from core.store.finger_templates import slot_counts
    from kiosk.commands._runtime import make_runtime

    runtime = make_runtime(args)
    conn = runtime.connect()
    part = next((p for p in read_all(conn) if p.part == "fingerprint"), None)
    slots = slot_counts(conn)
    print(
        json.dumps(
            {
                "health": None
                if part is None
                else {
                    "status": part.status.value,
                    "detail": part.detail,
                    "last_error": part.last_error,
                    "metrics": dict(part.metrics),
                    "updated_at": part.updated_at,
                },
                "slots": slots,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0
