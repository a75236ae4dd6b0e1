"""What an operator reads from the command line (issue 23.11): no library warnings, a plain
answer for a file that is not a database, and no Python ``None`` in ``sync status``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(presensi_cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*presensi_cmd, *args], capture_output=True, text=True)


def test_verify_of_a_file_that_is_not_a_database_says_so(presensi_cmd: list[str], tmp_path: Path) -> None:
    result = run(presensi_cmd, "verify", str(REPO / "README.md"), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "bukan basis data presensi" in result.stdout and "not a presensi database" in result.stdout
    assert "damaged" not in result.stdout + result.stderr


def test_sync_status_prints_no_python_none(presensi_cmd: list[str], tmp_path: Path) -> None:
    result = run(presensi_cmd, "sync", "status", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout and "clock_offset_s: -" in result.stdout


def test_face_commands_print_no_pkg_resources_warning(presensi_cmd: list[str], tmp_path: Path) -> None:
    pytest.importorskip("face_recognition_models")
    result = subprocess.run(
        [*presensi_cmd[:1], "-W", "default", *presensi_cmd[1:], "doctor", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert "pkg_resources" not in result.stderr and "UserWarning" not in result.stderr


def test_doctor_reports_a_missing_data_directory_and_makes_none(presensi_cmd: list[str], tmp_path: Path) -> None:
    absent = tmp_path / "var-lib-presensi"
    result = run(presensi_cmd, "doctor", "--data-dir", str(absent))
    assert result.returncode != 0
    assert "does not exist" in result.stdout and "--data-dir" in result.stdout
    assert not absent.exists()
