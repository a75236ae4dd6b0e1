"""Port 4370 on a LAN (issue 22, finding 7): a comm key is required off loopback, wrong keys lock
the address out, session ids are checked, sessions expire and their table is bounded, and card
numbers are sent only when configured. pyzk (the connectors' client) and raw UDP packets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

zk_base = pytest.importorskip("zk.base", reason="pyzk is in the dev extra")

from core.clock import FakeClock  # noqa: E402
from core.config import parse_config  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.identity import DeviceIdentity  # noqa: E402
from core.store.db import open_database  # noqa: E402
from core.store.synthetic import build_signed_chain  # noqa: E402
from sync.zk4370.codec import Cmd, Packet  # noqa: E402
from sync.zk4370.guard import FAILURES_BEFORE_LOCK, IDLE_S, LOCK_BASE_S, MAX_SESSIONS  # noqa: E402
from sync.zk4370.server import ZkPolicy, ZkServer  # noqa: E402

NIP = "198503302010011001"


@pytest.fixture
def unit(tmp_path: Path) -> tuple[Path, DeviceIdentity, FakeClock]:
    path = tmp_path / "presensi.db"
    conn = open_database(path)
    conn.execute("INSERT INTO employees (id, name, updated_at) VALUES (?, 'Siti', '2026-11-01')", (NIP,))
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('0A1B2C3D', ?, '2026-11-01')", (NIP,))
    identity = DeviceIdentity.generate()
    clock = FakeClock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    build_signed_chain(conn, identity, 3, employee_ids=[NIP], clock=clock, step_s=1)
    conn.close()
    return path, identity, clock


@pytest.fixture
def server(unit: tuple[Path, DeviceIdentity, FakeClock]) -> Iterator[ZkServer]:
    path, identity, clock = unit
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, poll_s=0.05) as running:
        yield running


def pyzk(server: ZkServer, **kwargs: object) -> object:
    return zk_base.ZK("127.0.0.1", port=server.port, timeout=20, ommit_ping=True, **kwargs)


class RawUdp:
    """A UDP peer speaking the packets by hand (what pyzk hides)."""

    def __init__(self, server: ZkServer) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(20)  # a failure guard only: every send is answered
        self.server = server
        self.reply = 0

    def ask(self, command: int, session: int, data: bytes = b"") -> Packet:
        self.reply += 1
        self.sock.sendto(Packet(command, session, self.reply, data).encode(), ("127.0.0.1", self.server.port))
        return Packet.decode(self.sock.recv(4096))

    def connect(self) -> int:
        answer = self.ask(Cmd.CONNECT, 0)
        assert answer.command == Cmd.ACK_OK
        return answer.session

    def close(self) -> None:
        self.sock.close()


def test_no_comm_key_is_refused_off_loopback(unit: tuple[Path, DeviceIdentity, FakeClock], tmp_path: Path) -> None:
    path, identity, clock = unit
    with pytest.raises(ConfigError, match="needs a comm key"):
        ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, host="0.0.0.0", port=0)
    with pytest.raises(ConfigError) as refused:
        parse_config("[zk4370]\nenabled = true\n")  # the default host is 0.0.0.0
    assert "needs a comm key" in " ".join(refused.value.problems)
    key = tmp_path / "comm.key"
    key.write_text("4321\n")
    assert parse_config(f'[zk4370]\nenabled = true\ncomm_key_file = "{key}"\n').zk4370.enabled
    assert parse_config('[zk4370]\nenabled = true\nhost = "127.0.0.1"\n').zk4370.enabled


def test_wrong_comm_keys_lock_the_address_out(unit: tuple[Path, DeviceIdentity, FakeClock]) -> None:
    path, identity, clock = unit
    policy = ZkPolicy(comm_key=4321)
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=policy) as server:
        for guess in range(FAILURES_BEFORE_LOCK):
            with pytest.raises(zk_base.ZKErrorResponse, match="Unauthenticated"):
                pyzk(server, password=1000 + guess).connect()
        with pytest.raises(zk_base.ZKErrorResponse, match="Unauthenticated"):  # locked: even the right key is not checked
            pyzk(server, password=4321).connect()
        clock.advance(LOCK_BASE_S + 1)
        good = pyzk(server, password=4321).connect()
        assert len(good.get_attendance()) == 3
        good.disconnect()


def test_a_packet_with_another_session_id_gets_nothing(server: ZkServer) -> None:
    """A spoofed source joined an authenticated UDP session: the session id must match."""
    peer = RawUdp(server)
    try:
        session = peer.connect()
        assert peer.ask(Cmd.GET_TIME, session).command == Cmd.ACK_OK
        stranger = peer.ask(Cmd.GET_TIME, (session % 0xFFFE) + 1)
        assert stranger.command == Cmd.ACK_UNAUTH and stranger.data == b""
        assert peer.ask(Cmd.GET_TIME, session).command == Cmd.ACK_OK  # the real session goes on
    finally:
        peer.close()


def test_sessions_are_bounded_and_expire(unit: tuple[Path, DeviceIdentity, FakeClock]) -> None:
    """80,000 CONNECTs slowed every reply 60-fold: the table holds at most MAX_SESSIONS, the
    idlest peer without the key makes room, and idle sessions end."""
    path, identity, clock = unit
    policy = ZkPolicy(comm_key=4321)
    with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=policy) as server:
        flood = [RawUdp(server) for _ in range(3 * MAX_SESSIONS)]
        try:
            for peer in flood:
                assert peer.ask(Cmd.CONNECT, 0).command == Cmd.ACK_UNAUTH  # connected, not authenticated
            assert server.session_count() <= MAX_SESSIONS
            zk = pyzk(server, password=4321).connect()  # a connector with the key still gets in
            assert zk.get_time() is not None
            zk.disconnect()
            clock.advance(IDLE_S + 1)
            late = RawUdp(server)
            session = late.ask(Cmd.CONNECT, 0).session  # each CONNECT sweeps the table
            assert server.session_count() == 1
            assert flood[-1].ask(Cmd.GET_TIME, 1).command == Cmd.ACK_UNAUTH  # an expired session answers nothing
            assert late.ask(Cmd.GET_TIME, session).command == Cmd.ACK_UNAUTH  # still needs the key
            late.close()
        finally:
            for peer in flood:
                peer.close()


def test_card_numbers_only_when_configured(unit: tuple[Path, DeviceIdentity, FakeClock]) -> None:
    path, identity, clock = unit
    for export, card in ((False, 0), (True, 0x0A1B2C3D)):
        policy = ZkPolicy(export_cards=export)
        with ZkServer(path, zone="Asia/Jakarta", clock=clock, device_id=identity.device_id, port=0, policy=policy) as server:
            zk = pyzk(server).connect()
            assert [u.card for u in zk.get_users()] == [card]
            zk.disconnect()
