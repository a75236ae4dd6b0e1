"""The clock moved under a running unit (issue 21, "Must show"): the unit's own process runs under
libfaketime, so its wall clock — and OpenSSL's, which judges the server's certificate — is three
days behind, an hour ahead with the kernel's NTP flag set, in 2019, or in 2035 with the NTP flag
set. Against the real reference server over TLS on 127.0.0.1, every punch is recorded (none refused
for the clock), flagged where the unit could know, synced, and corrected to the server's time by a
signed correction the server accepts. Event mode with a clock behind: tests/test_time_clock_behind.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers.sync_support import unit_runtime

from core.store.punches import parse_instant
from kiosk.demo.server import ServerProcess
from sync.provision import provision

REPO = Path(__file__).resolve().parent.parent
NIP = "198503302010011001"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("server")) as running:
        yield running


def moved(real: datetime, case: str) -> datetime:
    return {
        "three-days-behind": real - timedelta(days=3),
        "hour-ahead-ntp-flag": real + timedelta(hours=1),
        "year-2019": datetime(2019, 3, 1, 1, 0, tzinfo=UTC),
        "year-2035-ntp-flag": datetime(2035, 6, 1, 1, 0, tzinfo=UTC),
    }[case]


@pytest.mark.parametrize(
    ("case", "ntp_flag", "states"),
    [
        ("three-days-behind", "unsynced", ["unsynced", "unsynced"]),
        # the flag lies: the first punch cannot be known wrong until the server is heard
        ("hour-ahead-ntp-flag", "synced", ["synced", "unsynced"]),
        ("year-2019", "unsynced", ["unsynced", "unsynced"]),
        ("year-2035-ntp-flag", "synced", ["unsynced", "unsynced"]),  # beyond the horizon: certainly wrong
    ],
)
def test_every_punch_is_recorded_synced_and_corrected(
    server: ServerProcess, tmp_path: Path, case: str, ntp_flag: str, states: list[str]
) -> None:
    if shutil.which("faketime") is None:
        pytest.skip("needs faketime to move the clock under the unit (apt-get install faketime)")
    data = tmp_path / "unit"
    unit = unit_runtime(data)
    provision(unit, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    device = unit.identity().device_id
    start = moved(datetime.now(UTC), case)
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO}:{REPO / 'tests'}",
        "TZ": "UTC",
        "DONT_FAKE_MONOTONIC": "1",  # the unit's monotonic clock is real, as after a wrong RTC
        "PRESENSI_CLOCK_STATE": "",
    }
    done = subprocess.run(
        ["faketime", "-f", f"@{start:%Y-%m-%d %H:%M:%S}", sys.executable, "-m", "helpers.moved_clock", str(data), ntp_flag, NIP],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert datetime.fromisoformat(seen["wall"]).year == start.year
    assert [p["clock_state"] for p in seen["punches"]] == states
    assert [s["ok"] for s in seen["syncs"]] == [True, True], seen["syncs"]
    assert seen["syncs"][-1]["acked_seq"] == 2 and seen["syncs"][-1]["corrections_pending"] == 0

    with server.admin().storage.tx(write=False) as tx:
        rows = tx.all(
            "SELECT p.seq, p.instant, p.received_at, c.corrected_instant, c.anchor_source FROM punches p "
            "LEFT JOIN punch_corrections c ON c.device_id = p.device_id AND c.seq = p.seq WHERE p.device_id = ? ORDER BY p.seq",
            (device,),
        )
    assert [r["seq"] for r in rows] == [1, 2]  # none lost
    for r in rows:
        assert r["anchor_source"] == "server", r  # corrected, from the server's clock
        true_gap = (parse_instant(r["received_at"]) - parse_instant(r["corrected_instant"])).total_seconds()
        assert -1.5 <= true_gap <= 30, r  # happened just before the server received it, not days or years away
        recorded_gap = abs((parse_instant(r["instant"]) - parse_instant(r["corrected_instant"])).total_seconds())
        assert recorded_gap > 3000, r  # and the recorded instant is kept as it was
