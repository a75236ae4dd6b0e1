"""A punch id is unique per device on the reference server (issue 22, finding 3).

Ids leak (CSV exports, bundles, the maintenance page): a hostile unit that uploads a punch signed by
its own key but carrying another unit's unsent id must not make every later upload of that unit
fail. Both punches are stored, each under its own device. And a server database made when the id
was unique across devices is rebuilt in place at start, its punches kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sync_support import unit_runtime

from core.runtime import Runtime
from core.store.chain import canonical_bytes, digest
from core.store.punches import PunchRequest
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.server.storage import Storage
from sync.service import run_once
from sync.targets.presensi_v1 import PresensiV1Target


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def provisioned(server: ServerProcess, data_dir: Path) -> Runtime:
    runtime = unit_runtime(data_dir)
    provision(runtime, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    return runtime


def test_another_units_copy_of_an_id_never_blocks_the_owner(server: ServerProcess, tmp_path: Path) -> None:
    victim = provisioned(server, tmp_path / "victim")
    hostile = provisioned(server, tmp_path / "hostile")
    for _ in range(3):
        victim.store().record(PunchRequest("198503302010011001", "card"))
    leaked = victim.store().since(0, 1)[0].id  # the victim has not synced it yet

    # The hostile unit signs, with its own key, a punch that carries the victim's id.
    own = hostile.store().record(PunchRequest("199001012015011002", "card"))
    values = {**dataclasses.asdict(own), "id": leaked}
    canonical = canonical_bytes(values)
    forged = dataclasses.replace(own, id=leaked, hash=digest(canonical), signature=hostile.identity().sign(canonical))
    target = PresensiV1Target(server.url, hostile.identity(), hostile.clock, ca_file=server.ca_file)
    ack = target.upload([forged])
    target.close()
    assert ack.acked_seq == 1  # the hostile unit's own chain: its punch is stored under its device

    result = run_once(victim)
    assert result["ok"] and result["acked_seq"] == 3 and result["pending"] == 0
    with server.admin().storage.tx(write=False) as tx:
        rows = tx.all("SELECT device_id, seq FROM punches WHERE id = ? ORDER BY device_id", (leaked,))
    assert {(r["device_id"], r["seq"]) for r in rows} == {
        (victim.identity().device_id, 1),
        (hostile.identity().device_id, 1),
    }


OLD_PUNCHES = """CREATE TABLE punches (
    device_id TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL UNIQUE, employee_id TEXT NOT NULL,
    instant TEXT NOT NULL, zone TEXT NOT NULL, method TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    minutes BIGINT NOT NULL, event_id TEXT, liveness_verdict TEXT, liveness_scores TEXT NOT NULL,
    match_distance TEXT, clock_state TEXT NOT NULL, boot_id TEXT NOT NULL, mono_ns BIGINT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL, received_at TEXT NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (device_id, seq))"""


@pytest.fixture(params=["sqlite", "postgresql"])
def old_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A server database as made before ids were unique per device, holding one punch."""
    if request.param == "sqlite":
        storage = Storage(f"sqlite:///{tmp_path / 'server.db'}")
    else:
        storage = Storage(request.getfixturevalue("pg_url"))
    with storage.tx() as tx:
        if request.param == "postgresql":
            tx.execute("DROP SCHEMA public CASCADE")
            tx.execute("CREATE SCHEMA public")
        tx.execute(OLD_PUNCHES)
        tx.execute("CREATE INDEX punches_received ON punches(received_at)")
        tx.execute(INSERT, ("A", 1, *ROW))
    yield storage
    storage.close()


INSERT = f"INSERT INTO punches VALUES ({', '.join('?' * 22)})"
ROW = ("id-1", "E1", "2026-11-02T00:30:00.000Z", "Asia/Jakarta", "card", "masuk", "tepat_waktu", 0, None, None, "{}", None)
ROW += ("synced", "boot", 5, "0" * 64, "h", "s", "2026-11-02T00:31:00.000Z", "https")


def test_a_database_with_globally_unique_ids_is_migrated_with_its_punches(old_storage: Storage) -> None:
    old_storage.create_schema()
    with old_storage.tx() as tx:
        tx.execute(INSERT, ("B", 1, *ROW))  # the same id under another device
        kept = tx.all("SELECT device_id, seq, employee_id FROM punches ORDER BY device_id")
    assert kept == [
        {"device_id": "A", "seq": 1, "employee_id": "E1"},
        {"device_id": "B", "seq": 1, "employee_id": "E1"},
    ]
    old_storage.create_schema()  # a second start changes nothing
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), old_storage.tx() as tx:
        tx.execute(INSERT, ("A", 2, *ROW))  # the same device, the same id: still refused
    if old_storage.dialect == "sqlite":
        with old_storage.tx(write=False) as tx:
            indexes = {r["name"] for r in tx.all("SELECT name FROM pragma_index_list('punches')")}
        assert {"punches_received", "punches_device_punch_id"} <= indexes
