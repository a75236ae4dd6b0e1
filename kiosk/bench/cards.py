"""``presensi bench cards``: card tap → committed punch → decision delivered, on the simulated
reader and on an RDM6300 simulator over a real pty, beside the bare durable record as a baseline."""

from __future__ import annotations

import argparse
import queue
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from core.clock import FixedClockState, SystemClock
from core.config import CardsConfig
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from core.store.roster import insert_roster
from kiosk.cards.rdm6300_sim import Rdm6300Simulator
from kiosk.cards.service import CardAttempt, CardService, Outcome
from kiosk.cards.sim import SimCardReader
from kiosk.cards.uart import Rdm6300Reader

NAME = "cards"
HELP = "card tap to decision latency (simulated reader and RDM6300 over a pty) beside a bare durable record"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--taps", type=int, default=200, help="taps per reader")
    parser.add_argument("--dir", type=Path, default=None, help="directory for the benchmark database (default: a temporary one)")


def _store(path: Path) -> PunchStore:
    store = PunchStore(open_database(path), DeviceIdentity.generate(), SystemClock(), FixedClockState())
    insert_roster(
        store.conn,
        [(f"E{i:03d}", f"Pegawai {i}", "") for i in range(50)],
        [(f"0A00{i:06X}", f"E{i:03d}") for i in range(50)],
        source="local",
        stamp="x",
    )
    return store


def _taps(service: CardService, tap: Any, count: int) -> list[float]:
    decisions: queue.Queue[CardAttempt] = queue.Queue()
    service.subscribe(decisions.put)
    latencies = []
    with service:
        if not service.wait_connected(10):
            raise RuntimeError("the benchmark reader did not connect")
        for i in range(count):
            started = time.perf_counter()
            tap(f"0A00{i % 50:06X}")
            decision = decisions.get(timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            if decision.outcome is not Outcome.ACCEPTED:
                raise RuntimeError(f"benchmark tap refused: {decision.reason}")
    return latencies


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = CardsConfig(reader="sim", duplicate_interval_s=0, release_ms=100)
    with tempfile.TemporaryDirectory(prefix="presensi-bench-cards-", dir=args.dir) as tmp:
        root = Path(tmp)
        store = _store(root / "baseline.db")
        started = time.perf_counter()
        for i in range(args.taps):
            store.record(PunchRequest(employee_id=f"E{i % 50:03d}", method="card"))
        record_ms = (time.perf_counter() - started) * 1000 / args.taps
        store.conn.close()

        store = _store(root / "sim.db")
        sim = SimCardReader()
        sim_ms = _taps(CardService(sim, store, config=config, clock=SystemClock()), sim.tap, args.taps)
        store.conn.close()

        store = _store(root / "uart.db")
        with Rdm6300Simulator() as rdm:
            reader = Rdm6300Reader(rdm.port, release_s=0.1)
            uart_ms = _taps(
                CardService(reader, store, config=config, clock=SystemClock()), lambda uid: rdm.tap(uid, repeats=1), args.taps
            )
        store.conn.close()
    sim_median = statistics.median(sim_ms)
    return {
        "taps": args.taps,
        "record_ms_mean": round(record_ms, 3),
        "sim_tap_to_decision_ms_median": round(sim_median, 3),
        "sim_tap_to_decision_ms_p95": round(sorted(sim_ms)[int(len(sim_ms) * 0.95) - 1], 3),
        "rdm6300_pty_tap_to_decision_ms_median": round(statistics.median(uart_ms), 3),
        "rdm6300_pty_tap_to_decision_ms_p95": round(sorted(uart_ms)[int(len(uart_ms) * 0.95) - 1], 3),
        "sim_tap_cost_ratio": round(sim_median / record_ms, 3),
    }
