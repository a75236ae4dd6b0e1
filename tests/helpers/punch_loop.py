"""Child process for the crash test: records punches forever, reporting each seq on stdout
only after ``record()`` returned (so every reported punch must survive a SIGKILL)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.clock import FixedClockState, SystemClock
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore


def main() -> None:
    data_dir = Path(sys.argv[1])
    store = PunchStore(
        open_database(data_dir / "presensi.db"), DeviceIdentity.load_or_create(data_dir), SystemClock(), FixedClockState()
    )
    out = os.fdopen(sys.stdout.fileno(), "w", buffering=1)
    out.write("ready\n")
    n = 0
    while True:
        n += 1
        punch = store.record(
            PunchRequest(
                f"EMP{n % 37:03d}", "card", kind="masuk", status="tepat_waktu", liveness_scores={"x": n / 7}, match_distance=0.1
            )
        )
        out.write(f"{punch.seq}\n")


if __name__ == "__main__":
    main()
