"""When the delivery cursors acknowledged what (``cursor_history``, kept by triggers on
``sync_cursors``): retention prunes by the time of acknowledgement, not by a punch's instant,
which a wrong clock can put anywhere (a punch stamped 2019 must not take minutes-old punches with
it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime


def acknowledged_by(conn: sqlite3.Connection, targets: Sequence[str], moment: datetime) -> int:
    """The highest sequence number every one of ``targets`` had acknowledged at or before
    ``moment`` (0 when any had none). Read-only."""
    if not targets:
        return 0
    reached = []
    for target in targets:
        best = 0
        for seq, at in conn.execute("SELECT acked_seq, acked_at FROM cursor_history WHERE target = ?", (target,)):
            when = _instant(str(at))
            if when is not None and int(seq) > best and when <= moment:
                best = int(seq)
        reached.append(best)
    return min(reached)


def _instant(text: str) -> datetime | None:
    """A cursor's stamp (RFC 3339, ``Z`` or an offset; naive counts as UTC); None if unreadable,
    which keeps the punches (never a reason to prune)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def last_cursor_move(conn: sqlite3.Connection) -> str | None:
    """When any delivery cursor (``sync_cursors``) last moved, or None. Read-only."""
    row = conn.execute("SELECT max(updated_at) AS at FROM sync_cursors").fetchone()
    return str(row["at"]) if row and row["at"] is not None else None
