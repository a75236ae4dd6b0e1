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
from datetime import datetime, timedelta

from core.store import health as health_table


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
    stale: bool = False  # no report within STALE_AFTER of the ``now`` it was read at


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
    health_table.put_report(
        conn,
        part,
        status=Health(status).value,
        detail=detail,
        error=error,
        error_at=stamp if error else None,
        metrics_json=json.dumps(dict(metrics or {})),
        process=f"{os.getpid()}",
        updated_at=stamp,
    )


#: A part that has not reported for this long is shown as stale (its process may be down).
STALE_AFTER = timedelta(minutes=3)


def read_all(conn: sqlite3.Connection, now: datetime | None = None) -> list[PartHealth]:
    """Every part's last report, by name; with ``now``, each says whether it is stale. Read-only."""
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
            stale=now is not None and now - datetime.fromisoformat(r["updated_at"]) > STALE_AFTER,
        )
        for r in health_table.all_reports(conn)
    ]
