"""Injected clocks and the local time of a punch.

Logic never calls ``datetime.now()``: it is handed a :class:`Clock`. :class:`SystemClock` reads the
real clocks; :class:`FakeClock` is set and advanced by tests. Local time always comes from an
instant in UTC plus an IANA zone name, through zoneinfo (tzdata ships as a dependency so a
system without /usr/share/zoneinfo still works).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

#: The three zones of Indonesia and the abbreviation shown on screen.
ZONES: dict[str, str] = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class ClockState(enum.StrEnum):
    """How far the unit's wall clock can be trusted at the moment of a punch."""

    SYNCED = "synced"  # disciplined by NTP (or set from a trusted source) recently
    RTC = "rtc"  # held by a battery-backed clock since the last synchronisation
    UNSYNCED = "unsynced"  # nothing vouches for it


class Clock(Protocol):
    """The time sources a component needs, injected so tests never sleep."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""

    def monotonic_ns(self) -> int:
        """Nanoseconds since boot (CLOCK_BOOTTIME where available): never jumps."""

    def boot_id(self) -> str:
        """An identifier of the current boot; monotonic times only compare within one."""


class SystemClock:
    """The machine's own clocks."""

    _BOOT_ID = Path("/proc/sys/kernel/random/boot_id")

    def __init__(self) -> None:
        try:
            self._boot_id = self._BOOT_ID.read_text().strip()
        except OSError:
            # Not Linux: a per-process id still keeps monotonic times from being compared
            # across restarts, which is the only thing the id is for.
            self._boot_id = f"proc-{uuid.uuid4()}"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic_ns(self) -> int:
        clock = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
        return time.clock_gettime_ns(clock)

    def boot_id(self) -> str:
        return self._boot_id

    def __repr__(self) -> str:
        return f"SystemClock(boot_id={self._boot_id[:8]}…)"


class FakeClock:
    """A clock that moves only when told to; wall and monotonic time advance together."""

    def __init__(self, start: datetime | None = None, *, boot_id: str = "test-boot-1") -> None:
        self._now = start or datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._mono_ns = 5_000_000_000
        self._boot_id = boot_id

    def now(self) -> datetime:
        return self._now.astimezone(UTC)

    def monotonic_ns(self) -> int:
        return self._mono_ns

    def boot_id(self) -> str:
        return self._boot_id

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass on both clocks."""
        self._now += timedelta(seconds=seconds)
        self._mono_ns += int(seconds * 1e9)

    def set_wall(self, instant: datetime) -> None:
        """Step the wall clock (as NTP or a technician would); monotonic time is unaffected."""
        if instant.tzinfo is None:
            raise ValueError("set_wall needs a timezone-aware instant")
        self._now = instant

    def reboot(self, boot_id: str, wall: datetime | None = None) -> None:
        """A new boot: monotonic time restarts, the wall clock is what the unit wakes with."""
        self._boot_id = boot_id
        self._mono_ns = 3_000_000_000
        if wall is not None:
            self.set_wall(wall)

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()}, boot_id={self._boot_id})"


def local_time(instant: datetime, zone: str) -> datetime:
    """``instant`` (aware) in the IANA ``zone``."""
    if instant.tzinfo is None:
        raise ValueError("local_time needs a timezone-aware instant")
    return instant.astimezone(ZoneInfo(zone))


def shown_time(value: datetime | str | None, zone: str, *, seconds: bool = True) -> str:
    """A time as a person reads it: local, one format everywhere, with the zone's name
    ("2026-12-03 10:43:39 WIB", as the punch list and the CSV write it); "—" for none. Accepts an aware datetime or RFC 3339 text
    (``Z`` or an offset); text that is not a time is returned as it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        instant = value
    if instant.tzinfo is None:
        return instant.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    local = local_time(instant, zone)
    return f"{local.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')} {zone_abbreviation(zone)}"


def zone_abbreviation(zone: str) -> str:
    """WIB, WITA or WIT for Indonesia's zones; the zone's own abbreviation otherwise."""
    return ZONES.get(zone) or datetime.now(ZoneInfo(zone)).tzname() or zone


class ClockStateSource(Protocol):
    """Tells how far the wall clock can be trusted right now."""

    def state(self) -> ClockState: ...


class FixedClockState:
    """A clock state chosen by configuration or a test."""

    def __init__(self, state: ClockState = ClockState.SYNCED) -> None:
        self.value = state

    def state(self) -> ClockState:
        return self.value


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> on 64-bit Linux: 20 longs/ints plus padding; only the
    # fields before ``status`` matter here, the rest is reserved space the kernel writes.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_rest", ctypes.c_byte * 256),
    ]


_STA_UNSYNC = 0x0040
_TIME_ERROR = 5


class KernelClockState:
    """The kernel's own verdict (adjtimex): NTP daemons (timesyncd, chrony) clear STA_UNSYNC
    while they discipline the clock. A unit with an RTC and no sync reports ``rtc`` when
    ``/sys/class/rtc/rtc0`` exists and the kernel set the system time from it."""

    def __init__(self, rtc_dir: Path = Path("/sys/class/rtc/rtc0")) -> None:
        self._rtc_dir = rtc_dir
        name = ctypes.util.find_library("c")
        self._libc = ctypes.CDLL(name, use_errno=True) if name else None

    def state(self) -> ClockState:
        if self._synced():
            return ClockState.SYNCED
        if (self._rtc_dir / "hctosys").is_file() and (self._rtc_dir / "hctosys").read_text().strip() == "1":
            return ClockState.RTC
        return ClockState.UNSYNCED

    def _synced(self) -> bool:
        if self._libc is None or not hasattr(self._libc, "adjtimex"):
            return False
        tx = _Timex()
        result = self._libc.adjtimex(ctypes.byref(tx))
        if result < 0:
            log.warning("adjtimex failed: errno %s", ctypes.get_errno())
            return False
        return result != _TIME_ERROR and not tx.status & _STA_UNSYNC
