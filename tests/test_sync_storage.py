"""The server's ledger and roster on SQLite and on a real PostgreSQL started by the tests."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.store.chain import canonical_bytes, digest
from core.store.db import open_database
from core.store.punches import Punch, PunchRequest, PunchStore
from core.wire import punch_to_wire
from sync.server.ledger import Ledger, ProvisioningRefused, PunchRejected
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        db = Storage(f"sqlite:///{tmp_path / 'server.db'}")
    else:
        url = request.getfixturevalue("pg_url")
        db = Storage(url)
        with db.tx() as tx:  # a clean slate per test
            tx.execute("DROP SCHEMA public CASCADE")
            tx.execute("CREATE SCHEMA public")
    db.create_schema()
    yield db
    db.close()


@pytest.fixture
def server_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(storage: Storage, server_clock: FakeClock) -> Ledger:
    return Ledger(storage, server_clock)


def wire(punches: list[Punch]) -> list[dict[str, Any]]:
    return [punch_to_wire(p) for p in punches]


def record(store: PunchStore, n: int) -> list[Punch]:
    return [store.record(PunchRequest(f"EMP{i % 7:03d}", "card", kind="masuk")) for i in range(n)]


def provisioned(ledger: Ledger, identity: DeviceIdentity) -> str:
    token = ledger.issue_token("DISKOMINFO")
    return str(ledger.provision(token, identity.public_hex)["device_id"])


def test_tokens_are_one_time_and_expire(ledger: Ledger, server_clock: FakeClock) -> None:
    a, b = DeviceIdentity.generate(), DeviceIdentity.generate()
    token = ledger.issue_token("DISKOMINFO", valid_hours=1)
    assert ledger.provision(token, a.public_hex) == {"device_id": a.device_id, "unit_code": "DISKOMINFO"}
    assert ledger.provision(token, a.public_hex)["device_id"] == a.device_id  # the same unit asking again
    with pytest.raises(ProvisioningRefused, match="already used"):
        ledger.provision(token, b.public_hex)
    late = ledger.issue_token(valid_hours=1)
    server_clock.advance(3601)
    with pytest.raises(ProvisioningRefused, match="expired"):
        ledger.provision(late, b.public_hex)
    with pytest.raises(ProvisioningRefused, match="unknown"):
        ledger.provision("not-a-token", b.public_hex)


def test_ingest_accepts_once_and_counts_duplicates(ledger: Ledger, store: PunchStore) -> None:
    device_id = provisioned(ledger, store.identity)
    punches = record(store, 30)
    ack = ledger.ingest(device_id, wire(punches[:20]), "upload")
    assert (ack.acked_seq, ack.accepted, ack.duplicates) == (20, 20, 0)
    again = ledger.ingest(device_id, wire(punches[10:30]), "upload")  # an overlapping resend
    assert (again.acked_seq, again.accepted, again.duplicates) == (30, 10, 10)
    assert ledger.punch_seqs(device_id) == list(range(1, 31))


def test_gap_is_held_reported_and_filled(ledger: Ledger, store: PunchStore) -> None:
    device_id = provisioned(ledger, store.identity)
    punches = record(store, 12)
    ledger.ingest(device_id, wire(punches[:4]), "upload")
    ack = ledger.ingest(device_id, wire(punches[7:]), "bundle")  # 5–7 missing
    assert ack.acked_seq == 4 and ack.held == 5 and ack.gap == (5, 7)
    assert ledger.punch_seqs(device_id) == [1, 2, 3, 4]
    assert ledger.devices()[0]["gap"] == (5, 7)
    filled = ledger.ingest(device_id, wire(punches[4:7]), "upload")
    assert filled.acked_seq == 12 and filled.held == 0 and filled.gap is None
    assert ledger.punch_seqs(device_id) == list(range(1, 13))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"instant": "2026-11-23T00:00:00.000Z"}, "punch 3 was altered"),
        ({"employee_id": "SOMEONE-ELSE"}, "punch 3 was altered"),
        ({"signature": "00" * 64}, "punch 3 has a signature that does not verify"),
        ({"device_id": "PK-AAAAAAAAAAAA"}, "punch 3 names device"),
    ],
)
def test_a_changed_punch_refuses_the_whole_batch(ledger: Ledger, store: PunchStore, change: dict[str, str], reason: str) -> None:
    device_id = provisioned(ledger, store.identity)
    batch = wire(record(store, 5))
    batch[2] = {**batch[2], **change}
    with pytest.raises(PunchRejected, match=reason):
        ledger.ingest(device_id, batch, "upload")
    assert ledger.punch_count() == 0


def fork_state(ledger: Ledger, device_id: str) -> tuple[bool, int]:
    device = next(d for d in ledger.devices() if d["id"] == device_id)
    return device["forked_at"] is not None, device["forked_punches"]


def test_a_forged_chain_link_is_kept_apart(ledger: Ledger, store: PunchStore, identity: DeviceIdentity) -> None:
    """A punch re-signed by the real key but not linked to its predecessor (an inserted punch):
    it never enters the chain; it is kept apart and the device is marked (only the key's holder
    can sign it: a clone, or a forger with the key)."""
    device_id = provisioned(ledger, store.identity)
    punches = record(store, 3)
    forged = dataclasses.replace(punches[2], prev_hash="ab" * 32)
    canonical = canonical_bytes(forged.as_dict())
    forged = dataclasses.replace(forged, hash=digest(canonical), signature=identity.sign(canonical))
    ack = ledger.ingest(device_id, wire([*punches[:2], forged]), "upload")
    assert (ack.accepted, ack.forked) == (2, 1) and ledger.punch_count() == 2
    assert fork_state(ledger, device_id) == (True, 1)
    assert ledger.rejections(device_id)[0]["reason"].startswith("FORK: 1 punches (3–3)")
    assert ledger.ingest(device_id, wire(punches[2:]), "upload").accepted == 1  # the true punch 3 still links


def test_a_different_punch_under_an_acknowledged_seq_is_kept_apart(ledger: Ledger, store: PunchStore, tmp_path: Path) -> None:
    device_id = provisioned(ledger, store.identity)
    ledger.ingest(device_id, wire(record(store, 3)), "upload")
    # The same key on a second database makes a different punch 1 (a cloned unit).
    other = PunchStore(open_database(tmp_path / "clone.db"), store.identity, FakeClock(), FixedClockState())
    clone = record(other, 1)
    ack = ledger.ingest(device_id, wire(clone), "upload")
    assert (ack.acked_seq, ack.accepted, ack.forked) == (3, 0, 1) and ledger.punch_count() == 3
    assert fork_state(ledger, device_id) == (True, 1)
    assert ledger.ingest(device_id, wire(clone), "upload").forked == 1  # sent again: kept once
    assert fork_state(ledger, device_id) == (True, 1)


def test_unknown_device_and_rejections_are_recorded(ledger: Ledger, store: PunchStore) -> None:
    with pytest.raises(PunchRejected, match="unknown device"):
        ledger.ingest(store.identity.device_id, wire(record(store, 1)), "upload")
    ledger.reject("PK-UNKNOWNUNKNO", "upload", "unknown device key PK-UNKNOWNUNKNO", "10.0.0.9")
    rows = ledger.rejections()
    assert rows[0]["reason"] == "unknown device key PK-UNKNOWNUNKNO" and rows[0]["known"] == 0


def test_nonces_are_single_use(ledger: Ledger) -> None:
    assert ledger.use_nonce("ab" * 16, "PK-X", 300)
    assert not ledger.use_nonce("ab" * 16, "PK-X", 300)


def test_roster_versions_are_incremental_and_drafts_hidden(storage: Storage, server_clock: FakeClock) -> None:
    roster = RosterAdmin(storage, server_clock)
    roster.add_unit("DISKOMINFO", "Dinas Komunikasi dan Informatika")
    roster.add_employee("198503302010011001", "Budi Santoso", unit_code="DISKOMINFO", work_code="5HARI")
    roster.set_faces("198503302010011001", [bytes(range(256)) * 2])
    roster.add_card("04:a1:b2:c3", "198503302010011001")
    roster.add_finger("198503302010011001", 1, "zhiantec", b"\x01\x02" * 256)
    roster.add_work_code("5HARI", {"name": "(GLOBAL) 5 HARI (NON SEKOLAH)", "days": 5})
    roster.add_holiday("2026-12-25", "Natal")
    assert roster.document(0)["version"] == 0 and roster.document(0)["employees"] == []  # nothing published yet
    v1 = roster.publish()
    full = roster.document(0)
    assert full["full"] and full["version"] == v1
    [budi] = full["employees"]
    assert budi["cards"] == ["04A1B2C3"]
    assert base64.b64decode(budi["faces"][0]["encoding"]) == bytes(range(256)) * 2
    assert base64.b64decode(budi["fingers"][0]["template"]) == b"\x01\x02" * 256
    assert full["work_codes"][0]["days"] == 5 and full["holidays"][0]["name"] == "Natal"
    roster.add_employee("199001012019032002", "Siti Aminah", unit_code="DISKOMINFO")
    roster.add_event(
        {
            "id": "apel-2026-11-30",
            "kind": "apel",
            "title": "Apel Senin",
            "starts_at": "2026-11-30T00:00:00Z",
            "ends_at": "2026-11-30T01:30:00Z",
        }
    )
    assert roster.document(v1)["employees"] == []  # the draft is invisible
    v2 = roster.publish()
    delta = roster.document(v1)
    assert [e["id"] for e in delta["employees"]] == ["199001012019032002"]
    assert [e["id"] for e in delta["events"]] == ["apel-2026-11-30"] and not delta["full"]
    roster.remove_employee("198503302010011001")
    roster.publish()
    assert roster.document(v2)["removed_employees"] == ["198503302010011001"]


def test_a_bad_signature_deep_in_a_large_batch_is_named(ledger: Ledger, store: PunchStore, tmp_path: Path) -> None:
    """Large batches are verified in parallel chunks; the first bad punch is still the one named."""
    from core.store.synthetic import build_signed_chain

    device_id = provisioned(ledger, store.identity)
    build_signed_chain(store.conn, store.identity, 900)
    batch = wire(store.since(0, 900))
    for seq in (401, 777):
        batch[seq - 1] = {**batch[seq - 1], "signature": "11" * 64}
    with pytest.raises(PunchRejected, match="punch 401 has a signature that does not verify"):
        ledger.ingest(device_id, batch, "upload")
    assert ledger.punch_count() == 0
