"""``presensi privacy status`` and ``presensi privacy erase`` in a real subprocess, and doctor's
privacy findings in ``presensi doctor --json``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from core.config import load_config
from core.runtime import Runtime
from core.store import roster
from core.templates import face as templates
from firmware_bridge.factory import seed_sim_template

CONFIG = """
[unit]
hardware = "sim"
[privacy]
key_provider = "sim"
sim_otp_hex = "{key}"
"""


def run(cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, check=False)


def test_status_counts_and_erase_removes_and_audits(tmp_path: Path, presensi_cmd: list[str]) -> None:
    config_file = tmp_path / "presensi.toml"
    config_file.write_text(CONFIG.format(key="4d" * 32))
    rt = Runtime(config=load_config(config_file), data_dir=tmp_path / "data")
    conn = rt.connect()
    now = rt.clock.now()
    roster.upsert_employee(conn, "E1", "Ani", now=now)
    blob, scheme = templates.seal(np.full(128, 0.05), employee_id="E1", sealer=rt.template_key.sealer())
    roster.add_face_template(conn, "E1", blob, scheme, now=now)
    seed_sim_template(conn, "E1", now=now)
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('04AA', 'E1', '')")
    conn.close()
    where = ["--config", str(config_file), "--data-dir", str(tmp_path / "data")]

    status = run(presensi_cmd, "privacy", "status", "--json", *where)
    assert status.returncode == 0, status.stderr
    inventory = json.loads(status.stdout)
    assert inventory["key"].startswith("sim, key id ") and inventory["cards"] == 1
    assert [(t["table"], t["total"], t["sealed_here"]) for t in inventory["templates"]] == [
        ("face_templates", 1, 1),
        ("finger_templates", 1, 1),
    ]
    assert inventory["retention"]["punches_days_after_acknowledgement"] == 90

    erased = run(presensi_cmd, "privacy", "erase", "E1", "--reason", "pindah tugas", "--actor", "teknisi", *where)
    assert erased.returncode == 0, erased.stderr
    assert "1 face and 1 finger templates, 1 cards" in erased.stdout
    after = json.loads(run(presensi_cmd, "privacy", "status", "--json", *where).stdout)
    assert [t["total"] for t in after["templates"]] == [0, 0] and after["cards"] == 0
    assert after["employees_inactive"] == 1 and after["audit_entries"] == 1
    assert run(presensi_cmd, "privacy", "erase", "E9", "--reason", "x", *where).returncode == 1


def test_doctor_json_names_a_foreign_key_and_what_to_do(tmp_path: Path, presensi_cmd: list[str]) -> None:
    first = tmp_path / "first.toml"
    first.write_text(CONFIG.format(key="4d" * 32))
    rt = Runtime(config=load_config(first), data_dir=tmp_path / "data")
    conn = rt.connect()
    roster.upsert_employee(conn, "E1", "Ani", now=rt.clock.now())
    blob, scheme = templates.seal(np.full(128, 0.05), employee_id="E1", sealer=rt.template_key.sealer())
    roster.add_face_template(conn, "E1", blob, scheme, now=rt.clock.now())
    conn.close()
    other = tmp_path / "other.toml"
    other.write_text(CONFIG.format(key="e5" * 32))
    done = run(presensi_cmd, "doctor", "--json", "--config", str(other), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 1
    findings = {f["part"]: f for f in json.loads(done.stdout)}
    stored = findings["stored templates"]
    assert stored["status"] == "FAIL" and "another unit's key" in stored["detail"]
    assert "re-enrol" in stored["todo"] and "restore the key" in stored["todo"]
    assert findings["template key"]["status"] == "WARN"  # a simulated key says so
