"""The demo: a unit in simulation mode, on a temporary data directory unless one is given."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.runtime import Runtime
from kiosk.store.punches import PunchRequest, verify_database


def run_demo(args: argparse.Namespace) -> int:
    config = load_config(getattr(args, "config", None))
    config.unit.hardware = "sim"
    explicit = getattr(args, "data_dir", None)
    with tempfile.TemporaryDirectory(prefix="presensi-demo-") as tmp:
        data_dir = Path(explicit) if explicit else Path(tmp)
        runtime = Runtime(config=config, data_dir=data_dir, clock=SystemClock())
        store = runtime.store()
        print(f"Presensi Kiosk demo — device {store.identity.device_id}, data in {data_dir}")
        people = [("198503302010011001", "card"), ("199001012019032002", "finger"), ("197812122005011003", "card")]
        for i in range(args.punches):
            employee, method = people[i % len(people)]
            punch = store.record(PunchRequest(employee, method, kind="masuk", status="tepat_waktu"))
            print(
                f"  #{punch.seq:<3} {punch.instant}  {punch.employee_id}  {punch.method:<6} clock={punch.clock_state}  {punch.hash[:16]}…"
            )
        report = verify_database(runtime._conn) if runtime._conn else None
        if report is not None:
            print(
                f"verify: {'OK' if report.ok else 'FAIL'} — {report.checked} punches"
                + ("" if report.ok else f", first bad seq {report.first_bad_seq}: {report.reason}")
            )
        runtime.close()
        return 0 if report is not None and report.ok else 1
