"""``presensi bridge`` and ``presensi bench bridge`` as real subprocesses."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from core.health import read_all
from core.store.db import open_database


def test_bench_bridge_json_is_never_faster_than_the_wire(presensi_cmd: list[str], tmp_path: Path) -> None:
    out = subprocess.run(
        [*presensi_cmd, "bench", "bridge", "--json", "--rounds", "6", "--templates", "10", "--punches", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )
    result = json.loads(out.stdout)
    assert result["bench"] == "bridge" and result["baud"] == 57600
    assert result["identify_wire_bytes"] == 82
    assert abs(result["identify_wire_floor_ms"] - 82 * 10 / 57600 * 1000) < 0.01
    # The simulator paces its line: the round trip cannot beat the bytes on the wire.
    assert result["identify_round_trip_ms_median"] >= result["identify_wire_floor_ms"]
    assert result["identify_overhead_ratio"] >= 1.0
    assert result["template_read_ms"] >= result["template_read_floor_ms"] * 0.95
    assert result["finger_to_punch_trials"] == 2


def test_bridge_service_runs_on_the_simulator_and_stops_cleanly(presensi_cmd: list[str], tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[clock]\nstate = "synced"\n[fingerprint]\nmodule = "sim"\npoll_ms = 20\n', encoding="utf-8")
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*presensi_cmd, "bridge", "--config", str(config), "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "simulated zhiantec module" in line, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        assert proc.stdout.readline().strip() == "module connected"
        conn = open_database(data / "presensi.db")
        part = next((p for p in read_all(conn) if p.part == "fingerprint"), None)
        status = part.status.value if part else None
        assert status == "ok"
        status_out = subprocess.run(
            [*presensi_cmd, "bridge", "status", "--config", str(config), "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert json.loads(status_out.stdout)["health"]["status"] == "ok"
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
