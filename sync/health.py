"""The heartbeat a unit sends: queue, clock, versions, disk, temperature and every part's health."""

from __future__ import annotations

import platform
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core import __version__
from core.clock import ClockStateSource
from core.health import Health, read_all
from core.store.punch_log import unsent_after
from core.store.punches import parse_instant
from core.store.sync_state import get_cursor
from core.timekeeping import server_offset_s
from sync.state import ROSTER_CURSOR, UPLOAD_CURSOR

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")


@dataclass(frozen=True)
class Unsent:
    """Punches the central server has not acknowledged: the one definition of "belum terkirim"
    that the kiosk header, the dashboard, ``sync status`` and ``doctor`` all show."""

    acked_seq: int
    count: int
    oldest_instant: str | None  # RFC 3339 UTC, of the oldest unacknowledged punch
    oldest_age_s: float | None


def unsent(conn: sqlite3.Connection, now: datetime) -> Unsent:
    """Punches after the central server's acknowledged cursor (only that cursor: the roster's
    version or a flash-disk cursor says nothing about delivery). Read-only."""
    acked = get_cursor(conn, UPLOAD_CURSOR)
    count, oldest = unsent_after(conn, acked)
    age = (now - parse_instant(oldest)).total_seconds() if oldest else None
    return Unsent(acked, count, oldest, age)


def queue(conn: sqlite3.Connection, now: datetime) -> tuple[int, float | None]:
    """(punches not yet acknowledged, age in seconds of the oldest of them). Read-only."""
    state = unsent(conn, now)
    return state.count, state.oldest_age_s


def temperature_c(path: Path = THERMAL) -> float | None:
    try:
        return int(path.read_text().strip()) / 1000.0
    except (OSError, ValueError):
        return None


def build_report(conn: sqlite3.Connection, data_dir: Path, clock_state: ClockStateSource, now: datetime) -> dict[str, Any]:
    depth, age = queue(conn, now)
    try:
        free_mb: float | None = round(shutil.disk_usage(data_dir).free / 2**20, 1)
    except OSError:
        free_mb = None
    parts = [
        {"part": p.part, "status": p.status.value, "detail": p.detail, "last_error": p.last_error, "updated_at": p.updated_at}
        for p in read_all(conn)
    ]
    offset = server_offset_s(conn)
    return {
        "queue_depth": depth,
        "oldest_unsent_age_s": round(age, 1) if age is not None else None,
        "clock_offset_s": round(offset, 3) if offset is not None else None,
        "clock_state": str(clock_state.state()),
        "versions": {
            "presensi": __version__,
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "os": platform.platform(terse=True),
        },
        "disk_free_mb": free_mb,
        "temperature_c": temperature_c(),
        "roster_version": get_cursor(conn, ROSTER_CURSOR),
        "faults": [{"part": p["part"], "status": p["status"], "detail": p["detail"]} for p in parts if p["status"] != Health.OK],
        "parts": parts,
    }
