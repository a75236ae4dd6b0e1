"""Holidays: national days off, cuti bersama and regional holidays, as data.

The fixed-date national holidays are set by law and shipped here (:data:`FIXED_NATIONAL`). Every
other holiday (Idul Fitri, Idul Adha, Nyepi, Waisak, Imlek, cuti bersama, a regency's own days)
moves from year to year and is published each year by joint ministerial decree or by the regent:
those come from the roster (table ``holidays``, :func:`store_holidays`) or the operator, never
from a guess in the code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.store import holidays as holiday_table
from core.store.tx import write_transaction

#: (month, day) → name: holidays whose date never moves.
FIXED_NATIONAL: Mapping[tuple[int, int], str] = {
    (1, 1): "Tahun Baru Masehi",
    (5, 1): "Hari Buruh Internasional",
    (6, 1): "Hari Lahir Pancasila",
    (8, 17): "Hari Kemerdekaan Republik Indonesia",
    (12, 25): "Hari Raya Natal",
}


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    scope: str = "nasional"  # nasional | cuti_bersama | daerah


class HolidayCalendar:
    """The days off a unit knows: fixed national ones plus those given (roster or operator)."""

    def __init__(self, holidays: Iterable[Holiday] = (), *, fixed_national: bool = True) -> None:
        self._days: dict[date, Holiday] = {h.day: h for h in holidays}
        self.fixed_national = fixed_national

    def __repr__(self) -> str:
        return f"HolidayCalendar({len(self._days)} dated, fixed_national={self.fixed_national})"

    def get(self, day: date) -> Holiday | None:
        found = self._days.get(day)
        if found is not None:
            return found
        if self.fixed_national and (day.month, day.day) in FIXED_NATIONAL:
            return Holiday(day, FIXED_NATIONAL[(day.month, day.day)])
        return None

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.get(day) is not None

    def add(self, holiday: Holiday) -> None:
        self._days[holiday.day] = holiday

    @classmethod
    def from_database(cls, conn: sqlite3.Connection, *, fixed_national: bool = True) -> HolidayCalendar:
        """The holidays table. Read-only."""
        rows = holiday_table.all_holidays(conn)
        return cls((Holiday(date.fromisoformat(day), name, scope) for day, name, scope in rows), fixed_national=fixed_national)


def store_holidays(conn: sqlite3.Connection, holidays: Iterable[Holiday], *, source: str = "roster") -> int:
    """Insert or replace holidays in the database; returns how many."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [(h.day.isoformat(), h.name, h.scope, source, now) for h in holidays]
    with write_transaction(conn, "storing holidays"):
        holiday_table.put_holidays(conn, rows)
    return len(rows)
