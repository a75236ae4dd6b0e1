"""Time sources ranked (issue 21, item 2): the server's measured clock over the kernel's NTP flag
over a technician's typed time. A better source supersedes a worse one within a boot, on the unit
and on the real reference server (the old correction kept); a "synced" punch the server's clock
contradicts is corrected; a typed time the server contradicts is refused; a year outside what this
software can see is certainly wrong, whatever the NTP flag says."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import wire as protocol
from core.clock import ClockState, FakeClock
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.runtime import Runtime
from core.signing import sign_request
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore, parse_instant
from core.store.time_corrections import undelivered_corrections
from core.timekeeping import (
    EARLIEST_TRUE_TIME,
    LATEST_TRUE_TIME,
    FixedTimeFacts,
    TimeKeeper,
    TypedTimeImpossible,
    TypedTimeRefused,
    canonical_json,
    correction_body,
)
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.service import run_once
from sync.targets.presensi_v1 import PresensiV1Target, tls_context

NIP = "198503302010011001"


class Setter:
    def __init__(self) -> None:
        self.calls: list[datetime] = []

    def set_time(self, instant: datetime) -> None:
        self.calls.append(instant)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("server")) as running:
        yield running


def unit_with(data_dir: Path, clock: FakeClock, state: str) -> Runtime:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = state  # the kernel's NTP flag, as the unit's facts report it
    config.sync.backoff_base_s = 0.01
    config.sync.backoff_max_s = 0.05
    config.sync.timeout_s = 5
    return Runtime(config=config, data_dir=data_dir, clock=clock)


def corrections(runtime: Runtime) -> dict[int, dict[str, Any]]:
    rows = runtime.store().conn.execute(
        "SELECT c.seq, c.corrected_instant, c.acked_at, a.source FROM punch_corrections c "
        "JOIN time_anchors a ON a.id = c.anchor_id ORDER BY c.seq"
    )
    return {r["seq"]: dict(r) for r in rows}


def test_a_technicians_correction_is_superseded_by_the_servers_on_the_unit_and_the_server(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A technician typed a time 40 s behind (within the limit, so accepted); the boot's punches are
    corrected from it and delivered; then the server's clock is measured and its correction
    replaces the technician's everywhere, the old one kept on the server."""
    truth = datetime.now(UTC)
    clock = FakeClock(truth - timedelta(hours=5), boot_id="boot-typed")
    unit = unit_with(tmp_path / "unit", clock, "unsynced")
    provision(unit, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    store = unit.store()
    keeper = unit.timekeeper(store.conn)
    punch = store.record(PunchRequest(NIP, "card"))
    assert punch.clock_state == "unsynced"
    typed = clock.now() + timedelta(hours=5, seconds=-40)
    keeper.set_time(typed, Setter())
    clock.set_wall(typed)  # what the setter did to the kernel's clock
    assert corrections(unit)[1]["source"] == "technician"

    # The technician's correction reaches the server first (sent as the unit's sync would, before
    # it has heard the server's clock) …
    target = PresensiV1Target(server.url, unit.identity(), clock, ca_file=server.ca_file, check_certificate_time=False)
    target.upload(store.since(0, 10))
    sent = undelivered_corrections(store.conn, 10, 10)
    assert target.upload_corrections([c.wire() for c in sent]).accepted == 1
    target.close()
    device = unit.identity().device_id
    with server.admin().storage.tx(write=False) as tx:
        first_held = tx.one("SELECT anchor_source FROM punch_corrections WHERE device_id = ? AND seq = 1", (device,))
    assert first_held is not None and first_held["anchor_source"] == "technician"

    # … then the next sync learns the server's clock: its anchor outranks the technician's
    result = run_once(unit)
    assert result["ok"]
    first = corrections(unit)[1]
    assert first["source"] == "server"
    assert abs((parse_instant(first["corrected_instant"]) - truth).total_seconds()) < 5
    assert run_once(unit)["ok"]
    assert corrections(unit)[1]["acked_at"] is not None
    with server.admin().storage.tx(write=False) as tx:
        stored = tx.one(
            "SELECT anchor_source, corrected_instant FROM punch_corrections WHERE device_id = ? AND seq = 1", (device,)
        )
        old = tx.all("SELECT anchor_source FROM superseded_corrections WHERE device_id = ? AND seq = 1", (device,))
    assert stored is not None and stored["anchor_source"] == "server"
    assert [o["anchor_source"] for o in old] == ["technician"]  # the server replaced it and kept it

    # a unit restored from a backup sends the technician's correction again: a duplicate, not a refusal
    target = PresensiV1Target(server.url, unit.identity(), clock, ca_file=server.ca_file, check_certificate_time=False)
    again = target.upload_corrections([c.wire() for c in sent])
    target.close()
    assert (again.accepted, again.duplicates) == (0, 1)


def test_the_server_refuses_a_worse_source_after_a_better_one(server: ServerProcess, tmp_path: Path) -> None:
    """After the server's correction is stored, a technician-anchored correction of the same punch
    (a unit that learnt a typed time later, or a replay) is refused with the reason; nothing changes."""
    truth = datetime.now(UTC)
    clock = FakeClock(truth - timedelta(days=3), boot_id="boot-field")
    unit = unit_with(tmp_path / "unit", clock, "unsynced")
    provision(unit, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    store = unit.store()
    store.record(PunchRequest(NIP, "card"))
    assert run_once(unit)["ok"] and run_once(unit)["ok"]
    assert corrections(unit)[1]["source"] == "server"
    keeper = unit.timekeeper(store.conn)
    anchor = keeper.record_anchor(truth - timedelta(minutes=1), "technician")
    row = store.conn.execute("SELECT id, seq, hash, instant, boot_id, mono_ns FROM punches WHERE seq = 1").fetchone()
    body = correction_body(unit.identity().device_id, row, anchor)
    worse = {**body, "signature": unit.identity().sign(canonical_json(body).encode("ascii"))}
    with httpx.Client(base_url=server.url, verify=tls_context(server.ca_file)) as http:
        payload, headers = protocol.encode_body({"corrections": [worse]})
        signed = sign_request(
            unit.identity(), "POST", protocol.CORRECTIONS_PATH, "", payload, created=int(time.time()), randbytes=os.urandom
        )
        response = http.post(protocol.CORRECTIONS_PATH, content=payload, headers={**headers, **signed})
    assert response.status_code == 422
    assert "its time source (technician) is not more trusted than that one's (server)" in response.json()["error"]
    with server.admin().storage.tx(write=False) as tx:
        stored = tx.one(
            "SELECT anchor_source FROM punch_corrections WHERE device_id = ? AND seq = 1", (unit.identity().device_id,)
        )
    assert stored is not None and stored["anchor_source"] == "server"


def test_a_synced_punch_the_servers_clock_contradicts_is_corrected(server: ServerProcess, tmp_path: Path) -> None:
    """The kernel's NTP flag says synchronised while the clock is an hour ahead (a wrong NTP server):
    the first punch is recorded "synced" (nothing could tell), the sync measures the server's clock,
    no NTP anchor is recorded against it, later punches are flagged, and every punch of the boot is
    corrected — the first too."""
    truth = datetime.now(UTC)
    clock = FakeClock(truth + timedelta(hours=1), boot_id="boot-ahead")
    unit = unit_with(tmp_path / "unit", clock, "synced")
    provision(unit, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    store = unit.store()
    first = store.record(PunchRequest(NIP, "card"))
    assert first.clock_state == "synced"
    assert run_once(unit)["ok"]
    keeper = unit.timekeeper(store.conn)
    keeper.tick()
    sources = [r["source"] for r in store.conn.execute("SELECT source FROM time_anchors WHERE boot_id = 'boot-ahead'")]
    assert "server" in sources and "ntp" not in sources
    second = unit.store().record(PunchRequest(NIP, "card"))
    assert second.clock_state == "unsynced"
    assert run_once(unit)["ok"]
    fixed = corrections(unit)
    assert set(fixed) == {1, 2}
    for seq, punch in ((1, first), (2, second)):
        off = (parse_instant(punch.instant) - parse_instant(fixed[seq]["corrected_instant"])).total_seconds()
        assert abs(off - 3600) < 5, (seq, off)


def test_a_typed_time_the_server_contradicts_is_refused(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 7, 1, 0, tzinfo=UTC), boot_id="boot-x")
    keeper = TimeKeeper(
        open_database(tmp_path / "p.db"), clock, DeviceIdentity.generate(), facts=FixedTimeFacts(ClockState.UNSYNCED)
    )
    keeper.note_server_offset(-7200.0)  # the server: our clock is two hours ahead
    setter = Setter()
    with pytest.raises(TypedTimeRefused) as refused:
        keeper.set_time(clock.now() + timedelta(hours=1), setter)  # typed an hour further ahead
    assert refused.value.offset_s == pytest.approx(3 * 3600, abs=2) and setter.calls == []
    keeper.set_time(clock.now() - timedelta(hours=2, seconds=30), setter)  # the server's time, 30 s off: fine
    assert len(setter.calls) == 1


@pytest.mark.parametrize(
    "wall",
    [
        datetime(2019, 3, 1, tzinfo=UTC),
        EARLIEST_TRUE_TIME - timedelta(days=1),
        LATEST_TRUE_TIME,
        datetime(2035, 6, 1, tzinfo=UTC),
    ],
)
def test_a_year_outside_what_this_software_can_see_is_certainly_wrong(tmp_path: Path, wall: datetime) -> None:
    clock = FakeClock(wall, boot_id="boot-y")
    keeper = TimeKeeper(
        open_database(tmp_path / "p.db"), clock, DeviceIdentity.generate(), facts=FixedTimeFacts(ClockState.SYNCED)
    )
    report = keeper.report()  # even with the kernel's NTP flag set
    assert report.state is ClockState.UNSYNCED and report.certainly_wrong and str(wall.year) in report.detail
    keeper.tick()
    assert keeper.conn.execute("SELECT count(*) FROM time_anchors").fetchone()[0] == 0  # no NTP anchor at a wrong time
    store = PunchStore(keeper.conn, keeper.identity, clock, keeper)  # type: ignore[arg-type]
    assert store.record(PunchRequest(NIP, "card")).clock_state == "unsynced"  # recorded, flagged, never refused


def test_a_mistyped_year_is_refused_and_the_helper_agrees_on_the_years(tmp_path: Path) -> None:
    """Review of issue 21: typing 2025 placed every punch of the boot in 2025, accepted by the server."""
    from core import privileged_protocol as helper

    clock = FakeClock(datetime(2026, 12, 7, 1, 0, tzinfo=UTC), boot_id="boot-z")
    keeper = TimeKeeper(
        open_database(tmp_path / "p.db"), clock, DeviceIdentity.generate(), facts=FixedTimeFacts(ClockState.UNSYNCED)
    )
    setter = Setter()
    for typed in (datetime(2025, 12, 7, 8, 0, tzinfo=UTC), datetime(2036, 12, 7, 8, 0, tzinfo=UTC)):
        with pytest.raises(TypedTimeImpossible):
            keeper.set_time(typed, setter)
    assert setter.calls == []
    assert (EARLIEST_TRUE_TIME.timestamp(), LATEST_TRUE_TIME.timestamp()) == (helper.MIN_EPOCH, helper.MAX_EPOCH)


def test_an_agreeing_server_anchor_leaves_an_ntp_correction_alone(tmp_path: Path) -> None:
    """Review of issue 21: a server's Date (whole seconds) re-signed every NTP correction each
    morning; it supersedes only when it places the punch more than 2 s elsewhere."""
    clock = FakeClock(datetime(2026, 12, 7, 0, 0, tzinfo=UTC), boot_id="boot-n")
    conn = open_database(tmp_path / "p.db")
    keeper = TimeKeeper(conn, clock, DeviceIdentity.generate(), facts=FixedTimeFacts(ClockState.UNSYNCED), max_offset_s=120)
    store = PunchStore(conn, keeper.identity, clock, keeper)  # type: ignore[arg-type]
    assert store.record(PunchRequest(NIP, "card")).clock_state == "unsynced"
    clock.advance(60)
    keeper.record_anchor(clock.now() + timedelta(minutes=10), "ntp")
    assert len(keeper.correct_punches()) == 1
    keeper.record_anchor(clock.now() + timedelta(minutes=10, seconds=1), "server")  # agrees within 2 s
    assert keeper.correct_punches() == []
    source = conn.execute("SELECT a.source FROM punch_corrections c JOIN time_anchors a ON a.id = c.anchor_id").fetchone()[0]
    assert source == "ntp"
    keeper.record_anchor(clock.now() + timedelta(minutes=10, seconds=30), "server")  # 30 s elsewhere: the server's wins
    assert len(keeper.correct_punches()) == 1
    source = conn.execute("SELECT a.source FROM punch_corrections c JOIN time_anchors a ON a.id = c.anchor_id").fetchone()[0]
    assert source == "server"


def test_the_certificate_date_check_follows_the_clock_request_by_request(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of issue 21: the sync service decided once at start (before NTP) and then accepted
    expired certificates for weeks. The decision is now made before every request."""
    from sync.targets import presensi_v1

    made: list[bool] = []
    real = presensi_v1.tls_context

    def spy(*args: Any, check_time: bool = True, **kwargs: Any) -> Any:
        made.append(check_time)
        return real(*args, check_time=check_time, **kwargs)

    monkeypatch.setattr(presensi_v1, "tls_context", spy)
    trusted = [False]
    target = PresensiV1Target(
        server.url, DeviceIdentity.generate(), FakeClock(), ca_file=server.ca_file, check_certificate_time=lambda: trusted[0]
    )
    first = target._current_client()
    assert target._current_client() is first and made == [False]
    trusted[0] = True  # NTP has synchronised
    assert target._current_client() is not first and made == [False, True]
    target.close()
