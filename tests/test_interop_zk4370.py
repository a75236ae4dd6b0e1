"""pyzk, the client connector applications use, against the unit's port-4370 server."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

zk_base = pytest.importorskip("zk.base", reason="pyzk is in the dev extra")

from core.clock import FakeClock, FixedClockState  # noqa: E402
from core.identity import DeviceIdentity  # noqa: E402
from core.store.db import open_database  # noqa: E402
from core.store.punches import PunchRequest, PunchStore  # noqa: E402
from core.store.synthetic import build_signed_chain  # noqa: E402
from sync.zk4370.codec import checksum, decode_time, encode_time  # noqa: E402
from sync.zk4370.server import ZkPolicy, ZkServer  # noqa: E402

EMPLOYEES = [
    ("198503302010011001", "Siti Rahmawati"),
    ("199001012019032002", "Budi Santoso"),
    ("197812122005011003", "Made Wirawan"),
]


def make_store(
    path: Path, punches: int, identity: DeviceIdentity | None = None
) -> tuple[sqlite3.Connection, DeviceIdentity, FakeClock]:
    conn = open_database(path)
    for employee_id, name in EMPLOYEES:
        conn.execute("INSERT INTO employees (id, name, updated_at) VALUES (?, ?, '2026-11-01')", (employee_id, name))
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('0A1B2C3D', ?, '2026-11-01')", (EMPLOYEES[1][0],))
    identity = identity or DeviceIdentity.generate()
    clock = FakeClock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    build_signed_chain(conn, identity, punches, employee_ids=[e[0] for e in EMPLOYEES], clock=clock, step_s=0.5)
    return conn, identity, clock


@pytest.fixture(scope="module")
def big_unit(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ZkServer, sqlite3.Connection, DeviceIdentity, FakeClock]]:
    path = tmp_path_factory.mktemp("zk") / "presensi.db"
    conn, identity, clock = make_store(path, 100_000)
    policy = ZkPolicy(export_cards=True)  # zk4370.export_cards: card numbers only when configured
    with ZkServer(
        path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, poll_s=0.05, policy=policy
    ) as server:
        yield server, conn, identity, clock


def client(server: ZkServer, **kwargs: object) -> object:
    return zk_base.ZK("127.0.0.1", port=server.port, timeout=20, ommit_ping=True, **kwargs)


def test_checksum_matches_the_documented_vector() -> None:
    assert checksum(bytes.fromhex("d0070000f38d0a0009")) == 0x6A29


def test_time_encoding_round_trips() -> None:
    moment = datetime(2026, 11, 23, 7, 42, 5)
    assert decode_time(encode_time(moment)) == moment


def test_pyzk_reads_users_time_and_100000_records_over_tcp(
    big_unit: tuple[ZkServer, sqlite3.Connection, DeviceIdentity, FakeClock],
) -> None:
    server, _conn, identity, _clock = big_unit
    zk = client(server)
    conn = zk.connect()
    try:
        assert conn.get_time() == datetime(2026, 11, 23, 7, 0, 0) + timedelta(seconds=50_000)  # local WIB
        assert conn.get_serialnumber() == identity.device_id
        users = conn.get_users()
        assert sorted((u.user_id, u.name) for u in users) == sorted(EMPLOYEES)
        assert next(u for u in users if u.user_id == EMPLOYEES[1][0]).card == 0x0A1B2C3D
        records = conn.get_attendance()
        assert len(records) == 100_000
        first, last = records[0], records[-1]
        assert first.user_id == EMPLOYEES[1][0]  # seq 1 → employee_ids[1 % 3]
        assert first.timestamp == datetime(2026, 11, 23, 7, 0, 0, 500000).replace(microsecond=0)
        assert last.timestamp == datetime(2026, 11, 23, 7, 0, 0) + timedelta(seconds=50_000)
        assert {r.punch for r in records[:4]} == {0, 1}  # masuk / pulang states
    finally:
        conn.disconnect()


def test_pyzk_reads_2000_records_over_udp(tmp_path: Path) -> None:
    path = tmp_path / "presensi.db"
    _conn, identity, clock = make_store(path, 2000)
    with ZkServer(path, zone="Asia/Makassar", clock=clock, device_id=identity.device_id, port=0) as server:
        zk = client(server, force_udp=True)
        conn = zk.connect()
        try:
            records = conn.get_attendance()
            assert len(records) == 2000
            assert records[0].timestamp == datetime(2026, 11, 23, 8, 0, 0)  # WITA
            assert len(conn.get_users()) == 3
        finally:
            conn.disconnect()


def test_live_capture_receives_a_new_punch(tmp_path: Path) -> None:
    path = tmp_path / "presensi.db"
    conn, identity, clock = make_store(path, 5)
    store = PunchStore(conn, identity, clock, FixedClockState())
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, poll_s=0.05) as server:
        zk = client(server)
        live = zk.connect()
        received: list[object] = []
        registered = threading.Event()

        def capture() -> None:
            for event in live.live_capture(new_timeout=1):
                registered.set()
                if event is not None:
                    received.append(event)
                    live.end_live_capture = True

        thread = threading.Thread(target=capture)
        thread.start()
        assert registered.wait(10), "live capture did not start"  # first timeout → None yielded
        clock.advance(60)
        store.record(PunchRequest(EMPLOYEES[2][0], "face", kind="masuk"))
        thread.join(20)
        assert not thread.is_alive()
        assert len(received) == 1
        assert received[0].user_id == EMPLOYEES[2][0]
        assert received[0].status == 15  # face
        live.disconnect()


def test_comm_key_is_required_when_set(tmp_path: Path) -> None:
    path = tmp_path / "presensi.db"
    _conn, identity, clock = make_store(path, 3)
    with ZkServer(
        path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=ZkPolicy(comm_key=4321)
    ) as server:
        with pytest.raises(zk_base.ZKErrorResponse, match="Unauthenticated"):
            client(server, password=1234).connect()
        good = client(server, password=4321).connect()
        assert len(good.get_attendance()) == 3
        good.disconnect()


def test_writes_are_refused_unless_enabled_and_clearing_needs_acknowledgement(tmp_path: Path) -> None:
    path = tmp_path / "presensi.db"
    conn, identity, clock = make_store(path, 4)
    store = PunchStore(conn, identity, clock, FixedClockState())
    acked = {"seq": 2}
    set_to: list[datetime] = []
    policy = ZkPolicy(allow_clear_log=True, acked_seq=lambda: acked["seq"], prune_through=store.prune_through)
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=policy) as server:
        zk = client(server).connect()
        with pytest.raises(zk_base.ZKErrorResponse):
            zk.set_time(datetime(2030, 1, 1))
        with pytest.raises(zk_base.ZKErrorResponse):
            zk.set_user(uid=9, name="Penyusup", user_id="666")
        with pytest.raises(zk_base.ZKErrorResponse):
            zk.clear_attendance()  # punches 3–4 are not acknowledged yet
        assert store.count() == 4
        acked["seq"] = 4
        assert zk.clear_attendance()
        assert store.count() == 0
        zk.disconnect()
    policy = ZkPolicy(allow_set_time=True, set_time=set_to.append)
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=policy) as server:
        zk = client(server).connect()
        assert zk.set_time(datetime(2026, 11, 23, 7, 30, 0))
        assert set_to[0].astimezone(UTC) == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
        zk.disconnect()


def test_a_large_log_keeps_the_server_answering_a_second_client(
    big_unit: tuple[ZkServer, sqlite3.Connection, DeviceIdentity, FakeClock],
) -> None:
    """Issue 20.3: the snapshot of 100,000 punches is built off the event loop; a second client's
    get_time is answered meanwhile, and the loop stays responsive for the watchdog."""
    server, _conn, identity, clock = big_unit
    with ZkServer(server.db_path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0) as fresh:
        reader, other = client(fresh).connect(), client(fresh).connect()
        got: list[int] = []
        done = threading.Event()

        def read_all() -> None:
            try:
                got.append(len(reader.get_attendance()))
            finally:
                done.set()

        thread = threading.Thread(target=read_all)
        thread.start()
        answered, responsive = 0, []
        while not done.is_set() or answered == 0:
            assert other.get_time() == datetime(2026, 11, 23, 7, 0, 0) + timedelta(seconds=50_000)
            responsive.append(fresh.responsive(2.0))
            answered += 1
        thread.join()
        assert got == [100_000] and answered >= 1 and all(responsive)
        # a second read is served from the incremental cache, exact again
        assert len(reader.get_attendance()) == 100_000
        reader.disconnect()
        other.disconnect()


def test_pin_width_inactive_users_names_and_a_failing_clock(tmp_path: Path) -> None:
    """Issue 20.4–20.5: get_pin_width answers; an employee no longer active stays in the user list
    (disabled), so connectors keep their punches; a long name is cut at a character boundary; a
    clock that cannot be set is an error reply, not a dropped connection."""
    path = tmp_path / "presensi.db"
    conn, identity, clock = make_store(path, 6)
    conn.execute("UPDATE employees SET active = 0 WHERE id = ?", (EMPLOYEES[2][0],))
    conn.execute("UPDATE employees SET name = ? WHERE id = ?", ("Ni Luh Putu Ayu Ṡriwahyuni Dewi", EMPLOYEES[0][0]))

    def broken_clock(_instant: datetime) -> None:
        raise RuntimeError("timedatectl set-ntp false: Access denied")

    policy = ZkPolicy(allow_set_time=True, set_time=broken_clock)
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=policy) as server:
        zk = client(server).connect()
        try:
            assert zk.get_pin_width() == 24
            users = {u.user_id: u for u in zk.get_users()}
            assert set(users) == {e[0] for e in EMPLOYEES}
            assert users[EMPLOYEES[2][0]].privilege & 1  # disabled
            name = users[EMPLOYEES[0][0]].name
            assert "Ni Luh Putu Ayu".startswith(name[:15]) and "\ufffd" not in name
            assert {r.user_id for r in zk.get_attendance()} <= set(users)
            with pytest.raises(zk_base.ZKErrorResponse):
                zk.set_time(datetime(2026, 11, 23, 7, 30, 0))
            assert zk.get_time() is not None  # the connection is still there
        finally:
            zk.disconnect()


def _serve_cli(tmp_path: Path, punches: int) -> Iterator[tuple[int, object]]:
    """``presensi zk4370`` as the systemd unit starts it (its own process, config file, data dir)."""
    import socket
    import subprocess
    import sys

    data = tmp_path / "unit"
    data.mkdir()
    make_store(data / "presensi.db", punches, DeviceIdentity.load_or_create(data))[0].close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "presensi.toml"
    config.write_text(f'[unit]\nhardware = "sim"\n\n[zk4370]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "--config", str(config), "--data-dir", str(data), "zk4370"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the server listens
        assert "port-4370 server on" in line, line
        yield port, process
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.parametrize("punches", [100_000, pytest.param(300_000, marks=pytest.mark.soak)])
def test_the_cli_serves_a_large_log_and_keeps_answering(tmp_path: Path, punches: int) -> None:
    """Issue 20.3 must-show: the process the systemd unit runs serves pyzk's get_attendance of the
    whole log, exact, while a second client's get_time is answered, and does not exit."""
    for port, process in _serve_cli(tmp_path, punches):
        reader = zk_base.ZK("127.0.0.1", port=port, timeout=120, ommit_ping=True).connect()
        other = zk_base.ZK("127.0.0.1", port=port, timeout=120, ommit_ping=True).connect()
        got: list[int] = []
        done = threading.Event()

        def read_all(reader: object = reader, got: list[int] = got, done: threading.Event = done) -> None:
            try:
                got.append(len(reader.get_attendance()))  # type: ignore[attr-defined]
            finally:
                done.set()

        thread = threading.Thread(target=read_all)
        thread.start()
        answered = 0
        while not done.is_set() or answered == 0:
            assert other.get_time() is not None
            answered += 1
        thread.join()
        assert got == [punches] and answered >= 1
        assert process.poll() is None  # type: ignore[attr-defined]
        reader.disconnect()
        other.disconnect()


def test_event_kinds_have_their_configured_zk_state(tmp_path: Path) -> None:
    """Issue 20.5: apel and senam are check-in (state 0) unless zk4370.states says otherwise."""
    path = tmp_path / "presensi.db"
    conn, identity, clock = make_store(path, 2)
    store = PunchStore(conn, identity, clock, FixedClockState())
    clock.advance(3600)
    store.record(PunchRequest(EMPLOYEES[0][0], "card", kind="apel"))
    for states, expected in (({}, 0), ({"apel": 4}, 4)):
        with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, states=states) as server:
            zk = client(server).connect()
            try:
                assert zk.get_attendance()[-1].punch == expected
            finally:
                zk.disconnect()
