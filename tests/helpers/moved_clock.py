"""One unit process with its wall clock moved (run under faketime by tests/test_time_moved_clock.py).

Usage: python -m helpers.moved_clock DATA_DIR NTP_FLAG EMPLOYEE [--sync-first]
Records a card punch, syncs once (TLS to the real server, the kernel's clock as OpenSSL sees it),
records a second punch and syncs again; prints what happened as one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.clock import SystemClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store.punches import PunchRequest
from sync.service import run_once


def main(argv: list[str]) -> int:
    data_dir, ntp_flag, employee = Path(argv[0]), argv[1], argv[2]
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = ntp_flag  # what the kernel's NTP flag says: "synced" (perhaps wrongly) or "unsynced"
    config.sync.timeout_s = 20
    runtime = Runtime(config=config, data_dir=data_dir, clock=SystemClock())
    out: dict[str, object] = {"wall": runtime.clock.now().isoformat()}
    punches, syncs = [], []
    for _ in range(2):
        store = runtime.store()
        punch = store.record(PunchRequest(employee, "card"))
        punches.append({"seq": punch.seq, "instant": punch.instant, "clock_state": punch.clock_state})
        syncs.append(run_once(runtime))
    out["punches"] = punches
    out["syncs"] = [{k: s.get(k) for k in ("ok", "acked_seq", "error", "corrections_pending")} for s in syncs]
    out["clock"] = runtime.timekeeper(signing=False).report().detail
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
