"""Erasure by the roster (issue 12): every template of a removed employee goes, whatever its
source, from the database and from the fingerprint module; the audit log records counts only."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core.clock import FakeClock
from core.config import KioskConfig
from core.privacy import TemplateKeyError
from core.runtime import Runtime
from core.store import roster
from core.store.sync_state import get_cursor
from core.templates import face as templates
from firmware_bridge import simfinger
from firmware_bridge.factory import seed_sim_template, sim_finger_name, start_simulated_bridge
from firmware_bridge.zhiantec.simulator import TEMPLATE
from sync.roster_pull import apply_roster
from sync.state import ROSTER_CURSOR

WAIT = 15.0
GONE, KEPT = "198001012005011001", "198502022010012002"


def unit(path: Path, otp_hex: str) -> Runtime:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "synced"
    config.privacy.key_provider, config.privacy.sim_otp_hex = "sim", otp_hex
    config.fingerprint.module, config.fingerprint.poll_ms, config.fingerprint.timeout_s = "sim", 10, 0.3
    return Runtime(config=config, data_dir=path, clock=FakeClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)))


def sim_template(employee_id: str, finger: int) -> bytes:
    """What the simulated module makes of that finger (as seed_sim_template does)."""
    name = sim_finger_name(employee_id, finger)
    return TEMPLATE.pack(simfinger.combine(simfinger.capture(name, 1000), simfinger.capture(name, 1001)))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def count(conn: sqlite3.Connection, table: str, employee_id: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table} WHERE employee_id = ?", (employee_id,)).fetchone()[0])


def test_roster_removal_erases_every_template_on_the_unit_and_the_module(tmp_path: Path) -> None:
    rt = unit(tmp_path / "u", "c3" * 32)
    conn = rt.connect()
    now = rt.clock.now()
    face = np.linspace(-0.1, 0.1, 128, dtype="<f4")
    roster_finger = sim_template(GONE, 1)
    apply_roster(
        conn,
        {
            "version": 1,
            "employees": [
                {
                    "id": GONE,
                    "name": "Ani",
                    "faces": [{"encoding": b64(face.tobytes()), "scheme": "plain"}],
                    "fingers": [{"finger": 1, "family": "zhiantec", "template": b64(roster_finger)}],
                },
                {"id": KEPT, "name": "Budi"},
            ],
        },
        now,
    )
    # Enrolled on the unit itself (source 'local'): a face, a finger, a card.
    blob, scheme = templates.seal(face + 0.01, employee_id=GONE, sealer=rt.template_key.sealer())
    roster.add_face_template(conn, GONE, blob, scheme, now=now)
    seed_sim_template(conn, GONE, finger=0, now=now)
    seed_sim_template(conn, KEPT, finger=0, now=now)
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('04AABBCC', ?, '')", (GONE,))
    sealed = [
        bytes(r[0]) for r in conn.execute("SELECT encoding FROM face_templates UNION ALL SELECT template FROM finger_templates")
    ]
    bridge = start_simulated_bridge(rt, pace=False)
    try:
        library = bridge.simulator.library
        assert bridge.simulator.wait_for(lambda: len(library) == 3, WAIT), library.keys()
        gone_raw = {sim_template(GONE, 0), roster_finger}
        assert set(library.values()) == gone_raw | {sim_template(KEPT, 0)}

        apply_roster(conn, {"version": 2, "removed_employees": [GONE, "199912312020121999"]}, rt.clock.now())

        for table in ("face_templates", "finger_templates", "cards"):
            assert count(conn, table, GONE) == 0, table
        assert conn.execute("SELECT active FROM employees WHERE id = ?", (GONE,)).fetchone()[0] == 0
        assert bridge.simulator.wait_for(lambda: len(library) == 1, WAIT), "the erased employee stayed on the module"
        assert set(library.values()) == {sim_template(KEPT, 0)} and not gone_raw & set(library.values())
        assert count(conn, "finger_templates", KEPT) == 1
    finally:
        bridge.stop()
    rows = conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'employee.erase'").fetchall()
    assert len(rows) == 1 and rows[0]["actor"] == "sync"
    detail = json.loads(rows[0]["detail"])
    assert detail == {
        "employee": GONE,
        "reason": "removed from the roster (version 2)",
        "faces": 2,
        "fingers": 2,
        "cards": 1,
        "evidence": 0,
    }
    text = rows[0]["detail"]
    for data in [*gone_raw, face.tobytes(), *sealed]:
        assert data.hex()[:32] not in text and b64(data)[:24] not in text
    conn.close()


def test_removal_is_applied_even_when_the_key_cannot_be_read(tmp_path: Path) -> None:
    keyed = unit(tmp_path / "u", "c3" * 32)
    conn = keyed.connect()
    apply_roster(conn, {"version": 1, "employees": [{"id": GONE, "name": "Ani"}]}, keyed.clock.now())
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('04AABBCC', ?, '')", (GONE,))
    seed_sim_template(conn, GONE, now=keyed.clock.now())
    conn.close()
    keyless = unit(tmp_path / "u", "")  # the same unit after its key was lost
    conn = keyless.connect()
    doc = {
        "version": 2,
        "employees": [{"id": KEPT, "name": "Budi", "fingers": [{"finger": 0, "family": "zhiantec", "template": b64(b"x" * 64)}]}],
        "removed_employees": [GONE],
    }
    with pytest.raises(TemplateKeyError, match="provision"):
        apply_roster(conn, doc, keyless.clock.now())
    assert count(conn, "finger_templates", GONE) == 0 and count(conn, "cards", GONE) == 0
    assert count(conn, "finger_templates", KEPT) == 0  # nothing stored plain
    assert get_cursor(conn, ROSTER_CURSOR) == 1  # the rest waits for the key
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'employee.erase'").fetchone()[0] == 1
    conn.close()
