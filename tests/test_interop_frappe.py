"""Delivery to Frappe HR as Employee Checkins: once each, duplicates counted, rejects reported."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.frappe_double import FrappeSite, make_app

from core.clock import FakeClock, FixedClockState
from core.errors import ConfigError, SyncError
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from kiosk.web.server import Running, serve_in_thread
from sync.server.certs import demo_pki
from sync.targets.base import TargetRunner, TargetUnavailable
from sync.targets.frappe import FrappeHrTarget

ACTIVE = {f"19900101201903{i:04d}": {"name": f"HR-EMP-{i:05d}", "status": "Active"} for i in range(1, 9)}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[FrappeSite, Running, Path]]:
    pki = demo_pki(tmp_path / "pki")
    site = FrappeSite(employees={**ACTIVE, "196001011985031999": {"name": "HR-EMP-99999", "status": "Inactive"}})
    running = serve_in_thread(make_app(site), "127.0.0.1", 0, certfile=pki.cert, keyfile=pki.key, name="frappe")
    yield site, running, pki.ca_cert
    running.stop()


def unit(tmp_path: Path) -> tuple[PunchStore, FakeClock]:
    clock = FakeClock(datetime(2026, 11, 23, 0, 5, tzinfo=UTC))
    return PunchStore(open_database(tmp_path / "presensi.db"), DeviceIdentity.generate(), clock, FixedClockState()), clock


def target(running: Running, ca: Path, secret: str = "s3cret") -> FrappeHrTarget:
    return FrappeHrTarget("hr", running.url, "k3y", secret, unit_zone="Asia/Jakarta", device_id="PK-TEST", ca_file=ca)


def test_every_punch_once_with_lost_replies_and_outages(site: tuple[FrappeSite, Running, Path], tmp_path: Path) -> None:
    frappe, running, ca = site
    store, clock = unit(tmp_path)
    employees = list(ACTIVE)
    for i in range(60):
        clock.advance(37)
        store.record(PunchRequest(employees[i % len(employees)], "card", kind="masuk" if i % 2 else "pulang"))
    store.record(PunchRequest("196001011985031999", "card"))  # inactive
    store.record(PunchRequest("000000000000000000", "card"))  # not in Frappe
    frappe.fail_rate, frappe.fail_after_insert_rate = 0.3, 0.2
    runner = TargetRunner(store, target(running, ca), clock, batch=7, rng=random.Random(1))
    rounds = 0
    while runner.cursor() < store.last_seq():
        rounds += 1
        assert rounds < 400
        try:
            runner.run_once()
        except TargetUnavailable:
            continue
    keys = [(c["employee"], c["time"]) for c in frappe.checkins]
    assert len(keys) == len(set(keys)) == 60
    first = frappe.checkins[0]
    assert first["time"] == "2026-11-23 07:05:37" and first["log_type"] == "OUT" and first["device_id"] == "PK-TEST"
    rejects = store.conn.execute("SELECT seq, reason FROM target_rejects WHERE target = 'frappe:hr' ORDER BY seq").fetchall()
    assert [r[0] for r in rejects] == [61, 62]
    assert "Inactive Employee" in rejects[0][1] and "No Employee found" in rejects[1][1]


def test_a_wrong_secret_stops_with_a_clear_error(site: tuple[FrappeSite, Running, Path], tmp_path: Path) -> None:
    _frappe, running, ca = site
    store, _clock = unit(tmp_path)
    store.record(PunchRequest(next(iter(ACTIVE)), "card"))
    runner = TargetRunner(store, target(running, ca, secret="wrong"), FakeClock())
    with pytest.raises(SyncError, match="API key"):
        runner.run_once()
    assert runner.cursor() == 0


def test_plain_http_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        FrappeHrTarget("hr", "http://hr.local", "k", "s", unit_zone="Asia/Jakarta", device_id="PK")
