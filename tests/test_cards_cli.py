"""``presensi cards`` in a real subprocess against a real database file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.store.db import open_database


def run(cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, "cards", *args], capture_output=True, text=True, timeout=60, check=False)


def test_register_by_printed_number_list_and_remove(tmp_path: Path, presensi_cmd: list[str]) -> None:
    conn = open_database(tmp_path / "presensi.db")
    conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('P3K-0031', 'Agus Wibowo', 'x')")
    conn.close()
    where = ["--data-dir", str(tmp_path)]
    registered = run(presensi_cmd, "register", "P3K-0031", "0001193046", "--actor", "teknisi", *where)
    assert registered.returncode == 0, registered.stderr
    assert "00:12:34:56 registered to Agus Wibowo" in registered.stdout
    listed = run(presensi_cmd, "list", *where)
    assert "P3K-0031" in listed.stdout and "00:12:34:56" in listed.stdout
    refused = run(presensi_cmd, "register", "nobody", "04A1B2C3", *where)
    assert refused.returncode != 0 and "no employee 'nobody'" in refused.stderr
    bad = run(presensi_cmd, "register", "P3K-0031", "zz-not-a-card", *where)
    assert bad.returncode != 0 and "not a card number" in bad.stderr
    assert run(presensi_cmd, "remove", "00123456", *where).returncode == 0
    assert run(presensi_cmd, "remove", "00123456", *where).returncode == 1
    conn = open_database(tmp_path / "presensi.db")
    actions = [r["action"] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    conn.close()
    assert actions == ["card.register", "card.remove"]
