"""Trustworthy time: how far the clock can be trusted, and evidence to correct punches later.

A Raspberry Pi 4 has no battery clock: after a power cut in a field it wakes with the time it
last saved. So the unit

- judges the clock on every punch (:meth:`TimeKeeper.state`): ``synced`` when NTP disciplines
  it (the kernel's flag, set by systemd-timesyncd or chrony) or when a trusted anchor of this
  boot agrees with it; ``rtc`` when a battery clock set it at boot; ``unsynced`` otherwise, and
  always when it is earlier than a known lower bound (an event pack's issue time, the server's
  clock last seen) or off the server's clock, by more than ``clock.max_offset_s``;
- records *time anchors* when it learns the true time (NTP, the server's Date header, a
  technician): (boot id, monotonic ns, true UTC). Every punch carries its boot id and monotonic
  time, so a punch of an anchored boot is corrected exactly; the punch itself is never
  rewritten — a signed correction is stored beside it and travels to the server with it.
  Punches of a boot without an anchor stay flagged; nothing is guessed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from core.clock import Clock, ClockState, KernelClockState
from core.errors import ClockError
from core.identity import DeviceIdentity
from core.store import time_anchors, time_corrections
from core.store.punches import format_instant, parse_instant
from core.store.settings import get_setting, put_setting
from core.store.tx import write_transaction

log = logging.getLogger(__name__)

#: Sources of true time, most trusted first: the server's clock as measured by this unit (its
#: Date against our monotonic clock) over the kernel's NTP flag (which a wrong NTP server or a
#: flag set by hand can claim) over a time a technician typed (issue 21, item 2).
ANCHOR_SOURCES = ("server", "ntp", "technician")
#: No true time is earlier than this software (a clock that says so is certainly wrong: a dead RTC
#: battery, a Pi that never learned the time) nor this far after it (a mistyped year, a fake NTP
#: answer). Raise EARLIEST_TRUE_TIME with each release; the horizon follows it.
EARLIEST_TRUE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
LATEST_TRUE_TIME = EARLIEST_TRUE_TIME.replace(year=EARLIEST_TRUE_TIME.year + 8)


#: A better source supersedes a correction only when it places the punch further away than this
#: (a server's Date has whole seconds; NTP is finer: agreeing sources leave the correction alone).
SUPERSEDE_TOLERANCE_S = 2.0
LOWER_BOUND_KEY = "time.lower_bound"
SERVER_OFFSET_KEY = "time.server_offset"


class TypedTimeRefused(ClockError):
    """A technician's time that contradicts what the server told this boot (issue 21, item 2)."""

    def __init__(self, offset_s: float, server_time: datetime) -> None:
        super().__init__(
            f"the time typed is {offset_s:+.0f} s from the server's clock ({format_instant(server_time)}); "
            "type the server's time, or let the unit sync"
        )
        self.offset_s = offset_s
        self.server_time = server_time


class TypedTimeImpossible(ClockError):
    """A technician's time outside the years any true time can be in (a mistyped year): it would
    place every punch of the boot in that year."""

    def __init__(self, typed: datetime) -> None:
        super().__init__(
            f"the time typed ({format_instant(typed)}) is outside {EARLIEST_TRUE_TIME.year}–{LATEST_TRUE_TIME.year - 1}; "
            "check the year"
        )
        self.typed = typed


@dataclass(frozen=True)
class RtcInfo:
    name: str  # e.g. rtc-ds1307 (a DS3231 on the ds1307 driver), rpi-rtc (Pi 5)
    set_system_clock: bool  # hctosys: the kernel set the time from it at boot


class SystemTimeFacts:
    """What the operating system says about time; ``root`` lets tests point at a fake tree."""

    def __init__(self, root: Path = Path("/"), kernel_synced: Callable[[], bool] | None = None) -> None:
        self.root = root
        self._kernel = kernel_synced or KernelClockState()._synced

    def ntp_synchronized(self) -> bool:
        """The kernel's own flag, or timesyncd's marker file."""
        return self._kernel() or (self.root / "run/systemd/timesync/synchronized").exists()

    def last_sync(self) -> datetime | None:
        """When NTP last set the clock: systemd-timesyncd touches its clock file on each sync."""
        for candidate in ("var/lib/systemd/timesync/clock", "var/lib/chrony/chrony.drift"):
            path = self.root / candidate
            if path.exists():
                return datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return None

    def rtc(self) -> RtcInfo | None:
        base = self.root / "sys/class/rtc/rtc0"
        if not (base / "name").exists():
            return None
        hctosys = base / "hctosys"
        return RtcInfo(
            name=(base / "name").read_text().strip(),
            set_system_clock=hctosys.exists() and hctosys.read_text().strip() == "1",
        )


class FixedTimeFacts(SystemTimeFacts):
    """The OS facts pretended by configuration (``clock.state``, the demo and tests): the kernel
    is taken to say ``state``; the server offset and lower bounds still apply on top."""

    def __init__(self, state: ClockState) -> None:
        super().__init__(Path("/nonexistent"), kernel_synced=lambda: state is ClockState.SYNCED)
        self.state = state

    def rtc(self) -> RtcInfo | None:
        return RtcInfo("configured", True) if self.state is ClockState.RTC else None

    def last_sync(self) -> datetime | None:
        return None


@dataclass(frozen=True)
class ClockReport:
    """Everything the screen, the maintenance page and doctor say about the clock."""

    state: ClockState
    source: str  # ntp, server, technician, rtc, none
    detail: str  # Bahasa Indonesia, for the screen and the page
    certainly_wrong: bool = False
    lower_bound: str | None = None
    server_offset_s: float | None = None
    last_sync: str | None = None
    rtc: str | None = None


@dataclass(frozen=True)
class Anchor:
    id: int
    boot_id: str
    mono_ns: int
    true_utc: datetime
    source: str

    def true_time_of(self, mono_ns: int) -> datetime:
        return self.true_utc + timedelta(microseconds=(mono_ns - self.mono_ns) / 1000)


class TimeSetter(Protocol):
    """Sets the system clock (through timedated on a unit; a FakeClock in tests)."""

    def set_time(self, instant: datetime) -> None: ...


class TimeKeeper:
    """The unit's clock judgement, anchors and corrections. A ClockStateSource for the store."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        clock: Clock,
        identity: DeviceIdentity | None,
        *,
        facts: SystemTimeFacts | None = None,
        max_offset_s: float = 120.0,
    ) -> None:
        self.conn = conn
        self.clock = clock
        self.identity = identity
        self.facts = facts or SystemTimeFacts()
        self.max_offset_s = max_offset_s

    def __repr__(self) -> str:
        return f"TimeKeeper(max_offset_s={self.max_offset_s})"

    # -- judging ---------------------------------------------------------------------------

    def state(self) -> ClockState:
        return self.report().state

    def report(self) -> ClockReport:
        now = self.clock.now()
        bound = get_setting(self.conn, LOWER_BOUND_KEY)
        offset = get_setting(self.conn, SERVER_OFFSET_KEY)
        rtc = self.facts.rtc()
        last_sync = self.facts.last_sync()
        common: dict[str, Any] = {
            "lower_bound": bound["instant"] if bound else None,
            "server_offset_s": offset["offset_s"] if offset and offset.get("boot_id") == self.clock.boot_id() else None,
            "last_sync": last_sync.isoformat(timespec="seconds") if last_sync else None,
            "rtc": rtc.name if rtc else None,
        }
        if not EARLIEST_TRUE_TIME <= now < LATEST_TRUE_TIME:
            return ClockReport(
                ClockState.UNSYNCED,
                "none",
                f"Jam perangkat pasti salah: tahun {now.year} di luar {EARLIEST_TRUE_TIME.year}–{LATEST_TRUE_TIME.year - 1}",
                certainly_wrong=True,
                **common,
            )
        # Earlier than a known lower bound by more than the offset allowed: certainly wrong.
        if bound and now < parse_instant(bound["instant"]) - timedelta(seconds=self.max_offset_s):
            return ClockReport(
                ClockState.UNSYNCED,
                "none",
                f"Jam perangkat pasti salah: lebih awal dari {bound['source']} ({bound['instant']})",
                certainly_wrong=True,
                **common,
            )
        if offset and offset.get("boot_id") == self.clock.boot_id() and abs(offset["offset_s"]) > self.max_offset_s:
            return ClockReport(
                ClockState.UNSYNCED, "server", f"Jam berbeda {-offset['offset_s']:+.0f} detik dari jam server", **common
            )
        if self.facts.ntp_synchronized():
            return ClockReport(ClockState.SYNCED, "ntp", "Jam tersinkron (NTP)", **common)
        anchor = self.best_anchor(self.clock.boot_id())
        if anchor is not None:
            drift = (now - anchor.true_time_of(self.clock.monotonic_ns())).total_seconds()
            if abs(drift) <= self.max_offset_s:
                return ClockReport(ClockState.SYNCED, anchor.source, f"Jam disetel dari {anchor.source}", **common)
        if rtc is not None and rtc.set_system_clock:
            age = f", sinkron terakhir {common['last_sync']}" if last_sync else ""
            return ClockReport(ClockState.RTC, "rtc", f"Jam dari baterai RTC ({rtc.name}){age}", **common)
        return ClockReport(ClockState.UNSYNCED, "none", "Jam belum tersinkron", **common)

    # -- what the unit learns --------------------------------------------------------------

    def note_lower_bound(self, instant: datetime, source: str) -> None:
        """A time the clock cannot be earlier than (an event pack's issue time, a server Date)."""
        note_lower_bound(self.conn, self.clock, instant, source)

    def note_server_offset(self, offset_s: float) -> None:
        """The server's clock as read from a response's Date header, as ``offset_s`` = server
        minus unit (positive: the server is ahead), measured just now. Records it (health and
        the unsynced rule), raises the lower bound (a Date has whole seconds), and anchors this
        boot — at most one server anchor per boot and hour, so the table stays small."""
        now = self.clock.now()
        mono = self.clock.monotonic_ns()
        server_now = now + timedelta(seconds=offset_s)
        put_setting(
            self.conn,
            SERVER_OFFSET_KEY,
            {"offset_s": round(offset_s, 3), "measured_at": format_instant(now), "boot_id": self.clock.boot_id()},
            now=now,
        )
        self.note_lower_bound(server_now - timedelta(seconds=1), "server")
        last = time_anchors.latest_anchor(self.conn, self.clock.boot_id(), "server")
        if last is None or mono - last["mono_ns"] > 3600 * 10**9:
            self.record_anchor(server_now, "server", mono_ns=mono)

    def record_anchor(self, true_utc: datetime, source: str, *, mono_ns: int | None = None, boot_id: str | None = None) -> Anchor:
        if source not in ANCHOR_SOURCES:
            raise ValueError(f"unknown time source {source!r}")
        mono = self.clock.monotonic_ns() if mono_ns is None else mono_ns
        boot = boot_id or self.clock.boot_id()
        anchor_id = time_anchors.add_anchor(
            self.conn,
            boot_id=boot,
            mono_ns=mono,
            true_utc=format_instant(true_utc),
            source=source,
            recorded_at=format_instant(self.clock.now()),
        )
        log.info("time anchor from %s for boot %s", source, boot[:8])
        return Anchor(anchor_id, boot, mono, true_utc, source)

    def set_time(self, true_utc: datetime, setter: TimeSetter) -> Anchor:
        """A technician's time (maintenance page): set the system clock and anchor this boot.
        The caller writes the audit entry."""
        mono = self.clock.monotonic_ns()
        if not EARLIEST_TRUE_TIME <= true_utc < LATEST_TRUE_TIME:
            raise TypedTimeImpossible(true_utc)
        server = self._latest_anchor(self.clock.boot_id(), "server")
        if server is not None:  # the server has told this boot the time: a typed time must agree
            expected = server.true_time_of(mono)
            off = (true_utc - expected).total_seconds()
            if abs(off) > self.max_offset_s:
                raise TypedTimeRefused(off, expected)
        setter.set_time(true_utc)
        anchor = self.record_anchor(true_utc, "technician", mono_ns=mono)
        # No lower bound from a typed time: a wrong year would mark the clock "certainly wrong"
        # (and refuse NTP) until that date passed. Lower bounds come only from outside the unit.
        self.correct_punches()
        return anchor

    def tick(self) -> int:
        """Called from a service's loop: anchors the boot when NTP has synchronised the clock,
        then corrects what can be corrected. Returns the number of new corrections."""
        if (
            self.facts.ntp_synchronized()
            and not self._has_anchor(self.clock.boot_id(), "ntp")
            # not "synchronised" to a time the unit knows is wrong, nor one the server contradicts
            and self.report().source == "ntp"
        ):
            self.record_anchor(self.clock.now(), "ntp")
        return len(self.correct_punches())

    # -- corrections -----------------------------------------------------------------------

    def best_anchor(self, boot_id: str) -> Anchor | None:
        """The most trusted anchor of ``boot_id`` (server, then NTP, then technician; latest)."""
        rows = time_anchors.anchors_of(self.conn, boot_id)
        if not rows:
            return None
        row = min(rows, key=lambda r: ANCHOR_SOURCES.index(r["source"]))
        return Anchor(row["id"], row["boot_id"], row["mono_ns"], parse_instant(row["true_utc"]), row["source"])

    def _latest_anchor(self, boot_id: str, source: str) -> Anchor | None:
        row = time_anchors.latest_anchor(self.conn, boot_id, source)
        return Anchor(row["id"], row["boot_id"], row["mono_ns"], parse_instant(row["true_utc"]), row["source"]) if row else None

    def _has_anchor(self, boot_id: str, source: str) -> bool:
        return time_anchors.has_anchor(self.conn, boot_id, source)

    def _corrections_due(self) -> list[dict[str, Any]]:
        """The corrections :meth:`correct_punches` would write now (bodies with their anchor id)."""
        assert self.identity is not None
        pending = time_corrections.correction_candidates(self.conn, self.max_offset_s, ANCHOR_SOURCES)
        anchors: dict[str, Anchor | None] = {}
        due = []
        for punch in pending:
            boot = punch["boot_id"]
            if boot not in anchors:
                anchors[boot] = self.best_anchor(boot)
            anchor = anchors[boot]
            if anchor is None:
                continue
            body = correction_body(self.identity.device_id, punch, anchor)
            held = punch["held_instant"]
            if (
                held is not None
                and abs((parse_instant(str(body["corrected_instant"])) - parse_instant(held)).total_seconds())
                <= SUPERSEDE_TOLERANCE_S
            ):
                continue  # the better source agrees: keep the correction made (NTP is finer than a Date header)
            due.append({**body, "anchor_id": anchor.id})
        return due

    def correct_punches(self) -> list[dict[str, object]]:
        """Signed corrections, placed by the most trusted anchor of each punch's boot, for:

        * every not-synced punch of an anchored boot that has none yet;
        * a "synced" punch the server's clock contradicts (the kernel's NTP flag on a wrong clock,
          a technician's typed time): its recorded instant is further than ``max_offset_s`` from
          where the boot's server anchor places it;
        * a punch corrected from a less trusted anchor than the boot now has (a technician's time,
          then the server's): the better correction supersedes it and is sent again.

        A keeper made without the device key (doctor) judges the clock but corrects nothing."""
        if self.identity is None:
            return []
        identity = self.identity
        if not self._corrections_due():
            return []
        # chosen and written in one write transaction: another process (the maintenance page's
        # set_time, the sync service's learning) cannot replace a row between the two
        made: list[dict[str, object]] = []
        with write_transaction(self.conn, "recording punch corrections"):
            for item in self._corrections_due():
                anchor_id = item.pop("anchor_id")
                text = canonical_json(item)
                # a better anchor's correction replaces a worse one, and is delivered again
                time_corrections.put_correction(
                    self.conn,
                    punch_id=item["punch_id"],
                    seq=item["seq"],
                    corrected_instant=item["corrected_instant"],
                    anchor_id=anchor_id,
                    body=text,
                    signature=identity.sign(text.encode("ascii")),
                    created_at=format_instant(self.clock.now()),
                )
                made.append(item)
        if made:
            log.info("recorded %d punch corrections", len(made))
        return made


def note_lower_bound(conn: sqlite3.Connection, clock: Clock, instant: datetime, source: str) -> None:
    """Raise the clock's lower bound to ``instant`` (kept when it is already later). The
    keeper's report judges the clock against it; a clock behind it is logged here."""
    current = get_setting(conn, LOWER_BOUND_KEY)
    if not current or parse_instant(current["instant"]) < instant:
        put_setting(conn, LOWER_BOUND_KEY, {"instant": format_instant(instant), "source": source}, now=clock.now())
    behind = (instant - clock.now()).total_seconds()
    if behind > 60:
        log.warning("the clock is %.0f s earlier than %s (a lower bound): it is wrong; set it", behind, source)


def server_offset_s(conn: sqlite3.Connection, boot_id: str | None = None) -> float | None:
    """The last measured server clock minus unit clock in seconds, or None; with ``boot_id``,
    only a measurement made in that boot (an earlier boot's offset says nothing of this clock).
    Read-only."""
    value = get_setting(conn, SERVER_OFFSET_KEY)
    if not value or (boot_id is not None and value.get("boot_id") != boot_id):
        return None
    return float(value["offset_s"])


def correction_body(device_id: str, punch: sqlite3.Row, anchor: Anchor) -> dict[str, object]:
    """What a correction states and the device signs (see docs/time.md)."""
    return {
        "v": 1,
        "type": "correction",
        "device_id": device_id,
        "punch_id": punch["id"],
        "seq": punch["seq"],
        "punch_hash": punch["hash"],
        "recorded_instant": punch["instant"],
        "corrected_instant": format_instant(anchor.true_time_of(punch["mono_ns"])),
        "anchor": {
            "boot_id": anchor.boot_id,
            "mono_ns": anchor.mono_ns,
            "true_utc": format_instant(anchor.true_utc),
            "source": anchor.source,
        },
    }


def canonical_json(body: dict[str, object]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
