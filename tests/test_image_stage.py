"""The pi-gen stage in image_build/ is well-formed: shellcheck clean, pi-gen's layout, every file
its steps reference exists, no password anywhere, and the host step does what it says against a
temporary root. The chroot step itself runs in tests/test_image_chroot.py (soak)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IMAGE = REPO / "image_build"
STAGE = IMAGE / "stage-presensi"
SUBSTAGE = STAGE / "00-presensi"
SCRIPTS = [
    SUBSTAGE / "00-run.sh",
    SUBSTAGE / "01-run-chroot.sh",
    STAGE / "prerun.sh",
    IMAGE / "add-data-partition.sh",
    REPO / "scripts" / "install-pi.sh",
    REPO / "systemd" / "bin" / "presensi-provision",
]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="needs shellcheck (apt-get install shellcheck)")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_clean(script: Path) -> None:
    result = subprocess.run(["shellcheck", "-x", script.name], cwd=script.parent, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_pi_gen_layout() -> None:
    assert os.access(STAGE / "prerun.sh", os.X_OK)
    assert os.access(SUBSTAGE / "00-run.sh", os.X_OK)  # pi-gen runs NN-run.sh only when executable
    assert (SUBSTAGE / "01-run-chroot.sh").is_file()
    assert (STAGE / "EXPORT_IMAGE").is_file()
    for packages in ("00-packages", "01-packages"):
        names = [w for line in (SUBSTAGE / packages).read_text().splitlines() if not line.startswith("#") for w in line.split()]
        assert names and all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", n) for n in names), names
    debian = (SUBSTAGE / "00-packages").read_text()
    for needed in ("python3-venv", "cage", "chromium", "pcscd", "systemd-timesyncd"):
        assert re.search(rf"\b{re.escape(needed)}\b", debian)
    assert "python3-picamera2" in (SUBSTAGE / "01-packages").read_text()


REFERENCE = re.compile(r"\$\{?(src|files|payload|stage_dir)\}?/([A-Za-z0-9_./-]+)")


def referenced(script: Path) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2).rstrip("./")) for m in REFERENCE.finditer(script.read_text())}


@pytest.mark.parametrize("script", [*SCRIPTS[:2], REPO / "scripts" / "install-pi.sh"], ids=lambda p: p.name)
def test_every_referenced_file_exists(script: Path) -> None:
    """$src is the checkout, $payload its copy inside the image (00-run.sh copies these trees),
    $files the stage's files/ and $stage_dir the stage's substage."""
    bases = {
        "src": REPO,
        "payload": REPO,
        "files": SUBSTAGE / "files",
        "stage_dir": SUBSTAGE,
    }
    refs = referenced(script)
    assert refs, "no references found: the pattern is out of date"
    for base, rel in refs:
        if (
            "*" in rel
            or rel in {"wheels", "wheelhouse", "models", "build.env", "bin/python"}
            or rel.startswith(("wheels/", "bin/"))
        ):
            continue  # made by the host step or the venv, not part of the repository
        assert (bases[base] / rel).exists(), f"{script.name} references {base}/{rel}, which does not exist"
    copied = {"scripts", "systemd", "docs/install.md", "image_build/pi-constraints.txt", "image_build/stage-presensi"}
    for base, rel in referenced(SUBSTAGE / "01-run-chroot.sh"):
        if base == "payload" and rel not in {"build.env", "wheels", "wheelhouse", "models"}:
            assert any(rel == c or rel.startswith(c + "/") for c in copied), f"{rel} is not copied into the image by 00-run.sh"


def source_config(tmp_path: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PRESENSI_MODELS": str(tmp_path)}
    if key is not None:
        keyfile = tmp_path / "authorized_keys"
        keyfile.write_text(key)
        env["PRESENSI_SSH_KEY_FILE"] = str(keyfile)
    else:
        env["PRESENSI_SSH_KEY_FILE"] = str(tmp_path / "absent")
    script = f'set -e; source "{IMAGE / "config"}"; printf "%s\\n" "$FIRST_USER_PASS" "$PUBKEY_SSH_FIRST_USER" "$PUBKEY_ONLY_SSH" "$ENABLE_SSH" "$STAGE_LIST" "$RELEASE" "$DISABLE_FIRST_BOOT_USER_RENAME"'
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)


def test_config_has_no_password_and_ssh_by_key_only(tmp_path: Path) -> None:
    text = (IMAGE / "config").read_text()
    for line in text.splitlines():
        if re.match(r"\s*(FIRST_USER_PASS|WPA_PASSWORD)=", line):
            assert "$(" in line, f"a fixed password in the image config: {line}"
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA teknisi@kominfo"
    first = source_config(tmp_path, key)
    assert first.returncode == 0, first.stderr
    password, pubkey, pubkey_only, ssh, stage_list, release, no_rename = first.stdout.splitlines()
    assert len(password) >= 40 and password != source_config(tmp_path, key).stdout.splitlines()[0]
    assert pubkey == key and pubkey_only == "1" and ssh == "1" and no_rename == "1"
    assert release == "bookworm"
    assert Path(stage_list.split()[-1]) == STAGE
    # No key file, no image: pi-gen sources the config under `bash -e`.
    assert source_config(tmp_path, None).returncode != 0
    # No liveness models, no image either.
    no_models = subprocess.run(
        ["bash", "-c", f'set -e; source "{IMAGE / "config"}"'],
        env={"PATH": os.environ["PATH"], "PRESENSI_SSH_KEY_FILE": str(tmp_path / "authorized_keys")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert no_models.returncode != 0 and "PRESENSI_MODELS" in no_models.stderr


def test_chroot_step_locks_passwords_and_hardens_ssh() -> None:
    chroot_step = (SUBSTAGE / "01-run-chroot.sh").read_text()
    assert "passwd -l" in chroot_step
    sshd = (SUBSTAGE / "files" / "sshd-presensi.conf").read_text()
    assert re.search(r"^PasswordAuthentication no$", sshd, re.M)
    assert re.search(r"^PermitRootLogin no$", sshd, re.M)
    assert re.search(r"^KbdInteractiveAuthentication no$", sshd, re.M)


def run_host_step(rootfs: Path, wheel: Path, **options: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "ROOTFS_DIR": str(rootfs),
        "PRESENSI_SRC": str(REPO),
        "PRESENSI_WHEEL": str(wheel),
        "PRESENSI_WHEELHOUSE": "",
        "PRESENSI_READONLY_ROOT": "0",
        "PRESENSI_RTC": "ds3231",
        "PRESENSI_UART": "1",
        "PRESENSI_WITH_SERVER": "0",
        "PRESENSI_MODELS": str(wheel.parent / "models"),
        **options,
    }
    return subprocess.run(["bash", str(SUBSTAGE / "00-run.sh")], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def fake_rootfs(tmp_path: Path) -> tuple[Path, Path]:
    rootfs = tmp_path / "rootfs"
    boot = rootfs / "boot" / "firmware"
    boot.mkdir(parents=True)
    (boot / "config.txt").write_text("[all]\ncamera_auto_detect=1\n")
    (boot / "cmdline.txt").write_text(
        "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
    )
    wheel = tmp_path / "presensi_kiosk-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: only copied here
    (tmp_path / "models").mkdir()
    for name in ("MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx"):
        (tmp_path / "models" / name).write_bytes(b"onnx")
    return rootfs, wheel


def test_host_step_stages_the_installer_and_sets_boot_options(fake_rootfs: tuple[Path, Path]) -> None:
    rootfs, wheel = fake_rootfs
    for _ in range(2):  # pi-gen may rerun a stage: nothing is appended twice
        result = run_host_step(rootfs, wheel)
        assert result.returncode == 0, result.stderr
    payload = rootfs / "var" / "tmp" / "presensi-install"
    assert (payload / "scripts" / "install-pi.sh").is_file()
    assert (payload / "systemd" / "presensi-kiosk.service").is_file()
    assert (payload / "wheels" / wheel.name).is_file()
    assert (payload / "models" / "MiniFASNetV2.onnx").is_file()
    assert (payload / "image_build" / "stage-presensi" / "00-presensi" / "files" / "sshd-presensi.conf").is_file()
    assert "PRESENSI_RTC=ds3231" in (payload / "build.env").read_text()
    config = (rootfs / "boot" / "firmware" / "config.txt").read_text().splitlines()
    assert config.count("dtoverlay=i2c-rtc,ds3231") == 1
    assert config.count("dtparam=i2c_arm=on") == 1
    assert config.count("enable_uart=1") == 1
    cmdline = (rootfs / "boot" / "firmware" / "cmdline.txt").read_text()
    assert "console=serial0" not in cmdline and "console=tty1" in cmdline


def test_host_step_refuses_an_unknown_rtc(fake_rootfs: tuple[Path, Path]) -> None:
    rootfs, wheel = fake_rootfs
    result = run_host_step(rootfs, wheel, PRESENSI_RTC="pcf8523")
    assert result.returncode != 0
    assert "not supported" in result.stderr
