"""``presensi verify BUNDLE.zip``: a flash-disk bundle checked as the server checks it."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from core.clock import SystemClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store.punches import PunchRequest


def make_bundle(presensi_cmd: list[str], data: Path, out: Path) -> Path:
    runtime = Runtime(KioskConfig(), data, SystemClock())
    store = runtime.store()
    for n in range(5):
        store.record(PunchRequest(f"19850330201001100{n}", "card", kind="masuk", status="tepat_waktu"))
    runtime.close()
    subprocess.run([*presensi_cmd, "--data-dir", str(data), "export", "--to", str(out), "--all"], check=True, capture_output=True)
    (bundle,) = out.glob("*.zip")
    return bundle


def verify(presensi_cmd: list[str], data: Path, bundle: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*presensi_cmd, "--data-dir", str(data), "verify", str(bundle)], capture_output=True, text=True, check=False
    )


def rewrite(bundle: Path, member: str, change: bytes, to: bytes) -> None:
    with zipfile.ZipFile(bundle) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    assert change in members[member]
    members[member] = members[member].replace(change, to, 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    bundle.write_bytes(buffer.getvalue())


def test_a_bundle_verifies_and_a_changed_one_is_refused(presensi_cmd: list[str], tmp_path: Path) -> None:
    bundle = make_bundle(presensi_cmd, tmp_path / "unit", tmp_path / "usb")
    ok = verify(presensi_cmd, tmp_path / "unit", bundle)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: 5 punches verify (seq 1–5)" in ok.stdout
    rewrite(bundle, "punches.jsonl", b'"card"', b'"face"')
    bad = verify(presensi_cmd, tmp_path / "unit", bundle)
    assert bad.returncode == 1 and bad.stdout.startswith("FAIL:"), bad.stdout


def test_a_bundle_of_another_unit_is_refused(presensi_cmd: list[str], tmp_path: Path) -> None:
    bundle = make_bundle(presensi_cmd, tmp_path / "unit", tmp_path / "usb")
    Runtime(KioskConfig(), tmp_path / "other", SystemClock()).store()
    result = verify(presensi_cmd, tmp_path / "other", bundle)
    assert result.returncode == 1 and "unknown device key" in result.stdout, result.stdout


def test_a_bundle_with_an_extra_member_says_so(presensi_cmd: list[str], tmp_path: Path) -> None:
    bundle = make_bundle(presensi_cmd, tmp_path / "unit", tmp_path / "usb")
    with zipfile.ZipFile(bundle, "a") as zf:
        zf.writestr("extra.txt", b"hello")
    result = verify(presensi_cmd, tmp_path / "unit", bundle)
    assert result.returncode == 1 and "bundle must hold exactly" in result.stdout and "not a readable" not in result.stdout


def test_a_bundle_that_would_expand_into_gigabytes_is_refused_unread(presensi_cmd: list[str], tmp_path: Path) -> None:
    bundle = make_bundle(presensi_cmd, tmp_path / "unit", tmp_path / "usb")
    with zipfile.ZipFile(bundle) as zf:
        members = {name: zf.read(name) for name in zf.namelist() if name != "punches.jsonl"}
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
        with zf.open("punches.jsonl", "w") as member:
            block = b"0" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros: a few hundred kB compressed
                member.write(block)
    assert bundle.stat().st_size < 2 * (1 << 20)
    result = verify(presensi_cmd, tmp_path / "unit", bundle)
    assert result.returncode == 1 and "expands to" in result.stdout, result.stdout
