"""Tamper evidence: any change to the punch rows is detected and named by seq."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.store.chain import canonical_bytes, digest
from core.store.db import open_database
from core.store.punches import INSERT_PUNCH, PUNCH_COLUMNS, PunchRequest, PunchStore, verify_database

N = 12
MUTABLE = [c for c in PUNCH_COLUMNS if c != "seq"]


@pytest.fixture(scope="module")
def chain_db(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    path = tmp_path_factory.mktemp("chain") / "presensi.db"
    conn = open_database(path)
    clock = FakeClock()
    store = PunchStore(conn, DeviceIdentity.generate(), clock, FixedClockState())
    for i in range(N):
        clock.advance(61)
        store.record(
            PunchRequest(
                f"1985{i:04d}",
                ["face", "card", "finger"][i % 3],
                kind="masuk",
                status="terlambat" if i % 4 else "tepat_waktu",
                minutes=i,
                event_id="apel-1" if i % 5 == 0 else None,
                liveness_verdict="live" if i % 3 == 0 else None,
                liveness_scores={"texture": 0.9 + i / 1000} if i % 3 == 0 else {},
                match_distance=0.3 if i % 3 == 0 else None,
            )
        )
    return conn


def _copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    copy = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(copy)
    copy.row_factory = sqlite3.Row
    return copy


def test_untouched_chain_verifies(chain_db: sqlite3.Connection) -> None:
    report = verify_database(chain_db)
    assert report.ok and report.checked == N and report.last_seq == N


def _other_value(column: str, old: object, salt: int) -> object:
    if isinstance(old, int):
        return old + 1 + salt
    if old is None:
        return "x" if column not in ("minutes", "mono_ns") else 1
    text = str(old)
    if column in ("hash", "prev_hash", "signature"):  # keep it hex, change one digit
        i = salt % len(text)
        return text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1 :]
    return text + "x" if salt % 2 else ("y" + text[1:] if text else "y")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, N), column=st.sampled_from(MUTABLE), salt=st.integers(0, 1000))
def test_changing_any_field_is_detected_at_its_seq(chain_db: sqlite3.Connection, seq: int, column: str, salt: int) -> None:
    conn = _copy(chain_db)
    old = conn.execute(f"SELECT {column} FROM punches WHERE seq = ?", (seq,)).fetchone()[0]
    conn.execute(f"UPDATE punches SET {column} = ? WHERE seq = ?", (_other_value(column, old, salt), seq))
    report = verify_database(conn)
    assert not report.ok
    assert report.first_bad_seq == seq, report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, N), new_seq=st.integers(N + 1, N + 50))
def test_renumbering_a_punch_is_detected(chain_db: sqlite3.Connection, seq: int, new_seq: int) -> None:
    conn = _copy(chain_db)
    conn.execute("UPDATE punches SET seq = ? WHERE seq = ?", (new_seq, seq))
    report = verify_database(conn)
    assert report.first_bad_seq == seq, report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, N))
def test_deleting_a_punch_is_detected(chain_db: sqlite3.Connection, seq: int) -> None:
    conn = _copy(chain_db)
    conn.execute("DELETE FROM punches WHERE seq = ?", (seq,))
    report = verify_database(conn)
    assert report.first_bad_seq == seq, report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.integers(1, N), b=st.integers(1, N))
def test_swapping_two_punches_is_detected(chain_db: sqlite3.Connection, a: int, b: int) -> None:
    if a == b:
        return
    low, high = sorted((a, b))
    conn = _copy(chain_db)
    conn.execute("UPDATE punches SET seq = -1 WHERE seq = ?", (low,))
    conn.execute("UPDATE punches SET seq = ? WHERE seq = ?", (low, high))
    conn.execute("UPDATE punches SET seq = ? WHERE seq = -1", (high,))
    report = verify_database(conn)
    assert report.first_bad_seq == low, report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(1, N + 1), employee=st.text("0123456789", min_size=4, max_size=18), own_hash=st.booleans())
def test_a_forged_punch_is_detected(chain_db: sqlite3.Connection, at: int, employee: str, own_hash: bool) -> None:
    """A forger without the device key inserts a punch (shifting the later ones, or at the end),
    linked and hashed correctly but signed with another key."""
    conn = _copy(chain_db)
    forger = DeviceIdentity.generate()
    template = dict(conn.execute("SELECT * FROM punches WHERE seq = ?", (min(at, N),)).fetchone())
    prev = conn.execute("SELECT hash FROM punches WHERE seq = ?", (at - 1,)).fetchone()
    conn.execute("UPDATE punches SET seq = seq + 1000 WHERE seq >= ?", (at,))
    conn.execute("UPDATE punches SET seq = seq - 999 WHERE seq >= 1000")
    forged = {**template, "seq": at, "employee_id": employee, "id": f"forged-{at}", "prev_hash": prev[0] if prev else "0" * 64}
    canonical = canonical_bytes(forged)
    forged["hash"] = digest(canonical) if own_hash else template["hash"]
    forged["signature"] = forger.sign(canonical)
    conn.execute(INSERT_PUNCH, [forged[c] for c in PUNCH_COLUMNS])
    report = verify_database(conn)
    assert report.first_bad_seq == at, report


def test_verify_command_names_the_seq(tmp_path: Path, presensi_cmd: list[str]) -> None:
    conn = open_database(tmp_path / "presensi.db")
    store = PunchStore(conn, DeviceIdentity.load_or_create(tmp_path), FakeClock(), FixedClockState())
    for _ in range(5):
        store.record(PunchRequest("1", "card"))
    ok = subprocess.run([*presensi_cmd, "--data-dir", str(tmp_path), "verify"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout
    conn.execute("UPDATE punches SET instant = '2026-01-01T00:00:00.000Z' WHERE seq = 3")
    conn.close()
    bad = subprocess.run([*presensi_cmd, "verify", str(tmp_path / "presensi.db")], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "seq 3" in bad.stdout


def test_deleting_the_last_punch_is_detected_by_the_signed_head(chain_db: sqlite3.Connection) -> None:
    conn = _copy(chain_db)
    conn.execute("DELETE FROM punches WHERE seq = ?", (N,))
    report = verify_database(conn)
    assert report.first_bad_seq == N


def test_verify_in_parallel_finds_the_same_seq(tmp_path: Path) -> None:
    """Signatures are checked in parallel chunks for long chains: a bad one deep inside is named."""
    from core.store import chain

    conn = open_database(tmp_path / "p.db")
    store = PunchStore(conn, DeviceIdentity.generate(), FakeClock(), FixedClockState())
    for _ in range(60):
        store.record(PunchRequest("7", "card"))
    rows = [dict(r) for r in conn.execute("SELECT * FROM punches ORDER BY seq")]
    rows[41]["signature"] = rows[40]["signature"]
    head = dict(conn.execute("SELECT * FROM chain_head").fetchone())
    original = chain._PARALLEL_FROM, chain._CHUNK
    chain._PARALLEL_FROM, chain._CHUNK = 10, 7
    try:
        report = chain.verify_rows(
            rows, store.identity.private_key.public_key(), device_id=store.identity.device_id, head=head, workers=2
        )
    finally:
        chain._PARALLEL_FROM, chain._CHUNK = original
    assert report.first_bad_seq == 42


def test_pruned_chain_still_verifies(store: PunchStore) -> None:
    for _ in range(10):
        store.record(PunchRequest("9", "card"))
    assert store.prune_through(4) == 4
    report = verify_database(store.conn)
    assert report.ok and report.checked == 6
    store.record(PunchRequest("9", "card"))
    assert verify_database(store.conn).ok
    store.conn.execute("DELETE FROM punches WHERE seq = 5")
    assert verify_database(store.conn).first_bad_seq == 5
