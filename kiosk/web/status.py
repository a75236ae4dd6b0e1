"""Read-only facts from the database that both the screen and the maintenance page show."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from core.config import FaceConfig
from core.errors import PresensiError
from core.health import STALE_AFTER, Health
from core.store import events
from core.store.acknowledgements import last_cursor_move
from core.store.health import part_report
from core.store.punches import head_seq
from core.store.roster import get_employee
from sync.health import unsent


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
    """Punches the central server has not acknowledged (``sync.health.unsent``, the same figure
    ``sync status`` and ``doctor`` give). Read-only."""
    last_seq = head_seq(conn)
    pending = unsent(conn, now)
    online: bool | None = None
    row = part_report(conn, "sync")
    if row is not None:
        fresh = now - datetime.fromisoformat(row["updated_at"]) <= STALE_AFTER
        online = fresh and row["status"] == Health.OK.value
    return SyncState(
        last_seq,
        pending.acked_seq,
        pending.count,
        pending.oldest_instant,
        pending.oldest_age_s,
        last_cursor_move(conn),
        online,
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
    row = events.active_event(conn)
    return ActiveEvent(**row) if row else None


def employee_name(conn: sqlite3.Connection, employee_id: str) -> str | None:
    employee = get_employee(conn, employee_id)
    return employee.name if employee else None


@dataclass(frozen=True)
class FaceGallery:
    """The face gallery as the dashboard shows it: the active embedder, how many active employees
    it can recognise, how many it cannot (and of those, how many need re-enrolment because their
    templates are another embedder's), and the lookalike pairs (card then face)."""

    embedder: str
    enabled: bool
    active: int
    with_template: int
    without_template: int
    other_embedder_only: int
    lookalike_pairs: int
    lookalikes: tuple[str, ...] = ()  # "NIP-A ~ NIP-B (0.31)", nearest first, at most ten


def face_gallery(conn: sqlite3.Connection, face: FaceConfig) -> FaceGallery:
    """Read-only; the embedder's id is the model file's hash (cached), no model is loaded."""
    # late: the face code (cv2, numpy) loads only on a unit that shows face figures
    from core.store.roster import lookalikes, template_coverage
    from core.templates.embedder_ids import embedder_id
    from kiosk.face.embedders import embedder_label

    try:
        embedder = embedder_id(face)
    except PresensiError:
        return FaceGallery(embedder_label(face), face.enabled, 0, 0, 0, 0, 0)
    coverage = template_coverage(conn, embedder)
    pairs = lookalikes(conn, embedder)
    return FaceGallery(
        f"{embedder_label(face)} ({embedder[:12]})",
        face.enabled,
        coverage.active,
        coverage.with_template,
        coverage.without_template,
        coverage.other_embedder_only,
        len(pairs),
        tuple(f"{p.employee_id} ~ {p.other_id} ({p.distance:.2f})" for p in pairs[:10]),
    )
