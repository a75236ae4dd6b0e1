"""Roster, heartbeat and CA pinning end to end: admin commands → real server over TLS → unit database."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from helpers.sync_support import unit_runtime

from core.clock import SystemClock
from core.health import Health, report
from core.store.punches import PunchRequest, PunchStore
from core.store.sync_state import get_cursor
from core.templates.face import unseal
from core.wire import SyncUnavailable
from kiosk.demo.server import ServerProcess
from sync.provision import build_client, offset_aware_state, provision
from sync.server.certs import demo_pki
from sync.service import run_once
from sync.state import UPLOAD_CURSOR
from sync.targets.presensi_v1 import tls_context


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def admin_cmd(server: ServerProcess, *args: str) -> str:
    cmd = [sys.executable, "-m", "kiosk.cli", "server", *args, "--server-config", str(server.config_path)]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_roster_from_admin_commands_reaches_the_unit(server: ServerProcess, tmp_path: Path, faces_dir: Path) -> None:
    admin_cmd(server, "add-unit", "DISKOMINFO", "Dinas Komunikasi dan Informatika")
    admin_cmd(server, "add-employee", "198503302010011001", "Budi Santoso", "--unit", "DISKOMINFO", "--work-code", "5HARI")
    out = admin_cmd(server, "enrol-face", "198503302010011001", str(faces_dir / "obama_small.jpg"))
    assert "1 face template" in out
    admin_cmd(server, "add-card", "04:a1:b2:c3", "198503302010011001")
    pack = tmp_path / "apel.json"
    pack.write_text(
        json.dumps(
            {
                "id": "apel-2026-11-30",
                "kind": "apel",
                "title": "Apel Senin",
                "location": "Alun-alun",
                "starts_at": "2026-11-30T00:00:00Z",
                "ends_at": "2026-11-30T01:30:00Z",
            }
        )
    )
    assert "published in roster version 1" in admin_cmd(server, "publish-event", str(pack))
    token = admin_cmd(server, "issue-token", "--unit", "DISKOMINFO").strip()
    runtime = unit_runtime(tmp_path / "unit")
    provision(runtime, server.url, token, server.ca_file)
    outcome = run_once(runtime)
    assert outcome["ok"] and outcome["roster_version"] == 1
    conn = runtime.connect()
    assert conn.execute("SELECT name, unit_code, work_code FROM employees").fetchone()[:] == (
        "Budi Santoso",
        "DISKOMINFO",
        "5HARI",
    )
    stored = conn.execute("SELECT encoding, scheme FROM face_templates").fetchone()
    assert stored["scheme"] == "aesgcm-v1"  # sealed with the unit's key on arrival
    encoding = unseal(
        stored["encoding"], stored["scheme"], employee_id="198503302010011001", sealer=runtime.template_key.sealer()
    )
    assert encoding.shape == (128,) and 0.5 < float(np.linalg.norm(encoding)) < 2.0  # a real dlib encoding
    assert conn.execute("SELECT uid FROM cards").fetchone()[0] == "04A1B2C3"
    assert conn.execute("SELECT title FROM events").fetchone()[0] == "Apel Senin"
    # An incremental change: the employee leaves.
    admin_cmd(server, "remove-employee", "198503302010011001")
    admin_cmd(server, "publish")
    assert run_once(runtime)["roster_version"] == 2
    assert conn.execute("SELECT active FROM employees").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM face_templates").fetchone()[0] == 0
    conn.close()


def test_heartbeat_shows_queue_faults_and_clock_on_the_device_page(server: ServerProcess, tmp_path: Path) -> None:
    runtime = unit_runtime(tmp_path / "unit", batch_size=2)
    provision(runtime, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    store = runtime.store()
    for i in range(5):
        store.record(PunchRequest(f"EMP{i}", "card"))
    report(store.conn, "camera", Health.FAIL, "Kamera tidak terdeteksi", now=runtime.clock.now(), error="/dev/video0 missing")
    client = build_client(runtime)
    client.upload_pending(max_batches=1)  # two of five delivered, three queued
    client.heartbeat()
    client.target.close()
    with httpx.Client(base_url=server.url, verify=tls_context(server.ca_file)) as http:
        page = html.unescape(http.get(f"/devices/{store.identity.device_id}").text)
    assert "Kamera tidak terdeteksi" in page
    assert "<tr><th>Antrean di perangkat</th><td>3</td></tr>" in page
    assert "Diterima s.d. urut</th><td>2</td>" in page
    device = server.admin().devices()[0]
    assert device["queue_depth"] == 3 and abs(device["clock_offset_s"]) < 5
    assert get_cursor(store.conn, UPLOAD_CURSOR) == 2


def test_a_server_with_another_ca_is_not_trusted(server: ServerProcess, tmp_path: Path) -> None:
    other_ca = demo_pki(tmp_path / "other-pki").ca_cert
    runtime = unit_runtime(tmp_path / "unit")
    with pytest.raises(SyncUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        provision(runtime, server.url, server.admin().issue_token(), other_ca)


class SkewedClock(SystemClock):
    """The machine's clock, wrong by ``skew_s`` (a unit whose RTC battery died)."""

    def __init__(self, skew_s: float) -> None:
        super().__init__()
        self.skew = timedelta(seconds=skew_s)

    def now(self) -> datetime:
        return super().now() + self.skew


def test_a_unit_with_a_wrong_clock_still_syncs_and_flags_new_punches(server: ServerProcess, tmp_path: Path) -> None:
    runtime = unit_runtime(tmp_path / "unit")
    runtime.clock = SkewedClock(3600.0)  # an hour ahead: outside the server's 300 s signature window
    provision(runtime, server.url, server.admin().issue_token(), server.ca_file)  # retried with the server's time
    conn = runtime.connect()
    store = PunchStore(conn, runtime.identity(), runtime.clock, offset_aware_state(runtime, conn))
    before = store.record(PunchRequest("EMP1", "card"))
    outcome = run_once(runtime)
    assert outcome["ok"] and outcome["acked_seq"] == 1
    assert -3602 < outcome["clock_offset_s"] < -3598
    after = store.record(PunchRequest("EMP1", "card"))
    assert (before.clock_state, after.clock_state) == ("synced", "unsynced")
    assert run_once(runtime)["acked_seq"] == 2
    with server.admin().storage.tx(write=False) as tx:
        assert [r["clock_state"] for r in tx.all("SELECT clock_state FROM punches ORDER BY seq")] == ["synced", "unsynced"]
    conn.close()


def test_the_thin_commands(server: ServerProcess, tmp_path: Path, presensi_cmd: list[str]) -> None:
    data = ["--data-dir", str(tmp_path / "unit")]
    env = {**os.environ, "PRESENSI_CLOCK_STATE": "synced"}

    def run(*args: str) -> str:
        done = subprocess.run([*presensi_cmd, *args, *data], capture_output=True, text=True, env=env)
        assert done.returncode == 0, f"presensi {args[0]} exited {done.returncode}: {done.stderr}"
        return done.stdout

    token = server.admin().issue_token("DISKOMINFO")
    assert "provisioned: device PK-" in run("provision", "--server", server.url, "--token", token, "--ca", str(server.ca_file))
    runtime = unit_runtime(tmp_path / "unit")
    store = runtime.store()
    for _ in range(3):
        store.record(PunchRequest("EMP1", "card"))
    runtime.close()
    exported = run("export", "--to", str(tmp_path / "usb"))
    assert "3 presensi (urut 1–3)" in exported
    assert json.loads(run("sync", "status", "--json"))["pending"] == 3
    once = json.loads(run("sync", "once", "--json"))
    assert once["ok"] and once["uploaded"] == 3 and once["acked_seq"] == 3
    assert "Tidak ada presensi" in run("export", "--to", str(tmp_path / "usb"))  # nothing unacknowledged left


@pytest.mark.parametrize("in_process", [True, False], ids=["thread", "subprocess"])
def test_demo_server_provisions_and_syncs_a_unit(tmp_path: Path, in_process: bool) -> None:
    from kiosk.demo.server import provision_and_sync, start_demo_server

    server, token = start_demo_server(tmp_path / "server", in_process=in_process)
    try:
        runtime = unit_runtime(tmp_path / "unit")
        runtime.store().record(PunchRequest("198503302010011001", "card", kind="masuk"))
        outcome = provision_and_sync(runtime, server, token)
        assert outcome["ok"] and outcome["acked_seq"] == 1 and outcome["roster_version"] == 1
        assert server.url.startswith("https://127.0.0.1:")
    finally:
        server.stop()


def test_client_certificates_when_the_server_asks_for_them(tmp_path: Path) -> None:
    from sync.server.certs import issue

    pki = demo_pki(tmp_path / "server" / "pki")
    units = issue(
        pki.ca_cert, tmp_path / "server" / "pki" / "ca.key", tmp_path / "units", "unit1", common_name="unit1", client=True
    )
    with ServerProcess(tmp_path / "server", extra_config=f'client_ca_file = "{pki.ca_cert}"') as server:
        bare = unit_runtime(tmp_path / "bare")
        with pytest.raises(SyncUnavailable):
            provision(bare, server.url, server.admin().issue_token(), server.ca_file)
        runtime = unit_runtime(tmp_path / "unit", client_cert_file=units.cert, client_key_file=units.key)
        provision(runtime, server.url, server.admin().issue_token(), server.ca_file)
        runtime.store().record(PunchRequest("EMP1", "card"))
        assert run_once(runtime)["acked_seq"] == 1
