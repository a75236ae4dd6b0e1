"""The reference server's database: SQLite by default, PostgreSQL by URL, the same SQL on both.

Everything the server knows lives here (devices, punches, nonces, tokens, the roster, its own
signing key), so several server processes can share one PostgreSQL behind a load balancer. Writes
that must not interleave for a device lock its ``devices`` row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises every writer).

SQL is written with ``?`` placeholders and portable types; the PostgreSQL dialect rewrites the
placeholders. No statement contains a literal ``?`` or ``%``.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.errors import StorageError
from sync.server.backoffice_schema import BACKOFFICE_SCHEMA

log = logging.getLogger(__name__)

#: Columns added after a table was first created: (table, column, declaration), added at start
#: to a database that lacks them.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # which embedder made the template (the model file's SHA-256; dlib's before this column)
    ("face_templates", "embedder", "TEXT NOT NULL DEFAULT '55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30'"),
    # the roster version at which the device's scope (its members) last changed
    ("devices", "scope_version", "BIGINT NOT NULL DEFAULT 0"),
    # when punches signed by the device's key first contradicted its stored chain (a cloned unit)
    ("devices", "forked_at", "TEXT"),
    # the office's time zone (WIB, WITA, WIT): its days, cut-offs and pages are in its local time
    ("units", "zone", "TEXT NOT NULL DEFAULT 'Asia/Jakarta'"),
    # the employee's position (Jabatan), a column of the monthly recap (jember-perbup-55-2021.txt, Lampiran II)
    ("employees", "position", "TEXT NOT NULL DEFAULT ''"),
    # when the employee entered the roster (RFC 3339 UTC; '' before this column): no TK before it
    ("employees", "added_at", "TEXT NOT NULL DEFAULT ''"),
)

#: Punch ids declared UNIQUE across all devices before they became unique per device.
GLOBAL_PUNCH_IDS: tuple[tuple[str, str], ...] = (("punches", "id"), ("punch_corrections", "punch_id"))

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS employees (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit_code TEXT NOT NULL DEFAULT '',
    work_code TEXT NOT NULL DEFAULT '',
    card_policy TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    version BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS face_templates (
    id {serial},
    employee_id TEXT NOT NULL,
    encoding TEXT NOT NULL,
    scheme TEXT NOT NULL DEFAULT 'plain',
    quality DOUBLE PRECISION,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS face_templates_employee ON face_templates(employee_id);
CREATE TABLE IF NOT EXISTS device_members (
    device_id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    PRIMARY KEY (device_id, employee_id)
);
CREATE TABLE IF NOT EXISTS cards (
    uid TEXT PRIMARY KEY,
    employee_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS finger_templates (
    employee_id TEXT NOT NULL,
    finger INTEGER NOT NULL,
    family TEXT NOT NULL,
    template TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (employee_id, finger, family)
);
CREATE TABLE IF NOT EXISTS work_codes (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS holidays (
    day TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    pack TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    unit_code TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device_id TEXT
);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    unit_code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    registered_at TEXT NOT NULL,
    acked_seq BIGINT NOT NULL DEFAULT 0,
    last_hash TEXT NOT NULL,
    last_seen TEXT,
    last_addr TEXT,
    clock_offset_s DOUBLE PRECISION,
    queue_depth BIGINT,
    roster_version BIGINT NOT NULL DEFAULT 0,
    health TEXT NOT NULL DEFAULT '{{}}'
);
CREATE TABLE IF NOT EXISTS punches (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    instant TEXT NOT NULL,
    zone TEXT NOT NULL,
    method TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    event_id TEXT,
    liveness_verdict TEXT,
    liveness_scores TEXT NOT NULL,
    match_distance TEXT,
    clock_state TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    mono_ns BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX IF NOT EXISTS punches_received ON punches(received_at);
CREATE UNIQUE INDEX IF NOT EXISTS punches_device_punch_id ON punches(device_id, id);
CREATE INDEX IF NOT EXISTS punches_event ON punches(event_id, employee_id);
CREATE TABLE IF NOT EXISTS local_events (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    pack TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS held_punches (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS forked_punches (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (device_id, seq, hash)
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces(expires_at);
CREATE TABLE IF NOT EXISTS rejections (
    id {serial},
    at TEXT NOT NULL,
    device_id TEXT NOT NULL,
    known INTEGER NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    remote TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS rejections_device ON rejections(device_id);
-- corrections replaced by one from a more trusted time source (a technician's time, then the
-- server's): kept as they were, with when they were replaced
CREATE TABLE IF NOT EXISTS superseded_corrections (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    corrected_instant TEXT NOT NULL,
    anchor_source TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at TEXT NOT NULL,
    superseded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS superseded_corrections_punch ON superseded_corrections(device_id, seq);
-- punches of people who were not in the device's roster scope when the server received them
-- (not of its office, not added to it, removed, or unknown): kept, and shown on the device page
CREATE TABLE IF NOT EXISTS outside_roster (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    employee_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS punch_corrections (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    punch_id TEXT NOT NULL,
    recorded_instant TEXT NOT NULL,
    corrected_instant TEXT NOT NULL,
    anchor_boot_id TEXT NOT NULL,
    anchor_mono_ns BIGINT NOT NULL,
    anchor_true_utc TEXT NOT NULL,
    anchor_source TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
"""
    + BACKOFFICE_SCHEMA
)


class Tx:
    """One transaction: ``execute``/``one``/``all`` with ``?`` placeholders."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        else:
            self._conn.executemany(sql, [tuple(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.execute(sql, params).fetchall()]

    @property
    def for_update(self) -> str:
        """What to append to a SELECT that locks the rows it reads (PostgreSQL only)."""
        return " FOR UPDATE" if self.dialect == "postgresql" else ""


class Storage:
    """A database by URL: ``sqlite:///path/server.db`` or ``postgresql://…``. One connection
    per thread; :meth:`tx` is a transaction that commits on success and rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        scheme = urlparse(url).scheme
        if scheme == "sqlite":
            self.dialect = "sqlite"
            path = url.removeprefix("sqlite://")
            # sqlite:///abs/path → /abs/path ; sqlite://rel/path → rel/path
            self.path = Path(path) if path != "/:memory:" else Path(":memory:")
        elif scheme in ("postgresql", "postgres"):
            self.dialect = "postgresql"
            self.path = Path()
        else:
            raise StorageError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://…")
        self._local = threading.local()

    def __repr__(self) -> str:
        where = str(self.path) if self.dialect == "sqlite" else "postgresql"
        return f"Storage({where})"

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self.dialect == "sqlite":
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 15000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        else:
            try:  # optional: only a PostgreSQL server needs it (pip install 'presensi-kiosk[server]')
                # late: psycopg loads only when this runs
                import psycopg
                from psycopg.rows import dict_row
            except ImportError as exc:
                raise StorageError(
                    "database_url names PostgreSQL but psycopg is not installed: pip install 'presensi-kiosk[server]'"
                ) from exc
            try:
                conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
            except psycopg.Error as exc:
                raise StorageError(
                    f"cannot connect to PostgreSQL: {exc}; check the database URL and that the server runs"
                ) from exc
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def tx(self, *, write: bool = True) -> Iterator[Tx]:
        conn = self._connect()
        if self.dialect == "sqlite":
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(conn, self.dialect)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        else:
            with conn.transaction():
                yield Tx(conn, self.dialect)

    def create_schema(self) -> None:
        serial = "INTEGER PRIMARY KEY" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        statements = [s.strip() for s in SCHEMA.format(serial=serial).split(";") if s.strip()]
        with self.tx() as tx:
            if self.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(7275)")  # two instances starting at once
            for statement in statements:
                tx.execute(statement)
            for table, column, declaration in ADDED_COLUMNS:
                if column not in self._columns(tx, table):
                    tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                    log.info("server database: added %s.%s", table, column)
            for table, column in GLOBAL_PUNCH_IDS:
                self._drop_global_unique(tx, table, column, statements)

    def _drop_global_unique(self, tx: Tx, table: str, column: str, statements: Sequence[str]) -> None:
        """Make a punch id unique per device only, in a database made when it was unique across
        all devices (one unit could then block another's sync by uploading its unsent id)."""
        if self.dialect == "postgresql":
            row = tx.one(
                "SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(c.conkey) "
                "WHERE t.relname = ? AND c.contype = 'u' AND array_length(c.conkey, 1) = 1 AND a.attname = ?",
                (table, column),
            )
            if row is not None:
                tx.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{row["conname"]}"')
                log.info("server database: %s.%s is now unique per device", table, column)
            return
        unique_alone = [
            index
            for index in tx.all(f"SELECT name, \"unique\" AS u FROM pragma_index_list('{table}')")  # noqa: S608 - fixed names
            if index["u"] and [c["name"] for c in tx.all(f"SELECT name FROM pragma_index_info('{index['name']}')")] == [column]  # noqa: S608
        ]
        if not unique_alone:
            return
        # SQLite cannot drop a column's UNIQUE: rebuild the table under today's declaration.
        create = next(s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS {table} "))
        columns = ", ".join(sorted(self._columns(tx, table)))
        tx.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        tx.execute(create.replace(f"IF NOT EXISTS {table} ", f"{table} ", 1))
        tx.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_old")  # noqa: S608 - fixed names
        tx.execute(f"DROP TABLE {table}_old")
        for statement in statements:  # the table's indexes went with the old table
            if statement.startswith("CREATE") and "INDEX" in statement.split(" ON ")[0] and f" ON {table}(" in statement:
                tx.execute(statement)
        log.info("server database: %s.%s is now unique per device (table rebuilt)", table, column)

    def _columns(self, tx: Tx, table: str) -> set[str]:
        if self.dialect == "sqlite":
            return {r["name"] for r in tx.all(f"SELECT name FROM pragma_table_info('{table}')")}  # noqa: S608 - fixed names
        rows = tx.all("SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,))
        return {r["column_name"] for r in rows}

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- meta --------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.tx(write=False) as tx:
            row = tx.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else None

    def set_meta_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless the key exists; returns what is stored (first writer wins)."""
        with self.tx() as tx:
            tx.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))
            row = tx.one("SELECT value FROM meta WHERE key = ?", (key,))
        assert row is not None
        return str(row["value"])
