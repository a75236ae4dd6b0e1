"""Crash safety: SIGKILL a recording process at random moments; nothing reported is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.store.db import integrity_ok, open_database
from core.store.punches import verify_database

REPO = Path(__file__).resolve().parent.parent


def _kill_once(data_dir: Path, rng: random.Random) -> list[int]:
    """Start the child, let it report a random number of punches, SIGKILL it mid-loop."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.punch_loop", str(data_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    reported = []
    for _ in range(rng.randint(1, 40)):
        line = child.stdout.readline()
        if not line:
            break
        reported.append(int(line))
    # Busy-spin a random number of iterations so the kill lands at a random point inside
    # record(): before, during or after the commit of the next punch.
    for _ in range(rng.randint(0, 20000)):
        pass
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reported.extend(int(line) for line in child.stdout.read().split())  # written before the kill
    return reported


def test_sigkill_50_times_loses_no_reported_punch(tmp_path: Path, presensi_cmd: list[str]) -> None:
    rng = random.Random(20261123)
    reported: list[int] = []
    for round_ in range(50):
        reported += _kill_once(tmp_path, rng)
        conn = open_database(tmp_path / "presensi.db")
        try:
            ok, message = integrity_ok(conn)
            assert ok, f"round {round_}: integrity_check: {message}"
            present = {row[0] for row in conn.execute("SELECT seq FROM punches")}
            missing = set(reported) - present
            assert not missing, f"round {round_}: reported punches lost: {sorted(missing)[:10]}"
            report = verify_database(conn)
            assert report.ok, f"round {round_}: {report}"
        finally:
            conn.close()
    assert len(reported) >= 50
    result = subprocess.run([*presensi_cmd, "--data-dir", str(tmp_path), "verify"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK:" in result.stdout


@pytest.mark.soak
def test_sigkill_500_times(tmp_path: Path) -> None:
    rng = random.Random(7)
    reported: list[int] = []
    for _ in range(500):
        reported += _kill_once(tmp_path, rng)
    conn = open_database(tmp_path / "presensi.db")
    present = {row[0] for row in conn.execute("SELECT seq FROM punches")}
    assert set(reported) <= present
    assert verify_database(conn).ok
