"""The unit as a ZKTeco PUSH (ADMS) device, against a PUSH server written from the protocol."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.adms_server import PushServer, make_app

from core.clock import FakeClock, FixedClockState
from core.config import AdmsTargetConfig
from core.errors import ConfigError
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from core.store.roster import get_employee, upsert_employee
from kiosk.web.server import Running, serve_in_thread
from sync.server.certs import demo_pki
from sync.targets.adms import AdmsTarget
from sync.targets.base import TargetRunner, TargetUnavailable
from sync.targets.factory import build_target


@pytest.fixture
def push(tmp_path: Path) -> Iterator[tuple[PushServer, Running, Path]]:
    pki = demo_pki(tmp_path / "pki")
    server = PushServer()
    running = serve_in_thread(make_app(server), "127.0.0.1", 0, certfile=pki.cert, keyfile=pki.key, name="adms")
    yield server, running, pki.ca_cert
    running.stop()


@pytest.fixture
def unit(tmp_path: Path) -> tuple[PunchStore, FakeClock]:
    clock = FakeClock(datetime(2026, 11, 23, 0, 1, tzinfo=UTC))
    return PunchStore(open_database(tmp_path / "presensi.db"), DeviceIdentity.generate(), clock, FixedClockState()), clock


def runner_for(store: PunchStore, clock: FakeClock, running: Running, ca: Path, *, user_commands: bool = False) -> TargetRunner:
    config = AdmsTargetConfig(
        name="lama", url=running.url, serial_number="PK-ADMS1", ca_file=ca, apply_user_commands=user_commands
    )
    return TargetRunner(store, build_target(config, store, clock, zone="Asia/Jakarta"), clock, batch=9, rng=random.Random(3))


def drain(runner: TargetRunner, store: PunchStore) -> None:
    for _ in range(200):
        try:
            runner.run_once()
        except TargetUnavailable:
            continue
        if runner.cursor() == store.last_seq():
            return
    raise AssertionError("did not drain")


def test_uploads_resume_at_the_stamp_after_outages_and_lost_replies(
    push: tuple[PushServer, Running, Path], unit: tuple[PunchStore, FakeClock]
) -> None:
    server, running, ca = push
    store, clock = unit
    for i in range(25):
        clock.advance(30)
        store.record(PunchRequest(f"1990{i % 5:014d}", ["card", "face", "finger"][i % 3], kind="masuk"))
    runner = runner_for(store, clock, running, ca)
    drain(runner, store)
    device = server.device("PK-ADMS1")
    assert len(device.attlog) == 25 and device.stamp == 25
    assert device.attlog[0] == "199000000000000000\t2026-11-23 07:01:30\t0\t4\t0\t0\t0"
    # An outage while the unit keeps recording, then replies lost after the server stored.
    server.down = True
    for i in range(30):
        clock.advance(30)
        store.record(PunchRequest(f"1990{i % 5:014d}", "face", kind="pulang"))
    with pytest.raises(TargetUnavailable):
        runner.run_once()
    server.down = False
    server.lose_next_reply = 2
    drain(runner, store)
    assert len(device.attlog) == 55
    assert len(set(device.attlog)) == 55, "a punch was uploaded twice"
    assert device.stamp == 55 and runner.cursor() == 55


def test_allow_listed_commands_run_and_a_shell_command_is_refused(
    push: tuple[PushServer, Running, Path], unit: tuple[PunchStore, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    server, running, ca = push
    store, clock = unit
    upsert_employee(store.conn, "197001011995031001", "Pegawai Lama", now=clock.now(), source="adms")
    store.record(PunchRequest("197001011995031001", "card", kind="masuk"))
    device = server.device("PK-ADMS1")
    device.commands += [
        (1, "DATA UPDATE USERINFO PIN=198808082015032001\tName=Dewi Lestari\tPri=0\tPasswd=\tCard=[0A1B2C3D]\tGrp=1"),
        (2, "DATA DELETE USERINFO PIN=197001011995031001"),
        (3, "DATA QUERY ATTLOG StartTime=2026-11-23 07:00:00\tEndTime=2026-11-23 08:00:00"),
        (4, "CHECK"),
        (5, "INFO"),
        (6, "Shell rm -rf /var/lib/presensi"),
        (7, "REBOOT"),
        (8, "CLEAR LOG"),
    ]
    runner = runner_for(store, clock, running, ca, user_commands=True)
    with caplog.at_level(logging.WARNING, logger="sync.targets.adms"):
        runner.run_once()
    codes = {r["ID"]: int(r["Return"]) for r in device.results}
    assert codes == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 0, "6": -1002, "7": -1002, "8": -1002}
    added = get_employee(store.conn, "198808082015032001")
    assert added is not None and added.name == "Dewi Lestari"
    assert store.conn.execute("SELECT employee_id FROM cards WHERE uid = '0A1B2C3D'").fetchone()[0] == "198808082015032001"
    removed = get_employee(store.conn, "197001011995031001")
    assert removed is not None and not removed.active
    assert any(line.startswith("UserCount=") for line in device.extra_lines)
    assert "Shell rm" in caplog.text and "refused" in caplog.text
    assert len(device.attlog) == 2  # the upload and the queried punch


def test_plain_http_needs_explicit_configuration() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        AdmsTarget("lama", "http://adms.local", "SN1", zone="Asia/Jakarta")
    target = AdmsTarget("lama", "http://adms.local", "SN1", zone="Asia/Jakarta", allow_plain_http=True)
    assert target.plain_http
