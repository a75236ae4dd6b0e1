"""The audit log: who did what, and when, on the unit's maintenance page (append-only).

Rows are only ever inserted (triggers in migration ``0003_web_accounts`` refuse UPDATE and
DELETE). ``detail`` is a small JSON object of plain facts (an employee id, a card UID, a file
name); keys that could carry secrets or biometric data are refused outright, so a careless
caller fails loudly in tests instead of leaking a password into the log.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.store.tx import write_transaction

#: Parts of a detail key that must never reach the audit log.
FORBIDDEN_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "setup_code",
    "key",
    "encoding",
    "template",
    "image",
    "photo",
    "frame",
)

#: Detail keys that name a person or their card: shown to Admin PD only (a technician services
#: the unit and needs to know what was done, not to whom).
PERSONAL_KEYS = frozenset({"employee_id", "uid", "nip", "name", "punch", "owner"})

#: What a technician sees in place of a personal value.
HIDDEN = "(disembunyikan / hidden)"

#: Detail values longer than this are cut: the log records facts, not documents.
MAX_VALUE_CHARS = 300


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]


def _clean(detail: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in detail.items():
        lowered = name.lower()
        if any(part in lowered for part in FORBIDDEN_KEY_PARTS):
            raise ValueError(f"audit detail key {name!r} may carry a secret or biometric data; log a fact about it instead")
        if isinstance(value, str | int | float | bool) or value is None:
            out[name] = value[:MAX_VALUE_CHARS] if isinstance(value, str) else value
        else:
            out[name] = str(value)[:MAX_VALUE_CHARS]
    return out


def without_personal(entry: AuditEntry) -> AuditEntry:
    """The entry with the values of :data:`PERSONAL_KEYS` hidden."""
    detail = {k: (HIDDEN if k in PERSONAL_KEYS and v is not None else v) for k, v in entry.detail.items()}
    return AuditEntry(entry.id, entry.at, entry.actor, entry.action, detail)


def record(conn: sqlite3.Connection, actor: str, action: str, *, now: datetime, **detail: Any) -> None:
    """Append one entry (committed before returning). ``action`` is a short dotted name such as
    ``card.register``; ``detail`` holds plain facts, never secrets or biometric data."""
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    text = json.dumps(_clean(detail), ensure_ascii=False, sort_keys=True)
    with write_transaction(conn, f"writing the audit log ({action})"):
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
            (now.isoformat(timespec="seconds"), actor[:80], action[:80], text),
        )


def entries(
    conn: sqlite3.Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first, optionally filtered by actor and by action prefix. Read-only."""
    clauses, params = [], []
    if actor:
        clauses.append("actor = ?")
        params.append(actor)
    if action:
        clauses.append("action LIKE ? ESCAPE '\\'")
        params.append(action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if before_id is not None:
        clauses.append("id < ?")
        params.append(str(before_id))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT id, at, actor, action, detail FROM audit_log {where} ORDER BY id DESC LIMIT ?",  # noqa: S608 - fixed clauses
        (*params, int(limit)),
    ).fetchall()
    return [AuditEntry(r["id"], r["at"], r["actor"], r["action"], json.loads(r["detail"])) for r in rows]


def count_entries(conn: sqlite3.Connection) -> int:
    """How many entries the audit log keeps. Read-only."""
    return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
