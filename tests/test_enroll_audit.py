"""``presensi enroll`` is audited, and a different --name for an existing employee is refused
unless --rename says so (issue 21.8: it silently renamed the employee and merged templates)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path


def enrol(presensi_cmd: list[str], data: Path, photo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PRESENSI_CONFIG": "", "PRESENSI_TEMPLATE_KEY_FILE": os.environ["PRESENSI_TEMPLATE_KEY_FILE"]}
    return subprocess.run(
        [*presensi_cmd, "--data-dir", str(data), "enroll", "--employee", "198503302010011001", *extra, str(photo)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_enrolment_is_audited_and_a_rename_needs_rename(presensi_cmd: list[str], tmp_path: Path, faces_dir: Path) -> None:
    data = tmp_path / "unit"
    photos = sorted((faces_dir / "train" / "biden").iterdir())
    first = enrol(presensi_cmd, data, photos[0], "--name", "Joe Biden")
    assert first.returncode == 0, first.stderr
    refused = enrol(presensi_cmd, data, photos[1], "--name", "Budi Santoso")
    assert refused.returncode == 2 and "--rename" in refused.stdout
    renamed = enrol(presensi_cmd, data, photos[1], "--name", "Joseph R. Biden", "--rename", "--json")
    assert renamed.returncode == 0 and json.loads(renamed.stdout)["name"] == "Joseph R. Biden"
    conn = sqlite3.connect(data / "presensi.db")
    rows = conn.execute("SELECT actor, action, detail FROM audit_log WHERE action = 'face.enrol' ORDER BY rowid").fetchall()
    conn.close()
    assert len(rows) == 2 and all(r[0].startswith("cli:") for r in rows)
    assert json.loads(rows[1][2])["renamed_from"] == "Joe Biden"
