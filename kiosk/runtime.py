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

from kiosk.clock import Clock, ClockState, ClockStateSource, FixedClockState, SystemClock
from kiosk.config import KioskConfig
from kiosk.identity import DeviceIdentity
from kiosk.store.db import DB_FILENAME, open_database
from kiosk.store.punches import PunchStore
from kiosk.timekeeping import TimeKeeper

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: KioskConfig
    data_dir: Path
    clock: Clock = field(default_factory=SystemClock)
    _conn: sqlite3.Connection | None = None
    _store: PunchStore | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILENAME

    def clock_state(self, conn: sqlite3.Connection | None = None, *, signing: bool = True) -> ClockStateSource:
        """How far the clock can be trusted: the TimeKeeper over the unit's database, or a
        fixed state when the configuration (demo, tests) or $PRESENSI_CLOCK_STATE says so."""
        forced = os.environ.get("PRESENSI_CLOCK_STATE")
        if forced:
            return FixedClockState(ClockState(forced))
        if self.config.clock.state != "system":
            return FixedClockState(ClockState(self.config.clock.state))
        return self.timekeeper(conn, signing=signing)

    def timekeeper(self, conn: sqlite3.Connection | None = None, *, signing: bool = True) -> TimeKeeper:
        """The unit's TimeKeeper; without ``signing`` it does not load (or make) the device key."""
        identity = self.identity() if signing else None
        return TimeKeeper(conn or self.connect(), self.clock, identity, max_offset_s=self.config.clock.max_offset_s)

    def connect(self) -> sqlite3.Connection:
        """A new connection to the unit's database (migrated)."""
        return open_database(self.db_path, busy_timeout_ms=self.config.store.busy_timeout_ms)

    def identity(self) -> DeviceIdentity:
        return DeviceIdentity.load_or_create(self.data_dir)

    def store(self) -> PunchStore:
        """The punch store of this process (one connection, made on first use)."""
        if self._store is None:
            self._conn = self.connect()
            self._store = PunchStore(
                self._conn,
                self.identity(),
                self.clock,
                self.clock_state(self._conn),
                zone=self.config.unit.zone,
                unsynced_policy=self.config.clock.unsynced_policy,
            )
        return self._store

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._store = None
