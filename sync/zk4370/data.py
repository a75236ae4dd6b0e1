"""What a port-4370 client reads, taken from the punch store: users and attendance blobs."""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.store import punch_log
from core.store.cards import card_holders
from core.store.punches import parse_instant
from core.store.roster import all_employees
from core.store.zk_uids import assign_zk_uids
from sync.zk4370.codec import PRIVILEGE_DISABLED, STATES, VERIFY_TYPES, attendance_record, live_event, user_record

USER_SIZE, ATTENDANCE_SIZE = 72, 40


@dataclass(frozen=True)
class Sizes:
    users: int
    records: int
    cards: int
    users_cap: int = 65000
    records_cap: int = 1_000_000

    def encode(self) -> bytes:
        """GET_FREE_SIZES: 20 + 3 int32, in the positions clients read (pyzk read_sizes)."""
        fields = [0] * 20
        fields[4], fields[6], fields[8], fields[12] = self.users, 0, self.records, self.cards
        fields[14], fields[15], fields[16] = 0, self.users_cap, self.records_cap
        fields[17], fields[18], fields[19] = 0, self.users_cap - self.users, self.records_cap - self.records
        return struct.pack("<20i", *fields) + struct.pack("<3i", 0, 0, 0)


def uid_map(conn: sqlite3.Connection) -> dict[str, int]:
    """A stable 16-bit ZK uid for every employee, assigned on first sight (:mod:`core.store.zk_uids`)."""
    return assign_zk_uids(conn)


def _card_number(uid_hex: str) -> int:
    """ZK stores a 32-bit card number: the low 32 bits of the UID (as EM4100 readers print)."""
    try:
        return int(uid_hex, 16) & 0xFFFFFFFF
    except ValueError:
        return 0


@dataclass(frozen=True)
class Snapshot:
    """The users and attendance blobs at one moment, so sizes and blobs agree."""

    users_blob: bytes
    attendance_blob: bytes
    sizes: Sizes
    last_seq: int


def _users(conn: sqlite3.Connection, *, with_cards: bool) -> tuple[bytes, int, int]:
    """The users blob: every employee, those no longer active marked disabled (a connector that
    does not find a punch's user drops the punch); card numbers only ``with_cards`` (a card
    number is what a cloned card needs). Returns (records, users, cards)."""
    uids = uid_map(conn)
    cards: dict[str, int] = {}
    for uid, employee_id in card_holders(conn) if with_cards else []:
        cards.setdefault(employee_id, _card_number(uid))
    users = all_employees(conn)
    records = b"".join(
        user_record(uids[e.id], e.name, cards.get(e.id, 0), e.id, privilege=0 if e.active else PRIVILEGE_DISABLED) for e in users
    )
    return records, len(users), len(cards)


class SnapshotCache:
    """Snapshots kept current incrementally: the attendance blob grows by the punches after the
    last one it holds, and is rebuilt only when punches were pruned. A log of 100,000 punches is
    encoded once, not at every GET_FREE_SIZES. Not thread-safe: one builder thread."""

    def __init__(self, zone: str, states: dict[str, int] | None = None, *, cards: bool = False) -> None:
        self.zone = zone
        self.cards = cards
        self.states = states if states is not None else STATES
        self._att = bytearray()
        self._records = 0
        self._first_seq = 0
        self._last_seq = 0

    def refresh(self, conn: sqlite3.Connection) -> Snapshot:
        first = punch_log.first_seq(conn)
        if first != self._first_seq and self._records:  # pruned: start again
            self._att, self._records, self._last_seq = bytearray(), 0, 0
        self._first_seq = first
        user_records, users, cards = _users(conn, with_cards=self.cards)
        uids = uid_map(conn)
        tz = ZoneInfo(self.zone)
        rows = punch_log.entries_after(conn, self._last_seq)
        for seq, employee_id, instant, method, kind in rows:
            local = parse_instant(instant).astimezone(tz).replace(tzinfo=None)
            self._att += attendance_record(
                uids.get(employee_id, 0), employee_id, VERIFY_TYPES.get(method, 0), local, self.states.get(kind, 0)
            )
            self._last_seq = seq
        self._records += len(rows)
        return Snapshot(
            users_blob=struct.pack("<I", len(user_records)) + user_records,
            attendance_blob=struct.pack("<I", len(self._att)) + bytes(self._att),
            sizes=Sizes(users=users, records=self._records, cards=cards),
            last_seq=self._last_seq,
        )


def take_snapshot(conn: sqlite3.Connection, zone: str, states: dict[str, int] | None = None, *, cards: bool = False) -> Snapshot:
    """A snapshot built from nothing (tests, one-off reads)."""
    return SnapshotCache(zone, states, cards=cards).refresh(conn)


def new_events(
    conn: sqlite3.Connection, after_seq: int, zone: str, states: dict[str, int] | None = None
) -> tuple[list[bytes], int]:
    """Live-event payloads for punches after ``after_seq``; returns them and the new last seq."""
    tz = ZoneInfo(zone)
    rows = punch_log.entries_after(conn, after_seq)
    events = [
        live_event(
            r[1],
            VERIFY_TYPES.get(r[3], 0),
            (states if states is not None else STATES).get(r[4], 0),
            parse_instant(r[2]).astimezone(tz).replace(tzinfo=None),
        )
        for r in rows
    ]
    return events, (rows[-1][0] if rows else after_seq)
