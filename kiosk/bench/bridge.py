"""``presensi bench bridge``: fingerprint identification over the simulator, beside the wire's floor.

The simulator paces its line at the module's baud (10 bits a byte, both directions), so the
round trip measured here is a real line's plus our driver's and the pty's overhead. The floor is
the bytes an identification puts on the wire (GenImg, Img2Tz, Search and their acks) at that
baud; the ratio is what the software adds on top.
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from core.clock import SystemClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store.punches import count_punches
from core.store.roster import upsert_employee
from firmware_bridge import simfinger
from firmware_bridge.factory import seed_sim_template, sim_finger_name, start_simulated_bridge
from firmware_bridge.link import wire_seconds
from firmware_bridge.zhiantec import codec as zt
from firmware_bridge.zhiantec.driver import ZhianTecModule
from firmware_bridge.zhiantec.simulator import TEMPLATE, ZhianTecSimulator

NAME = "bridge"
HELP = "fingerprint identification round trip over the simulated module vs the wire's minimum"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baud", type=int, default=57600, help="line speed of the simulated ZhianTec module")
    parser.add_argument("--rounds", type=int, default=40, help="identifications to time")
    parser.add_argument("--templates", type=int, default=100, help="templates in the module's library")
    parser.add_argument("--punches", type=int, default=8, help="finger-to-punch trials through the bridge service")


def run(args: argparse.Namespace) -> dict[str, Any]:
    wire_bytes = sum(
        len(frame)
        for frame in (
            zt.command(zt.Instruction.GEN_IMG),
            zt.ack(0),
            zt.command(zt.Instruction.IMG2TZ, b"\x01"),
            zt.ack(0),
            zt.command(zt.Instruction.SEARCH, bytes(5)),
            zt.ack(0, bytes(4)),
        )
    )
    floor_ms = wire_seconds(wire_bytes, args.baud) * 1000
    with tempfile.TemporaryDirectory(prefix="presensi-bench-fp-") as tmp:
        root = Path(tmp)
        with ZhianTecSimulator(model="r307", baud=args.baud, link=root / "fp", pace=True) as sim:
            for slot in range(args.templates):
                sim.library[slot] = TEMPLATE.pack(
                    simfinger.combine(simfinger.capture(f"p{slot}", 1), simfinger.capture(f"p{slot}", 2))
                )
            module = ZhianTecModule(sim.port, baud=args.baud, timeout_s=2.0)
            module.open()
            target = args.templates - 1
            sim.place_finger(f"p{target}")
            times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                module.capture(0)
                match = module.identify()
                times.append(time.perf_counter() - started)
                if match is None or match.slot != target:
                    raise RuntimeError(f"benchmark finger not identified: {match}")
            template = module.read_template(target)
            started = time.perf_counter()
            module.read_template(target)
            upload_s = time.perf_counter() - started
            started = time.perf_counter()
            module.write_template(target, template)
            download_s = time.perf_counter() - started
            transfer_floor = wire_seconds(
                len(zt.command(zt.Instruction.LOAD_CHAR, bytes(3)))
                + 12
                + 13
                + 12
                + len(b"".join(zt.data_packets(template, module.packet_size))),
                args.baud,
            )
            module.close()
        punch_ms = _finger_to_punch(root, args)
    median_ms = statistics.median(times) * 1000
    return {
        "baud": args.baud,
        "library_templates": args.templates,
        "identify_round_trip_ms_median": round(median_ms, 2),
        "identify_round_trip_ms_p90": round(sorted(times)[int(len(times) * 0.9) - 1] * 1000, 2),
        "identify_wire_bytes": wire_bytes,
        "identify_wire_floor_ms": round(floor_ms, 2),
        "identify_overhead_ratio": round(median_ms / floor_ms, 3),
        "template_bytes": len(template),
        "template_read_ms": round(upload_s * 1000, 1),
        "template_write_ms": round(download_s * 1000, 1),
        "template_read_floor_ms": round(transfer_floor * 1000, 1),
        "finger_to_punch_ms_median": round(statistics.median(punch_ms), 1) if punch_ms else None,
        "finger_to_punch_trials": len(punch_ms),
    }


def _finger_to_punch(root: Path, args: argparse.Namespace) -> list[float]:
    """Place an enrolled finger; time until the punch is committed (service, poll 20 ms)."""
    config = KioskConfig()
    config.clock.state = "synced"
    # A throwaway template key: the bench never touches the machine's own key file.
    config.privacy.key_provider, config.privacy.sim_otp_hex = "sim", secrets.token_hex(32)
    config.fingerprint.module = "sim"
    config.fingerprint.baud = args.baud
    config.fingerprint.poll_ms = 20
    config.fingerprint.duplicate_interval_s = 0
    runtime = Runtime(config=config, data_dir=root / "unit", clock=SystemClock())
    conn = runtime.connect()
    name = sim_finger_name("BENCH1")
    upsert_employee(conn, "BENCH1", "Bench", now=runtime.clock.now())
    seed_sim_template(conn, "BENCH1", now=runtime.clock.now())
    unit = start_simulated_bridge(runtime, pace=True)
    results: list[float] = []
    try:
        if not unit.service.connected.wait(10):
            return []
        sim = unit.simulator
        sim.wait_for(lambda: len(sim.library) == 1, 10)
        for _ in range(args.punches):
            sim.lift_and_wait_seen(5)
            started = time.perf_counter()
            sim.place_finger(name)
            if not sim.wait_for(lambda: _punches(conn) > len(results), 10):
                break
            results.append((time.perf_counter() - started) * 1000)
    finally:
        unit.stop()
        conn.close()
    return results


def _punches(conn: sqlite3.Connection) -> int:
    return count_punches(conn)
