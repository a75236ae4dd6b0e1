"""What every command and service is built from: configuration, data directory, clock, store.

Services receive these as arguments (nothing global); :class:`Runtime` only assembles them from
the command line once.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from core.clock import Clock, ClockState, ClockStateSource, SystemClock
from core.config import KioskConfig
from core.errors import PresensiError
from core.identity import DeviceIdentity
from core.privacy.seal import Sealer
from core.store.db import DB_FILENAME, open_database
from core.store.punches import PunchStore
from core.store.vault import UnitKey, register_unit, seal_on_open
from core.timekeeping import FixedTimeFacts, TimeKeeper

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: KioskConfig
    data_dir: Path
    clock: Clock = field(default_factory=SystemClock)
    _conn: sqlite3.Connection | None = None
    _store: PunchStore | None = None
    _identity: DeviceIdentity | None = None
    template_key: UnitKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Templates in this unit's database are sealed with the unit's key (read on first use).
        self.template_key = UnitKey.from_config(self.config.privacy, self.data_dir)
        register_unit(self.db_path, self.template_key)

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILENAME

    def clock_state(self, conn: sqlite3.Connection | None = None, *, signing: bool = True) -> ClockStateSource:
        """How far the clock can be trusted: the TimeKeeper over the unit's database. A fixed
        ``clock.state`` (demo, tests) or $PRESENSI_CLOCK_STATE stands in for the kernel's own
        answer; the server-offset and lower-bound rules apply either way."""
        return self.timekeeper(conn, signing=signing)

    def timekeeper(self, conn: sqlite3.Connection | None = None, *, signing: bool = True) -> TimeKeeper:
        """The unit's TimeKeeper; without ``signing`` it does not load (or make) the device key."""
        forced = os.environ.get("PRESENSI_CLOCK_STATE") or (
            None if self.config.clock.state == "system" else self.config.clock.state
        )
        facts = FixedTimeFacts(ClockState(forced)) if forced else None
        identity = self.identity() if signing else None
        return TimeKeeper(conn or self.connect(), self.clock, identity, facts=facts, max_offset_s=self.config.clock.max_offset_s)

    def connect(self) -> sqlite3.Connection:
        """A new connection to the unit's database (migrated; templates still stored plain sealed)."""
        conn = open_database(self.db_path, busy_timeout_ms=self.config.store.busy_timeout_ms)
        seal_on_open(conn)
        return conn

    def identity(self) -> DeviceIdentity:
        """The device's signing key: a sealed key opened with the unit's key (a copy of the data
        directory on another machine cannot sign), else the plain key of an older unit; a new key
        is made sealed when the unit's key can be read. Doctor says which is in force."""
        if self._identity is None:
            self._identity = DeviceIdentity.load_or_create(self.data_dir, self._device_key_sealer())
        return self._identity

    def seal_device_key(self) -> DeviceIdentity:
        """Seal a plain signing key under the unit's key (provisioning and the boot service only);
        the sealed identity. TemplateKeyError when the unit's key cannot be read."""
        self._identity = DeviceIdentity.load_or_create(
            self.data_dir, self.template_key.provider().device_key_sealer(), seal_plain=True
        )
        return self._identity

    def _device_key_sealer(self) -> Sealer | None:
        try:
            return self.template_key.provider().device_key_sealer()
        except PresensiError as exc:
            log.info("the unit's key cannot be read (%s): a new device key would be a plain file", exc)
            return None

    def store(self) -> PunchStore:
        """The punch store of this process (one connection, made on first use)."""
        if self._store is None:
            self._conn = self.connect()
            self._store = self.new_store(self._conn)
        return self._store

    def new_store(self, conn: sqlite3.Connection | None = None, state: ClockStateSource | None = None) -> PunchStore:
        """A punch store of this unit on ``conn`` (a new connection when None): the one way a
        service builds one, so every store has the unit's identity, zone and unsynced policy.
        ``state`` replaces the clock's own state (the sync service's offset-aware one)."""
        conn = conn if conn is not None else self.connect()
        return PunchStore(
            conn,
            self.identity(),
            self.clock,
            state if state is not None else self.clock_state(conn),
            zone=self.config.unit.zone,
            unsynced_policy=self.config.clock.unsynced_policy,
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._store = None
