"""``presensi zk4370``: serve ZKTeco's port-4370 protocol from the punch store."""

from __future__ import annotations

import argparse
import signal
import threading


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "zk4370",
        help="serve the ZKTeco port-4370 protocol (users, attendance, live events) to connector applications",
        parents=[common],
    )
    parser.add_argument("--port", type=int, default=None, help="override zk4370.port")
    parser.add_argument("--host", default=None, help="override zk4370.host")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.config import read_secret
    from core.notify import Notifier, Watchdog
    from core.store.sync_state import get_cursor
    from kiosk.commands._runtime import make_runtime
    from kiosk.privileged.client import HelperClockSetter
    from sync.zk4370.server import ZkPolicy, ZkServer

    runtime = make_runtime(args)
    cfg = runtime.config.zk4370
    if not cfg.enabled:
        print("presensi zk4370: the port-4370 server is off (set zk4370.enabled = true)")
        return 1
    store = runtime.store()
    keeper = runtime.timekeeper(store.conn)
    key = read_secret(cfg.comm_key_file)

    def acked_seq() -> int:
        return get_cursor(store.conn, cfg.central_target)

    policy = ZkPolicy(
        comm_key=int(key) if key else 0,
        allow_set_time=cfg.allow_set_time,
        allow_clear_log=cfg.allow_clear_log,
        set_time=lambda instant: keeper.set_time(instant, HelperClockSetter()),
        acked_seq=acked_seq,
        prune_through=store.prune_through,
        export_cards=cfg.export_cards,
    )
    server = ZkServer(
        runtime.db_path,
        zone=runtime.config.unit.zone,
        clock=runtime.clock,
        device_id=store.identity.device_id,
        host=args.host or cfg.host,
        port=args.port or cfg.port,
        policy=policy,
        states=cfg.states,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    notifier = Notifier.from_env()
    with server, Watchdog(notifier, runtime.clock) as watchdog:
        notifier.ready(f"port 4370 on {server.host}:{server.port}")
        print(f"port-4370 server on {server.host}:{server.port} (TCP and UDP)")
        while not stop.wait(2):
            if not server.responsive():
                print("presensi zk4370: the server stopped answering; exiting so systemd restarts it")
                return 1
            watchdog.progress()
    return 0
