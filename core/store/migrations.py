"""Named, transactional migrations, recorded in the database's ``_migrations`` table.

A migration is applied once, inside one transaction with its record, so a power cut leaves the
database either before or after it. Add new ones at the end; never edit an applied one.
"""

from __future__ import annotations

import logging
import sqlite3

from core.store.tx import write_transaction

log = logging.getLogger(__name__)

CORE = """
CREATE TABLE device (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,            -- Ed25519, raw 32 bytes, hex
    created_at TEXT NOT NULL,
    server_url TEXT,
    provisioned_at TEXT
);
CREATE TABLE employees (
    id TEXT PRIMARY KEY,                  -- NIP or staff id
    name TEXT NOT NULL,
    unit_code TEXT NOT NULL DEFAULT '',
    work_code TEXT NOT NULL DEFAULT '',
    card_policy TEXT,                     -- NULL: the unit's policy
    active INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL DEFAULT 'local', -- local | roster
    updated_at TEXT NOT NULL
);
CREATE TABLE face_templates (
    id INTEGER PRIMARY KEY,
    employee_id TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    encoding BLOB NOT NULL,               -- sealed 128 x float32 (see core.privacy)
    scheme TEXT NOT NULL DEFAULT 'plain', -- how ``encoding`` is sealed
    quality REAL,
    source TEXT NOT NULL DEFAULT 'local',
    created_at TEXT NOT NULL
);
CREATE INDEX face_templates_employee ON face_templates(employee_id);
CREATE TABLE cards (
    uid TEXT PRIMARY KEY,                 -- normalised hex, upper case
    employee_id TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    source TEXT NOT NULL DEFAULT 'local',
    created_at TEXT NOT NULL
);
CREATE TABLE finger_templates (
    id INTEGER PRIMARY KEY,
    employee_id TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    finger INTEGER NOT NULL DEFAULT 0,    -- 0..9
    family TEXT NOT NULL,                 -- zhiantec | gt521
    template BLOB NOT NULL,               -- sealed raw module bytes
    scheme TEXT NOT NULL DEFAULT 'plain',
    digest TEXT NOT NULL,                 -- sha256 of the raw bytes, for reconciliation
    source TEXT NOT NULL DEFAULT 'local',
    created_at TEXT NOT NULL,
    UNIQUE (employee_id, finger, family)
);
CREATE TABLE finger_slots (
    module TEXT NOT NULL,                 -- module identity (family:port or serial)
    slot INTEGER NOT NULL,
    template_id INTEGER NOT NULL REFERENCES finger_templates(id) ON DELETE CASCADE,
    PRIMARY KEY (module, slot)
);
CREATE TABLE punches (
    seq INTEGER PRIMARY KEY,              -- per device, from 1, no gaps
    id TEXT NOT NULL UNIQUE,              -- UUIDv7
    device_id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    instant TEXT NOT NULL,                -- RFC 3339 UTC, milliseconds, 'Z'
    zone TEXT NOT NULL,
    method TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    event_id TEXT,
    liveness_verdict TEXT,
    liveness_scores TEXT NOT NULL,        -- canonical JSON object name -> decimal string
    match_distance TEXT,                  -- decimal string
    clock_state TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    mono_ns INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX punches_employee_instant ON punches(employee_id, instant);
CREATE INDEX punches_instant ON punches(instant);
CREATE TABLE chain_head (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    device_id TEXT NOT NULL,
    base_seq INTEGER NOT NULL,            -- last pruned seq (0: nothing pruned)
    base_hash TEXT NOT NULL,
    seq INTEGER NOT NULL,                 -- last recorded seq
    hash TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                   -- apel | senam | tausiyah | lainnya
    title TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    origin TEXT NOT NULL,                 -- server | local
    pack TEXT NOT NULL,                   -- the pack as JSON
    active INTEGER NOT NULL DEFAULT 0,
    loaded_at TEXT NOT NULL
);
CREATE TABLE sync_cursors (
    target TEXT PRIMARY KEY,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE time_anchors (
    id INTEGER PRIMARY KEY,
    boot_id TEXT NOT NULL,
    mono_ns INTEGER NOT NULL,
    true_utc TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
"""

HEALTH = """
CREATE TABLE health (
    part TEXT PRIMARY KEY,                -- camera, face, liveness, card_reader, fingerprint, sync, …
    status TEXT NOT NULL,                 -- ok | warn | fail
    detail TEXT NOT NULL DEFAULT '',
    last_error TEXT,
    last_error_at TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',   -- JSON numbers only (fps, queue depth, …)
    process TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
"""

WEB_ACCOUNTS = """
CREATE TABLE web_accounts (
    username TEXT PRIMARY KEY,
    roles TEXT NOT NULL,                  -- comma-separated: technician, admin
    password_hash TEXT NOT NULL,          -- scrypt$n$r$p$salt$hash (base64)
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,          -- sha256 of the cookie value, never the value itself
    username TEXT NOT NULL REFERENCES web_accounts(username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE web_login_failures (
    key TEXT PRIMARY KEY,                 -- 'user:<name>' or 'addr:<ip>'
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""

CORRECTIONS = """
CREATE TABLE punch_corrections (
    punch_id TEXT PRIMARY KEY,            -- the punch corrected (never rewritten itself)
    seq INTEGER NOT NULL,
    corrected_instant TEXT NOT NULL,      -- RFC 3339 UTC, milliseconds
    anchor_id INTEGER NOT NULL REFERENCES time_anchors(id),
    body TEXT NOT NULL,                   -- the canonical JSON that is signed
    signature TEXT NOT NULL,              -- Ed25519 by the device key over body
    created_at TEXT NOT NULL
);
CREATE INDEX time_anchors_boot ON time_anchors(boot_id);
"""

SCHEDULE_EVENTS = """
CREATE TABLE work_codes (
    code TEXT PRIMARY KEY,                -- e.g. (GLOBAL) 5 HARI (NON SEKOLAH)
    definition TEXT NOT NULL,             -- JSON, the format of core/schedule/workcodes.py
    source TEXT NOT NULL DEFAULT 'roster',
    version INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE TABLE holidays (
    day TEXT PRIMARY KEY,                 -- YYYY-MM-DD
    name TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT 'nasional', -- nasional | cuti_bersama | daerah
    source TEXT NOT NULL DEFAULT 'roster',
    updated_at TEXT NOT NULL
);
CREATE TABLE event_participants (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    employee_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    office TEXT NOT NULL DEFAULT '',      -- unit kerja (OPD) code
    unit TEXT NOT NULL DEFAULT '',        -- the event unit that serves them (I, II, … IX)
    PRIMARY KEY (event_id, employee_id)
);
CREATE INDEX punches_event_employee ON punches(event_id, employee_id);
"""

ZK_UIDS = """
CREATE TABLE zk_uids (
    employee_id TEXT PRIMARY KEY,         -- stable ZK user index for port-4370 clients
    uid INTEGER NOT NULL UNIQUE CHECK (uid BETWEEN 1 AND 65535)
);
"""

FINGER_BRIDGE = """
CREATE TABLE finger_enrolments (
    id INTEGER PRIMARY KEY,
    employee_id TEXT NOT NULL,
    finger INTEGER NOT NULL DEFAULT 0,    -- 0..9
    state TEXT NOT NULL,                  -- pending | capturing | done | failed | cancelled
    step INTEGER NOT NULL DEFAULT 0,      -- captures taken so far
    message TEXT NOT NULL DEFAULT '',     -- for the maintenance page, Bahasa Indonesia
    template_id INTEGER,
    requested_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX finger_enrolments_state ON finger_enrolments(state);
CREATE TABLE finger_feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- accepted | duplicate | unknown | poor | fault
    employee_id TEXT,
    punch_seq INTEGER,
    text TEXT NOT NULL                    -- for the kiosk screen, Bahasa Indonesia
);
"""

TARGET_REJECTS = """
CREATE TABLE target_rejects (
    target TEXT NOT NULL,                 -- e.g. frappe:hr, adms:old-server
    seq INTEGER NOT NULL,
    punch_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (target, seq)
);
"""

EVIDENCE = """
CREATE TABLE evidence_photos (
    punch_id TEXT PRIMARY KEY,            -- the face punch it shows
    seq INTEGER NOT NULL,
    photo BLOB NOT NULL,                  -- sealed JPEG of the face crop (core.privacy)
    scheme TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acked_at TEXT                         -- when retention first saw its punch acknowledged
);
"""

CORRECTION_DELIVERY = """
ALTER TABLE punch_corrections ADD COLUMN acked_at TEXT;  -- when the server acknowledged it (sync)
CREATE INDEX punch_corrections_unacked ON punch_corrections(seq) WHERE acked_at IS NULL;
"""

CURSOR_HISTORY = """
-- When each delivery cursor reached each sequence number: retention counts its days from the
-- acknowledgement, never from a punch's own (possibly wrong) clock. Kept by triggers, so every
-- writer of sync_cursors is covered; seeded with today's cursors.
CREATE TABLE cursor_history (
    target TEXT NOT NULL,
    acked_seq INTEGER NOT NULL,
    acked_at TEXT NOT NULL,
    PRIMARY KEY (target, acked_seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO cursor_history (target, acked_seq, acked_at) SELECT target, acked_seq, updated_at FROM sync_cursors;
CREATE TRIGGER cursor_history_insert AFTER INSERT ON sync_cursors BEGIN
    INSERT OR IGNORE INTO cursor_history (target, acked_seq, acked_at) VALUES (NEW.target, NEW.acked_seq, NEW.updated_at);
END;
CREATE TRIGGER cursor_history_update AFTER UPDATE OF acked_seq ON sync_cursors WHEN NEW.acked_seq > OLD.acked_seq BEGIN
    INSERT OR IGNORE INTO cursor_history (target, acked_seq, acked_at) VALUES (NEW.target, NEW.acked_seq, NEW.updated_at);
END;
"""

FACE_EMBEDDERS = """
-- Which embedder made each face template (the model file's SHA-256, kiosk.face.embedders): a
-- gallery only holds the active embedder's. Templates made before this migration are dlib's.
ALTER TABLE face_templates ADD COLUMN embedder TEXT NOT NULL
    DEFAULT '55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30';
CREATE INDEX face_templates_embedder ON face_templates(embedder, employee_id);
-- Employees whose templates lie closer than the lookalike distance to another employee's: punched
-- by card then face until re-enrolment separates them (written by the face service on each
-- gallery load; the audit log keeps when each pair appeared and went).
CREATE TABLE face_lookalikes (
    employee_id TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    other_id TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    embedder TEXT NOT NULL,
    distance REAL NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (embedder, employee_id, other_id)
) WITHOUT ROWID;
"""

#: (name, SQL) in order. The name is what the database records. Append only.
MIGRATIONS: list[tuple[str, str]] = [
    ("0001_core", CORE),
    ("0002_health", HEALTH),
    ("0003_web_accounts", WEB_ACCOUNTS),
    ("0004_punch_corrections", CORRECTIONS),
    ("0005_schedule_events", SCHEDULE_EVENTS),
    ("0006_zk4370_uids", ZK_UIDS),
    ("0007_finger_bridge", FINGER_BRIDGE),
    ("0008_target_rejects", TARGET_REJECTS),
    ("0009_evidence_photos", EVIDENCE),
    ("0010_correction_delivery", CORRECTION_DELIVERY),
    ("0011_cursor_history", CURSOR_HISTORY),
    ("0012_face_embedders", FACE_EMBEDDERS),
]


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations this database records, oldest first. Read-only."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").fetchone() is None:
        return []
    return [row["name"] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    done_now = []
    for name, sql in MIGRATIONS:
        with write_transaction(conn, f"applying migration {name}"):
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO _migrations (name) VALUES (?)", (name,))
        log.info("applied migration %s", name)
        done_now.append(name)
    return done_now


def _statements(sql: str) -> list[str]:
    """Split a migration into complete statements (triggers with BEGIN … END included)."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"migration has an incomplete statement: {buf.strip()[:60]}")
    return out
