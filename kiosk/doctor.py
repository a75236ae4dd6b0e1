"""``presensi doctor``: checks what is configured and says what to do about each problem.

A check is a function ``(runtime) -> list[Finding]`` decorated with :func:`check`. Subsystems
put theirs in a module of :mod:`kiosk.checks` (one file each), found and imported at run time.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import shutil
import stat
from pathlib import Path

import kiosk.checks
from core.clock import ClockState
from core.errors import PresensiError
from core.identity import KEY_FILENAME, SEALED_FILENAME, DeviceIdentity
from core.runtime import Runtime
from core.store.db import integrity_ok, open_database
from core.store.punches import count_punches
from core.timekeeping import FixedTimeFacts
from kiosk.checks.findings import CHECKS, Finding, Status, check

log = logging.getLogger(__name__)


def missing_data_dir(path: Path) -> Finding:
    return Finding(
        "data directory",
        Status.FAIL,
        f"{path} does not exist: no unit has run here with this data directory",
        "give the unit's folder with --data-dir, or install the unit (scripts/install-pi.sh, docs/install.md) and start it once",
    )


@check
def data_dir(rt: Runtime) -> list[Finding]:
    path = rt.data_dir
    if not path.is_dir():
        return [missing_data_dir(path)]
    if not os.access(path, os.W_OK):
        return [
            Finding(
                "data directory", Status.FAIL, f"{path} is not writable", f"chown it to the service user: chown presensi {path}"
            )
        ]
    return [Finding("data directory", Status.OK, str(path))]


@check
def database(rt: Runtime) -> list[Finding]:
    try:
        conn = open_database(rt.db_path, busy_timeout_ms=rt.config.store.busy_timeout_ms)
    except PresensiError as exc:
        return [
            Finding(
                "database", Status.FAIL, str(exc), "restore the data directory from backup, or move it aside and re-provision"
            )
        ]
    try:
        ok, message = integrity_ok(conn)
        count = count_punches(conn)
        size = rt.db_path.stat().st_size if rt.db_path.exists() else 0
    finally:
        conn.close()
    if not ok:
        return [
            Finding(
                "database",
                Status.FAIL,
                f"integrity_check: {message}",
                "export what verifies (presensi export), then restore the database",
            )
        ]
    return [Finding("database", Status.OK, f"integrity ok, {count} punches, {size / 1e6:.1f} MB")]


@check
def disk(rt: Runtime) -> list[Finding]:
    target = rt.data_dir if rt.data_dir.exists() else rt.data_dir.parent
    try:
        usage = shutil.disk_usage(target)
    except OSError as exc:
        return [Finding("disk", Status.FAIL, f"cannot read free space: {exc.strerror}")]
    free_mb = usage.free / 2**20
    minimum = rt.config.store.min_free_mb
    if free_mb < minimum:
        return [
            Finding(
                "disk",
                Status.FAIL,
                f"{free_mb:.0f} MB free (< {minimum} MB)",
                "export and prune punches, or remove old logs (journalctl --vacuum-size=50M)",
            )
        ]
    if free_mb < 4 * minimum:
        return [Finding("disk", Status.WARN, f"{free_mb:.0f} MB free", "free space soon: export punches and vacuum logs")]
    return [Finding("disk", Status.OK, f"{free_mb:.0f} MB free")]


@check
def device_key(rt: Runtime) -> list[Finding]:
    """The signing key: sealed under the unit's key (a copied data directory cannot sign), or a
    plain file (it can). Read-only: a plain key is sealed by the services, not here."""
    sealed, path = rt.data_dir / SEALED_FILENAME, rt.data_dir / KEY_FILENAME
    if sealed.exists():
        try:
            provider = rt.template_key.provider()
            identity = DeviceIdentity.open_sealed(sealed, provider.device_key_sealer())
        except PresensiError as exc:
            return [
                Finding(
                    "device key",
                    Status.FAIL,
                    str(exc),
                    "fix [privacy] so the unit's key can be read (see the template key finding)",
                )
            ]
        return [
            Finding("device key", Status.OK, f"device {identity.device_id}, sealed under the unit's key ({provider.describe()})")
        ]
    if not path.exists():
        return [
            Finding(
                "device key", Status.WARN, f"{path} not made yet", "start the kiosk once (or run presensi demo); it makes the key"
            )
        ]
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [Finding("device key", Status.FAIL, f"{path} has mode {mode:o}", f"chmod 600 {path}")]
    try:
        identity = DeviceIdentity.load(path)
    except PresensiError as exc:
        return [Finding("device key", Status.FAIL, str(exc), "restore the key from backup or re-provision the unit")]
    return [
        Finding(
            "device key",
            Status.WARN,
            f"device {identity.device_id}: the signing key is a plain file on the SD card ({path}); a copy of the card can sign punches",
            "make the unit's template key (presensi privacy prepare-key, docs/privacy.md) and restart the services: they seal it",
        )
    ]


@check
def clock(rt: Runtime) -> list[Finding]:
    keeper = rt.timekeeper(signing=False)
    report = keeper.report()
    if isinstance(keeper.facts, FixedTimeFacts):
        return [
            Finding(
                "clock",
                Status.OK if report.state == ClockState.SYNCED else Status.WARN,
                f"{report.detail} (clock.state fixed by configuration)",
            )
        ]
    findings = []
    if report.state == ClockState.SYNCED:
        findings.append(Finding("clock", Status.OK, f"synchronised ({report.source})"))
    elif report.state == ClockState.RTC:
        findings.append(
            Finding(
                "clock",
                Status.WARN,
                f"held by the battery clock {report.rtc}, last NTP sync {report.last_sync or 'unknown'}",
                "connect the network so NTP can correct it",
            )
        )
    else:
        policy = rt.config.clock.unsynced_policy
        what = "punches are refused" if policy == "refuse" else "punches are flagged unsynced and corrected later"
        status = Status.FAIL if report.certainly_wrong or policy == "refuse" else Status.WARN
        findings.append(
            Finding(
                "clock", status, f"{report.detail}; {what}", "connect the network (NTP), or set the time on the maintenance page"
            )
        )
    if report.rtc:
        findings.append(Finding("rtc", Status.OK, f"battery clock {report.rtc} present"))
    else:
        findings.append(
            Finding(
                "rtc",
                Status.WARN,
                "no battery clock (RTC): after a power cut the unit wakes with the last saved time",
                "fit a DS3231 module and enable it (docs/time.md), or make sure the unit reaches NTP before punching",
            )
        )
    return findings


@check
def configured_devices(rt: Runtime) -> list[Finding]:
    cfg = rt.config
    findings = []
    if cfg.unit.hardware == "sim":
        return [Finding("devices", Status.OK, "simulated hardware (unit.hardware = 'sim')")]
    if cfg.camera.source == "v4l2":
        node = Path(f"/dev/video{cfg.camera.device}")
        findings.append(_node("camera", node, "check the camera cable, or set camera.source"))
    elif cfg.camera.source == "file":
        path = cfg.camera.path
        ok = path is not None and path.exists()
        findings.append(
            Finding(
                "camera",
                Status.OK if ok else Status.FAIL,
                f"file source {path}",
                "" if ok else "set camera.path to a video or image folder",
            )
        )
    if cfg.cards.reader in ("serial", "evdev") and cfg.cards.device.startswith("/dev/"):
        # name:<text> devices are found by name; the card reader's own check covers them
        findings.append(_node("card reader", Path(cfg.cards.device), "check the reader's USB cable and cards.device"))
    if cfg.fingerprint.module in ("zhiantec", "gt521"):
        findings.append(_node("fingerprint module", Path(cfg.fingerprint.port), "check the module's wiring and fingerprint.port"))
    return findings


def _node(part: str, node: Path, todo: str) -> Finding:
    if node.exists():
        return Finding(part, Status.OK, f"{node} present")
    return Finding(part, Status.FAIL, f"{node} missing", todo)


def run_checks(rt: Runtime) -> list[Finding]:

    for info in pkgutil.iter_modules(kiosk.checks.__path__):
        importlib.import_module(f"kiosk.checks.{info.name}")
    if not rt.data_dir.is_dir():  # doctor reports; it never makes a unit where there is none
        return [missing_data_dir(rt.data_dir)]
    findings: list[Finding] = []
    for func in CHECKS:
        try:
            findings.extend(func(rt))
        except Exception as exc:
            log.exception("doctor check %s failed", func.__name__)
            findings.append(
                Finding(func.__name__.replace("_", " "), Status.FAIL, f"the check itself failed: {exc}", "report this as a bug")
            )
    return findings
