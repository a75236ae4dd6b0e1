"""Trustworthy time (issue 11): clock state, lower bounds, anchors and signed corrections."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ClockState, FakeClock
from core.identity import DeviceIdentity, public_key_from_hex, verify_signature
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore, parse_instant, verify_database
from core.timekeeping import SystemTimeFacts, TimeKeeper

TRUE_START = datetime(2026, 11, 23, 0, 10, tzinfo=UTC)  # 07:10 WIB, a Monday apel


class Facts(SystemTimeFacts):
    """The OS facts of a fake root tree, with the kernel's NTP flag settable."""

    def __init__(self, root: Path) -> None:
        self.synced = False
        super().__init__(root, kernel_synced=lambda: self.synced)


def make_rtc(root: Path, name: str = "rtc-ds1307", hctosys: str = "1") -> None:
    rtc = root / "sys/class/rtc/rtc0"
    rtc.mkdir(parents=True)
    (rtc / "name").write_text(name + "\n")
    (rtc / "hctosys").write_text(hctosys + "\n")


@pytest.fixture
def unit(tmp_path: Path) -> tuple[PunchStore, TimeKeeper, FakeClock, Facts]:
    # The Pi wakes after a power cut with the time it saved three days ago.
    clock = FakeClock(TRUE_START - timedelta(days=3, hours=2), boot_id="boot-field")
    conn = open_database(tmp_path / "presensi.db")
    identity = DeviceIdentity.generate()
    facts = Facts(tmp_path / "root")
    keeper = TimeKeeper(conn, clock, identity, facts=facts, max_offset_s=120)
    return PunchStore(conn, identity, clock, keeper), keeper, clock, facts


def test_unsynced_boot_is_corrected_exactly_once_the_true_time_is_known(
    unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts],
) -> None:
    store, keeper, clock, facts = unit
    assert keeper.state() is ClockState.UNSYNCED
    offsets = [0, 37.25, 95.5, 600.125, 1801]
    true_instants = []
    start_mono = clock.monotonic_ns()
    for step in offsets:
        clock.advance(step - (clock.monotonic_ns() - start_mono) / 1e9)
        punch = store.record(PunchRequest("1985", "face"))
        assert punch.clock_state == "unsynced"
        true_instants.append(TRUE_START + timedelta(seconds=step))
    # Back at the office, NTP steps the clock to the truth.
    elapsed = (clock.monotonic_ns() - start_mono) / 1e9
    clock.set_wall(TRUE_START + timedelta(seconds=elapsed))
    facts.synced = True
    assert keeper.tick() == len(offsets)
    assert keeper.state() is ClockState.SYNCED
    rows = store.conn.execute("SELECT * FROM punch_corrections ORDER BY seq").fetchall()
    public = public_key_from_hex(store.identity.public_hex)
    for row, truth in zip(rows, true_instants, strict=True):
        corrected = parse_instant(row["corrected_instant"])
        assert abs((corrected - truth).total_seconds()) < 1.0, (corrected, truth)
        assert verify_signature(public, row["signature"], row["body"].encode())
        body = json.loads(row["body"])
        assert body["anchor"]["source"] == "ntp" and body["punch_hash"] == store.get(row["seq"]).hash
    # The punches themselves are untouched and still verify.
    assert verify_database(store.conn).ok
    assert all(p.clock_state == "unsynced" for p in store.iter_all())
    assert keeper.tick() == 0  # nothing is corrected twice


def test_an_earlier_boot_without_anchor_stays_flagged(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    store, keeper, clock, facts = unit
    old = store.record(PunchRequest("1", "card"))
    clock.reboot("boot-office", wall=TRUE_START)
    facts.synced = True
    store.record(PunchRequest("2", "card"))
    keeper.tick()
    corrected = {r["punch_id"] for r in store.conn.execute("SELECT punch_id FROM punch_corrections")}
    assert old.id not in corrected
    assert store.get(old.seq).clock_state == "unsynced"


def test_a_clock_earlier_than_the_event_pack_is_wrong_at_once(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    store, keeper, _clock, facts = unit
    facts.synced = True  # even a clock that claims NTP cannot be earlier than the pack
    keeper.note_lower_bound(TRUE_START - timedelta(hours=20), "paket acara apel")
    report = keeper.report()
    assert report.state is ClockState.UNSYNCED and report.certainly_wrong
    assert "paket acara apel" in report.detail
    assert store.record(PunchRequest("1", "face")).clock_state == "unsynced"
    # NTP's word is not taken as an anchor while the clock is known to be wrong: no corrections.
    assert keeper.tick() == 0
    assert store.conn.execute("SELECT count(*) FROM time_anchors").fetchone()[0] == 0


def test_a_technician_sets_the_time_and_the_boot_is_corrected(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    store, keeper, clock, _facts = unit
    store.record(PunchRequest("1", "card"))
    clock.advance(30)

    class Setter:
        def set_time(self, instant: datetime) -> None:
            clock.set_wall(instant)

    keeper.set_time(TRUE_START + timedelta(seconds=30), Setter())
    assert keeper.state() is ClockState.SYNCED and keeper.report().source == "technician"
    row = store.conn.execute("SELECT corrected_instant FROM punch_corrections").fetchone()
    assert parse_instant(row[0]) == TRUE_START
    assert store.record(PunchRequest("1", "card")).clock_state == "synced"


def test_server_offset_beyond_the_limit_flags_new_punches(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    store, keeper, _clock, facts = unit
    facts.synced = True
    keeper.note_server_offset(600.0)  # the server is ten minutes ahead
    assert keeper.state() is ClockState.UNSYNCED
    assert "server" in keeper.report().detail and keeper.report().server_offset_s == 600.0
    assert store.record(PunchRequest("1", "card")).clock_state == "unsynced"
    # The server's clock is also a lower bound and an anchor: this boot's punches get corrected.
    assert keeper.tick() == 1
    keeper.note_server_offset(600.2)
    anchors = store.conn.execute("SELECT count(*) FROM time_anchors WHERE source = 'server'").fetchone()[0]
    assert anchors == 1  # at most one server anchor per boot and hour


def test_an_earlier_boots_offset_is_not_shown_as_this_clocks(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    """Issue 21: doctor showed -0.5 s beside '3 days behind', a figure from an earlier boot."""
    from core.timekeeping import server_offset_s

    store, keeper, clock, _facts = unit
    keeper.note_server_offset(-0.5)
    assert server_offset_s(store.conn, clock.boot_id()) == -0.5 and keeper.report().server_offset_s == -0.5
    clock.reboot("boot-after-a-power-cut", wall=clock.now() - timedelta(days=3))
    assert server_offset_s(store.conn, clock.boot_id()) is None
    assert keeper.report().server_offset_s is None


def test_rtc_is_detected_and_reported(tmp_path: Path) -> None:
    clock = FakeClock()
    conn = open_database(tmp_path / "p.db")
    facts = Facts(tmp_path / "root")
    make_rtc(facts.root)
    keeper = TimeKeeper(conn, clock, DeviceIdentity.generate(), facts=facts)
    report = keeper.report()
    assert report.state is ClockState.RTC and report.rtc == "rtc-ds1307"
    assert "RTC" in report.detail


def test_without_rtc_or_ntp_the_clock_is_unsynced(tmp_path: Path) -> None:
    keeper = TimeKeeper(open_database(tmp_path / "p.db"), FakeClock(), DeviceIdentity.generate(), facts=Facts(tmp_path / "r"))
    report = keeper.report()
    assert report.state is ClockState.UNSYNCED and report.rtc is None and not report.certainly_wrong


def test_a_mistyped_year_does_not_condemn_the_clock(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    """A technician's typed time anchors the boot but is no lower bound: a wrong year would
    otherwise mark the clock certainly wrong (and refuse NTP) until that date passed."""
    store, keeper, clock, facts = unit

    class Setter:
        def set_time(self, instant: datetime) -> None:
            clock.set_wall(instant)

    keeper.set_time(TRUE_START + timedelta(days=365), Setter())  # 2027 instead of 2026
    clock.set_wall(TRUE_START + timedelta(hours=1))  # the next boot: NTP has the true time
    facts.synced = True
    report = keeper.report()
    assert not report.certainly_wrong and report.state is ClockState.SYNCED, report
    assert store.record(PunchRequest("1", "card")).clock_state == "synced"


def test_a_local_pack_is_no_lower_bound_but_a_server_pack_is(unit: tuple[PunchStore, TimeKeeper, FakeClock, Facts]) -> None:
    """A pack made on a unit carries only that unit's own clock; the server's pack is evidence."""
    from core.identity import DeviceIdentity
    from core.schedule.event_mode import EventBook
    from core.schedule.events import format_utc, sign_pack
    from core.schedule.local_packs import sample_pack, sample_people

    store, keeper, clock, facts = unit
    facts.synced = True
    ahead = clock.now() + timedelta(days=30)  # issued by a clock running a month fast
    pack = sample_pack(sample_people(5), start=ahead + timedelta(days=2), event_id="LOKAL")
    local = pack.model_copy(update={"origin": "local", "issued_at": format_utc(ahead)})
    device = DeviceIdentity.generate()
    EventBook(store.conn, clock).save(local, sign_pack(local, device, signer="device"))
    assert not keeper.report().certainly_wrong
    server = pack.model_copy(update={"id": "SERVER", "issued_at": format_utc(ahead)})
    EventBook(store.conn, clock).save(server, sign_pack(server, device, signer="server"))
    assert keeper.report().certainly_wrong
