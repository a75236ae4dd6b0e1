"""Tables of the back office (issue 25): attendance days and their versions, keterangan with
their documents, pembatalan kehadiran, back-office accounts and sessions, and the audit log.

Part of :data:`sync.server.storage.SCHEMA` (``{serial}`` is the dialect's auto-increment key;
braces are doubled for ``str.format``). Instants are RFC 3339 UTC text; days are ``YYYY-MM-DD``
in the office's local calendar.
"""

BACKOFFICE_SCHEMA = """
CREATE INDEX IF NOT EXISTS punches_employee_instant ON punches(employee_id, instant);
CREATE TABLE IF NOT EXISTS attendance_days (
    employee_id TEXT NOT NULL,
    day TEXT NOT NULL,
    unit_code TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    late_min BIGINT NOT NULL DEFAULT 0,
    early_min BIGINT NOT NULL DEFAULT 0,
    overtime_min BIGINT NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (employee_id, day)
);
CREATE INDEX IF NOT EXISTS attendance_days_unit_day ON attendance_days(unit_code, day);
CREATE INDEX IF NOT EXISTS attendance_days_day ON attendance_days(day);
CREATE TABLE IF NOT EXISTS attendance_day_versions (
    employee_id TEXT NOT NULL,
    day TEXT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (employee_id, day, version)
);
CREATE TABLE IF NOT EXISTS keterangan (
    id {serial},
    employee_id TEXT NOT NULL,
    code TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    doc_name TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    document BYTEA NOT NULL,
    state TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS keterangan_employee ON keterangan(employee_id, first_day);
CREATE TABLE IF NOT EXISTS pembatalan (
    id {serial},
    employee_id TEXT NOT NULL,
    day TEXT NOT NULL,
    reason TEXT NOT NULL,
    witnesses TEXT NOT NULL,
    doc_name TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    document BYTEA NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pembatalan_employee ON pembatalan(employee_id, day);
CREATE TABLE IF NOT EXISTS backoffice_users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_code TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS backoffice_sessions (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS backoffice_failures (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    until_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS backoffice_audit (
    id {serial},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"""
