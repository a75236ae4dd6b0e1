"""The signed bundle from the maintenance page: the same files as ``presensi export``, checked by
the bundle verifier (manifest signature, digest, every punch's hash, link and signature); a
tampered bundle refused with a plain message; USB targets confined to mounted sticks; audited."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.clock import FakeClock, FixedClockState
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.store.accounts import Role
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from core.store.sync_state import set_cursor
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext
from kiosk.web.ports import Services
from kiosk.web.sources.export import PunchExporter, check_bundle
from kiosk.web.sources.netprobe import ServerProbe
from sync.bundle import read_bundle
from sync.state import UPLOAD_CURSOR

PASSWORD = "sandi-yang-kuat-1"


@dataclass
class Unit:
    path: Path
    clock: FakeClock
    identity: DeviceIdentity
    store: PunchStore
    ctx: WebContext

    def punch(self, n: int) -> None:
        for _ in range(n):
            self.store.record(PunchRequest("1985", "card", kind="masuk", status="tepat_waktu"))
            self.clock.advance(60)


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Unit]:
    clock = FakeClock()
    identity = DeviceIdentity.load_or_create(tmp_path)
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.web.usb_root = tmp_path / "media"
    (tmp_path / "media" / "FLASHDISK").mkdir(parents=True)
    store = PunchStore(open_database(tmp_path / "presensi.db"), identity, clock, FixedClockState())
    store.conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('1985', 'Budi Santoso', 'x')")
    ctx = WebContext(
        config=config,
        connect=lambda: open_database(tmp_path / "presensi.db"),
        services=Services(),
        clock=clock,
        data_dir=tmp_path,
        probe=ServerProbe("").run,
        device_id=identity.device_id,
        watch_punches=False,
        exporter=PunchExporter(lambda: open_database(tmp_path / "presensi.db"), identity, clock, config.unit.zone),
    )
    accounts = ctx.accounts()
    code = accounts.setup_code()
    assert code
    accounts.create_first(code, "kepala", PASSWORD, "127.0.0.1")
    accounts.create("adminpd", PASSWORD, [Role.ADMIN], by="kepala")
    accounts.create("teknisi", PASSWORD, [Role.TECHNICIAN], by="kepala")
    yield Unit(tmp_path, clock, identity, store, ctx)
    ctx.db.close_all()
    store.conn.close()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(unit: Unit, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_maintenance_app(unit.ctx), base_url="https://testserver")
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client, csrf_of(client.get("/export").text if username != "teknisi" else client.get("/").text)


def made_name(html: str) -> str:
    m = re.search(r'id="download" href="/export/files/([^"]+)"', html)
    assert m, html
    return m.group(1)


def rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    """The same bundle with some members' bytes replaced (what a tamperer would do)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, change.get(name, src.read(name)))
    return out.getvalue()


def test_bundle_download_verifies_and_matches_presensi_export(unit: Unit, presensi_cmd: list[str]) -> None:
    unit.punch(3)
    client, csrf = login(unit, "adminpd")
    r = client.post("/export", data={"csrf_token": csrf, "fmt": "bundle_all", "target": "download"})
    assert r.status_code == 200, r.text
    name = made_name(r.text)
    assert re.fullmatch(rf"presensi-{unit.identity.device_id}-0000001-0000003\.zip", name)
    assert name.replace(".zip", ".csv") in r.text  # the bundle's CSV comes with it
    data = client.get(f"/export/files/{name}").content
    # the server's own reader accepts it with the device key, and the page's full check too
    opened = read_bundle(
        data, lambda device: unit.identity.private_key.public_key() if device == unit.identity.device_id else None
    )
    assert [p["seq"] for p in opened.punches] == [1, 2, 3]
    check = check_bundle(data, unit.identity.public_hex)
    assert check.ok and check.count == 3 and "Bundel sah: 3 presensi" in check.message
    # same members and punches as the command line's export of the same unit
    unit.store.conn.commit()
    cli = unit.path / "cli"
    subprocess.run([*presensi_cmd, "--data-dir", str(unit.path), "export", "--all", "--to", str(cli)], check=True, timeout=120)
    from_cli = (cli / name).read_bytes()
    with zipfile.ZipFile(io.BytesIO(from_cli)) as a, zipfile.ZipFile(io.BytesIO(data)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        assert a.read("punches.jsonl") == b.read("punches.jsonl")
    assert check_bundle(from_cli, unit.identity.public_hex).ok


def test_tampered_bundles_are_refused_with_a_plain_message(unit: Unit) -> None:
    unit.punch(2)
    client, csrf = login(unit, "adminpd")
    name = made_name(client.post("/export", data={"csrf_token": csrf, "fmt": "bundle_all"}).text)
    good = client.get(f"/export/files/{name}").content
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        lines = zf.read("punches.jsonl").splitlines(keepends=True)
        manifest = json.loads(zf.read("manifest.json"))
    late = json.loads(lines[0])
    late["status"] = "terlambat"  # the classic: make an on-time punch late (or the reverse)
    edited = json.dumps(late, separators=(",", ":"), sort_keys=True).encode() + b"\n" + lines[1]
    manifest["count"] = 1

    cases = {
        "isi presensi telah diubah": rezip(good, {"punches.jsonl": edited}),
        "tanda tangan manifes tidak cocok": rezip(
            good, {"manifest.json": json.dumps(manifest, sort_keys=True, indent=1).encode()}
        ),
        "bukan .zip": good[: len(good) // 2],
        "isi bundel tidak lengkap": _with_extra(good),
    }
    for expected, data in cases.items():
        r = client.post("/export/verify", data={"csrf_token": csrf}, files={"bundle": ("bundel.zip", data, "application/zip")})
        assert r.status_code == 422, expected
        assert "Bundel DITOLAK" in r.text and expected in r.text, (expected, r.text)
    # a punch re-hashed to match its edit: a manifest over it signed by any other key is refused;
    # even one signed by the unit's own key (an altered database exported) fails on the punch
    from core.store.chain import canonical_bytes, digest
    from core.wire import punch_from_wire, punch_to_wire

    forged = punch_from_wire(late)
    wire = punch_to_wire(forged)
    wire["hash"] = digest(canonical_bytes(forged.as_dict()))
    check = check_bundle(_resign_manifest(good, [wire], DeviceIdentity.generate()), unit.identity.public_hex)
    assert not check.ok and check.reason.startswith("manifest signature does not verify")
    check = check_bundle(_resign_manifest(good, [wire], unit.identity), unit.identity.public_hex)
    assert not check.ok and check.message == "Bundel DITOLAK: presensi nomor 1 tidak sah.", check
    assert check.reason == "punch 1 has a signature that does not verify"
    # another unit's genuine bundle is not this unit's
    other = DeviceIdentity.generate()
    assert "dari alat lain" in check_bundle(good, other.public_hex).message

    r = client.post("/export/verify", data={"csrf_token": csrf}, files={"bundle": (name, good, "application/zip")})
    assert r.status_code == 200 and "Bundel sah: 2 presensi" in r.text
    audit = [(e["action"], e["detail"].get("ok")) for e in client.get("/api/audit").json()]
    assert audit[0] == ("export.verify", True) and ("export.verify", False) in audit


def _with_extra(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        dst.writestr("extra.txt", b"x")
    return out.getvalue()


def _resign_manifest(data: bytes, punches: list[dict[str, object]], signer: DeviceIdentity) -> bytes:
    """A consistent manifest over ``punches``, signed by ``signer``."""
    import hashlib

    lines = b"".join(json.dumps(p, separators=(",", ":"), sort_keys=True).encode() + b"\n" for p in punches)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest.update(punches_sha256=hashlib.sha256(lines).hexdigest(), count=len(punches), last_seq=punches[-1]["seq"])
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode()
    signature = signer.sign(b"presensi-bundle-v1\n" + manifest_bytes)
    return rezip(data, {"manifest.json": manifest_bytes, "manifest.sig": signature.encode(), "punches.jsonl": lines})


def test_bundle_to_a_usb_stick_unsent_scope_and_traversal(unit: Unit) -> None:
    unit.punch(4)
    set_cursor(unit.store.conn, UPLOAD_CURSOR, 2, unit.clock.now())  # the server has acknowledged 1–2
    client, csrf = login(unit, "adminpd")
    r = client.post("/export", data={"csrf_token": csrf, "fmt": "bundle", "target": "FLASHDISK"})
    assert r.status_code == 200, r.text
    name = made_name(r.text)
    stick = unit.path / "media" / "FLASHDISK"
    assert name.endswith("-0000003-0000004.zip")
    assert sorted(p.name for p in stick.iterdir()) == sorted([name, name.replace(".zip", ".csv")])  # no .part left
    check = check_bundle((stick / name).read_bytes(), unit.identity.public_hex)
    assert check.ok and (check.first_seq, check.last_seq) == (3, 4)
    assert "Budi Santoso" in (stick / name.replace(".zip", ".csv")).read_text(encoding="utf-8-sig")

    set_cursor(unit.store.conn, UPLOAD_CURSOR, 4, unit.clock.now())
    r = client.post("/export", data={"csrf_token": csrf, "fmt": "bundle"})
    assert r.status_code == 200 and "Tidak ada presensi untuk diekspor" in r.text

    for target in ("../", "../../etc", "/etc", "FLASHDISK/../..", "FLASHDISK/..", "NOTMOUNTED", "."):
        r = client.post("/export", data={"csrf_token": csrf, "fmt": "bundle_all", "target": target})
        assert r.status_code == 400 and "Tujuan ekspor tidak sah" in r.text, target
    assert not list(unit.path.glob("*.zip")) and not list((unit.path / "media").glob("*.zip"))
    for bad in ("..%2Fdevice.key", "%2E%2E%2Fpresensi.db", ".hidden"):
        assert client.get(f"/export/files/{bad}").status_code in (400, 404)

    actions = [(e["action"], e["actor"]) for e in client.get("/api/audit").json()]
    assert ("export", "adminpd") in actions and ("export.empty", "adminpd") in actions
    assert ("export.refused", "adminpd") in actions
    detail = next(e["detail"] for e in client.get("/api/audit").json() if e["action"] == "export")
    assert detail["fmt"] == "bundle" and detail["target"] == "FLASHDISK" and detail["file"] == name


def test_technicians_cannot_export_or_check(unit: Unit) -> None:
    unit.punch(1)
    client, csrf = login(unit, "teknisi")
    assert client.post("/export", data={"csrf_token": csrf, "fmt": "bundle_all"}).status_code == 403
    assert client.post("/export/verify", data={"csrf_token": csrf}, files={"bundle": ("b.zip", b"x")}).status_code == 403
