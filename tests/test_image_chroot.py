"""The image stage's chroot step against a real Debian bookworm root (soak: several minutes).

    sudo ./dev test tests/test_image_chroot.py --soak -s

What it does, as pi-gen would on a Raspberry Pi OS root:
1. makes a Debian bookworm root with debootstrap (cached in $PRESENSI_IMAGE_CACHE, default
   /var/tmp/presensi-image-test, so later runs start in seconds), then installs the stage's
   ``00-packages`` with apt inside it (``01-packages`` lives only in Raspberry Pi OS's archive
   and is skipped; the install script says so);
2. builds this checkout's wheel and a wheelhouse of its dependencies (also cached) and runs the
   stage's host step ``00-run.sh`` with ROOTFS_DIR pointing at the root;
3. feeds ``01-run-chroot.sh`` to ``chroot ROOT bash -e`` on stdin, exactly as pi-gen's on_chroot;
4. runs the provisioning script (in its own UTS namespace, so the host keeps its hostname), then
   ``presensi doctor`` as the ``presensi`` user and ``systemd-analyze verify`` on the installed,
   unmodified units inside the root;
5. runs ``install-pi.sh`` a second time and checks that one consistent installation remains, then
   ``--uninstall`` and checks that the software is gone and the data kept.

Then the same in an **arm64** root, as on a Raspberry Pi 4/5 (the ``arm64`` tests): binfmt_misc
and qemu-user-static set up if they are not (:mod:`helpers.arm64_emulation`; skipped saying what
was missing), ``debootstrap --arch arm64 --foreign`` and its second stage under qemu, the stage's
packages, a wheelhouse for aarch64 cp311 made by ``image_build/wheelhouse.sh`` (both cached like
the amd64 ones), the two steps, provisioning, ``presensi doctor`` and ``presensi demo --once``
with the shared photos bind-mounted read-only into the root's /tmp for the run, and the face
numbers (:mod:`helpers.face_numbers`) against this machine's. About 15 minutes from the cache.

Needs root (mount, chroot), debootstrap, and the Debian mirror that apt on this machine uses
(found in /etc/apt/sources.list*). Skipped, saying which, when any is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.arm64_emulation import aarch64_emulation

REPO = Path(__file__).resolve().parent.parent
SUBSTAGE = REPO / "image_build" / "stage-presensi" / "00-presensi"
CACHE = Path(os.environ.get("PRESENSI_IMAGE_CACHE", "/var/tmp/presensi-image-test"))
SUITE = "bookworm"
SHARED = Path(os.environ.get("PRESENSI_SHARED", REPO.parent / "shared"))

pytestmark = [pytest.mark.soak, pytest.mark.timeout(3600)]


def mirror_url() -> str | None:
    """The Debian mirror apt uses here (deb822 .sources or one-line .list)."""
    paths = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in paths:
        if not path.is_file() or path.suffix not in (".list", ".sources", ""):
            continue
        text = path.read_text(errors="replace")
        for match in re.finditer(r"^URIs:\s*(\S+)", text, re.M):
            if "security" not in match.group(1):
                return match.group(1).rstrip("/")
        for match in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", text, re.M):
            return match.group(1).rstrip("/")
    return None


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result  # type: ignore[no-any-return]


def in_root(
    root: Path,
    *cmd: str,
    user: str | None = None,
    stdin: str | None = None,
    timeout: int = 1800,
    extra: dict[str, str] | None = None,
) -> str:
    prefix = ["chroot"]
    if user:
        prefix += [f"--userspec={user}:{user}", f"--groups={user}"]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
    if user:
        env["HOME"] = "/var/lib/presensi"
    env["DEBIAN_FRONTEND"] = "noninteractive"
    return str(run([*prefix, str(root), *cmd], input=stdin, env=env | (extra or {}), timeout=timeout).stdout)


def doctor_in_root(root: Path, extra: dict[str, str] | None = None) -> str:
    """``presensi doctor`` as the service user: every check but the camera must pass. A Debian
    bookworm root has no Raspberry Pi OS archive, so python3-picamera2 is absent and the camera
    check FAILs there, saying so; on the image it comes from 01-packages."""
    cmd = [
        "chroot",
        "--userspec=presensi:presensi",
        "--groups=presensi",
        str(root),
        "/usr/local/bin/presensi",
        "doctor",
        "--json",
    ]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/var/lib/presensi"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env | (extra or {}), timeout=900, check=False)
    findings = json.loads(result.stdout)
    failing = [f for f in findings if f["status"] == "FAIL"]
    assert all(f["part"] == "camera" and "picamera2 is not installed" in f["detail"] for f in failing), failing
    assert result.returncode == (1 if failing else 0), result.stderr
    return result.stdout


def packages(name: str) -> list[str]:
    return [w for line in (SUBSTAGE / name).read_text().splitlines() if not line.startswith("#") for w in line.split()]


class Mounts:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.mounted: list[Path] = []

    def __enter__(self) -> Mounts:
        for source, target, args in (
            ("proc", "proc", ["-t", "proc"]),
            ("sysfs", "sys", ["-t", "sysfs", "-o", "ro"]),
            ("/dev", "dev", ["--bind"]),
            ("devpts", "dev/pts", ["-t", "devpts"]),
        ):
            path = self.root / target
            path.mkdir(parents=True, exist_ok=True)
            run(["mount", *args, source, str(path)])
            self.mounted.append(path)
        shutil.copy("/etc/resolv.conf", self.root / "etc" / "resolv.conf")
        return self

    def __exit__(self, *exc: object) -> None:
        for path in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(path)], check=False)


def base_root(mirror: str, arch: str | None = None) -> Path:
    """debootstrap once; later runs reuse it. ``arch`` "arm64": --foreign, then the second stage
    inside the root under qemu (:mod:`helpers.arm64_emulation` must have set it up)."""
    name = f"{SUITE}-{arch}-base" if arch else f"{SUITE}-base"
    base = CACHE / name
    if not base.is_dir():
        partial = CACHE / f"{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        foreign = ["--arch", arch, "--foreign"] if arch else []
        run(
            [
                "debootstrap",
                *foreign,
                "--variant=minbase",
                "--include=systemd,systemd-sysv,dbus,ca-certificates",
                SUITE,
                str(partial),
                mirror,
            ],
            timeout=1800,
        )
        if arch:
            run(["chroot", str(partial), "/debootstrap/debootstrap", "--second-stage"], timeout=3600)
        partial.rename(base)
    return base


def packaged_root(mirror: str, arch: str | None = None) -> Path:
    """The base plus the stage's Debian packages (what pi-gen installs before the run steps)."""
    key = hashlib.sha256((SUBSTAGE / "00-packages").read_bytes()).hexdigest()[:12]
    name = f"{SUITE}-{arch}-packages" if arch else f"{SUITE}-packages"
    done = CACHE / f"{name}-{key}"
    if done.is_dir():
        return done
    partial = CACHE / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    run(["cp", "-a", "--reflink=auto", str(base_root(mirror, arch)), str(partial)])
    # like pi-gen: no daemons start inside the chroot
    policy = partial / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    with Mounts(partial):
        in_root(partial, "apt-get", "update")
        in_root(partial, "apt-get", "install", "-y", "--no-install-recommends", *packages("00-packages"), timeout=5400)
        in_root(partial, "apt-get", "clean")
    partial.rename(done)
    return done


def build_wheel() -> Path:
    """This checkout's wheel (pure Python: the same for every architecture)."""
    build = CACHE / "wheels"
    shutil.rmtree(build, ignore_errors=True)
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(build), str(REPO)],
        timeout=600,
    )
    return next(build.glob("presensi_kiosk-*.whl"))


def wheel_and_wheelhouse() -> tuple[Path, Path]:
    """This checkout's wheel, and its dependencies as wheels for the root's Python (3.11)."""
    wheel = build_wheel()
    inputs = (REPO / "pyproject.toml").read_bytes() + (REPO / "image_build" / "pi-constraints.txt").read_bytes()
    house = CACHE / f"wheelhouse-{hashlib.sha256(inputs).hexdigest()[:12]}"
    if not house.is_dir():
        partial = CACHE / "wheelhouse.partial"
        shutil.rmtree(partial, ignore_errors=True)
        # pip wheel, not download: face-recognition-models is published as a source distribution only.
        # The root's Python is 3.11 on this machine's architecture, like the one running the tests.
        constraints = ["-c", str(REPO / "image_build" / "pi-constraints.txt")]
        pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(partial), *constraints]
        run([*pip_wheel, "--no-deps", "face-recognition==1.3.0"], timeout=1800)
        run([*pip_wheel, str(wheel)], timeout=1800)
        partial.rename(house)
    return wheel, house


def aarch64_wheelhouse(wheel: Path) -> Path:
    """The wheelhouse for aarch64 cp311, made by the stage's own image_build/wheelhouse.sh."""
    image_build = REPO / "image_build"
    inputs = b"".join((image_build / name).read_bytes() for name in ("pi-constraints.txt", "from-debian.txt", "wheelhouse.sh"))
    inputs += (REPO / "pyproject.toml").read_bytes() + (REPO / "scripts" / "no-deps-requirements.txt").read_bytes()
    house = CACHE / f"aarch64-wheelhouse-{hashlib.sha256(inputs).hexdigest()[:12]}"
    if not house.is_dir():
        partial = CACHE / "aarch64-wheelhouse.partial"
        shutil.rmtree(partial, ignore_errors=True)
        run(["bash", str(image_build / "wheelhouse.sh"), str(wheel), str(partial)], env={**os.environ, "PYTHON": sys.executable})
        partial.rename(house)
    return house


def stage_preconditions() -> tuple[str, Path]:
    """The Debian mirror and the liveness models; skips, saying which is missing."""
    if os.geteuid() != 0:
        pytest.skip("needs root (mount, chroot, debootstrap)")
    if shutil.which("debootstrap") is None:
        pytest.skip("needs debootstrap (apt-get install debootstrap)")
    mirror = mirror_url()
    if mirror is None:
        pytest.skip("no Debian mirror configured in /etc/apt/sources.list*")
    if not any(CACHE.glob(f"{SUITE}*-base")):
        try:
            urllib.request.urlopen(f"{mirror}/dists/{SUITE}/Release", timeout=20).close()
        except OSError as exc:
            pytest.skip(f"the Debian mirror {mirror} cannot be reached from here: {exc}")
    models = SHARED / "models" / "minifasnet"
    if not (models / "MiniFASNetV2.onnx").is_file():
        pytest.skip(f"needs the liveness models in {models}")
    return mirror, models


def run_host_step(packaged: Path, root: Path, wheel: Path, house: Path, models: Path) -> None:
    """A fresh copy of ``packaged`` at ``root`` with 00-run.sh run on it, as pi-gen runs it."""
    if root.exists():
        subprocess.run(["umount", "-R", "-l", str(root / "proc"), str(root / "sys"), str(root / "dev")], check=False)
        shutil.rmtree(root)
    run(["cp", "-a", "--reflink=auto", str(packaged), str(root)])
    # What Raspberry Pi OS has and plain Debian lacks: the boot partition's files.
    boot = root / "boot" / "firmware"
    boot.mkdir(parents=True, exist_ok=True)
    (boot / "config.txt").write_text("[all]\ncamera_auto_detect=1\n")
    (boot / "cmdline.txt").write_text("console=serial0,115200 console=tty1 root=PARTUUID=0-02 rootwait\n")
    env = {
        "PATH": os.environ["PATH"],
        "ROOTFS_DIR": str(root),
        "PRESENSI_SRC": str(REPO),
        "PRESENSI_WHEEL": str(wheel),
        "PRESENSI_WHEELHOUSE": str(house),
        "PRESENSI_READONLY_ROOT": "1",
        "PRESENSI_RTC": "ds3231",
        "PRESENSI_UART": "1",
        "PRESENSI_WITH_SERVER": "0",
        "PRESENSI_MODELS": str(models),
    }
    run(["bash", str(SUBSTAGE / "00-run.sh")], env=env, timeout=600)


@pytest.fixture(scope="module")
def installed_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    mirror, models = stage_preconditions()
    wheel, house = wheel_and_wheelhouse()
    root = CACHE / "work-root"
    run_host_step(packaged_root(mirror), root, wheel, house, models)
    with Mounts(root):
        in_root(root, "bash", "-e", stdin=(SUBSTAGE / "01-run-chroot.sh").read_text())
        yield root


def snapshot(root: Path) -> dict[str, object]:
    venv = root / "opt" / "presensi" / "venv"
    files = sorted(
        (str(p.relative_to(venv)), p.stat().st_size)
        for p in venv.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix != ".pyc"
        and p.name not in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
    )
    wants = sorted(
        str(p.relative_to(root)) + " -> " + os.readlink(p)
        for p in (root / "etc" / "systemd" / "system").rglob("*")
        if p.is_symlink()
    )
    passwd = (root / "etc" / "passwd").read_text().splitlines()
    return {
        "manifest": (root / "opt" / "presensi" / "share" / "manifest.txt").read_text(),
        "venv": files,
        "wants": wants,
        "users": sorted(line.split(":")[0] for line in passwd if line.startswith("presensi")),
        "config": hashlib.sha256((root / "etc" / "presensi" / "kiosk.toml").read_bytes()).hexdigest(),
        "key": hashlib.sha256((root / "var" / "lib" / "presensi" / "device_key.sealed").read_bytes()).hexdigest(),
        "link": os.readlink(root / "usr" / "local" / "bin" / "presensi"),
    }


def test_chroot_step_installs_a_unit_that_passes_doctor_and_verify(installed_root: Path) -> None:
    root = installed_root
    host_env = {k: v for k, v in os.environ.items() if k != "PRESENSI_TEMPLATE_KEY_FILE"}  # the unit's own default
    provision = run(
        ["unshare", "--uts", "chroot", str(root), "/usr/local/lib/presensi/provision"], timeout=300, env=host_env
    ).stdout
    device_id = re.search(r"device id (PK-[A-Z2-7]{12})", provision)
    assert device_id, provision
    assert (root / "etc" / "hostname").read_text().strip() == "presensi-" + device_id.group(1)[3:].lower()
    key = root / "var" / "lib" / "presensi" / "device_key.sealed"  # sealed under the unit's key, never a plain file
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert not (root / "var" / "lib" / "presensi" / "device_key.pem").exists()
    # the next boot: provisioning runs again, keeps the key and the name, and needs no private key
    again = run(["unshare", "--uts", "chroot", str(root), "/usr/local/lib/presensi/provision"], timeout=300, env=host_env).stdout
    assert f"device id {device_id.group(1)}" in again, again
    template_key = root / "etc" / "presensi" / "template.key"  # outside the data directory
    assert "template key /etc/presensi/template.key made" in provision, provision
    assert oct(template_key.stat().st_mode & 0o777) == "0o600"
    assert template_key.stat().st_uid == key.stat().st_uid  # the services' user, like the device key

    doctor = doctor_in_root(root)
    print(doctor)
    assert device_id.group(1) in doctor

    units = sorted(str(p.relative_to(root)) for p in (root / "usr/local/lib/systemd/system").glob("presensi*"))
    verify = subprocess.run(
        ["chroot", str(root), "systemd-analyze", "verify", "--man=no", *("/" + u for u in units)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # The one complaint allowed: presensi-overlay.service runs Raspberry Pi OS's raspi-config,
    # which plain Debian does not have (on the host it is verified with that path substituted).
    complaints = [line for line in (verify.stdout + verify.stderr).splitlines() if line.strip()]
    rpi_only = "presensi-overlay.service: Command /usr/bin/raspi-config is not executable: No such file or directory"
    assert all(line == rpi_only for line in complaints), complaints
    assert verify.returncode == (1 if complaints else 0), verify.stderr
    assert "usr/local/lib/systemd/system/presensi-overlay.service" in units
    for unit in (
        "presensi.target",
        "presensi-kiosk.service",
        "presensi-screen.service",
        "presensi-provision.service",
        "presensi-overlay.service",
        "ssh.service",
    ):
        assert in_root(root, "systemctl", "is-enabled", unit).strip() == "enabled", unit
    assert "presensi-server.service" not in in_root(root, "systemctl", "list-unit-files", "--state=enabled")

    # no password on any account, SSH key only, boot options, the read-only guard
    shadow = (root / "etc" / "shadow").read_text().splitlines()
    assert all(line.split(":")[1].startswith(("!", "*")) for line in shadow), [s.split(":")[:2] for s in shadow]
    assert "PasswordAuthentication no" in (root / "etc" / "ssh" / "sshd_config.d" / "presensi.conf").read_text()
    assert "dtoverlay=i2c-rtc,ds3231" in (root / "boot" / "firmware" / "config.txt").read_text()
    assert "LABEL=PRESENSI-DATA /var/lib/presensi" in (root / "etc" / "fstab").read_text()
    assert (root / "etc/systemd/system/presensi-kiosk.service.d/readonly-data.conf").is_file()
    assert not (root / "var" / "tmp" / "presensi-install").exists()


def test_install_twice_leaves_one_consistent_installation(installed_root: Path) -> None:
    root = installed_root
    if not (root / "var/lib/presensi/device_key.sealed").exists():
        run(
            ["unshare", "--uts", "chroot", str(root), "/usr/local/lib/presensi/provision"],
            timeout=300,
            env={k: v for k, v in os.environ.items() if k != "PRESENSI_TEMPLATE_KEY_FILE"},
        )
    before = snapshot(root)
    # The installer as a technician would rerun it for an upgrade, from a copy of the checkout.
    payload = root / "var" / "tmp" / "presensi-again"
    shutil.rmtree(payload, ignore_errors=True)
    payload.mkdir(parents=True)
    for part in ("scripts", "systemd", "image_build"):
        shutil.copytree(REPO / part, payload / part, ignore=shutil.ignore_patterns("authorized_keys"))
    (payload / "docs").mkdir()
    shutil.copy(REPO / "docs" / "install.md", payload / "docs" / "install.md")
    wheel = next((CACHE / "wheels").glob("presensi_kiosk-*.whl"))
    shutil.copy(wheel, payload / wheel.name)
    house = next(CACHE.glob("wheelhouse-*"))
    shutil.copytree(house, payload / "wheelhouse")
    args = [
        "--no-apt",
        "--no-start",
        "--readonly-root",
        "--wheel",
        f"/var/tmp/presensi-again/{wheel.name}",
        "--wheelhouse",
        "/var/tmp/presensi-again/wheelhouse",
    ]
    in_root(root, "bash", "/var/tmp/presensi-again/scripts/install-pi.sh", *args)
    after = snapshot(root)
    for key in before:
        assert after[key] == before[key], key
    assert after["users"] == ["presensi", "presensi-screen", "presensi-server"]
    dists = list((root / "opt/presensi/venv/lib").glob("python3*/site-packages/presensi_kiosk-*.dist-info"))
    assert len(dists) == 1, dists
    doctor_in_root(root)
    assert (root / "opt/presensi/share/models/MiniFASNetV2.onnx").is_file()

    # and the uninstall: software gone, punches and key kept
    manifest = (root / "opt/presensi/share/manifest.txt").read_text().split()
    in_root(root, "bash", "/var/tmp/presensi-again/scripts/install-pi.sh", "--uninstall")
    assert not any((root / path.lstrip("/")).exists() or (root / path.lstrip("/")).is_symlink() for path in manifest)
    assert not (root / "opt" / "presensi").exists()
    assert (root / "var/lib/presensi/device_key.sealed").exists() and (root / "etc/presensi/kiosk.toml").exists()
    assert [p for p in (root / "etc/systemd/system").rglob("presensi*") if not p.is_dir()] == []


# --- the same stage in an arm64 root, under qemu-user ----------------------------------------
#: ONNX embeddings (L2-normalised, 128 values) on arm64 against x86-64. On the same five points
#: (the embedder alone): the largest difference of one value, and the Euclidean distance between
#: the two templates of a face (the identification threshold is about 1.0 for this model; 0.6 for
#: dlib); measured here (qemu 7.2, onnxruntime 1.32 aarch64 and x86-64 wheels): 4.3e-7 and 1.8e-6.
#: End to end, each machine on its own YuNet points: 8.9e-4.
ONNX_VALUE_TOLERANCE = 1e-5
ONNX_DISTANCE_TOLERANCE = 1e-4
ONNX_END_TO_END_TOLERANCE = 5e-3
#: YuNet's five points and box on arm64 against x86-64, in pixels (measured: 1.2e-4).
YUNET_PIXEL_TOLERANCE = 0.05
#: dlib's own encodings (dlib-bin's aarch64 build) against x86-64 (measured: 3.3e-7).
DLIB_CROSS_TOLERANCE = 1e-5
#: qemu-user 7.2 shows arm64 programs the host's x86 /proc/cpuinfo; onnxruntime's cpuinfo library
#: crashes (SIGSEGV at import) parsing it beside an x86 /sys. The root gets what a Raspberry Pi 4
#: (Cortex-A72) shows instead, bind-mounted for the run: a limit of the emulation, not of the Pi.
PI4_CPU = (
    "processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n"
    "CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n"
)
PI4_BOARD = "Hardware\t: BCM2835\nRevision\t: c03111\nModel\t\t: Raspberry Pi 4 Model B Rev 1.1\n"


@pytest.fixture(scope="module")
def arm64_root() -> Iterator[Path]:
    """The stage installed in a debootstrapped arm64 bookworm root (cached like the amd64 one),
    the shared data bind-mounted read-only at /tmp/presensi-shared for the tests' runs only."""
    mirror, models = stage_preconditions()
    missing = aarch64_emulation()
    if missing:
        pytest.skip(f"arm64 run: {missing}")
    wheel = build_wheel()
    house = aarch64_wheelhouse(wheel)
    root = CACHE / "work-root-arm64"
    run_host_step(packaged_root(mirror, "arm64"), root, wheel, house, models)
    with Mounts(root):
        in_root(root, "bash", "-e", stdin=(SUBSTAGE / "01-run-chroot.sh").read_text(), timeout=3600)
        cpuinfo = CACHE / "pi4-cpuinfo"
        cpuinfo.write_text("".join(PI4_CPU.format(n=n) for n in range(os.cpu_count() or 1)) + PI4_BOARD)
        shared = root / "tmp" / "presensi-shared"
        shared.mkdir(parents=True, exist_ok=True)
        run(["mount", "--bind", str(cpuinfo), str(root / "proc" / "cpuinfo")])
        run(["mount", "--bind", str(SHARED), str(shared)])
        try:
            run(["mount", "-o", "remount,bind,ro", str(shared)])
            yield root
        finally:
            subprocess.run(["umount", "-l", str(shared)], check=False)
            subprocess.run(["umount", "-l", str(root / "proc" / "cpuinfo")], check=False)
            shared.rmdir()


def test_arm64_root_passes_provisioning_doctor_and_the_demo(arm64_root: Path) -> None:
    root = arm64_root
    venv_python = "/opt/presensi/venv/bin/python"
    started = time.monotonic()
    assert in_root(root, venv_python, "-c", "import platform; print(platform.machine())").strip() == "aarch64"
    # what the wheelhouse could not give comes from Debian's arm64 package, seen through the venv
    smartcard = in_root(root, venv_python, "-c", "import smartcard; print(smartcard.__file__)")
    assert smartcard.startswith("/usr/lib/python3/dist-packages/"), smartcard
    host_env = {k: v for k, v in os.environ.items() if k != "PRESENSI_TEMPLATE_KEY_FILE"}  # the unit's own default
    provision = run(
        ["unshare", "--uts", "chroot", str(root), "/usr/local/lib/presensi/provision"], timeout=900, env=host_env
    ).stdout
    device_id = re.search(r"device id (PK-[A-Z2-7]{12})", provision)
    assert device_id, provision
    assert "template key /etc/presensi/template.key made" in provision, provision
    doctor = doctor_in_root(root)
    assert device_id.group(1) in doctor
    # the demo as the service user: simulated devices, the shared photos, its own temporary unit
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/var/lib/presensi",
        "PRESENSI_SHARED": "/tmp/presensi-shared",
    }
    as_presensi = ["chroot", "--userspec=presensi:presensi", "--groups=presensi", str(root)]
    demo = subprocess.run(
        [*as_presensi, "/usr/local/bin/presensi", "demo", "--once", "--faces", "/tmp/presensi-shared/testdata/faces"],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
        check=False,
    )
    print(demo.stdout)
    checks = [line.split(None, 1) for line in demo.stdout.splitlines() if line.startswith(("  ok ", "  FAILED"))]
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert len(checks) >= 4 and all(word == "ok" for word, _ in checks), checks
    assert "verify: OK" in demo.stdout
    print(f"arm64: provisioning, doctor and demo --once in {time.monotonic() - started:.0f} s")


def test_arm64_face_numbers_match_dlib_and_x86(arm64_root: Path, tmp_path: Path) -> None:
    helper = REPO / "tests" / "helpers" / "face_numbers.py"
    shared_in_root = "/tmp/presensi-shared"
    x86 = run(
        [sys.executable, str(helper), str(SHARED / "testdata" / "faces"), str(SHARED / "models")],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=900,
    ).stdout
    work = arm64_root / "tmp" / "presensi-numbers"  # the root's temporary folder, for this run only
    work.mkdir(exist_ok=True)
    try:
        shutil.copy(helper, work / "face_numbers.py")
        (work / "x86.json").write_text(x86)
        arm = in_root(
            arm64_root,
            "/opt/presensi/venv/bin/python",
            "/tmp/presensi-numbers/face_numbers.py",
            f"{shared_in_root}/testdata/faces",
            f"{shared_in_root}/models",
            "/tmp/presensi-numbers/x86.json",
            timeout=3600,
        )
    finally:
        shutil.rmtree(work)
    report = compare_face_numbers(json.loads(x86), json.loads(arm))
    print(json.dumps(report, indent=2))
    assert report["machines"] == ["x86_64", "aarch64"]
    assert report["hog_faces"] >= 8 and report["yunet_faces"] >= 8
    assert report["numpy_vs_dlib_on_arm64"] < 1e-5
    assert report["dlib_arm64_vs_x86"] < DLIB_CROSS_TOLERANCE
    assert report["yunet_pixels"] < YUNET_PIXEL_TOLERANCE
    assert report["onnx_value"] < ONNX_VALUE_TOLERANCE
    assert report["onnx_distance"] < ONNX_DISTANCE_TOLERANCE
    assert report["onnx_end_to_end_distance"] < ONNX_END_TO_END_TOLERANCE


def compare_face_numbers(x86: dict[str, Any], arm: dict[str, Any]) -> dict[str, Any]:
    """The largest differences between the two machines' numbers (same photos, same faces)."""
    worst = {"numpy_vs_dlib_on_arm64": 0.0, "dlib_arm64_vs_x86": 0.0, "yunet_pixels": 0.0, "onnx_value": 0.0}
    worst |= {"onnx_distance": 0.0, "onnx_end_to_end_distance": 0.0}
    hog = yunet = 0
    for name, theirs in x86["photos"].items():
        ours = arm["photos"][name]
        assert len(ours["hog"]) == len(theirs["hog"]) and len(ours["yunet"]) == len(theirs["yunet"]), name
        for a, b in zip(ours["hog"], theirs["hog"], strict=True):
            worst["numpy_vs_dlib_on_arm64"] = max(worst["numpy_vs_dlib_on_arm64"], a["numpy_vs_dlib"])
            worst["dlib_arm64_vs_x86"] = max(worst["dlib_arm64_vs_x86"], _max_abs(a["dlib"], b["dlib"]))
            hog += 1
        for a, b in zip(ours["yunet"], theirs["yunet"], strict=True):
            pixels = max(_max_abs(a["points"], b["points"]), _max_abs(a["box"], b["box"]))
            worst["yunet_pixels"] = max(worst["yunet_pixels"], pixels)
            worst["onnx_value"] = max(worst["onnx_value"], _max_abs(a["onnx_on_reference_points"], b["onnx"]))
            worst["onnx_distance"] = max(worst["onnx_distance"], _distance(a["onnx_on_reference_points"], b["onnx"]))
            worst["onnx_end_to_end_distance"] = max(worst["onnx_end_to_end_distance"], _distance(a["onnx"], b["onnx"]))
            yunet += 1
    return {"machines": [x86["machine"], arm["machine"]], "hog_faces": hog, "yunet_faces": yunet, **worst}


def _max_abs(a: list[Any], b: list[Any]) -> float:
    import numpy as np

    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def _distance(a: list[float], b: list[float]) -> float:
    import numpy as np

    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))
