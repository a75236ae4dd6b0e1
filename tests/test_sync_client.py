"""The unit's side: backoff, Retry-After, the uploader lock, the clock offset, pruning, roster
verification and application, and the codecs (property-tested)."""

from __future__ import annotations

import base64
import contextlib
import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from core import wire as protocol
from core.clock import FakeClock, FixedClockState
from core.errors import ConfigError, SyncError
from core.identity import DeviceIdentity
from core.signing import (
    SignatureRejected,
    content_digest,
    parse_signature_headers,
    sign_document,
    sign_request,
    verify_request,
)
from core.store.punches import PunchRequest, PunchStore
from core.store.sync_state import get_cursor, set_cursor
from core.timekeeping import SystemTimeFacts, TimeKeeper
from core.wire import Ack, SyncRejected, SyncUnavailable
from sync.client import Backoff, SyncClient, SyncService, UploaderLock
from sync.roster_pull import apply_roster, verify_roster
from sync.server.app import server_public_hex
from sync.state import UPLOAD_CURSOR
from sync.targets.presensi_v1 import PresensiV1Target


class ScriptedServer:
    """A target that answers from a script: exceptions to raise, else acknowledge everything."""

    def __init__(self, script: list[Exception]) -> None:
        self.script = script
        self.offset_s = 0.0
        self.offset_measured = False
        self.received: list[int] = []

    def upload(self, punches: Any) -> Ack:
        if self.script:
            raise self.script.pop(0)
        self.received += [p.seq for p in punches]
        return Ack(acked_seq=punches[-1].seq, accepted=len(punches))

    def roster(self, since: int, embedder: str | None = None) -> tuple[bytes, str]:
        raise AssertionError("not used")

    def heartbeat(self, report: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def client_for(store: PunchStore, target: Any, tmp_path: Path, clock: FakeClock, **kw: Any) -> SyncClient:
    return SyncClient(store, target, clock, FixedClockState(), tmp_path, server_key_hex=None, **kw)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    backoff = Backoff(1.0, 30.0, random.Random(3))
    delays = [backoff.next_delay() for _ in range(8)]
    caps = [1, 2, 4, 8, 16, 30, 30, 30]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_retry_after_is_honoured(store: PunchStore, clock: FakeClock, tmp_path: Path) -> None:
    store.record(PunchRequest("EMP1", "card"))
    target = ScriptedServer([SyncUnavailable("503", retry_after_s=45), SyncUnavailable("down")])
    waits: list[float] = []
    service = SyncService(
        client_for(store, target, tmp_path, clock),
        Backoff(0.5, 10.0, random.Random(1)),
        lambda s: waits.append(s) or len(waits) >= 3,
        interval_s=15,
        heartbeat_s=60,
        roster_s=300,
        max_offset_s=120,
    )
    service.run()
    assert waits[0] == 45  # the server's Retry-After, though the backoff alone would wait ≤ 0.5 s
    assert 0.5 <= waits[1] <= 1.0  # second failure: plain backoff
    assert waits[2] == 15  # drained: the idle interval
    assert target.received == [1]


def test_cursor_moves_only_on_acknowledgement(store: PunchStore, clock: FakeClock, tmp_path: Path) -> None:
    for i in range(5):
        store.record(PunchRequest(f"EMP{i}", "card"))
    target = ScriptedServer([SyncRejected("refused", reason="bad")])
    client = client_for(store, target, tmp_path, clock, batch_size=2)
    with pytest.raises(SyncRejected):
        client.upload_pending()
    assert client.acked_seq == 0 and client.pending() == 5
    assert client.upload_pending() == 5
    assert target.received == [1, 2, 3, 4, 5] and get_cursor(store.conn, UPLOAD_CURSOR) == 5


def test_pruning_waits_for_acknowledgement_and_retention(store: PunchStore, clock: FakeClock, tmp_path: Path) -> None:
    for i in range(6):
        store.record(PunchRequest(f"EMP{i}", "card"))
    client = client_for(store, ScriptedServer([]), tmp_path, clock, retention_days=90)
    set_cursor(store.conn, UPLOAD_CURSOR, 4, clock.now())
    assert client.prune() == 0  # acknowledged, but recent
    clock.advance(timedelta(days=91).total_seconds())
    assert client.prune() == 4  # only the acknowledged ones
    assert [p.seq for p in store.iter_all()] == [5, 6]


def test_one_uploader_at_a_time(tmp_path: Path) -> None:
    with UploaderLock(tmp_path), pytest.raises(SyncError, match="already uploading"):
        UploaderLock(tmp_path).acquire(wait=False)
    with UploaderLock(tmp_path):  # released on exit
        pass


def test_a_large_server_offset_marks_new_punches_unsynced(store: PunchStore, clock: FakeClock, tmp_path: Path) -> None:
    facts = SystemTimeFacts(tmp_path / "root", kernel_synced=lambda: True)
    keeper = TimeKeeper(store.conn, clock, store.identity, facts=facts, max_offset_s=120)
    store.clock_state = keeper
    before = store.record(PunchRequest("EMP1", "card"))
    keeper.note_server_offset(-300.0)  # the server is five minutes behind us
    after = store.record(PunchRequest("EMP1", "card"))
    keeper.note_server_offset(2.0)
    fixed = store.record(PunchRequest("EMP1", "card"))
    assert (before.clock_state, after.clock_state, fixed.clock_state) == ("synced", "unsynced", "synced")
    assert store.get(1) == before  # stored punches are never rewritten


def test_plain_http_is_refused_unless_allowed(identity: DeviceIdentity, clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="refusing plain http"):
        PresensiV1Target("http://127.0.0.1:9", identity, clock, ca_file=None)
    with pytest.raises(ConfigError, match="no CA to pin"):
        PresensiV1Target("https://127.0.0.1:9", identity, clock, ca_file=None)
    PresensiV1Target("http://127.0.0.1:9", identity, clock, ca_file=None, allow_plain_http=True).close()


# -- roster ---------------------------------------------------------------------------------------


def roster_doc(device_id: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "presensi-roster-v1",
        "device_id": device_id,
        "since": 0,
        "version": 1,
        "full": True,
        "employees": [
            {
                "id": "198503302010011001",
                "name": "Budi Santoso",
                "unit_code": "DISKOMINFO",
                "work_code": "5HARI",
                "card_policy": None,
                "active": True,
                "faces": [{"encoding": base64.b64encode(b"\x00\x00\x80\x3f" * 128).decode(), "scheme": "plain", "quality": 0.9}],
                "cards": ["04A1B2C3"],
                "fingers": [{"finger": 1, "family": "zhiantec", "template": base64.b64encode(b"\x07" * 512).decode()}],
            }
        ],
        "removed_employees": [],
        "units": [{"code": "DISKOMINFO", "name": "Dinas Kominfo"}],
        "work_codes": [{"code": "5HARI", "name": "(GLOBAL) 5 HARI (NON SEKOLAH)"}],
        "holidays": [],
        "events": [
            {
                "id": "apel-1",
                "kind": "apel",
                "title": "Apel",
                "starts_at": "2026-11-30T00:00:00Z",
                "ends_at": "2026-11-30T01:00:00Z",
            }
        ],
        "removed_events": [],
    }
    doc.update(over)
    return doc


def signed(doc: dict[str, Any], key: Ed25519PrivateKey) -> tuple[bytes, str]:
    body = json.dumps(doc, sort_keys=True).encode()
    return body, sign_document(key, body)


def test_roster_is_verified_then_applied_atomically(store: PunchStore, clock: FakeClock) -> None:
    key = Ed25519PrivateKey.generate()
    device_id = store.identity.device_id
    body, sig = signed(roster_doc(device_id), key)
    with pytest.raises(SyncRejected, match="signature does not verify"):
        verify_roster(body, sig, server_public_hex(Ed25519PrivateKey.generate()), device_id, 0)
    with pytest.raises(SyncRejected, match="signature"):
        verify_roster(body.replace(b"Budi", b"Badu"), sig, server_public_hex(key), device_id, 0)
    with pytest.raises(SyncRejected, match="another device"):
        verify_roster(*signed(roster_doc("PK-OTHEROTHERO"), key), server_public_hex(key), device_id, 0)
    doc = verify_roster(body, sig, server_public_hex(key), device_id, 0)
    assert apply_roster(store.conn, doc, clock.now()) == 1
    conn = store.conn
    assert conn.execute("SELECT name, source FROM employees").fetchone()[:] == ("Budi Santoso", "roster")
    assert len(conn.execute("SELECT encoding FROM face_templates").fetchone()[0]) == 512
    assert conn.execute("SELECT uid FROM cards").fetchone()[0] == "04A1B2C3"
    assert conn.execute("SELECT count(*) FROM events WHERE origin = 'server'").fetchone()[0] == 1
    # A bad template in an increment leaves the unit exactly as it was (one transaction).
    bad = roster_doc(device_id, since=1, version=2, full=False)
    bad["employees"][0]["name"] = "Budi S."
    bad["employees"][0]["faces"][0]["encoding"] = base64.b64encode(b"short").decode()
    with pytest.raises(SyncRejected, match="not 64–2048 float32 values"):
        apply_roster(conn, bad, clock.now())
    assert conn.execute("SELECT name FROM employees").fetchone()[0] == "Budi Santoso"
    removal = roster_doc(device_id, since=1, version=2, full=False, employees=[], removed_employees=["198503302010011001"])
    apply_roster(conn, removal, clock.now())
    assert conn.execute("SELECT active FROM employees").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM face_templates").fetchone()[0] == 0


# -- codecs ---------------------------------------------------------------------------------------


@given(
    method=st.sampled_from(["GET", "POST"]),
    path=st.sampled_from(["/v1/punches", "/v1/roster", "/v1/health"]),
    query=st.sampled_from(["", "since=0", "since=12"]),
    body=st.binary(max_size=300),
    created=st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
)
def test_signed_requests_verify_and_any_change_fails(method: str, path: str, query: str, body: bytes, created: int) -> None:
    identity = DeviceIdentity(Ed25519PrivateKey.from_private_bytes(b"\x01" * 32))
    headers = sign_request(identity, method, path, query, body, created=created, randbytes=lambda n: b"\x02" * n)
    parsed = parse_signature_headers(headers)
    key = identity.private_key.public_key()
    kw: dict[str, Any] = {"method": method, "path": path, "query": query, "body": body, "now_s": created + 10, "window_s": 300}
    verify_request(parsed, key, **kw)
    assert parsed.keyid == identity.device_id and parsed.digest == content_digest(body)
    for change in (
        {"path": path + "x"},
        {"query": query + "&a=1"},
        {"method": "PUT"},
        {"body": body + b"!"},
        {"now_s": created + 301},
    ):
        with pytest.raises(SignatureRejected):
            verify_request(parsed, key, **{**kw, **change})


@given(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=20), max_size=6), st.booleans())
def test_bodies_round_trip(document: dict[str, Any], compress: bool) -> None:
    body, headers = protocol.encode_body(document, compress=compress)
    assert protocol.decode_body(body, headers.get("Content-Encoding")) == document


@given(st.binary(max_size=200))
def test_garbage_bodies_are_refused_cleanly(data: bytes) -> None:
    for encoding in ("gzip", None):
        with contextlib.suppress(ValueError):
            protocol.decode_body(data, encoding)


@given(
    st.dictionaries(st.sampled_from(["seq", "id", "hash", "signature", "extra"]), st.integers() | st.text(max_size=5) | st.none())
)
def test_malformed_wire_punches_raise_value_error(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        protocol.punch_from_wire(data)


def test_wire_punches_round_trip(store: PunchStore) -> None:
    punch = store.record(
        PunchRequest("EMP1", "face", liveness_verdict="live", liveness_scores={"texture": 0.97}, match_distance=0.31)
    )
    assert protocol.punch_from_wire(json.loads(json.dumps(protocol.punch_to_wire(punch)))) == punch


def test_a_unit_side_error_backs_off_and_shows_as_a_fault(store: PunchStore, clock: FakeClock, tmp_path: Path) -> None:
    from core.errors import StorageError
    from core.health import Health, read_all

    store.record(PunchRequest("EMP1", "card"))
    service = SyncService(
        client_for(store, ScriptedServer([StorageError("the database stayed locked")]), tmp_path, clock),
        Backoff(1.0, 10.0, random.Random(2)),
        lambda _s: True,
        interval_s=15,
        heartbeat_s=60,
        roster_s=300,
        max_offset_s=120,
    )
    assert 0.5 <= service.step() <= 1.0
    [sync_part] = [p for p in read_all(store.conn) if p.part == "sync"]
    assert sync_part.status == Health.FAIL and "locked" in sync_part.detail
    assert service.step() == 15  # next round delivers; idle again
