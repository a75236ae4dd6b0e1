"""Event packs: the signed format, verification against the server's key, local packs, and the
rule that an employee counts once per event whatever units they punched at."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import FakeClock
from core.identity import DeviceIdentity
from core.schedule.events import (
    FORMAT,
    EventPack,
    EventPackError,
    attendance_once,
    canonical_pack_bytes,
    parse_pack,
    read_envelope,
    sign_pack,
    verify_pack,
    write_envelope,
)
from core.schedule.local_packs import create_local_pack, sample_pack, sample_people
from core.store.punches import PunchStore

START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Monday 07:00 WITA


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


@pytest.fixture(scope="module")
def server_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def pack() -> EventPack:
    return sample_pack(sample_people(60), start=START)


def test_a_server_pack_verifies_with_the_servers_key(pack: EventPack, server_key: Ed25519PrivateKey, tmp_path: Path) -> None:
    envelope = sign_pack(pack, server_key, signer="server")
    write_envelope(envelope, tmp_path / "apel.json")
    loaded = verify_pack(read_envelope(tmp_path / "apel.json"), public_hex(server_key))
    assert loaded == pack
    assert envelope["format"] == FORMAT
    # nine machines, eight units: II and III both serve eselon III (balangan-perbup-32-2020.txt Pasal 6 ayat 4 huruf b)
    assert [u.code for u in loaded.units] == ["I", "II-III", "IV", "V", "VI", "VII", "VIII", "IX"]
    assert loaded.unit("I").eselon == ["II"]  # type: ignore[union-attr]
    assert len(loaded.unit("IV").offices) == 7  # huruf c: seven offices  # type: ignore[union-attr]
    assert "Dinas Sosial" in loaded.unit("IV").serves  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("pack", "title"), "Apel Palsu"),
        (("pack", "participants", 0, "unit"), "II"),
        (("pack", "ends_at"), "2026-11-23T23:59:00Z"),
        (("pack", "location", "lat"), "-2.3231"),
        (("signature", "value"), "00" * 64),
    ],
)
def test_any_change_breaks_the_signature(
    pack: EventPack, server_key: Ed25519PrivateKey, path: tuple[Any, ...], value: Any
) -> None:
    envelope = sign_pack(pack, server_key, signer="server")
    changed = copy.deepcopy(envelope)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(EventPackError, match="does not verify"):
        verify_pack(changed, public_hex(server_key))


def test_the_key_inside_the_envelope_is_not_trusted(pack: EventPack, server_key: Ed25519PrivateKey) -> None:
    forger = Ed25519PrivateKey.generate()
    forged = sign_pack(pack, forger, signer="server")  # names the forger's key inside
    with pytest.raises(EventPackError, match="does not verify"):
        verify_pack(forged, public_hex(server_key))
    with pytest.raises(EventPackError, match="server's public key"):
        verify_pack(sign_pack(pack, server_key, signer="server"), None)


def test_a_local_pack_verifies_only_with_the_device_key(pack: EventPack, server_key: Ed25519PrivateKey) -> None:
    device = DeviceIdentity.generate()
    local = pack.model_copy(update={"origin": "local", "issuer": f"device:{device.device_id}"})
    envelope = sign_pack(local, device, signer=f"device:{device.device_id}")
    assert verify_pack(envelope, public_hex(server_key), device_public_key_hex=device.public_hex).origin == "local"
    with pytest.raises(EventPackError):
        verify_pack(envelope, public_hex(server_key), device_public_key_hex=DeviceIdentity.generate().public_hex)
    # a local pack cannot pass as a server pack: origin is inside the signed bytes
    envelope["pack"]["origin"] = "server"
    with pytest.raises(EventPackError, match="does not verify"):
        verify_pack(envelope, public_hex(server_key), device_public_key_hex=device.public_hex)


def test_canonical_bytes_are_documented_form(pack: EventPack) -> None:
    raw = canonical_pack_bytes(pack)
    assert raw.startswith(b"presensi-event-pack-v1\n{")
    body = raw.split(b"\n", 1)[1]
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def test_canonical_bytes_known_answer() -> None:
    """A fixed vector for other implementations (the reference server) to check against."""
    small = parse_pack(
        {
            "id": "APEL-1",
            "kind": "apel",
            "title": "Apel Senin – Halaman Kantor",
            "location": {"name": "Halaman", "lat": "-2.3230", "lon": "115.4630"},
            "zone": "Asia/Makassar",
            "starts_at": "2026-11-22T23:00:00Z",
            "ends_at": "2026-11-23T00:30:00Z",
            "participants": [{"id": "199001012020121001", "name": "Siti Aminah", "office": "DINKES"}],
            "issued_at": "2026-11-20T00:00:00Z",
        }
    )
    assert canonical_pack_bytes(small) == (
        b"presensi-event-pack-v1\n"
        b'{"ends_at":"2026-11-23T00:30:00Z","id":"APEL-1","issued_at":"2026-11-20T00:00:00Z","issuer":"",'
        b'"kind":"apel","location":{"lat":"-2.3230","lon":"115.4630","name":"Halaman"},"on_time_until":null,'
        b'"origin":"server","participants":[{"id":"199001012020121001","name":"Siti Aminah","office":"DINKES","unit":""}],'
        b'"starts_at":"2026-11-22T23:00:00Z","title":"Apel Senin \\u2013 Halaman Kantor","units":[],"version":1,'
        b'"zone":"Asia/Makassar"}'
    )


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_names_in_any_script_survive_a_file_round_trip(title: str, name: str) -> None:
    key = Ed25519PrivateKey.generate()
    pack = parse_pack(
        {
            "id": "E1",
            "kind": "tausiyah",
            "title": title,
            "location": {"name": "Masjid Agung"},
            "starts_at": "2026-11-27T00:00:00Z",
            "ends_at": "2026-11-27T01:00:00Z",
            "participants": [{"id": "P1", "name": name}],
            "issued_at": "2026-11-25T00:00:00Z",
        }
    )
    text = json.dumps(sign_pack(pack, key, signer="server"), ensure_ascii=False, indent=1)
    assert verify_pack(json.loads(text), public_hex(key)).title == title


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "upacara"}, "kind"),
        ({"ends_at": "2026-11-22T22:00:00Z"}, "ends_at must come after"),
        ({"starts_at": "2026-11-23T07:00:00+08:00"}, "end with 'Z'"),
        ({"zone": "Europe/Paris"}, "unknown zone"),
        ({"participants": []}, "participants"),
        ({"location": {"name": "x", "lat": "abc"}}, "decimal"),
    ],
)
def test_malformed_packs_say_what_is_wrong(pack: EventPack, change: dict[str, Any], message: str) -> None:
    data = pack.model_dump(mode="json") | change
    with pytest.raises(EventPackError, match=message):
        parse_pack(data)


def test_participants_must_name_defined_units(pack: EventPack) -> None:
    data = pack.model_dump(mode="json")
    data["participants"][0]["unit"] = "X"
    with pytest.raises(EventPackError, match="units the pack does not define"):
        parse_pack(data)
    data = pack.model_dump(mode="json")
    data["participants"].append(dict(data["participants"][0]))
    with pytest.raises(EventPackError, match="listed once"):
        parse_pack(data)


def test_other_is_accepted_as_lainnya(pack: EventPack) -> None:
    assert parse_pack(pack.model_dump(mode="json") | {"kind": "other"}).kind == "lainnya"


def test_create_local_pack_from_the_roster(store: PunchStore, clock: FakeClock) -> None:
    conn = store.conn
    for i, office in enumerate(["DINKES", "DINKES", "DISDIK", "BAPPEDA"]):
        conn.execute(
            "INSERT INTO employees (id, name, unit_code, active, updated_at) VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z')",
            (f"E{i}", f"Pegawai {i}", office, 0 if i == 1 else 1),
        )
    envelope = create_local_pack(
        conn,
        store.identity,
        event_id="SENAM-LOKAL",
        kind="senam",
        title="Senam Jumat",
        location="Halaman Dinkes",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        zone="Asia/Makassar",
        offices=["DINKES", "DISDIK"],
        issued_at=clock.now(),
    )
    pack = verify_pack(envelope, None, device_public_key_hex=store.identity.public_hex)
    assert pack.origin == "local" and pack.issuer == f"device:{store.identity.device_id}"
    assert [p.id for p in pack.participants] == ["E0", "E2"]  # the inactive E1 and BAPPEDA's E3 are not in it
    with pytest.raises(EventPackError, match="no active employee"):
        create_local_pack(
            conn,
            store.identity,
            event_id="X",
            kind="apel",
            title="x",
            location="x",
            starts_at=START,
            ends_at=START + timedelta(hours=1),
            zone="Asia/Jakarta",
            offices=["NOPE"],
            issued_at=clock.now(),
        )


def _punch(event: str | None, employee: str, minute: int, pid: str, device: str) -> dict[str, Any]:
    return {
        "event_id": event,
        "employee_id": employee,
        "instant": f"2026-11-23T00:{minute:02d}:00.000Z",
        "id": pid,
        "device_id": device,
    }


def test_an_employee_at_two_units_counts_once() -> None:
    punches = [
        _punch("APEL", "E1", 10, "0190-b", "PK-UNIT-IV-A"),
        _punch("APEL", "E1", 5, "0190-c", "PK-UNIT-IV-B"),  # earlier, at the other unit
        _punch("APEL", "E2", 7, "0190-a", "PK-UNIT-IV-A"),
        _punch("SENAM", "E1", 9, "0190-d", "PK-UNIT-IV-A"),
        _punch(None, "E3", 1, "0190-e", "PK-UNIT-IV-A"),
    ]
    once = attendance_once(punches)
    assert set(once) == {("APEL", "E1"), ("APEL", "E2"), ("SENAM", "E1")}
    assert once[("APEL", "E1")]["device_id"] == "PK-UNIT-IV-B"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]), st.sampled_from(["E1", "E2", "E3"]), st.integers(0, 59), st.sampled_from(["d1", "d2"])
        ),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_attendance_once_ignores_order_and_keeps_the_earliest(rows: list[tuple[str, str, int, str]], rnd: random.Random) -> None:
    punches = [_punch(e, emp, m, f"id-{i:03d}", d) for i, (e, emp, m, d) in enumerate(rows)]
    shuffled = list(punches)
    rnd.shuffle(shuffled)
    a, b = attendance_once(punches), attendance_once(shuffled)
    assert {k: v["id"] for k, v in a.items()} == {k: v["id"] for k, v in b.items()}
    for (event, employee), kept in a.items():
        same = [p for p in punches if p["event_id"] == event and p["employee_id"] == employee]
        assert kept["instant"] == min(p["instant"] for p in same)
