"""Finger templates in the database: sealing, the slot ↔ employee map, the bridge's settings.

Every template passes through :func:`seal_template` on its way into ``finger_templates`` and
through :func:`open_template` on its way out, so how templates are protected at rest is decided
in one place (plain today unless a :class:`~core.privacy.Sealer` is given). Templates never
reach a log line.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from core.errors import StorageError
from core.privacy.seal import SCHEME
from core.store.punches import format_instant
from core.store.tx import write_transaction

if TYPE_CHECKING:
    from core.privacy.seal import Sealer

log = logging.getLogger(__name__)

PLAIN = "plain"
FEEDBACK_KEEP = 200


def _context(employee_id: str, finger: int, family: str) -> str:
    return f"finger_templates:{employee_id}:{finger}:{family}"


def seal_template(
    raw: bytes, *, employee_id: str, finger: int, family: str, sealer: Sealer | None = None
) -> tuple[bytes, str, str]:
    """(stored bytes, scheme, sha256 hex of the raw bytes) for a template about to be stored."""
    digest = hashlib.sha256(raw).hexdigest()
    if sealer is None:
        return raw, PLAIN, digest

    return sealer.seal(raw, _context(employee_id, finger, family)), SCHEME, digest


def open_template(
    stored: bytes, scheme: str, *, employee_id: str, finger: int, family: str, sealer: Sealer | None = None
) -> bytes:
    """The raw module bytes of a stored template."""
    if scheme == PLAIN:
        return bytes(stored)
    if sealer is None:
        raise StorageError(f"a finger template is sealed ({scheme}) but no template key is configured; check [privacy]")
    return sealer.open(bytes(stored), _context(employee_id, finger, family))


def count_finger_templates(conn: sqlite3.Connection) -> int:
    """How many finger templates are stored, of any employee and family (``finger_templates``). Read-only."""
    return int(conn.execute("SELECT count(*) FROM finger_templates").fetchone()[0])


def template_headers(conn: sqlite3.Connection, family: str) -> list[tuple[int, bytes, str]]:
    """(id, the first 9 stored bytes, scheme) of every ``finger_templates`` row of ``family``:
    enough to tell which key sealed it, never the template itself. Read-only."""
    rows = conn.execute("SELECT id, substr(template, 1, 9), scheme FROM finger_templates WHERE family = ?", (family,))
    return [(int(r[0]), bytes(r[1]), str(r[2])) for r in rows]


def put_seeded_template(
    conn: sqlite3.Connection,
    employee_id: str,
    finger: int,
    family: str,
    *,
    stored: bytes,
    scheme: str,
    digest: str,
    now: datetime,
) -> int:
    """Store a (sealed) template made without an enrolment, as the unit's own (``source =
    'local'``), replacing the bytes held for that finger and family (their source and date
    stay); returns its id. One transaction (``finger_templates``)."""
    with write_transaction(conn, "seeding a simulated finger template"):
        conn.execute(
            "INSERT INTO finger_templates (employee_id, finger, family, template, scheme, digest, source, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'local', ?) ON CONFLICT(employee_id, finger, family) DO UPDATE SET "
            "template = excluded.template, scheme = excluded.scheme, digest = excluded.digest",
            (employee_id, finger, family, stored, scheme, digest, format_instant(now)),
        )
        row = conn.execute(
            "SELECT id FROM finger_templates WHERE employee_id = ? AND finger = ? AND family = ?", (employee_id, finger, family)
        ).fetchone()
    return int(row["id"])


@dataclass(frozen=True)
class TemplateRow:
    id: int
    employee_id: str
    finger: int
    digest: str


def last_feedback_id(conn: sqlite3.Connection) -> int:
    """The id of the newest ``finger_feedback`` line (0 when none). Read-only."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM finger_feedback").fetchone()[0])


def feedback_after(conn: sqlite3.Connection, after_id: int, limit: int = 50) -> list[sqlite3.Row]:
    """``finger_feedback`` lines after ``after_id``, oldest first: id, kind, employee_id, text.
    Read-only."""
    rows: list[sqlite3.Row] = conn.execute(
        "SELECT id, kind, employee_id, text FROM finger_feedback WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    ).fetchall()
    return rows


def last_feedback_text(conn: sqlite3.Connection) -> str:
    """The newest ``finger_feedback`` line's text ("" when none). Read-only."""
    row = conn.execute("SELECT text FROM finger_feedback ORDER BY id DESC LIMIT 1").fetchone()
    return str(row[0]) if row else ""


def count_feedback(conn: sqlite3.Connection) -> int:
    """How many ``finger_feedback`` lines are kept. Read-only."""
    return int(conn.execute("SELECT count(*) FROM finger_feedback").fetchone()[0])


def slot_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many ``finger_slots`` each module holds, by module. Read-only."""
    rows = conn.execute("SELECT s.module, count(*) AS n FROM finger_slots s GROUP BY s.module ORDER BY s.module").fetchall()
    return {str(r["module"]): int(r["n"]) for r in rows}


class FingerDB:
    """The bridge's view of the database (its own connection; not shared across threads)."""

    def __init__(self, conn: sqlite3.Connection, *, sealer: Sealer | None = None) -> None:
        self.conn = conn
        self.sealer = sealer

    def __repr__(self) -> str:
        return f"FingerDB(sealed={'yes' if self.sealer else 'no'})"

    # -- templates (read-only) -------------------------------------------------------------

    def desired(self, family: str) -> dict[int, TemplateRow]:
        """Templates of active employees for ``family``: what every module should hold. Read-only."""
        rows = self.conn.execute(
            "SELECT t.id, t.employee_id, t.finger, t.digest FROM finger_templates t "
            "JOIN employees e ON e.id = t.employee_id WHERE e.active = 1 AND t.family = ? ORDER BY t.id",
            (family,),
        )
        return {r["id"]: TemplateRow(r["id"], r["employee_id"], r["finger"], r["digest"]) for r in rows}

    def signature(self, family: str) -> str:
        """Changes whenever :meth:`desired` would. Read-only."""
        h = hashlib.sha256()
        for row in self.desired(family).values():
            h.update(f"{row.id}:{row.digest};".encode())
        return h.hexdigest()

    def template_bytes(self, template_id: int) -> bytes:
        row = self.conn.execute(
            "SELECT employee_id, finger, family, template, scheme FROM finger_templates WHERE id = ?", (template_id,)
        ).fetchone()
        if row is None:
            raise StorageError(f"finger template {template_id} is gone")
        return open_template(
            row["template"],
            row["scheme"],
            employee_id=row["employee_id"],
            finger=row["finger"],
            family=row["family"],
            sealer=self.sealer,
        )

    def template_for(self, employee_id: str, finger: int, family: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM finger_templates WHERE employee_id = ? AND finger = ? AND family = ?", (employee_id, finger, family)
        ).fetchone()
        return int(row["id"]) if row else None

    # -- slots -------------------------------------------------------------------------------

    def slots(self, module: str) -> dict[int, int]:
        """slot → template id for ``module``. Read-only."""
        rows = self.conn.execute("SELECT slot, template_id FROM finger_slots WHERE module = ?", (module,))
        return {int(r["slot"]): int(r["template_id"]) for r in rows}

    def employee_for_slot(self, module: str, slot: int) -> str | None:
        """The active employee whose template sits in ``slot``. Read-only."""
        row = self.conn.execute(
            "SELECT e.id FROM finger_slots s JOIN finger_templates t ON t.id = s.template_id "
            "JOIN employees e ON e.id = t.employee_id WHERE s.module = ? AND s.slot = ? AND e.active = 1",
            (module, slot),
        ).fetchone()
        return str(row["id"]) if row else None

    def assign(self, module: str, slot: int, template_id: int) -> None:
        with write_transaction(self.conn, "recording a fingerprint slot"):
            self.conn.execute(
                "INSERT INTO finger_slots (module, slot, template_id) VALUES (?, ?, ?) "
                "ON CONFLICT(module, slot) DO UPDATE SET template_id = excluded.template_id",
                (module, slot, template_id),
            )

    def unassign(self, module: str, slot: int) -> None:
        with write_transaction(self.conn, "forgetting a fingerprint slot"):
            self.conn.execute("DELETE FROM finger_slots WHERE module = ? AND slot = ?", (module, slot))

    def save_enrolled(
        self, employee_id: str, finger: int, family: str, raw: bytes, *, module: str, slot: int, now: datetime
    ) -> int:
        """Store a template read back from the module after enrolment (``source = 'local'``, for
        sync to carry to the server) and map ``slot`` to it, in one transaction."""
        stored, scheme, digest = seal_template(raw, employee_id=employee_id, finger=finger, family=family, sealer=self.sealer)
        with write_transaction(self.conn, "saving an enrolled fingerprint"):
            self.conn.execute(
                "INSERT INTO finger_templates (employee_id, finger, family, template, scheme, digest, source, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'local', ?) ON CONFLICT(employee_id, finger, family) DO UPDATE SET "
                "template = excluded.template, scheme = excluded.scheme, digest = excluded.digest, source = 'local', "
                "created_at = excluded.created_at",
                (employee_id, finger, family, stored, scheme, digest, format_instant(now)),
            )
            template_id = int(
                self.conn.execute(
                    "SELECT id FROM finger_templates WHERE employee_id = ? AND finger = ? AND family = ?",
                    (employee_id, finger, family),
                ).fetchone()["id"]
            )
            self.conn.execute("DELETE FROM finger_slots WHERE template_id = ? AND module = ?", (template_id, module))
            self.conn.execute(
                "INSERT INTO finger_slots (module, slot, template_id) VALUES (?, ?, ?) "
                "ON CONFLICT(module, slot) DO UPDATE SET template_id = excluded.template_id",
                (module, slot, template_id),
            )
        return template_id

    # -- employees, settings, feedback -------------------------------------------------------

    def employee_name(self, employee_id: str) -> str | None:
        row = self.conn.execute("SELECT name FROM employees WHERE id = ? AND active = 1", (employee_id,)).fetchone()
        return str(row["name"]) if row else None

    def setting(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else None

    def put_setting(self, key: str, value: str, now: datetime) -> None:
        with write_transaction(self.conn, f"saving setting {key}"):
            self.conn.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, format_instant(now)),
            )

    def feedback(
        self, kind: str, text: str, now: datetime, *, employee_id: str | None = None, punch_seq: int | None = None
    ) -> None:
        """A line for the kiosk screen (Bahasa Indonesia), read from ``finger_feedback``."""
        with write_transaction(self.conn, "recording fingerprint feedback"):
            self.conn.execute(
                "INSERT INTO finger_feedback (at, kind, employee_id, punch_seq, text) VALUES (?, ?, ?, ?, ?)",
                (format_instant(now), kind, employee_id, punch_seq, text),
            )
            self.conn.execute(
                "DELETE FROM finger_feedback WHERE id <= (SELECT max(id) FROM finger_feedback) - ?", (FEEDBACK_KEEP,)
            )

    def data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])
