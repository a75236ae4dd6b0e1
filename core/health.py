"""Health of each part of the unit, shared between processes through the database.

Every service reports its parts (``report``); the maintenance page, the kiosk screen, doctor
and the sync heartbeat read them (``read_all``). Details and errors are plain language for a
technician; metrics are numbers only. Never put biometric data or secrets here.
"""

from __future__ import annotations

import enum
import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core.store.tx import write_transaction


class Health(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class PartHealth:
    part: str
    status: Health
    detail: str
    last_error: str | None
    last_error_at: str | None
    metrics: Mapping[str, float]
    process: str
    updated_at: str


def report(
    conn: sqlite3.Connection,
    part: str,
    status: Health,
    detail: str,
    *,
    now: datetime,
    error: str | None = None,
    metrics: Mapping[str, float] | None = None,
) -> None:
    """Record the current health of ``part``; an ``error`` is kept as its last error until the next one."""
    stamp = now.isoformat(timespec="seconds")
    with write_transaction(conn, f"reporting health of {part}"):
        conn.execute(
            """INSERT INTO health (part, status, detail, last_error, last_error_at, metrics, process, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(part) DO UPDATE SET status = excluded.status, detail = excluded.detail,
                 last_error = COALESCE(excluded.last_error, health.last_error),
                 last_error_at = COALESCE(excluded.last_error_at, health.last_error_at),
                 metrics = excluded.metrics, process = excluded.process, updated_at = excluded.updated_at""",
            (
                part,
                Health(status).value,
                detail,
                error,
                stamp if error else None,
                json.dumps(dict(metrics or {})),
                f"{os.getpid()}",
                stamp,
            ),
        )


def read_all(conn: sqlite3.Connection) -> list[PartHealth]:
    """Every part's last report, by name. Read-only."""
    rows = conn.execute("SELECT * FROM health ORDER BY part").fetchall()
    return [
        PartHealth(
            part=r["part"],
            status=Health(r["status"]),
            detail=r["detail"],
            last_error=r["last_error"],
            last_error_at=r["last_error_at"],
            metrics=json.loads(r["metrics"]),
            process=r["process"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]
