"""Read-only facts from the database that both the screen and the maintenance page show."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.health import Health, read_all
from kiosk.store.punches import parse_instant

#: A service's health report older than this counts as "not answering".
STALE_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class SyncState:
    last_seq: int
    acked_seq: int
    unsent: int
    oldest_unsent_at: str | None  # RFC 3339 UTC
    oldest_unsent_age_s: float | None
    last_sync_at: str | None
    online: bool | None  # None: no sync service has reported


def sync_state(conn: sqlite3.Connection, now: datetime) -> SyncState:
    """Punches not yet acknowledged by any configured target (the least-advanced cursor). Read-only."""
    head = conn.execute("SELECT seq FROM chain_head").fetchone()
    last_seq = int(head["seq"]) if head else 0
    cursor = conn.execute("SELECT min(acked_seq) AS acked, max(updated_at) AS at FROM sync_cursors").fetchone()
    acked = int(cursor["acked"]) if cursor and cursor["acked"] is not None else 0
    oldest = conn.execute("SELECT instant FROM punches WHERE seq > ? ORDER BY seq LIMIT 1", (acked,)).fetchone()
    unsent = int(conn.execute("SELECT count(*) FROM punches WHERE seq > ?", (acked,)).fetchone()[0])
    age = (now - parse_instant(oldest["instant"])).total_seconds() if oldest else None
    online: bool | None = None
    row = conn.execute("SELECT status, updated_at FROM health WHERE part = 'sync'").fetchone()
    if row is not None:
        fresh = now - datetime.fromisoformat(row["updated_at"]) <= STALE_AFTER
        online = fresh and row["status"] == Health.OK.value
    return SyncState(
        last_seq, acked, unsent, oldest["instant"] if oldest else None, age, cursor["at"] if cursor else None, online
    )


@dataclass(frozen=True)
class ActiveEvent:
    id: str
    kind: str
    title: str
    location: str
    starts_at: str
    ends_at: str


def active_event(conn: sqlite3.Connection) -> ActiveEvent | None:
    """The event the unit is in (event mode), if any. Read-only."""
    row = conn.execute(
        "SELECT id, kind, title, location, starts_at, ends_at FROM events WHERE active = 1 ORDER BY starts_at LIMIT 1"
    ).fetchone()
    return ActiveEvent(**dict(row)) if row else None


@dataclass(frozen=True)
class PartView:
    part: str
    status: str
    detail: str
    last_error: str | None
    last_error_at: str | None
    metrics: dict[str, float]
    updated_at: str
    stale: bool


def parts(conn: sqlite3.Connection, now: datetime) -> list[PartView]:
    """Every part's last health report, with staleness. Read-only."""
    out = []
    for p in read_all(conn):
        stale = now - datetime.fromisoformat(p.updated_at) > STALE_AFTER
        out.append(
            PartView(p.part, p.status.value, p.detail, p.last_error, p.last_error_at, dict(p.metrics), p.updated_at, stale)
        )
    return out


def employee_name(conn: sqlite3.Connection, employee_id: str) -> str | None:
    row = conn.execute("SELECT name FROM employees WHERE id = ?", (employee_id,)).fetchone()
    return str(row["name"]) if row else None
