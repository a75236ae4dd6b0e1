"""An event pack's issue time is a lower bound of the clock (issue 11): a unit whose clock is
earlier than the pack it loaded — from a file with ``presensi event load``, or from the server's
roster — knows at once that its clock is wrong, says so, and flags new punches."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers.sync_support import unit_runtime

from core.clock import ClockState, SystemClock
from core.config import load_config
from core.runtime import Runtime
from core.schedule.events import sign_pack, write_envelope
from core.schedule.local_packs import sample_pack, sample_people
from core.store.punches import PunchRequest
from kiosk.bench.event import server_public_hex
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.service import run_once


def field_unit(tmp_path: Path, key: Ed25519PrivateKey) -> tuple[Path, Path]:
    """A data directory and a config: the kernel says NTP keeps the clock (state synced)."""
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[unit]\nhardware = "sim"\n\n[clock]\nstate = "synced"\n\n[event]\nunit = "IV"\nserver_public_key = "{server_public_hex(key)}"\n'
    )
    return data, config


def load_pack(presensi_cmd: list[str], tmp_path: Path, *, issued_in: timedelta) -> Runtime:
    """``presensi event load`` of a server pack issued ``issued_in`` from now (real clock)."""
    key = Ed25519PrivateKey.generate()
    data, config = field_unit(tmp_path, key)
    start = datetime.now(UTC) + issued_in + timedelta(days=2)  # sample packs are issued two days before start
    write_envelope(sign_pack(sample_pack(sample_people(12), start=start), key, signer="server"), tmp_path / "apel.json")
    loaded = subprocess.run(
        [*presensi_cmd, "event", "load", str(tmp_path / "apel.json"), "--data-dir", str(data), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    return Runtime(config=load_config(config), data_dir=data, clock=SystemClock())


def test_a_clock_earlier_than_the_loaded_pack_is_wrong_at_once(presensi_cmd: list[str], tmp_path: Path) -> None:
    # The pack was issued yesterday by the server's clock, but this unit's clock (which claims
    # NTP) says it is a day earlier: a power cut reset it, or someone set it back.
    unit = load_pack(presensi_cmd, tmp_path, issued_in=timedelta(days=1))
    try:
        report = unit.timekeeper().report()
        assert report.state is ClockState.UNSYNCED and report.certainly_wrong
        assert "paket acara APEL-SAMPLE" in report.detail
        punch = unit.store().record(PunchRequest("198503302010011001", "card"))
        assert punch.clock_state == "unsynced"
    finally:
        unit.close()


def test_a_pack_issued_earlier_leaves_a_right_clock_alone(presensi_cmd: list[str], tmp_path: Path) -> None:
    unit = load_pack(presensi_cmd, tmp_path, issued_in=-timedelta(hours=3))
    try:
        report = unit.timekeeper().report()
        assert report.state is ClockState.SYNCED and not report.certainly_wrong
        assert report.lower_bound is not None  # still remembered, for a later power cut
        assert unit.store().record(PunchRequest("198503302010011001", "card")).clock_state == "synced"
    finally:
        unit.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def test_a_pack_in_the_roster_raises_the_lower_bound(server: ServerProcess, tmp_path: Path) -> None:
    # The server publishes a pack issued an hour after this unit's clock reads (its clock is
    # behind, yet within the window the server accepts requests in, once it knows the offset).
    pack = sample_pack(sample_people(12), start=datetime.now(UTC) + timedelta(days=2, hours=1))
    path = tmp_path / "apel.json"
    path.write_text(json.dumps(pack.model_dump(mode="json")))
    admin = server.admin()
    admin.load_event_pack(path)
    admin.roster.publish()
    unit = unit_runtime(tmp_path / "unit")
    provision(unit, server.url, admin.issue_token("DISKOMINFO"), server.ca_file)
    keeper = unit.timekeeper()
    assert not keeper.report().certainly_wrong
    outcome = run_once(unit)
    assert outcome["ok"] and outcome["roster_version"] == 1, outcome
    report = keeper.report()
    assert report.certainly_wrong and report.state is ClockState.UNSYNCED
    assert "paket acara APEL-SAMPLE" in report.detail
    assert unit.store().record(PunchRequest("198503302010011001", "card")).clock_state == "unsynced"
