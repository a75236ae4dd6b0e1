"""A data directory and database made by any command are private (issues 21.11, 22.12): the
database holds password hashes, the setup code and sealed templates; a hand-run command under
umask 022 used to leave it world-readable."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path


def test_a_command_makes_the_data_directory_and_database_private(presensi_cmd: list[str], tmp_path: Path) -> None:
    data = tmp_path / "unit"
    result = subprocess.run(
        [*presensi_cmd, "sync", "status", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o750
    for name in ("presensi.db", "presensi.db-wal", "presensi.db-shm"):
        path = data / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert (data / "presensi.db").exists()
