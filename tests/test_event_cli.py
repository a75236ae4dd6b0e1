"""``presensi event …`` in real subprocesses on a real data directory."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.clock import FixedClockState, SystemClock
from core.identity import DeviceIdentity
from core.schedule.event_mode import EventBook, EventMode
from core.schedule.events import read_envelope, sign_pack, write_envelope
from core.schedule.local_packs import sample_pack, sample_people
from core.store.db import open_database
from core.store.punches import PunchStore
from kiosk.bench.event import load_roster, server_public_hex


@pytest.fixture
def unit(tmp_path: Path) -> tuple[Path, Path, Ed25519PrivateKey]:
    """A data directory with a roster, and a config naming the server's key and unit IV."""
    data = tmp_path / "data"
    data.mkdir()
    key = Ed25519PrivateKey.generate()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[unit]\nzone = "Asia/Makassar"\n\n[clock]\nstate = "synced"\n\n[event]\nunit = "IV"\nserver_public_key = "{server_public_hex(key)}"\n'
    )
    store = PunchStore(open_database(data / "presensi.db"), DeviceIdentity.load_or_create(data), SystemClock(), FixedClockState())
    load_roster(store, sample_people(90), "2026-01-01T00:00:00Z")
    store.conn.close()
    return data, config, key


def presensi(cmd: list[str], data: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args, "--data-dir", str(data), "--config", str(config)], capture_output=True, text=True, timeout=120
    )


def test_load_a_server_pack_run_and_report(
    presensi_cmd: list[str], unit: tuple[Path, Path, Ed25519PrivateKey], tmp_path: Path
) -> None:
    data, config, key = unit
    start = datetime.now(UTC) - timedelta(minutes=5)
    people = sample_people(90)
    write_envelope(sign_pack(sample_pack(people, start=start), key, signer="server"), tmp_path / "apel.json")
    loaded = presensi(presensi_cmd, data, config, "event", "load", str(tmp_path / "apel.json"))
    assert loaded.returncode == 0, loaded.stderr
    assert "Apel: Apel Pagi Senin" in loaded.stdout and "this unit: Unit IV" in loaded.stdout
    # two participants of unit IV punch (as the card service would, through EventMode)
    store = PunchStore(
        open_database(data / "presensi.db"),
        DeviceIdentity.load_or_create(data),
        SystemClock(),
        FixedClockState(),
        zone="Asia/Makassar",
    )
    pack = EventBook(store.conn, SystemClock()).active()
    assert pack is not None
    mode = EventMode(pack, store, SystemClock(), unit="IV")
    unit_iv = [p for p in people if p.unit == "IV"]
    for person in unit_iv[:2]:
        assert mode.punch(person.id, "card")[1] is not None
    store.conn.close()
    status = presensi(presensi_cmd, data, config, "event", "status", "--json")
    assert status.returncode == 0, status.stderr
    banner = json.loads(status.stdout)
    assert (banner["expected"], banner["present"], banner["unit"]) == (len(unit_iv), 2, "Unit IV")
    report = presensi(
        presensi_cmd, data, config, "event", "report", "--csv", str(tmp_path / "r.csv"), "--pdf", str(tmp_path / "r.pdf")
    )
    assert report.returncode == 0, report.stderr
    assert f"Unit IV: hadir 2, tidak hadir {len(unit_iv) - 2}, dari {len(unit_iv)}" in report.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert sorted(r["nip"] for r in rows if r["kehadiran"] == "Hadir") == sorted(p.id for p in unit_iv[:2])
    assert len(rows) == len(unit_iv)
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    stopped = presensi(presensi_cmd, data, config, "event", "stop")
    assert stopped.returncode == 0
    none = presensi(presensi_cmd, data, config, "event", "status")
    assert none.returncode == 1 and "no event is running" in none.stderr


def test_a_tampered_pack_is_refused(presensi_cmd: list[str], unit: tuple[Path, Path, Ed25519PrivateKey], tmp_path: Path) -> None:
    data, config, key = unit
    envelope = sign_pack(sample_pack(sample_people(90), start=datetime.now(UTC)), key, signer="server")
    envelope["pack"]["participants"].append({"id": "199912312024121999", "name": "Penyusup", "office": "DINKES", "unit": "IV"})
    write_envelope(envelope, tmp_path / "bad.json")
    result = presensi(presensi_cmd, data, config, "event", "load", str(tmp_path / "bad.json"))
    assert result.returncode == 1
    assert "signature does not verify" in result.stderr
    listed = presensi(presensi_cmd, data, config, "event", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_create_a_local_pack_with_no_network(
    presensi_cmd: list[str], unit: tuple[Path, Path, Ed25519PrivateKey], tmp_path: Path
) -> None:
    data, config, _ = unit
    config.write_text(config.read_text().replace('unit = "IV"', 'unit = ""'))
    result = presensi(
        presensi_cmd, data, config,
        "event", "create", "--id", "SENAM-1", "--kind", "senam", "--title", "Senam Jumat", "--location", "Halaman Dinkes",
        "--start", "2026-11-27 06:30", "--office", "DINKES", "--office", "RSUD", "--out", str(tmp_path / "senam.json"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    envelope = read_envelope(tmp_path / "senam.json")
    assert envelope["pack"]["origin"] == "local"
    offices = {p["office"] for p in envelope["pack"]["participants"]}
    assert offices == {"DINKES", "RSUD"}
    status = presensi(presensi_cmd, data, config, "event", "status")
    assert "Senam: Senam Jumat (paket lokal)" in status.stdout
    assert "06:30–08:00 WITA" in status.stdout
    # loading it again on the same unit verifies against the device key
    again = presensi(presensi_cmd, data, config, "event", "load", str(tmp_path / "senam.json"))
    assert again.returncode == 0, again.stderr
