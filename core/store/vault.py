"""The unit's template key, found from its database, and what the stored templates look like.

Every process of the unit opens the database through :class:`core.runtime.Runtime`, which
registers the unit's key provider here under the database file (:func:`register_unit`).
Whoever reads or writes templates asks :func:`unit_sealer` with the connection in hand, so the
face pipeline, the roster pull and the fingerprint bridge all seal with the one key, and no
code outside :mod:`core.privacy` needs to know where the key comes from. The key is read
lazily (reading the OTP runs a tool) and kept for the life of the process.

A database opened without a runtime (a test's bare store, a benchmark) has no unit key: its
templates are written plain, as before sealing existed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import PrivacyConfig
from core.errors import StorageError
from core.privacy.keys import KeyFileProvider, KeyProvider, build_key_provider
from core.privacy.seal import KEY_ID_BYTES, MAGIC, PLAIN, SCHEME, Sealer, TemplateKeyError
from core.store.finger_templates import seal_template
from core.store.tx import write_transaction
from core.templates.face_bytes import open_raw, seal_raw

log = logging.getLogger(__name__)

#: What to do when templates were sealed by a key this unit does not have.
FOREIGN_REMEDY = (
    "templates were sealed with another unit's key: re-enrol (or pull the roster again) or restore the key "
    "(put the data directory back in its own unit, or restore the key file / OTP it was sealed with)"
)


class UnitKey:
    """The template key of one unit, read on first use. ``repr`` never shows the key."""

    def __init__(self, provider: KeyProvider | Callable[[], KeyProvider]) -> None:
        self._provider = provider
        self._sealer: Sealer | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: PrivacyConfig, data_dir: Path | None = None) -> UnitKey:
        return cls(lambda: build_key_provider(config, data_dir))

    def provider(self) -> KeyProvider:
        if not isinstance(self._provider, KeyProvider):
            self._provider = self._provider()
        return self._provider

    def sealer(self) -> Sealer:
        """The unit's sealer; TemplateKeyError (saying what to do) when the key cannot be read."""
        with self._lock:
            if self._sealer is None:
                self._sealer = Sealer(self.provider().template_key())
            return self._sealer

    def __repr__(self) -> str:
        state = self._sealer.key_id.hex() if self._sealer else "not read yet"
        return f"UnitKey({state})"


_UNITS: dict[str, UnitKey] = {}
_UNITS_LOCK = threading.Lock()


def _key_of_path(path: Path | str) -> str:
    return os.path.realpath(str(path))


def register_unit(db_path: Path, key: UnitKey) -> None:
    """Templates in the database at ``db_path`` are sealed with ``key`` (the last registration
    for a file wins: one process serves one unit)."""
    with _UNITS_LOCK:
        _UNITS[_key_of_path(db_path)] = key


def unit_key(conn: sqlite3.Connection) -> UnitKey | None:
    """The key registered for the database ``conn`` is open on (None: none registered)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    path = row[2] if row is not None else ""
    if not path:
        return None
    with _UNITS_LOCK:
        return _UNITS.get(_key_of_path(path))


def unit_sealer(conn: sqlite3.Connection, *, first_templates: bool = False) -> Sealer | None:
    """The sealer for templates in ``conn``'s database: None when the database belongs to no
    registered unit; TemplateKeyError when it does but the key cannot be read.

    ``first_templates`` (an enrolment about to store templates): on a unit that has never sealed
    a template, a missing key file is made (a developer's first ``presensi enroll``, a unit enrolled
    before provisioning). Nowhere else is a key made outside provisioning: where sealed templates
    exist, a missing key is a lost key and is reported, never replaced."""
    key = unit_key(conn)
    if key is None:
        return None
    try:
        return key.sealer()
    except TemplateKeyError:
        provider = key.provider()
        if not (first_templates and isinstance(provider, KeyFileProvider) and not _anything_sealed(conn)):
            raise
        if provider.ensure():
            log.warning("made the template key file %s for this unit's first templates", provider.path)
        return key.sealer()


def _anything_sealed(conn: sqlite3.Connection) -> bool:
    """Whether any template in the database is sealed (with any key). Read-only."""
    return any(
        conn.execute(f"SELECT 1 FROM {table} WHERE scheme != 'plain' LIMIT 1").fetchone()  # noqa: S608 - fixed names
        for table in ("face_templates", "finger_templates")
    )


def sealed_key_id(stored: bytes, scheme: str) -> bytes | None:
    """The key id a stored template was sealed with (None: plain or not sealed data)."""
    if scheme != SCHEME or bytes(stored[: len(MAGIC)]) != MAGIC:
        return None
    return bytes(stored[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES])


# -- what is stored -------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateCensus:
    """How the templates of one table are stored, by key; counts only, never the data."""

    table: str
    total: int
    plain: int
    sealed_here: int  # sealed with this unit's key
    sealed_elsewhere: int  # sealed with another key (a copied card, a lost key)
    other_keys: tuple[str, ...] = ()  # key ids (public, 6 bytes of a hash) of those others

    @property
    def readable(self) -> int:
        return self.plain + self.sealed_here


TABLES = {"face_templates": "encoding", "finger_templates": "template"}


def census(conn: sqlite3.Connection, sealer: Sealer | None) -> list[TemplateCensus]:
    """Count every stored template by how it is sealed. Read-only; decrypts nothing."""
    out = []
    for table, column in TABLES.items():
        total = plain = here = elsewhere = 0
        others: set[str] = set()
        for row in conn.execute(f"SELECT {column}, scheme FROM {table}"):  # noqa: S608 - fixed names
            total += 1
            key_id = sealed_key_id(bytes(row[0]), row[1])
            if row[1] == PLAIN:
                plain += 1
            elif sealer is not None and key_id == sealer.key_id:
                here += 1
            else:
                elsewhere += 1
                if key_id is not None:
                    others.add(key_id.hex())
        out.append(TemplateCensus(table, total, plain, here, elsewhere, tuple(sorted(others))))
    return out


# -- sealing what was stored plain ---------------------------------------------------------


def seal_plain_templates(conn: sqlite3.Connection, sealer: Sealer) -> int:
    """Seal every template still stored plain (a database from before sealing, or one written
    without a key), in one transaction; returns how many. Idempotent."""

    with write_transaction(conn, "sealing stored templates"):
        faces = conn.execute("SELECT id, employee_id, encoding FROM face_templates WHERE scheme = ?", (PLAIN,)).fetchall()
        for row in faces:
            raw = open_raw(bytes(row["encoding"]), PLAIN)
            blob, scheme = seal_raw(raw, employee_id=row["employee_id"], sealer=sealer)
            conn.execute("UPDATE face_templates SET encoding = ?, scheme = ? WHERE id = ?", (blob, scheme, row["id"]))
        fingers = conn.execute(
            "SELECT id, employee_id, finger, family, template FROM finger_templates WHERE scheme = ?", (PLAIN,)
        ).fetchall()
        for row in fingers:
            stored, scheme, _ = seal_template(
                bytes(row["template"]), employee_id=row["employee_id"], finger=row["finger"], family=row["family"], sealer=sealer
            )
            conn.execute("UPDATE finger_templates SET template = ?, scheme = ? WHERE id = ?", (stored, scheme, row["id"]))
    count = len(faces) + len(fingers)
    if count:
        log.info("sealed %d face and %d finger templates that were stored plain", len(faces), len(fingers))
    return count


def has_plain_templates(conn: sqlite3.Connection) -> bool:
    """Read-only."""
    return any(
        conn.execute(f"SELECT 1 FROM {table} WHERE scheme = ? LIMIT 1", (PLAIN,)).fetchone()  # noqa: S608 - fixed names
        for table in TABLES
    )


def seal_on_open(conn: sqlite3.Connection) -> int:
    """What a unit does when it opens its database: seal templates still stored plain. Never
    raises for a missing key (it says so once and leaves them; doctor tells what to do)."""
    key = unit_key(conn)
    if key is None or not has_plain_templates(conn):
        return 0
    try:
        return seal_plain_templates(conn, key.sealer())
    except StorageError as exc:  # TemplateKeyError among them: no key yet
        log.error("templates stored plain could not be sealed now: %s", exc)
        return 0
