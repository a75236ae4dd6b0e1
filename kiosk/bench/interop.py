"""``presensi bench interop``: a connector application (pyzk) reading a large log from port 4370.

The time pyzk's ``get_attendance`` takes for the whole log, cold (the server's first snapshot)
and warm (its incremental cache), against the baseline of reading the same rows from SQLite in
the same run, and the slowest ``get_time`` a second client saw meanwhile.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.clock import FakeClock
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.roster import insert_roster
from core.store.synthetic import build_signed_chain
from sync.zk4370.server import ZkServer

NAME = "interop"
HELP = "pyzk get_attendance of a 100,000-punch log from presensi zk4370, beside a second client"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--punches", type=int, default=100_000, help="punches in the log")


def run(args: argparse.Namespace) -> dict[str, Any]:
    try:
        # late: pyzk is optional (the dev extra); without it the bench says it is skipped
        from zk.base import ZK
    except ImportError:
        return {"skipped": "pyzk is not installed (pip install pyzk; it is in the dev extra)"}
    with tempfile.TemporaryDirectory(prefix="presensi-bench-interop-") as tmp:
        path = Path(tmp) / "presensi.db"
        conn = open_database(path)
        ids = [f"{198503302010011001 + i}" for i in range(300)]
        insert_roster(conn, [(i, f"Pegawai {i[-3:]}", "") for i in ids], source="local", stamp="x")
        identity = DeviceIdentity.generate()
        clock = FakeClock(datetime(2026, 11, 23, tzinfo=UTC))
        build_signed_chain(conn, identity, args.punches, employee_ids=ids, clock=clock, step_s=1.0)
        started = time.perf_counter()
        # raw SQL on purpose (issue 24's allow-list): the baseline is SQLite itself reading the rows
        # the port-4370 server then sends, so the store's code must not sit in between
        rows = conn.execute("SELECT seq, employee_id, instant, method, kind FROM punches ORDER BY seq").fetchall()
        baseline = time.perf_counter() - started
        conn.close()
        with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0) as server:
            reader = ZK("127.0.0.1", port=server.port, timeout=60, ommit_ping=True).connect()
            other = ZK("127.0.0.1", port=server.port, timeout=60, ommit_ping=True).connect()
            times: dict[str, float] = {}
            counts: dict[str, int] = {}
            done = threading.Event()

            def read(label: str) -> None:
                t0 = time.perf_counter()
                counts[label] = len(reader.get_attendance())
                times[label] = time.perf_counter() - t0

            def cold() -> None:
                try:
                    read("cold")
                finally:
                    done.set()

            thread = threading.Thread(target=cold)
            thread.start()
            slowest, answered = 0.0, 0
            while not done.is_set() or answered == 0:
                t0 = time.perf_counter()
                other.get_time()
                slowest = max(slowest, time.perf_counter() - t0)
                answered += 1
            thread.join()
            read("warm")
            reader.disconnect()
            other.disconnect()
    return {
        "punches": args.punches,
        "records_read_cold": counts["cold"],
        "records_read_warm": counts["warm"],
        "get_attendance_cold_s": round(times["cold"], 3),
        "get_attendance_warm_s": round(times["warm"], 3),
        "baseline_sqlite_select_s": round(baseline, 3),
        "warm_vs_sqlite_ratio": round(times["warm"] / baseline, 2) if baseline else None,
        "rows_selected": len(rows),
        "second_client_get_time_answers": answered,
        "second_client_get_time_slowest_ms": round(slowest * 1000, 1),
    }
