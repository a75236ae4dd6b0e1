"""Retention and erasure (issue 12) with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.erasure import erase_employee
from core.store.punches import PunchRequest, PunchStore, format_instant, verify_database
from core.store.roster import upsert_employee
from kiosk.privacy.retention import enforce


def make(tmp_path: Path) -> tuple[PunchStore, FakeClock]:
    clock = FakeClock(datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    return PunchStore(open_database(tmp_path / "p.db"), DeviceIdentity.generate(), clock, FixedClockState()), clock


def ack(store: PunchStore, target: str, seq: int, clock: FakeClock) -> None:
    store.conn.execute(
        "INSERT INTO sync_cursors (target, acked_seq, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(target) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at",
        (target, seq, format_instant(clock.now())),
    )


def test_only_acknowledged_punches_past_retention_are_pruned(tmp_path: Path) -> None:
    store, clock = make(tmp_path)
    for _day in range(10):
        store.record(PunchRequest("1", "card"))
        clock.advance(86400)
    # Nothing acknowledged: nothing goes, however old.
    assert enforce(store, now=clock.now() + timedelta(days=400), retention_days=90, evidence_days=7).punches_pruned == 0
    ack(store, "presensi_v1", 8, clock)
    # Retention counts from the acknowledgement (day 10), not from the punches' instants: at day
    # 95 the punches of days 0–4 are old, but were acknowledged only 85 days ago.
    assert enforce(store, now=clock.now() + timedelta(days=85), retention_days=90, evidence_days=7).punches_pruned == 0
    report = enforce(store, now=clock.now() + timedelta(days=91), retention_days=90, evidence_days=7)
    assert report.punches_pruned == 8 and report.pruned_through_seq == 8
    assert verify_database(store.conn).ok
    store.record(PunchRequest("1", "card"))
    store.record(PunchRequest("1", "card"))
    # Another target that lags holds punches back.
    ack(store, "presensi_v1", 12, clock)
    ack(store, "frappe:hr", 10, clock)
    report = enforce(
        store, now=clock.now() + timedelta(days=400), retention_days=90, evidence_days=7, cursors=("presensi_v1", "frappe:hr")
    )
    assert report.pruned_through_seq == 10 and store.count() == 2
    assert store.conn.execute("SELECT count(*) FROM audit_log WHERE action = 'retention.enforce'").fetchone()[0] == 2


def test_evidence_photos_go_days_after_acknowledgement(tmp_path: Path) -> None:
    store, clock = make(tmp_path)
    for seq in range(1, 4):
        punch = store.record(PunchRequest("1", "face"))
        store.conn.execute(
            "INSERT INTO evidence_photos (punch_id, seq, photo, scheme, created_at) VALUES (?, ?, x'00', 'aesgcm-v1', '')",
            (punch.id, seq),
        )
    ack(store, "presensi_v1", 2, clock)
    assert enforce(store, now=clock.now(), retention_days=90, evidence_days=7).evidence_deleted == 0  # stamped today
    assert enforce(store, now=clock.now() + timedelta(days=6), retention_days=90, evidence_days=7).evidence_deleted == 0
    assert enforce(store, now=clock.now() + timedelta(days=8), retention_days=90, evidence_days=7).evidence_deleted == 2
    left = [r[0] for r in store.conn.execute("SELECT seq FROM evidence_photos")]
    assert left == [3]  # not acknowledged yet


def test_erasure_removes_every_template_and_card_and_audits_without_data(tmp_path: Path) -> None:
    store, clock = make(tmp_path)
    conn = store.conn
    upsert_employee(conn, "198001012005011001", "Ani", now=clock.now())
    conn.execute("INSERT INTO face_templates (employee_id, encoding, created_at) VALUES ('198001012005011001', x'0102', '')")
    conn.execute(
        "INSERT INTO finger_templates (employee_id, finger, family, template, digest, created_at) "
        "VALUES ('198001012005011001', 1, 'zhiantec', x'0304', 'd', '')"
    )
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('AB12', '198001012005011001', '')")
    store.record(PunchRequest("198001012005011001", "card"))
    erased = erase_employee(conn, "198001012005011001", now=clock.now(), actor="admin", reason="keluar dari daftar")
    assert (erased.face_templates, erased.finger_templates, erased.cards) == (1, 1, 1)
    for table in ("face_templates", "finger_templates", "cards"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    assert conn.execute("SELECT active FROM employees").fetchone()[0] == 0
    assert store.count() == 1  # attendance records stay
    detail = conn.execute("SELECT detail FROM audit_log WHERE action = 'employee.erase'").fetchone()[0]
    assert "0102" not in detail and "0304" not in detail and '"faces": 1' in detail


def test_old_export_files_are_deleted(tmp_path: Path) -> None:
    import os

    from kiosk.privacy.retention import prune_exports

    exports = tmp_path / "exports"
    exports.mkdir()
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    old, fresh = exports / "presensi-old.csv", exports / "presensi-new.csv"
    old.write_text("seq,name\n1,Ani\n")
    fresh.write_text("seq,name\n2,Budi\n")
    os.utime(old, (now.timestamp() - 8 * 86400,) * 2)
    os.utime(fresh, (now.timestamp() - 6 * 86400,) * 2)
    assert prune_exports(exports, now=now) == 1
    assert not old.exists() and fresh.exists()
    assert prune_exports(tmp_path / "none", now=now) == 0


def test_a_punch_stamped_2019_does_not_take_recent_punches_with_it(tmp_path: Path) -> None:
    """Issue 21.4: one acknowledged punch stamped 2019 (a clock gone back) made a sync prune every
    punch, minutes-old ones included. Retention counts from acknowledgement."""
    store, clock = make(tmp_path)
    for _ in range(24):
        store.record(PunchRequest("1", "card"))
        clock.advance(60)
    now = clock.now()
    clock.set_wall(datetime(2019, 1, 1, tzinfo=UTC))
    store.record(PunchRequest("1", "card"))  # seq 25, stamped 2019
    clock.set_wall(now)
    ack(store, "presensi_v1", 25, clock)
    report = enforce(store, now=clock.now(), retention_days=90, evidence_days=7)
    assert report.punches_pruned == 0 and store.count() == 25
