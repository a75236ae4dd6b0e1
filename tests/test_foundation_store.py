"""The punch store: what a punch carries, full disk, clock policy, device key handling."""

from __future__ import annotations

import os
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from core.clock import ClockState, FakeClock, FixedClockState
from core.errors import ChainError, ClockError, IdentityError, StorageFullError
from core.identity import KEY_FILENAME, DeviceIdentity
from core.ids import uuid7
from core.store.db import open_database
from core.store.migrations import MIGRATIONS, applied
from core.store.punches import PunchRequest, PunchStore, verify_database


def test_a_punch_carries_everything_design_asks_for(store: PunchStore, clock: FakeClock) -> None:
    punch = store.record(
        PunchRequest(
            "198503302010011001",
            "face",
            kind="masuk",
            status="terlambat",
            minutes=12,
            liveness_verdict="live",
            liveness_scores={"texture": 0.98765, "cues": 0.5},
            match_distance=0.312345,
        )
    )
    assert uuid.UUID(punch.id).version == 7
    assert punch.seq == 1 and punch.prev_hash == "0" * 64 and len(punch.hash) == 64
    assert punch.instant == "2026-11-23T00:30:00.000Z" and punch.zone == "Asia/Jakarta"
    assert punch.clock_state == "synced" and punch.boot_id == clock.boot_id() and punch.mono_ns == clock.monotonic_ns()
    assert punch.match_distance == "0.3123" and punch.scores == {"texture": 0.9877, "cues": 0.5}
    second = store.record(PunchRequest("198503302010011001", "card"))
    assert second.seq == 2 and second.prev_hash == punch.hash
    assert store.get(1) == punch and store.last_for("198503302010011001") == second


def test_sequence_has_no_gaps_across_two_writers(tmp_path: Path, identity: DeviceIdentity, clock: FakeClock) -> None:
    a = PunchStore(open_database(tmp_path / "p.db"), identity, clock, FixedClockState())
    b = PunchStore(open_database(tmp_path / "p.db"), identity, clock, FixedClockState())
    seqs = [(a if i % 3 else b).record(PunchRequest("1", "card")).seq for i in range(30)]
    assert seqs == list(range(1, 31))
    assert verify_database(a.conn).ok


def test_full_disk_raises_storage_full_and_keeps_every_punch(tmp_path: Path, identity: DeviceIdentity, clock: FakeClock) -> None:
    conn = open_database(tmp_path / "p.db")
    store = PunchStore(conn, identity, clock, FixedClockState())
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 3}")
    recorded = []
    with pytest.raises(StorageFullError) as caught:
        for i in range(10_000):
            recorded.append(store.record(PunchRequest(f"{i:018d}", "card", liveness_scores={f"s{k}": k for k in range(20)})))
    assert caught.value.screen_text == "Penyimpanan penuh — hubungi teknisi"
    assert "full" in str(caught.value)
    assert len(recorded) > 0
    fresh = open_database(tmp_path / "p.db")
    assert [p.id for p in PunchStore(fresh, identity, clock, FixedClockState()).iter_all()] == [p.id for p in recorded]
    assert verify_database(fresh).ok


def test_unsynced_clock_is_flagged_or_refused(tmp_path: Path, identity: DeviceIdentity, clock: FakeClock) -> None:
    conn = open_database(tmp_path / "p.db")
    state = FixedClockState(ClockState.UNSYNCED)
    flagged = PunchStore(conn, identity, clock, state).record(PunchRequest("1", "card"))
    assert flagged.clock_state == "unsynced"
    refusing = PunchStore(conn, identity, clock, state, unsynced_policy="refuse")
    with pytest.raises(ClockError):
        refusing.record(PunchRequest("1", "card"))
    assert refusing.count() == 1


def test_a_database_refuses_another_devices_key(tmp_path: Path, clock: FakeClock) -> None:
    conn = open_database(tmp_path / "p.db")
    PunchStore(conn, DeviceIdentity.generate(), clock, FixedClockState())
    with pytest.raises(ChainError, match="belongs to device"):
        PunchStore(conn, DeviceIdentity.generate(), clock, FixedClockState())


def test_device_key_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    first = DeviceIdentity.load_or_create(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILENAME).stat().st_mode) == 0o600
    assert DeviceIdentity.load_or_create(tmp_path).device_id == first.device_id
    assert first.device_id.startswith("PK-") and len(first.device_id) == 15
    assert "PRIVATE" not in repr(first)


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    DeviceIdentity.load_or_create(tmp_path)
    os.chmod(tmp_path / KEY_FILENAME, 0o644)
    with pytest.raises(IdentityError, match="chmod 600"):
        DeviceIdentity.load_or_create(tmp_path)


def test_migrations_are_recorded_by_name_and_applied_once(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "p.db")
    assert applied(conn) == [name for name, _ in MIGRATIONS]
    conn.close()
    again = open_database(tmp_path / "p.db")
    assert applied(again) == [name for name, _ in MIGRATIONS]
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_uuid7_is_time_ordered_and_versioned() -> None:
    a, b = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert a.version == 7 and a.variant == uuid.RFC_4122
    assert a.int >> 80 == 1_700_000_000_000 and b > a


def test_doctor_reports_each_part(tmp_path: Path, presensi_cmd: list[str]) -> None:
    import json

    result = subprocess.run(
        [*presensi_cmd, "--data-dir", str(tmp_path), "doctor", "--json"], capture_output=True, text=True, check=False
    )
    findings = {f["part"]: f for f in json.loads(result.stdout)}
    assert findings["database"]["status"] == "OK"
    assert findings["device key"]["status"] == "WARN"
    DeviceIdentity.load_or_create(tmp_path)
    os.chmod(tmp_path / KEY_FILENAME, 0o640)
    result = subprocess.run(
        [*presensi_cmd, "--data-dir", str(tmp_path), "doctor", "--json"], capture_output=True, text=True, check=False
    )
    key = {f["part"]: f for f in json.loads(result.stdout)}["device key"]
    assert key["status"] == "FAIL" and "chmod 600" in key["todo"]
    assert result.returncode == 1


def test_demo_records_and_verifies(presensi_cmd: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [*presensi_cmd, "demo", "--once", "--punches", "4", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify: OK" in result.stdout


def test_bench_store_prints_named_figures(presensi_cmd: list[str], tmp_path: Path) -> None:
    import json

    result = subprocess.run(
        [*presensi_cmd, "bench", "store", "--json", "--punches", "50", "--verify-count", "300", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout)
    assert figures["punches_per_s"] > 0 and figures["verify_100k_s"] > 0 and "punch_cost_ratio" in figures
