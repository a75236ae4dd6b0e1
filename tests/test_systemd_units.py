"""The unit files in systemd/: `systemd-analyze verify` on each, the exposure score of each
long-running service, and the properties the issue asks of them.

`verify` checks that ExecStart= binaries exist. The units name the installed paths
(/usr/local/bin/presensi, /usr/bin/cage, /usr/local/lib/presensi/provision), which do not exist on
a development machine, so each unit is verified as a temporary copy in which those paths are
replaced by executables that exist (a wrapper that runs this checkout's ``presensi``, and the
provision script itself); nothing else in the unit changes. Inside an installed root the units are
verified unchanged (tests/test_image_chroot.py).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
UNITS_DIR = REPO / "systemd"
UNITS = sorted(p.name for p in UNITS_DIR.iterdir() if p.suffix in (".service", ".target", ".timer", ".socket"))
#: The root helper, one per socket (kiosk/privileged): socket -> (group, actions allowed).
HELPER_SOCKETS = {
    "presensi-privileged.socket": ("presensi-admin", "restart,reboot,set-time,logs"),
    "presensi-clock.socket": ("presensi-clock", "set-time"),
}
#: A unit only the read-only image installs (it runs Raspberry Pi OS's raspi-config).
OVERLAY_UNIT = REPO / "image_build" / "stage-presensi" / "00-presensi" / "files" / "presensi-overlay.service"
PYTHON_SERVICES = {
    "presensi-kiosk.service": ["run"],
    "presensi-bridge.service": ["bridge", "run"],
    "presensi-sync.service": ["sync", "run"],
    "presensi-server.service": ["server", "run"],
    "presensi-zk4370.service": ["zk4370"],
    "presensi-targets.service": ["targets"],
}
LONG_RUNNING = [*PYTHON_SERVICES, "presensi-screen.service"]
MAX_EXPOSURE = 3.0

needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (apt-get install systemd)"
)


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    text = (UNITS_DIR / name).read_text().replace("\\\n", " ")
    parser.read_string(text)
    return parser


def unit_values(name: str, section: str, key: str) -> list[str]:
    """Every value of ``key`` (systemd keys repeat; configparser keeps the last, so scan lines)."""
    values, current = [], None
    for line in (UNITS_DIR / name).read_text().replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line.startswith(f"{key}="):
            values.append(line.split("=", 1)[1])
    return values


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of the units with the installed paths pointed at executables that exist."""
    root = tmp_path_factory.mktemp("units")
    bindir = root / "bin"
    bindir.mkdir()
    presensi = bindir / "presensi"
    presensi.write_text(f'#!/bin/sh\nexec {sys.executable} -m kiosk.cli "$@"\n')
    cage = bindir / "cage"
    cage.write_text('#!/bin/sh\nshift; exec "$@"\n')  # cage -- CMD: stands in for the compositor
    provision = bindir / "provision"
    shutil.copy(UNITS_DIR / "bin" / "presensi-provision", provision)
    privileged = bindir / "presensi-privileged"
    privileged.write_text(f'#!/bin/sh\nexec {sys.executable} -m kiosk.privileged.helper "$@"\n')
    for exe in (presensi, cage, provision, privileged):
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    raspi_config = bindir / "raspi-config"
    raspi_config.write_text("#!/bin/sh\nexit 0\n")
    raspi_config.chmod(0o755)
    replacements = {
        "/usr/bin/raspi-config": str(raspi_config),
        "/usr/local/bin/presensi-privileged": str(privileged),
        "/usr/local/bin/presensi ": f"{presensi} ",
        "/usr/bin/cage": str(cage),
        "/usr/local/lib/presensi/provision": str(provision),
    }
    for path in [*(UNITS_DIR / name for name in UNITS), OVERLAY_UNIT]:
        name = path.name
        text = path.read_text()
        for old, new in replacements.items():
            text = text.replace(old, new)
        (root / name).write_text(text)
    return root


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True, timeout=60, cwd=path.parent
    )


def test_every_service_is_here() -> None:
    assert set(LONG_RUNNING) <= set(UNITS)
    assert "presensi.target" in UNITS and "presensi-provision.service" in UNITS


@needs_systemd
@pytest.mark.parametrize("name", [*UNITS, OVERLAY_UNIT.name])
def test_systemd_analyze_verify_passes(verify_root: Path, name: str) -> None:
    result = verify(verify_root / name)
    assert result.returncode == 0, result.stderr
    # verify exits 0 on unknown keys and unparsable values ("…, ignoring"): any output fails.
    assert (result.stdout + result.stderr).strip() == ""


@needs_systemd
def test_verify_would_catch_a_broken_unit(verify_root: Path, tmp_path: Path) -> None:
    broken = tmp_path / "presensi-kiosk.service"
    broken.write_text((verify_root / "presensi-kiosk.service").read_text().replace("WatchdogSec=", "WatchdogSecs="))
    result = verify(broken)
    assert "Unknown key" in result.stderr
    missing = tmp_path / "presensi-bridge.service"
    missing.write_text((UNITS_DIR / "presensi-bridge.service").read_text())  # ExecStart not installed here
    assert verify(missing).returncode != 0


def exposure(name: str) -> float:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNITS_DIR / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@needs_systemd
@pytest.mark.parametrize("name", LONG_RUNNING)
def test_exposure_is_at_most_3(name: str) -> None:
    score = exposure(name)
    print(f"{name}: exposure {score}")
    assert score <= MAX_EXPOSURE


@pytest.mark.parametrize("name", list(PYTHON_SERVICES))
def test_python_services_notify_and_watchdog(name: str) -> None:
    unit = read_unit(name)
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    watchdog = int(service["WatchdogSec"])
    assert 10 <= watchdog <= 300
    assert service["Restart"] == "always"
    assert int(unit["Unit"]["StartLimitBurst"]) > 0 and int(unit["Unit"]["StartLimitIntervalSec"]) > 0
    # a crash loop never trips the limit (restarts forever), a faster restart storm does
    starts_per_interval = int(unit["Unit"]["StartLimitIntervalSec"]) / int(service["RestartSec"])
    assert starts_per_interval < int(unit["Unit"]["StartLimitBurst"])
    if name == "presensi-server.service":  # the server has its own file and reads nothing of the unit's
        assert "ExecStartPre" not in service
    else:
        assert service["ExecStartPre"] == "/usr/local/bin/presensi config check"
    words = PYTHON_SERVICES[name]
    assert service["ExecStart"].split()[: 1 + len(words)] == ["/usr/local/bin/presensi", *words]
    assert service["User"] not in ("root", "0") and "DynamicUser" not in service
    for key in ("StateDirectory", "RuntimeDirectory", "LogsDirectory"):
        assert service[key]
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "DevicePolicy": "closed",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert service["RestrictAddressFamilies"]


def test_devices_are_only_what_each_service_uses() -> None:
    allowed = {name: set(unit_values(name, "Service", "DeviceAllow")) for name in LONG_RUNNING}
    serial = {"char-ttyS rw", "char-ttyAMA rw", "char-ttyUSB rw", "char-ttyACM rw"}
    assert allowed["presensi-bridge.service"] == serial
    assert serial <= allowed["presensi-kiosk.service"]
    assert "char-video4linux rw" in allowed["presensi-kiosk.service"]
    assert "char-gpiochip rw" in allowed["presensi-kiosk.service"]
    assert "char-input r" in allowed["presensi-kiosk.service"]
    assert allowed["presensi-sync.service"] == allowed["presensi-server.service"] == set()
    assert allowed["presensi-zk4370.service"] == allowed["presensi-targets.service"] == set()
    assert allowed["presensi-screen.service"] == {"char-drm rw", "char-input r", "/dev/tty7 rw"}
    assert read_unit("presensi-bridge.service")["Service"]["PrivateNetwork"] == "yes"


def test_time_sync_is_ordered_before_the_kiosk() -> None:
    unit = read_unit("presensi-kiosk.service")["Unit"]
    assert "time-sync.target" in unit["After"].split()
    assert "time-sync.target" in unit["Wants"].split()


def test_the_screen_shows_the_local_screen_page() -> None:
    exec_start = read_unit("presensi-screen.service")["Service"]["ExecStart"]
    assert exec_start.startswith("/usr/bin/cage ")
    assert "/usr/bin/chromium --kiosk" in exec_start
    assert "http://127.0.0.1:8080/" in exec_start
    assert read_unit("presensi-screen.service")["Service"]["User"] != read_unit("presensi-kiosk.service")["Service"]["User"]


def test_journald_drop_in_uses_only_known_keys_and_bounds_the_journal() -> None:
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # type: ignore[assignment,method-assign]
    conf.read(UNITS_DIR / "journald.conf.d" / "presensi.conf")
    journal = conf["Journal"]
    assert journal["SystemMaxUse"] and journal["SystemKeepFree"] and journal["SyncIntervalSec"]
    binary = next(
        (p for p in (Path("/lib/systemd/systemd-journald"), Path("/usr/lib/systemd/systemd-journald")) if p.exists()), None
    )
    if binary is None:
        pytest.skip("needs systemd-journald to check the key names")
    known = binary.read_bytes()
    for key in journal:
        assert f"Journal.{key}".encode() in known, f"journald does not know {key}"


def test_sysusers_makes_the_users_in_a_root(tmp_path: Path) -> None:
    if shutil.which("systemd-sysusers") is None:
        pytest.skip("needs systemd-sysusers")
    (tmp_path / "etc").mkdir()
    subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(UNITS_DIR / "sysusers.d" / "presensi.conf")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    passwd = (tmp_path / "etc" / "passwd").read_text()
    for user in ("presensi", "presensi-screen", "presensi-server"):
        assert re.search(rf"^{user}:x:\d+:\d+:.*:/usr/sbin/nologin$", passwd, re.M), passwd
    group = (tmp_path / "etc" / "group").read_text()
    for name in ("gpio", "presensi-admin", "presensi-clock"):
        assert re.search(rf"^{name}:x:\d+:$", group, re.M), group  # no member: services get them per unit


UDEV_KEY = re.compile(r'^(?:[A-Z_]+(?:\{[^}]+\})?)(?:==|!=|\+=|:=|=)"[^"]*"$')


def test_udev_rules_are_well_formed() -> None:
    for line in (UNITS_DIR / "udev" / "rules.d" / "60-presensi.rules").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        for part in line.split(", "):
            assert UDEV_KEY.match(part.strip()), f"bad udev clause {part!r} in {line!r}"


def test_default_config_passes_config_check(presensi_cmd: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [*presensi_cmd, "config", "check", str(UNITS_DIR / "etc" / "kiosk.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr


@needs_systemd
def test_the_template_key_credential_drop_in_verifies(verify_root: Path, tmp_path: Path) -> None:
    """systemd/template-key-credential.conf (install-pi.sh --otp-key) on the kiosk unit."""
    unit = tmp_path / "presensi-kiosk.service"
    unit.write_text(
        (verify_root / "presensi-kiosk.service").read_text()
        + "\n"
        + "[Service]"
        + (UNITS_DIR / "template-key-credential.conf").read_text().split("[Service]", 1)[1]
    )
    result = verify(unit)
    assert result.returncode == 0 and (result.stdout + result.stderr).strip() == "", result.stderr
    assert "LoadCredential=presensi-template-key:/run/presensi/template-key" in unit.read_text()


def test_no_polkit_rule_the_helper_sockets_instead() -> None:
    """Issue 22, finding 13: every process of user presensi could set the clock and stop services
    through polkit. Now each right is one socket of the root helper, and only the service that
    needs it has the socket's group."""
    assert not (UNITS_DIR / "polkit-1").exists()
    install = [line.strip() for line in (REPO / "scripts" / "install-pi.sh").read_text().splitlines() if "polkit" in line]
    assert all(line.startswith(("#", "rm -f /etc/polkit-1/")) for line in install), install  # only the old rule's removal
    groups = {name: " ".join(unit_values(name, "Service", "SupplementaryGroups")).split() for name in PYTHON_SERVICES}
    assert "presensi-admin" in groups["presensi-kiosk.service"] and "systemd-journal" not in groups["presensi-kiosk.service"]
    assert groups["presensi-zk4370.service"] == ["presensi-clock"]
    for name in ("presensi-sync.service", "presensi-targets.service", "presensi-bridge.service", "presensi-server.service"):
        assert not {"presensi-admin", "presensi-clock", "systemd-journal", "presensi"} & set(groups[name]), name
    for socket_unit, (group, allow) in HELPER_SOCKETS.items():
        sock = read_unit(socket_unit)["Socket"]
        assert (sock["SocketUser"], sock["SocketGroup"], sock["SocketMode"], sock["Accept"]) == ("root", group, "0660", "yes")
        service = read_unit(socket_unit.replace(".socket", "@.service"))["Service"]
        assert service["ExecStart"].split() == ["/usr/local/bin/presensi-privileged", "--allow", allow, "--peer-user", "presensi"]
        assert service["StandardInput"] == "socket" and service["CapabilityBoundingSet"] == "CAP_SYS_TIME"
        assert service["PrivateNetwork"] == "yes" and service["RestrictAddressFamilies"] == "AF_UNIX"
    assert "kernel.yama.ptrace_scope = 1" in (UNITS_DIR / "sysctl.d" / "60-presensi.conf").read_text()
    assert "/etc/sysctl.d/60-presensi.conf" in (REPO / "scripts" / "install-pi.sh").read_text()
    assert "presensi-privileged.socket" in read_unit("presensi-kiosk.service")["Unit"]["Wants"].split()
    assert "presensi-clock.socket" in read_unit("presensi-zk4370.service")["Unit"]["Wants"].split()


@needs_systemd
@pytest.mark.parametrize("name", ["presensi-privileged@.service", "presensi-clock@.service"])
def test_the_root_helper_is_sandboxed(name: str) -> None:
    score = exposure(name)
    print(f"{name}: exposure {score}")
    assert score <= MAX_EXPOSURE


def test_the_server_reads_nothing_of_the_units_configuration() -> None:
    """Finding 13: presensi-server was in group presensi to read /etc/presensi; its file is its own."""
    service = read_unit("presensi-server.service")["Service"]
    assert "SupplementaryGroups" not in service
    assert service["ConfigurationDirectory"] == "presensi-server"
    assert "--server-config /etc/presensi-server/server.toml" in service["ExecStart"]
