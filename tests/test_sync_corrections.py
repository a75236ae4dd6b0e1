"""Punch corrections travel to the real reference server over TLS (issue 11): a unit wakes in a
field with a clock three days behind and no NTP, records punches, learns the true time from the
server's Date header, signs corrections and sends them; the server shows both instants, refuses
a tampered correction with its reason, and a repeat changes nothing."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import wire as protocol
from core.clock import ClockState, FakeClock, shown_time
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.runtime import Runtime
from core.signing import sign_request
from core.store.db import open_database
from core.store.punches import Punch, PunchRequest, PunchStore, format_instant, parse_instant
from core.store.time_corrections import count_undelivered_corrections, undelivered_corrections
from core.timekeeping import FixedTimeFacts, TimeKeeper, canonical_json
from kiosk.demo.server import ServerProcess
from sync.bundle import BundleRejected, check_bundle, export_bundle
from sync.provision import provision
from sync.server.api import import_bundle_bytes
from sync.server.corrections import CorrectionLedger, CorrectionRejected
from sync.server.ledger import Ledger
from sync.server.storage import Storage
from sync.service import run_once, status
from sync.targets.presensi_v1 import tls_context

BEHIND = timedelta(days=3, hours=2)  # the saved time the Pi woke with, behind the truth
STEPS_S = [0.0, 37.25, 95.5, 600.125, 1801.0]  # when each punch was made, after the first


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, verify=tls_context(server.ca_file)) as client:
        yield client


def field_unit(data_dir: Path, clock: FakeClock) -> Runtime:
    """A unit whose kernel says the clock is not synchronised (no NTP, no RTC)."""
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "unsynced"
    config.sync.backoff_base_s = 0.01
    config.sync.backoff_max_s = 0.05
    config.sync.timeout_s = 5
    return Runtime(config=config, data_dir=data_dir, clock=clock)


@pytest.fixture
def field(tmp_path: Path, server: ServerProcess) -> tuple[Runtime, FakeClock]:
    """Provisioned at the office, then rebooted in a field with the clock behind; five punches."""
    clock = FakeClock(datetime.now(UTC) - BEHIND, boot_id="boot-field")
    unit = field_unit(tmp_path / "unit", clock)
    provision(unit, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    store = unit.store()
    assert unit.timekeeper(store.conn).state() is ClockState.UNSYNCED
    start_mono = clock.monotonic_ns()
    for i, step in enumerate(STEPS_S):
        clock.advance(step - (clock.monotonic_ns() - start_mono) / 1e9)
        punch = store.record(PunchRequest(f"19850330201001100{i}", "card", kind="apel", status="hadir"))
        assert punch.clock_state == "unsynced"
    return unit, clock


def server_punches(server: ServerProcess, device_id: str) -> list[dict[str, Any]]:
    return sorted(server.admin().punches(device_id, 100), key=lambda p: p["seq"])


def server_corrections(server: ServerProcess) -> list[dict[str, Any]]:
    with server.admin().storage.tx(write=False) as tx:
        return tx.all("SELECT * FROM punch_corrections ORDER BY device_id, seq")


def unit_corrections(unit: Runtime) -> list[dict[str, Any]]:
    rows = unit.store().conn.execute("SELECT body, signature FROM punch_corrections ORDER BY seq").fetchall()
    return [{**json.loads(r["body"]), "signature": r["signature"]} for r in rows]


def post_corrections(http: httpx.Client, identity: DeviceIdentity, corrections: list[dict[str, Any]]) -> httpx.Response:
    body, headers = protocol.encode_body({"corrections": corrections})
    signature = sign_request(
        identity, "POST", protocol.CORRECTIONS_PATH, "", body, created=int(time.time()), randbytes=os.urandom
    )
    return http.post(protocol.CORRECTIONS_PATH, content=body, headers={**headers, **signature})


def device_page(http: httpx.Client, device_id: str) -> str:
    response = http.get(f"/devices/{device_id}")
    assert response.status_code == 200
    return html.unescape(response.text)


def synced_field_unit(field: tuple[Runtime, FakeClock]) -> tuple[Runtime, FakeClock]:
    unit, clock = field
    outcome = run_once(unit)
    assert outcome["ok"], outcome
    return unit, clock


def test_a_field_boot_is_corrected_and_the_server_shows_both_instants(
    field: tuple[Runtime, FakeClock], server: ServerProcess, http: httpx.Client
) -> None:
    unit, clock = field
    device_id = unit.identity().device_id
    recorded = [p.instant for p in unit.store().iter_all()]
    behind_before = datetime.now(UTC) - clock.now()
    outcome = run_once(unit)  # the first request is refused for its time, retried with the server's clock
    behind_after = datetime.now(UTC) - clock.now()
    assert outcome["ok"], outcome
    assert outcome["acked_seq"] == 5 and outcome["corrections_sent"] == 5 and outcome["corrections_pending"] == 0

    rows = server_punches(server, device_id)
    assert [r["instant"] for r in rows] == recorded  # the punches as recorded, never rewritten
    assert all(r["clock_state"] == "unsynced" and r["correction_source"] == "server" for r in rows)
    shifts = [parse_instant(r["corrected_instant"]) - parse_instant(r["instant"]) for r in rows]
    # Every punch moves by the same amount — the unit's distance from the server's clock, which
    # the Date header gives to the second — so each lands at its true instant to the second.
    assert len(set(shifts)) == 1
    assert behind_before - timedelta(seconds=1.5) <= shifts[0] <= behind_after + timedelta(seconds=1.5)
    # and the spacing between punches is exactly what the monotonic clock measured
    corrected = [parse_instant(r["corrected_instant"]) for r in rows]
    assert [(c - corrected[0]).total_seconds() for c in corrected] == STEPS_S

    page = device_page(http, device_id)
    assert "5 presensi dikoreksi" in page
    for r in rows:  # both instants, as a person reads them (local, issue 23.5)
        assert shown_time(r["instant"], "Asia/Jakarta") in page and shown_time(r["corrected_instant"], "Asia/Jakarta") in page
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "server",
            "punches",
            "--device",
            device_id,
            "--server-config",
            str(server.config_path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"recorded={rows[0]['instant']}" in listed and f"corrected={rows[0]['corrected_instant']} (server)" in listed
    devices = server.admin().devices()
    assert next(d for d in devices if d["id"] == device_id)["corrections"] == 5


def test_a_repeat_upload_changes_nothing(field: tuple[Runtime, FakeClock], server: ServerProcess, http: httpx.Client) -> None:
    unit, _clock = synced_field_unit(field)
    device_id = unit.identity().device_id
    before = server_corrections(server)
    assert run_once(unit)["corrections_sent"] == 0  # delivered ones are not sent again
    # The server's answer was lost: the unit still thinks they are undelivered and sends them again.
    conn = unit.store().conn
    conn.execute("UPDATE punch_corrections SET acked_at = NULL")
    assert status(unit)["corrections_pending"] == 5
    again = run_once(unit)
    assert again["ok"] and again["corrections_sent"] == 0 and count_undelivered_corrections(conn) == 0
    assert server_corrections(server) == before
    response = post_corrections(http, unit.identity(), unit_corrections(unit))
    assert response.status_code == 200
    assert response.json()["accepted"] == 0 and response.json()["duplicates"] == 5
    assert server_corrections(server) == before
    assert sum(1 for c in before if c["device_id"] == device_id) == 5


def test_tampered_corrections_are_refused_with_their_reason(
    field: tuple[Runtime, FakeClock], server: ServerProcess, http: httpx.Client
) -> None:
    unit, _clock = field
    identity = unit.identity()
    store = unit.store()
    # Punches reach the server, but the corrections are kept back to play with.
    client_round = run_once(unit)
    assert client_round["ok"]
    held = unit_corrections(unit)
    with server.admin().storage.tx() as tx:
        tx.execute("DELETE FROM punch_corrections WHERE device_id = ?", (identity.device_id,))
    before = server_corrections(server)

    def refused(corrections: list[dict[str, Any]]) -> str:
        response = post_corrections(http, identity, corrections)
        assert response.status_code == 422, response.text
        assert server_corrections(server) == before  # nothing of the request is stored
        return str(response.json()["error"])

    # 1. altered on the way (an hour earlier), the request itself validly signed by the device
    moved = dict(held[1], corrected_instant=format_instant(parse_instant(held[1]["corrected_instant"]) - timedelta(hours=1)))
    reason = refused([held[0], moved])
    assert reason == "correction of punch 2 has a signature that does not verify with the device key (altered?)"
    assert reason in device_page(http, identity.device_id)

    # 2. signed by the device key, but the instant does not follow from the anchor and the punch
    def resigned(body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if k != "signature"}
        return {**body, "signature": identity.sign(canonical_json(body).encode("ascii"))}

    assert "does not follow from its anchor" in refused([resigned(moved)])
    # 3. a correction of a punch the server does not hold, and one naming another punch's hash
    assert "does not hold" in refused([resigned(dict(held[0], seq=99))])
    assert "does not match the stored punch" in refused([resigned(dict(held[0], punch_hash=held[1]["punch_hash"]))])
    # 4. signed by another key
    other = DeviceIdentity.generate()
    body = {k: v for k, v in held[0].items() if k != "signature"}
    assert "does not verify" in refused([{**body, "signature": other.sign(canonical_json(body).encode("ascii"))}])

    # 5. issue 21, item 2: validly signed and consistent with its anchor, but the anchor (a typed
    # time an hour ahead) puts the punch after the server received it
    ahead = dict(held[0], corrected_instant=format_instant(parse_instant(held[0]["corrected_instant"]) + timedelta(hours=1)))
    ahead["anchor"] = {
        **held[0]["anchor"],
        "true_utc": format_instant(parse_instant(held[0]["anchor"]["true_utc"]) + timedelta(hours=1)),
        "source": "technician",
    }
    assert "after this server received it" in refused([resigned(ahead)])

    # The genuine ones still go through, and a different correction of a corrected punch is refused.
    response = post_corrections(http, identity, held)
    assert response.status_code == 200 and response.json()["accepted"] == 5
    later = dict(held[0], anchor={**held[0]["anchor"], "mono_ns": held[0]["anchor"]["mono_ns"] + 10**9})
    later["corrected_instant"] = format_instant(parse_instant(held[0]["corrected_instant"]) - timedelta(seconds=1))
    response = post_corrections(http, identity, [resigned(later)])
    assert response.status_code == 422 and "differs from the correction of punch 1 already stored" in response.json()["error"]
    first = store.get(1)
    assert first is not None and first.clock_state == "unsynced"  # the unit's punch untouched


def test_the_unit_refuses_to_mark_what_the_server_did_not_acknowledge(
    field: tuple[Runtime, FakeClock], server: ServerProcess
) -> None:
    """A server answering 422 leaves every correction pending for the next round."""
    unit, _clock = field
    assert run_once(unit)["ok"]
    conn = unit.store().conn
    conn.execute("UPDATE punch_corrections SET acked_at = NULL")
    # The server loses the punch the first correction names (a restored database, say).
    with server.admin().storage.tx() as tx:
        tx.execute("DELETE FROM punch_corrections WHERE device_id = ?", (unit.identity().device_id,))
        tx.execute("UPDATE punches SET hash = ? WHERE device_id = ? AND seq = 1", ("0" * 64, unit.identity().device_id))
    outcome = run_once(unit)
    # the round goes on (roster, heartbeat, pruning); the corrections wait, and health says why
    assert outcome["ok"] and "does not match the stored punch" in outcome["corrections_refused"], outcome
    assert outcome["roster_version"] is not None
    assert count_undelivered_corrections(conn) == 5
    sync_health = conn.execute("SELECT status, detail FROM health WHERE part = 'sync'").fetchone()
    assert sync_health["status"] == "warn" and "Koreksi waktu ditolak" in sync_health["detail"]


# -- the server's storage, on SQLite and on a real PostgreSQL ---------------------------------------


def field_boot_corrected(path: Path) -> tuple[sqlite3.Connection, DeviceIdentity, FakeClock, list[Punch]]:
    """A unit's database: three punches 61.5 s apart in a field boot with the clock behind, then a
    technician's time (their phone) anchors the boot and the three corrections are signed."""
    clock = FakeClock(datetime(2026, 11, 20, 22, 0, tzinfo=UTC), boot_id="boot-field")
    identity = DeviceIdentity.generate()
    conn = open_database(path)
    keeper = TimeKeeper(conn, clock, identity, facts=FixedTimeFacts(ClockState.UNSYNCED))
    store = PunchStore(conn, identity, clock, keeper)
    punches = []
    for i in range(3):
        clock.advance(61.5)
        punches.append(store.record(PunchRequest(f"EMP{i}", "card")))
    keeper.record_anchor(datetime(2026, 11, 23, 0, 10, tzinfo=UTC), "technician")
    assert len(keeper.correct_punches()) == 3
    return conn, identity, clock, punches


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        db = Storage(f"sqlite:///{tmp_path / 'server.db'}")
    else:
        db = Storage(request.getfixturevalue("pg_url"))
        with db.tx() as tx:  # a clean slate per test
            tx.execute("DROP SCHEMA public CASCADE")
            tx.execute("CREATE SCHEMA public")
    db.create_schema()
    yield db
    db.close()


def test_corrections_are_stored_beside_the_punches(storage: Storage, tmp_path: Path) -> None:
    conn, identity, _clock, punches = field_boot_corrected(tmp_path / "unit.db")
    wire = [c.wire() for c in undelivered_corrections(conn, 3, 10)]

    ledger = Ledger(storage, FakeClock())
    corrections = CorrectionLedger(ledger)
    ledger.provision(ledger.issue_token("DISKOMINFO"), identity.public_hex)
    with pytest.raises(CorrectionRejected, match="does not hold"):
        corrections.ingest(identity.device_id, wire)  # punches first
    ledger.ingest(identity.device_id, [protocol.punch_to_wire(p) for p in punches], "upload")
    ack = corrections.ingest(identity.device_id, wire)
    assert (ack.accepted, ack.duplicates, ack.acked) == (3, 0, tuple(p.id for p in punches))
    assert corrections.ingest(identity.device_id, list(reversed(wire))).duplicates == 3
    assert corrections.count(identity.device_id) == 3
    listed = sorted(ledger.recent_punches(identity.device_id), key=lambda r: r["seq"])
    assert [r["instant"] for r in listed] == [p.instant for p in punches]
    assert [r["corrected_instant"] for r in listed] == [
        "2026-11-23T00:07:57.000Z",  # the anchor was taken right after the third punch
        "2026-11-23T00:08:58.500Z",
        "2026-11-23T00:10:00.000Z",
    ]
    assert ledger.devices()[0]["corrections"] == 3
    stored = corrections.of_device(identity.device_id)
    assert [s["anchor_source"] for s in stored] == ["technician"] * 3


def test_openapi_describes_the_corrections_upload(http: httpx.Client) -> None:
    spec = http.get("/v1/openapi.json").json()
    body = spec["paths"]["/v1/corrections"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CorrectionsUpload"}
    assert {"punch_hash", "recorded_instant", "corrected_instant", "anchor", "signature"} <= set(
        spec["components"]["schemas"]["WireCorrection"]["properties"]
    )


def test_a_flash_disk_bundle_carries_the_corrections(tmp_path: Path) -> None:
    # A unit that never reaches the network: a technician sets its time, the bundle goes by
    # flash disk, and the server shows the corrected instants all the same.
    conn, identity, clock, _punches = field_boot_corrected(tmp_path / "unit.db")
    exported = export_bundle(conn, identity, clock, tmp_path / "usb")
    assert exported is not None
    with zipfile.ZipFile(exported.bundle) as zf:
        assert sorted(zf.namelist()) == ["corrections.jsonl", "manifest.json", "manifest.sig", "punches.jsonl"]
        assert json.loads(zf.read("manifest.json"))["corrections_count"] == 3

    storage = Storage(f"sqlite:///{tmp_path / 'server.db'}")
    storage.create_schema()
    ledger = Ledger(storage, FakeClock())
    ledger.provision(ledger.issue_token("DISKOMINFO"), identity.public_hex)
    data = exported.bundle.read_bytes()
    assert import_bundle_bytes(ledger, data).accepted == 3
    listed = sorted(ledger.recent_punches(identity.device_id), key=lambda r: r["seq"])
    assert [r["corrected_instant"] for r in listed] == [
        "2026-11-23T00:07:57.000Z",
        "2026-11-23T00:08:58.500Z",
        "2026-11-23T00:10:00.000Z",
    ]
    assert import_bundle_bytes(ledger, data).duplicates == 3  # a second import changes nothing
    assert CorrectionLedger(ledger).count(identity.device_id) == 3
    assert check_bundle(data, identity.public_hex).ok

    # A changed correction no longer matches the signed manifest; a dropped one is missed.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    for change, reason in [
        (members["corrections.jsonl"].replace(b"00:10:00.000Z", b"00:11:00.000Z"), "corrections.jsonl does not match"),
        (None, "corrections.jsonl named in the signed manifest is missing"),
    ]:
        kept = {name: content for name, content in members.items() if name != "corrections.jsonl"}
        tampered = bundle_of(kept if change is None else {**kept, "corrections.jsonl": change})
        with pytest.raises(BundleRejected, match=reason):
            import_bundle_bytes(ledger, tampered)
        assert not check_bundle(tampered, identity.public_hex).ok

    # Re-signed by the device itself, a correction altered after it was signed is refused on
    # its own signature; the bundle's punches stay and the device page says why.
    altered = members["corrections.jsonl"].replace(b"00:10:00.000Z", b"00:11:00.000Z")
    manifest = json.loads(members["manifest.json"])
    manifest["corrections_sha256"] = hashlib.sha256(altered).hexdigest()
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode("ascii")
    forged = bundle_of(
        {
            **members,
            "corrections.jsonl": altered,
            "manifest.json": manifest_bytes,
            "manifest.sig": identity.sign(b"presensi-bundle-v1\n" + manifest_bytes).encode("ascii"),
        }
    )
    other = Ledger(Storage(f"sqlite:///{tmp_path / 'other.db'}"), FakeClock())
    other.storage.create_schema()
    other.provision(other.issue_token("DISKOMINFO"), identity.public_hex)
    assert import_bundle_bytes(other, forged).accepted == 3
    assert CorrectionLedger(other).count(identity.device_id) == 0
    assert any("corrections not stored" in r["reason"] for r in other.rejections(identity.device_id))
    check = check_bundle(forged, identity.public_hex)  # what the server does: punches in, corrections not
    assert check.ok and "PERINGATAN: koreksi waktu presensi nomor 1, 2, 3 tidak sah" in check.message
    other.storage.close()
    storage.close()
    conn.close()


def bundle_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def test_bundle_corrections_of_punches_the_server_lacks_wait_and_can_be_left_out(tmp_path: Path) -> None:
    conn, identity, clock, _punches = field_boot_corrected(tmp_path / "unit.db")
    ledger = Ledger(Storage(f"sqlite:///{tmp_path / 'server.db'}"), FakeClock())
    ledger.storage.create_schema()
    ledger.provision(ledger.issue_token("DISKOMINFO"), identity.public_hex)
    # Only punch 3 travels (1 and 2 went on a flash disk that was lost): the server holds it back
    # behind the gap, so none of the three corrections can be stored yet, and nothing is refused.
    late = export_bundle(conn, identity, clock, tmp_path / "late", after_seq=2)
    assert late is not None
    import_bundle_bytes(ledger, late.bundle.read_bytes())
    assert CorrectionLedger(ledger).count(identity.device_id) == 0 and not ledger.rejections(identity.device_id)
    whole = export_bundle(conn, identity, clock, tmp_path / "whole")
    assert whole is not None
    import_bundle_bytes(ledger, whole.bundle.read_bytes())
    assert CorrectionLedger(ledger).count(identity.device_id) == 3
    # For a server older than the corrections member: three members, as before.
    plain = export_bundle(conn, identity, clock, tmp_path / "plain", corrections=False)
    assert plain is not None
    with zipfile.ZipFile(plain.bundle) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "manifest.sig", "punches.jsonl"]
        assert "corrections_sha256" not in json.loads(zf.read("manifest.json"))
    ledger.storage.close()
    conn.close()
