"""A cloned data directory must not lock out the real unit (issue 21): two units with the same key
(one a copy of the other's data directory) both sync to the reference server over TLS. The server
keeps both chains and raises the alarm; the unit whose punches were kept apart is acknowledged,
keeps pulling its roster, and its doctor says FAIL with what to do."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.sync_support import unit_runtime

from core.runtime import Runtime
from core.store.punches import PunchRequest
from core.store.sync_state import get_text_setting
from kiosk.checks.findings import Status
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.service import run_once
from sync.state import FORK_KEY, clear_fork
from sync.targets.presensi_v1 import tls_context


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def punch(runtime: Runtime, employee: str, count: int) -> None:
    store = runtime.store()  # the runtime's own connection, kept open
    for _ in range(count):
        store.record(PunchRequest(employee, "card"))


def test_a_clone_is_an_alarm_never_a_lock_out(server: ServerProcess, tmp_path: Path) -> None:
    from kiosk.checks.sync import sync as sync_check

    genuine = unit_runtime(tmp_path / "genuine")
    provision(genuine, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    punch(genuine, "GENUINE", 6)
    assert run_once(genuine)["acked_seq"] == 6
    # Someone copies the data directory (the key file of a sim key is in the config: the same key).
    shutil.copytree(tmp_path / "genuine", tmp_path / "clone")
    clone = unit_runtime(tmp_path / "clone")
    punch(clone, "CLONE", 2)  # its seq 7 and 8
    assert run_once(clone)["acked_seq"] == 8  # first come: the server's chain is the clone's
    punch(genuine, "GENUINE", 3)  # the real unit's own seq 7, 8, 9
    first = run_once(genuine)
    assert first["ok"] and first["acked_seq"] == 9 and first["pending"] == 0  # acknowledged, not refused forever

    admin = server.admin()
    device = next(d for d in admin.devices() if d["id"] == genuine.identity().device_id)
    assert device["forked_at"] is not None and device["forked_punches"] == 3
    assert any(r["reason"].startswith("FORK: 3 punches (7–9)") for r in admin.ledger.rejections(device["id"]))
    page = httpx.get(f"{server.url}/devices/{device['id']}", verify=tls_context(server.ca_file)).text
    assert "Rantai ganda" in page and "3 presensi bertanda tangan kunci perangkat ini" in page
    stored = {p["employee_id"] for p in admin.punches(device["id"], 50)}
    assert stored == {"GENUINE", "CLONE"}  # the chain the server holds: 1–6 genuine, 7–8 the clone's

    # The real unit keeps receiving its roster (server-side erasures must reach it) ...
    admin.roster.add_employee("198503302010011001", "Budi Santoso", unit_code="DISKOMINFO")
    version = admin.roster.publish()
    punch(genuine, "GENUINE", 1)  # seq 10 continues its own chain: kept apart too, acknowledged
    second = run_once(genuine)
    assert second["ok"] and second["roster_version"] == version and second["acked_seq"] == 10
    device = next(d for d in server.admin().devices() if d["id"] == device["id"])
    assert device["forked_punches"] == 4

    # ... and says what happened: the dashboard's sync part and doctor are FAIL with what to do.
    conn = genuine.connect()
    assert get_text_setting(conn, FORK_KEY) is not None
    findings = {f.part: f for f in sync_check(genuine)}
    assert findings["sync fork"].status is Status.FAIL and "presensi sync clear-fork" in findings["sync fork"].todo
    assert clear_fork(conn, genuine.clock.now())
    assert "sync fork" not in {f.part for f in sync_check(genuine)}
    conn.close()
