"""What personal data this unit holds right now, by counts (``presensi privacy status``): the
answer to a data protection officer's first question, read from the unit itself. Read-only;
never reads a template's contents."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import KioskConfig
from core.privacy.seal import Sealer
from core.store.vault import TemplateCensus, census


@dataclass(frozen=True)
class Inventory:
    key: str  # provider and key id, or why it cannot be read
    employees_active: int
    employees_inactive: int
    cards: int
    templates: list[TemplateCensus]
    punches: int
    punches_unacknowledged: int
    evidence_photos: int
    audit_entries: int
    web_accounts: int
    retention: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(conn: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def take(conn: sqlite3.Connection, config: KioskConfig, sealer: Sealer | None, key: str) -> Inventory:
    """Count what is stored. Read-only."""
    acked = conn.execute("SELECT acked_seq FROM sync_cursors WHERE target = 'presensi_v1'").fetchone()
    return Inventory(
        key=key,
        employees_active=_count(conn, "SELECT count(*) FROM employees WHERE active = 1"),
        employees_inactive=_count(conn, "SELECT count(*) FROM employees WHERE active = 0"),
        cards=_count(conn, "SELECT count(*) FROM cards"),
        templates=census(conn, sealer),
        punches=_count(conn, "SELECT count(*) FROM punches"),
        punches_unacknowledged=_count(conn, "SELECT count(*) FROM punches WHERE seq > ?", int(acked[0]) if acked else 0),
        evidence_photos=_count(conn, "SELECT count(*) FROM evidence_photos"),
        audit_entries=_count(conn, "SELECT count(*) FROM audit_log"),
        web_accounts=_count(conn, "SELECT count(*) FROM web_accounts"),
        retention={
            "punches_days_after_acknowledgement": config.store.retention_days,
            "evidence_photos": config.privacy.evidence_photos,
            "evidence_days_after_acknowledgement": config.privacy.evidence_days,
        },
    )
