"""Retention: the unit keeps personal data only as long as it needs it.

- A punch is pruned once **every** delivery cursor (the central server's ``presensi_v1`` and each
  ``[[targets]]``) acknowledged it **and** it is older than ``store.retention_days``. Pruning
  moves the chain's signed base, so what remains still verifies.
- An evidence photo (off by default) is deleted ``privacy.evidence_days`` after its punch was
  acknowledged — or with the punch, whichever comes first.
- Enrolment photos are never stored at all.
- Export files the maintenance page leaves in ``<data dir>/exports`` (CSV with names, bundles)
  are deleted ``EXPORT_KEEP_DAYS`` after they were made: they are meant to be downloaded or
  copied to a flash disk, not kept on the unit.

``enforce`` is run daily (``presensi retention``, from a systemd timer) and reports what it
removed; the audit log records the counts.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.store import audit
from core.store.acknowledgements import acknowledged_by
from core.store.evidence import expire_photos
from core.store.punches import PunchStore, format_instant
from core.store.sync_state import get_cursor

log = logging.getLogger(__name__)

CENTRAL_CURSOR = "presensi_v1"
EXPORT_KEEP_DAYS = 7


@dataclass(frozen=True)
class RetentionReport:
    punches_pruned: int
    pruned_through_seq: int
    evidence_deleted: int
    acknowledged_seq: int  # the lowest acknowledgement over all delivery cursors

    def summary(self) -> str:
        return (
            f"{self.punches_pruned} acknowledged punches pruned (through seq {self.pruned_through_seq}), "
            f"{self.evidence_deleted} evidence photos deleted; acknowledged through seq {self.acknowledged_seq}"
        )


def acknowledged_seq(conn: sqlite3.Connection, cursors: Sequence[str]) -> int:
    """The highest seq that every named delivery cursor acknowledged (0 if any has none). Read-only."""
    if not cursors:
        return 0
    values = []
    for name in cursors:
        values.append(get_cursor(conn, name))
    return min(values)


def enforce(
    store: PunchStore,
    *,
    now: datetime,
    retention_days: int,
    evidence_days: int,
    cursors: Sequence[str] = (CENTRAL_CURSOR,),
    actor: str = "retention",
) -> RetentionReport:
    conn = store.conn
    acked = acknowledged_seq(conn, cursors)
    # by the time of acknowledgement (docs/privacy.md: 90 days after it), never by a punch's own
    # instant, which a wrong clock can put years back
    through = min(acked, acknowledged_by(conn, cursors, now - timedelta(days=retention_days)))
    # Evidence photos go evidence_days after their punch was acknowledged: this (daily) job
    # stamps each newly acknowledged photo, and deletes those stamped long enough ago.
    stamp = format_instant(now)
    evidence_cutoff = format_instant(now - timedelta(days=evidence_days))
    deleted = expire_photos(conn, stamp=stamp, acked_seq=acked, cutoff=evidence_cutoff, through_seq=through)
    pruned = store.prune_through(through) if through else 0
    report = RetentionReport(pruned, through if pruned else 0, deleted, acked)
    if pruned or deleted:
        audit.record(conn, actor, "retention.enforce", now=now, punches=pruned, through_seq=through, evidence=deleted)
    log.info("retention: %s", report.summary())
    return report


def prune_exports(directory: Path, *, now: datetime, keep_days: int = EXPORT_KEEP_DAYS) -> int:
    """Delete export files in ``directory`` made more than ``keep_days`` ago; returns how many."""
    if not directory.is_dir():
        return 0
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    removed = 0
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError as exc:
            log.warning("cannot delete the old export %s: %s", path.name, exc.strerror)
    if removed:
        log.info("retention: %d export files older than %d days deleted", removed, keep_days)
    return removed
