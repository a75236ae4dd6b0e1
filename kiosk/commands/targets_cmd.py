"""``presensi targets``: deliver punches to the other servers in ``[[targets]]`` (Frappe HR,
ZKTeco PUSH/ADMS), each with its own cursor, beside the presensi_v1 sync."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.runtime import Runtime
    from core.store.punches import PunchStore

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "targets", help="deliver punches to Frappe HR / ZKTeco PUSH servers ([[targets]])", parents=[common]
    )
    parser.add_argument("--once", action="store_true", help="one round for each target, print what happened, exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.health import Health, report
    from core.notify import Notifier, Watchdog
    from kiosk.commands._runtime import make_runtime
    from sync.targets.base import TargetRunner, TargetUnavailable
    from sync.targets.factory import build_target

    runtime = make_runtime(args)
    configs = runtime.config.targets
    if not configs:
        print("presensi targets: no [[targets]] configured")
        return 1
    stop = threading.Event()
    runners: list[TargetRunner] = []
    for config in configs:
        store = runtime.store() if not runners else _own_store(runtime)
        target = build_target(config, store, runtime.clock, zone=runtime.config.unit.zone)
        if getattr(target, "plain_http", False):
            report(
                store.conn,
                f"target:{config.name}",
                Health.WARN,
                f"plain HTTP to {config.url}: punches travel unencrypted",
                now=runtime.clock.now(),
            )
        runners.append(
            TargetRunner(
                store, target, runtime.clock, interval_s=config.interval_s, backoff_max_s=runtime.config.sync.backoff_max_s
            )
        )
    if args.once:
        failed = 0
        for runner in runners:
            try:
                delivery = runner.run_once()
            except TargetUnavailable as exc:
                print(f"{runner.cursor_name}: unavailable: {exc}")
                failed += 1
                continue
            print(
                f"{runner.cursor_name}: delivered {delivery.delivered}, duplicates {delivery.duplicates}, rejected {len(delivery.rejects)}; cursor {runner.cursor()}"
            )
        return 1 if failed else 0
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=r.loop, args=(stop,), name=r.cursor_name, daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    notifier = Notifier.from_env()
    with Watchdog(notifier, runtime.clock) as watchdog:
        notifier.ready(f"{len(runners)} target(s)")
        while not stop.wait(2):
            if not all(t.is_alive() for t in threads):
                log.error("a target thread died; exiting so systemd restarts the service")
                return 1
            watchdog.progress()
    return 0


def _own_store(runtime: Runtime) -> PunchStore:
    """Each runner thread gets its own connection (SQLite connections are per thread)."""
    return runtime.new_store()
