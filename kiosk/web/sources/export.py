"""Exports for Admin PD: the signed bundle the central server imports (the same files as
``presensi export``: ``sync.bundle``) and a CSV people can read, downloaded or written to a
mounted USB stick; and the bundle check the page offers for a file brought back on a stick.

File names are checked against a strict pattern and every path is resolved and required to stay
inside its root, so no request can read or write outside the export folder or a USB stick.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from core.clock import Clock, zone_abbreviation
from core.errors import PresensiError
from core.i18n import CODES
from core.identity import DeviceIdentity
from core.schedule.report import csv_cell
from core.store.punch_views import punches_with_names
from core.store.punches import registered_device_id
from core.store.records import day_bound
from core.store.sync_state import get_cursor, set_cursor
from sync.bundle import BundleCheck, check_bundle, export_bundle
from sync.state import BUNDLE_CURSOR, UPLOAD_CURSOR

log = logging.getLogger(__name__)

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


class UnsafePath(PresensiError, PermissionError):
    """A file or folder name that would leave its allowed root."""


def safe_child(root: Path, name: str) -> Path:
    """``root/name`` when ``name`` is a plain file name inside ``root``; UnsafePath otherwise."""
    if not SAFE_NAME.match(name) or name in (".", ".."):
        raise UnsafePath(f"{name!r} is not a plain file name")
    base = root.resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise UnsafePath(f"{name!r} leaves {root}")
    return target


class Exporter(Protocol):
    def formats(self) -> tuple[str, ...]:
        """Formats offered, e.g. ("bundle", "csv")."""

    def export(self, fmt: str, start: date | None, end: date | None, dest_dir: Path) -> Path:
        """Write one export file into ``dest_dir`` and return its path."""


class CsvExporter:
    """Punches with employee names as CSV (local time and zone); never templates or photos."""

    COLUMNS = (
        "seq",
        "id",
        "employee_id",
        "name",
        "local_time",
        "zone",
        "method",
        "kind",
        "status",
        "minutes",
        "event_id",
        "clock_state",
        "hash",
    )

    def __init__(self, connect: Callable[[], sqlite3.Connection], clock: Clock, zone: str) -> None:
        self._connect = connect
        self.clock = clock
        self.zone = zone

    def __repr__(self) -> str:
        return f"CsvExporter(zone={self.zone})"

    def formats(self) -> tuple[str, ...]:
        return ("csv",)

    def export(self, fmt: str, start: date | None, end: date | None, dest_dir: Path) -> Path:
        if fmt != "csv":
            raise PresensiError(f"format {fmt!r} is not available here; choose csv")
        conn = self._connect()
        device_id = registered_device_id(conn) or "unit"
        tz = ZoneInfo(self.zone)
        rows = punches_with_names(
            conn,
            since=day_bound(start, tz) if start is not None else None,
            before=day_bound(end, tz, next_day=True) if end is not None else None,
        )
        stamp = self.clock.now().astimezone(tz).strftime("%Y%m%d-%H%M%S")
        span = f"{start or 'awal'}_{end or 'akhir'}"
        path = safe_child(dest_dir, f"presensi-{device_id}-{span}-{stamp}.csv")
        tmp = path.with_suffix(".csv.part")
        count = 0
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.COLUMNS)
            for r in rows:
                local = (
                    datetime.strptime(r["instant"], "%Y-%m-%dT%H:%M:%S.%fZ")
                    .replace(tzinfo=ZoneInfo("UTC"))
                    .astimezone(ZoneInfo(r["zone"]))
                )
                writer.writerow(
                    csv_cell(c)
                    for c in [
                        r["seq"],
                        r["id"],
                        r["employee_id"],
                        r["name"] or "",
                        local.strftime("%Y-%m-%d %H:%M:%S"),
                        zone_abbreviation(r["zone"]),
                        r["method"],
                        r["kind"],
                        r["status"],
                        r["minutes"],
                        r["event_id"] or "",
                        r["clock_state"],
                        r["hash"],
                    ]
                )
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        log.info("exported %d punches to %s", count, path.name)
        return path


#: Bundle scopes offered on the page: the punches the server has not acknowledged, or all on the unit.
BUNDLE_UNSENT, BUNDLE_ALL = "bundle", "bundle_all"
#: Their names for people: the catalogue's "export_format" group (core.i18n).
FORMAT_LABELS = {code: pair[0] for code, pair in CODES["export_format"].items()}


class NothingToExport(PresensiError):
    """Every punch in the asked scope has already gone (or there are none)."""

    screen_text = "Tidak ada presensi untuk diekspor"


class PunchExporter:
    """The signed bundle (with its CSV, named alike) and the date-range CSV.

    ``connect`` makes a connection the export owns and closes; the device key signs the
    bundle's manifest, so only the unit itself can make one. A bundle export moves the
    ``bundle`` cursor as ``presensi export`` does; it never marks punches as sent."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        identity: DeviceIdentity,
        clock: Clock,
        zone: str,
        *,
        corrections: bool = True,
    ) -> None:
        self._connect = connect
        self.identity = identity
        self.clock = clock
        self.zone = zone
        self.corrections = corrections  # sync.bundle_corrections

    def __repr__(self) -> str:
        return f"PunchExporter({self.identity.device_id}, zone={self.zone})"

    def formats(self) -> tuple[str, ...]:
        return (BUNDLE_UNSENT, BUNDLE_ALL, "csv")

    def export(self, fmt: str, start: date | None, end: date | None, dest_dir: Path) -> Path:

        conn = self._connect()
        try:
            if fmt == "csv":
                return CsvExporter(lambda: conn, self.clock, self.zone).export(fmt, start, end, dest_dir)
            if fmt not in (BUNDLE_UNSENT, BUNDLE_ALL):
                raise PresensiError(f"format {fmt!r} is not available; choose one of {', '.join(self.formats())}")
            after = get_cursor(conn, UPLOAD_CURSOR) if fmt == BUNDLE_UNSENT else 0
            result = export_bundle(conn, self.identity, self.clock, dest_dir, after_seq=after, corrections=self.corrections)
            if result is None:
                raise NothingToExport(f"no punch after seq {after} to export")
            set_cursor(conn, BUNDLE_CURSOR, result.last_seq, self.clock.now(), {"file": result.bundle.name, "by": "web"})
            return result.bundle
        finally:
            conn.close()

    def check(self, data: bytes) -> BundleCheck:
        """Verify a bundle against this unit's own key (see :func:`check_bundle`)."""
        return check_bundle(data, self.identity.public_hex)


@runtime_checkable
class BundleChecker(Protocol):
    def check(self, data: bytes) -> BundleCheck:
        """Verify a bundle's bytes against the unit's key."""


def copy_to_stick(files: list[Path], stick: Path) -> None:
    """Copy each file whole onto the stick (written aside, synced, renamed): a stick pulled
    out halfway holds no half file under the real name."""
    for source in files:
        dest = safe_child(stick, source.name)
        tmp = safe_child(stick, f"{source.name}.part")
        shutil.copyfile(source, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)


def companions(path: Path) -> list[Path]:
    """The files one export made: ``path`` and those sharing its stem (a bundle's CSV)."""
    return [path, *sorted(p for p in path.parent.glob(f"{path.stem}.*") if p != path and p.is_file())]


@dataclass(frozen=True)
class UsbStick:
    name: str  # folder name under the USB root, what the form sends back
    path: Path
    free_mb: float


class UsbTargets:
    """Mounted USB sticks under ``root`` (e.g. /media or /media/<user>). With ``require_mount``
    off (simulation) any folder directly under ``root`` counts as a stick."""

    def __init__(self, root: Path, *, require_mount: bool = True, mounts_file: Path = Path("/proc/mounts")) -> None:
        self.root = root
        self.require_mount = require_mount
        self.mounts_file = mounts_file

    def __repr__(self) -> str:
        return f"UsbTargets({self.root})"

    def _mounted(self) -> set[Path]:
        try:
            text = self.mounts_file.read_text()
        except OSError:
            return set()
        return {Path(line.split()[1].replace("\\040", " ")) for line in text.splitlines() if len(line.split()) > 1}

    def sticks(self) -> list[UsbStick]:
        if not self.root.is_dir():
            return []
        mounted = self._mounted() if self.require_mount else set()
        found = []
        candidates = [p for p in self.root.iterdir() if p.is_dir()]
        candidates += [q for p in candidates for q in p.iterdir() if q.is_dir() and q in mounted]  # /media/<user>/<label>
        for path in sorted(candidates):
            if self.require_mount and path not in mounted:
                continue
            rel = path.relative_to(self.root).as_posix()
            if not all(SAFE_NAME.match(part) for part in rel.split("/")):
                continue
            try:
                st = os.statvfs(path)
            except OSError:
                continue
            found.append(UsbStick(rel, path, st.f_bavail * st.f_frsize / 2**20))
        return found

    def resolve(self, name: str) -> Path:
        """The stick called ``name`` (as listed); UnsafePath for anything else."""
        for stick in self.sticks():
            if stick.name == name:
                resolved = stick.path.resolve()
                if not resolved.is_relative_to(self.root.resolve()):
                    raise UnsafePath(f"{name!r} leaves {self.root}")
                return resolved
        raise UnsafePath(f"{name!r} is not a mounted USB stick under {self.root}")
