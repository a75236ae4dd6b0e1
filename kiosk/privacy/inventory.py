"""What personal data this unit holds right now, by counts (``presensi privacy status``): the
answer to a data protection officer's first question, read from the unit itself. Read-only;
never reads a template's contents."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import KioskConfig
from core.privacy.seal import Sealer
from core.store.accounts import count_accounts
from core.store.audit import count_entries
from core.store.cards import count_cards
from core.store.evidence import count_photos
from core.store.punches import count_punches
from core.store.roster import count_employees
from core.store.sync_state import get_cursor
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


def take(conn: sqlite3.Connection, config: KioskConfig, sealer: Sealer | None, key: str) -> Inventory:
    """Count what is stored. Read-only."""
    acked = get_cursor(conn, "presensi_v1")
    return Inventory(
        key=key,
        employees_active=count_employees(conn, active=True),
        employees_inactive=count_employees(conn, active=False),
        cards=count_cards(conn),
        templates=census(conn, sealer),
        punches=count_punches(conn),
        punches_unacknowledged=count_punches(conn, after_seq=acked),
        evidence_photos=count_photos(conn),
        audit_entries=count_entries(conn),
        web_accounts=count_accounts(conn),
        retention={
            "punches_days_after_acknowledgement": config.store.retention_days,
            "evidence_photos": config.privacy.evidence_photos,
            "evidence_days_after_acknowledgement": config.privacy.evidence_days,
        },
    )
