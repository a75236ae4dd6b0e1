"""Refusals by the real server over TLS: altered bytes, altered punches, replays, unknown keys,
repeated and damaged bundles. Each is refused with its reason on the device page; nothing stored."""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.sync_support import unit_runtime

from core import wire as protocol
from core.i18n import LANG_COOKIE, LANGS, detail_text, text
from core.identity import DeviceIdentity
from core.runtime import Runtime
from core.signing import sign_request
from core.store.punches import PunchRequest
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.service import export, run_once
from sync.targets.presensi_v1 import tls_context


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def unit(tmp_path: Path, server: ServerProcess) -> Runtime:
    runtime = unit_runtime(tmp_path / "unit")
    provision(runtime, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    store = runtime.store()
    for i in range(6):
        store.record(PunchRequest(f"19850330201001100{i}", "card", kind="masuk", status="tepat_waktu"))
    return runtime


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, verify=tls_context(server.ca_file)) as client:
        yield client


def signed_post(
    http: httpx.Client, identity: DeviceIdentity, path: str, body: bytes, headers: dict[str, str]
) -> tuple[httpx.Response, dict[str, str]]:
    signature = sign_request(identity, "POST", path, "", body, created=int(time.time()), randbytes=os.urandom)
    all_headers = {**headers, **signature}
    return http.post(path, content=body, headers=all_headers), all_headers


def upload_body(runtime: Runtime, change: dict[str, Any] | None = None) -> tuple[bytes, dict[str, str]]:
    punches = [protocol.punch_to_wire(p) for p in runtime.store().since(0, 100)]
    if change:
        punches[2] = {**punches[2], **change}
    return protocol.encode_body({"punches": punches})


def stored(server: ServerProcess) -> list[dict[str, Any]]:
    with server.admin().storage.tx(write=False) as tx:
        return tx.all("SELECT * FROM punches ORDER BY device_id, seq")


def device_page(http: httpx.Client, device_id: str, lang: str = "id") -> str:
    """The device page as an operator reads it in ``lang`` (the page's language switch)."""
    response = http.get(f"/devices/{device_id}", cookies={LANG_COOKIE: lang})
    assert response.status_code == 200
    return html.unescape(response.text)


def shows_refusal(http: httpx.Client, device_id: str, key: str, **values: object) -> None:
    """The device page says the refusal in the reader's language, in the catalogue's words."""
    for lang in LANGS:
        assert text(key, lang, **values) in device_page(http, device_id, lang), lang


def test_one_byte_changed_in_an_upload(server: ServerProcess, unit: Runtime, http: httpx.Client) -> None:
    before = stored(server)
    body, headers = upload_body(unit)
    raw = bytearray(body)
    signature = sign_request(
        unit.identity(), "POST", protocol.PUNCHES_PATH, "", bytes(raw), created=int(time.time()), randbytes=os.urandom
    )
    raw[len(raw) // 2] ^= 0x01  # in transit, after signing
    response = http.post(protocol.PUNCHES_PATH, content=bytes(raw), headers={**headers, **signature})
    assert response.status_code == 401
    reason = "body does not match its Content-Digest"
    assert reason in response.json()["error"]
    assert stored(server) == before
    shows_refusal(http, unit.identity().device_id, "refusal.altered_body")


def test_a_punch_with_an_altered_time(server: ServerProcess, unit: Runtime, http: httpx.Client) -> None:
    before = stored(server)
    body, headers = upload_body(unit, {"instant": "2026-11-23T00:01:00.000Z"})  # re-signed request, altered punch
    response, _ = signed_post(http, unit.identity(), protocol.PUNCHES_PATH, body, headers)
    assert response.status_code == 422
    assert response.json()["error"] == "punch 3 was altered (its hash does not match its fields)"
    assert stored(server) == before
    shows_refusal(http, unit.identity().device_id, "refusal.altered_punch", seq=3)


def test_a_replayed_request(server: ServerProcess, unit: Runtime, http: httpx.Client) -> None:
    body, headers = upload_body(unit)
    first, sent_headers = signed_post(http, unit.identity(), protocol.PUNCHES_PATH, body, headers)
    assert first.status_code == 200 and first.json()["acked_seq"] == 6
    after_first = stored(server)
    replay = http.post(protocol.PUNCHES_PATH, content=body, headers=sent_headers)
    assert replay.status_code == 401
    assert "replayed request" in replay.json()["error"]
    assert stored(server) == after_first
    shows_refusal(http, unit.identity().device_id, "refusal.replayed")


def test_an_unknown_device_key(server: ServerProcess, unit: Runtime, http: httpx.Client) -> None:
    before = stored(server)
    stranger = DeviceIdentity.generate()
    body, headers = upload_body(unit)
    response, _ = signed_post(http, stranger, protocol.PUNCHES_PATH, body, headers)
    assert response.status_code == 401
    assert response.json()["error"].startswith(f"unknown device key {stranger.device_id}")
    assert stored(server) == before
    assert text("refusal.unknown_key_plain", "en") in device_page(http, stranger.device_id, "en")
    assert "unknown device key" not in device_page(http, stranger.device_id, "id")
    assert stranger.device_id in html.unescape(http.get("/").text)  # listed among unknown devices


def test_the_same_bundle_twice_changes_nothing(server: ServerProcess, unit: Runtime, tmp_path: Path, http: httpx.Client) -> None:
    result = export(unit, tmp_path / "usb")
    assert result is not None and (result.first_seq, result.last_seq) == (1, 6)
    csv_text = result.csv.read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("urut,waktu_lokal,zona,nip") and csv_text.count("\n") == 7
    cmd = [sys.executable, "-m", "kiosk.cli", "server", "import", str(result.bundle), "--server-config", str(server.config_path)]
    first = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "6 new" in first.stdout
    snapshot = stored(server)
    second = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "0 new, 6 already held" in second.stdout
    assert stored(server) == snapshot
    via_endpoint = http.post(
        protocol.BUNDLES_PATH, content=result.bundle.read_bytes(), headers={"Content-Type": "application/zip"}
    )
    assert via_endpoint.json() == {"acked_seq": 6, "accepted": 0, "duplicates": 6, "held": 0, "gap": None, "forked": 0}
    assert stored(server) == snapshot
    # The unit then learns from the server that everything is there.
    outcome = run_once(unit)
    assert outcome["ok"] and outcome["acked_seq"] == 6 and outcome["uploaded"] == 0


def _rezip(bundle: Path, member: str, edit: Any) -> bytes:
    members = {}
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            members[name] = zf.read(name)
    members[member] = edit(members[member])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _flip_byte(data: bytes) -> bytes:
    raw = bytearray(data)
    raw[len(raw) // 3] ^= 0x04
    return bytes(raw)


def _alter_time(data: bytes) -> bytes:
    lines = data.splitlines()
    punch = json.loads(lines[1])
    punch["instant"] = "2026-11-23T00:01:00.000Z"
    lines[1] = json.dumps(punch, separators=(",", ":"), sort_keys=True).encode()
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize(
    ("damage", "reason", "key"),
    [
        (lambda b: _flip_byte(b.read_bytes()), "not a readable bundle", "bundle.unreadable"),
        (
            lambda b: _rezip(b, "punches.jsonl", _flip_byte),
            "punches.jsonl does not match the digest in the signed manifest",
            "bundle.punches_changed",
        ),
        (
            lambda b: _rezip(b, "manifest.json", lambda m: m.replace(b'"count": 6', b'"count": 5')),
            "manifest signature does not verify",
            "bundle.manifest_signature",
        ),
        (lambda b: _rezip(b, "punches.jsonl", _alter_time), "punches.jsonl does not match the digest", "bundle.punches_changed"),
    ],
    ids=["byte-in-zip", "byte-in-punches", "manifest-edited", "altered-time"],
)
def test_a_damaged_bundle_is_refused(
    server: ServerProcess, unit: Runtime, tmp_path: Path, http: httpx.Client, damage: Any, reason: str, key: str
) -> None:
    result = export(unit, tmp_path / "usb")
    assert result is not None
    before = stored(server)
    response = http.post(protocol.BUNDLES_PATH, content=damage(result.bundle), headers={"Content-Type": "application/zip"})
    assert response.status_code == 422
    assert reason in response.json()["error"]
    assert stored(server) == before
    if reason != "not a readable bundle":  # an unreadable zip names no device
        shows_refusal(http, unit.identity().device_id, key)


def test_a_bundle_whose_punch_was_altered_and_resealed_is_refused(
    server: ServerProcess, unit: Runtime, tmp_path: Path, http: httpx.Client
) -> None:
    """Someone with the flash disk edits a time and recomputes the digest, but cannot re-sign."""
    import hashlib

    result = export(unit, tmp_path / "usb")
    assert result is not None
    with zipfile.ZipFile(result.bundle) as zf:
        lines = _alter_time(zf.read("punches.jsonl"))
        manifest = json.loads(zf.read("manifest.json"))
    manifest["punches_sha256"] = hashlib.sha256(lines).hexdigest()
    forged = _rezip(result.bundle, "punches.jsonl", lambda _d: lines)
    forged_path = tmp_path / "forged.zip"
    forged_path.write_bytes(forged)
    forged = _rezip(forged_path, "manifest.json", lambda _m: json.dumps(manifest, sort_keys=True, indent=1).encode())
    before = stored(server)
    response = http.post(protocol.BUNDLES_PATH, content=forged, headers={"Content-Type": "application/zip"})
    assert response.status_code == 422 and "manifest signature does not verify" in response.json()["error"]
    # Even with the device key to re-sign the manifest, the punch's own hash and signature fail.
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode()
    signature = unit.identity().sign(b"presensi-bundle-v1\n" + manifest_bytes).encode()
    forged_path.write_bytes(forged)
    resigned = _rezip(forged_path, "manifest.sig", lambda _s: signature)
    response = http.post(protocol.BUNDLES_PATH, content=resigned, headers={"Content-Type": "application/zip"})
    assert response.status_code == 422 and response.json()["error"] == "punch 2 was altered (its hash does not match its fields)"
    assert stored(server) == before


def test_openapi_description_is_served(http: httpx.Client) -> None:
    spec = http.get("/v1/openapi.json").json()
    assert {"/v1/provision", "/v1/punches", "/v1/bundles", "/v1/roster", "/v1/health"} <= set(spec["paths"])
    body = spec["paths"]["/v1/punches"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/UploadRequest"}
    assert "signature" in spec["components"]["schemas"]["WirePunch"]["properties"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_bundle_bomb_costs_the_server_nothing(server: ServerProcess, http: httpx.Client, tmp_path: Path) -> None:
    """Issue 22, finding 4: a 255 KB zip expanding to 256 MB took the server from 134 to 647 MB
    before its signature was checked. The manifest's signature is checked first now, each member
    read as a bounded stream, and the body itself is capped."""
    import io
    import zipfile

    from sync.bundle import MAX_BUNDLE_BYTES

    manifest = json.dumps({"format": "presensi-bundle-v1", "device_id": "PK-NOBODYNOBODY", "count": 1}).encode()
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.json", manifest)
        zf.writestr("manifest.sig", "00" * 64)
        zf.writestr("punches.jsonl", b"\0" * (200 * 1024 * 1024))  # 200 MB of zeros, about 200 KB zipped
    bomb = blob.getvalue()
    assert len(bomb) < 300 * 1024
    assert server.proc is not None
    idle = _rss_mb(server.proc.pid)
    answers = [http.post("/v1/bundles", content=bomb, headers={"Content-Type": "application/zip"}) for _ in range(6)]
    assert all(a.status_code == 422 for a in answers), answers[0].text
    assert "unknown device key" in answers[0].json()["error"]
    assert _rss_mb(server.proc.pid) - idle < 50
    too_big = http.post("/v1/bundles", content=b"\0" * (MAX_BUNDLE_BYTES + 1), headers={"Content-Type": "application/zip"})
    assert too_big.status_code == 413


def test_every_refusal_the_server_records_is_said_in_both_languages() -> None:
    """Each reason the server, its ledger, its corrections and the request signature check can
    record against a device (raised as a *Rejected error with a literal sentence) is recognised by
    the catalogue, so the device page never shows an Indonesian reader an English sentence."""
    pattern = re.compile(r'Rejected\(f?"([^"]+)"')
    sources = [*Path("sync/server").glob("*.py"), Path("core/signing.py"), Path("sync/bundle.py")]
    root = Path(__file__).resolve().parent.parent
    untranslated = []
    for source in sources:
        for template in pattern.findall((root / source).read_text(encoding="utf-8")):
            named = template.replace("{CORRECTIONS}", "corrections.jsonl")
            sample = re.sub(r"\{[^}]+\}", "1", named)  # an f-string's values
            if detail_text(sample, "id") == sample:
                untranslated.append(f"{source}: {template}")
    assert not untranslated, "add these to core/i18n (sentences.py and details.py):\n" + "\n".join(untranslated)
