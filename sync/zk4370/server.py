"""The port-4370 server: TCP and UDP, one session per connection (TCP) or peer (UDP).

Read-only by default: users and attendance come from the punch store; the clock can be read.
Setting the time and clearing the log are refused unless enabled, and clearing is refused
anyway while any punch is not yet acknowledged by the central server. Writing users, clearing
all data, restarting or powering off from a connector application are always refused: the
roster comes from the regency's server. Templates are never served.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import sqlite3
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, cast
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.errors import ConfigError, ProtocolError
from core.store.db import data_version, open_database
from core.store.punches import head_seq
from sync.zk4370.codec import EF_ATTLOG, STATES, TCP_MAGIC, Cmd, Packet, check_commkey, decode_time, encode_time, tcp_frame
from sync.zk4370.data import Snapshot, SnapshotCache, new_events
from sync.zk4370.guard import IDLE_S, MAX_SESSIONS, UNAUTHENTICATED_IDLE_S, AuthGuard, is_loopback

log = logging.getLogger(__name__)

TCP_CHUNK_MAX = 0xFFC0
PIN_WIDTH = 24  # as ~PIN2Width: user ids up to 24 characters
UDP_DATA_MAX = 1024
NO_DATA_REPLIES = frozenset(
    {Cmd.CONNECT, Cmd.EXIT, Cmd.ENABLEDEVICE, Cmd.DISABLEDEVICE, Cmd.REFRESHDATA, Cmd.FREE_DATA, Cmd.SET_TIME, Cmd.REG_EVENT}
)
REFUSED_WRITES = {
    Cmd.USER_WRQ: "writing users",
    Cmd.DELETE_USER: "deleting users",
    Cmd.CLEAR_DATA: "clearing all data",
    Cmd.RESTART: "restarting the unit",
    Cmd.POWEROFF: "powering the unit off",
    Cmd.OPTIONS_WRQ: "changing options",
}


@dataclass
class ZkPolicy:
    """What a connector application may do besides reading."""

    comm_key: int = 0
    allow_set_time: bool = False
    allow_clear_log: bool = False
    set_time: Callable[[datetime], object] | None = None  # takes an aware instant
    acked_seq: Callable[[], int] = lambda: 0  # the central server's acknowledged sequence number
    prune_through: Callable[[int], int] | None = None
    export_cards: bool = False  # card numbers in the users a client reads (a card number is a credential)


@dataclass
class Session:
    id: int
    authenticated: bool
    send: Callable[[bytes], None]
    addr: str = ""
    key: tuple[str, object] = ("", None)  # its place in the session table
    close: Callable[[], None] = lambda: None
    last_s: float = 0.0  # the clock's monotonic seconds at its last packet
    snapshot: Snapshot | None = None
    prefetched: Snapshot | None = None  # built off the event loop for the command being handled
    buffer: bytes = b""
    live: bool = False
    live_after: int = 0
    closing: bool = False


class ZkServer:
    """Serves the store on TCP and UDP ``port`` until :meth:`stop`. Runs its own event loop
    in a thread so it can sit beside any service."""

    def __init__(
        self,
        db_path: Path,
        *,
        zone: str,
        clock: Clock,
        device_id: str,
        host: str = "127.0.0.1",
        port: int = 4370,
        policy: ZkPolicy | None = None,
        poll_s: float = 0.25,
        rng: random.Random | None = None,
        states: dict[str, int] | None = None,
    ) -> None:
        self.db_path, self.zone, self.clock, self.device_id = db_path, zone, clock, device_id
        self.host, self.port = host, port
        self.policy = policy or ZkPolicy()
        self.poll_s = poll_s
        self._rng = rng or random.Random()
        if self.policy.comm_key == 0 and not is_loopback(host):
            raise ConfigError(
                f"port 4370 on {host} needs a comm key: anyone on the LAN could read every NIP and punch; "
                "put a number in a file only presensi can read and set zk4370.comm_key_file (docs/interop.md)"
            )
        self._sessions: dict[tuple[str, object], Session] = {}
        self._guard = AuthGuard()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._conn: sqlite3.Connection | None = None
        # Snapshots are built on one worker thread with its own connection, never on the event
        # loop: a log of 100,000 punches must not stop the server answering other clients.
        self._builder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="zk4370-snapshot")
        self._builder_conn: sqlite3.Connection | None = None
        self.states = {**STATES, **(states or {})}
        self._cache = SnapshotCache(zone, self.states, cards=self.policy.export_cards)
        self._udp_tasks: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        return f"ZkServer({self.host}:{self.port}, sessions={len(self._sessions)})"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ZkServer:
        self._thread = threading.Thread(target=self._run, name="zk4370", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)
        with contextlib.suppress(RuntimeError):  # stopped before: the builder is already shut down
            self._builder.submit(self._close_builder).result(10)
        self._builder.shutdown(wait=True)

    def _close_builder(self) -> None:
        if self._builder_conn is not None:
            self._builder_conn.close()
            self._builder_conn = None

    def _build_snapshot(self) -> Snapshot:
        """On the builder thread: the users and attendance now (the cache grows incrementally)."""
        if self._builder_conn is None:
            self._builder_conn = open_database(self.db_path)
        return self._cache.refresh(self._builder_conn)

    async def _prefetch(self, session: Session, raw: bytes) -> None:
        """Build the snapshot a command will need before handling it, off the event loop."""
        if not session.authenticated or len(raw) < 2:
            return
        (command,) = struct.unpack("<H", raw[:2])
        if command == Cmd.GET_FREE_SIZES or (command == Cmd.PREPARE_BUFFER and session.snapshot is None):
            loop = asyncio.get_running_loop()
            session.prefetched = await loop.run_in_executor(self._builder, self._build_snapshot)

    def _snapshot_now(self, session: Session) -> Snapshot:
        snapshot, session.prefetched = session.prefetched, None
        return snapshot if snapshot is not None else self._builder.submit(self._build_snapshot).result()

    def responsive(self, timeout: float = 2.0) -> bool:
        """True when the server's loop answers within ``timeout`` (for the watchdog)."""
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            return False
        try:
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(timeout)
        except (TimeoutError, RuntimeError):
            return False
        return True

    def __enter__(self) -> ZkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start() or logged
            self._error = exc
            self._ready.set()
            log.exception("port-4370 server stopped")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._conn = open_database(self.db_path)
        tcp = await asyncio.start_server(self._tcp_client, self.host, self.port)
        self.port = tcp.sockets[0].getsockname()[1]
        udp, _ = await self._loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(self.host, self.port))
        pump = asyncio.create_task(self._pump_events())
        log.info("port-4370 server on %s:%d (TCP and UDP)", self.host, self.port)
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            pump.cancel()
            tcp.close()
            udp.close()
            await tcp.wait_closed()
            self._conn.close()

    # -- transports ------------------------------------------------------------------------

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        session = Session(
            0,
            False,
            lambda data: writer.write(tcp_frame(data)),
            addr=str(peer[0]) if peer else "",
            key=("tcp", peer),
            close=writer.close,
        )
        if not self._admit(session):
            writer.close()
            return
        try:
            while not session.closing:
                top = await reader.readexactly(8)
                if top[:4] != TCP_MAGIC:
                    raise ProtocolError(f"not a ZK TCP frame from {peer}")
                (length,) = struct.unpack("<I", top[4:])
                if length > 1 << 20:
                    raise ProtocolError(f"ZK frame of {length} bytes from {peer}")
                raw = await reader.readexactly(length)
                await self._prefetch(session, raw)
                self._handle(session, raw)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            log.warning("port 4370: %s; closing the connection", exc)
        finally:
            if self._sessions.get(session.key) is session:
                del self._sessions[session.key]
            writer.close()

    def _udp_datagram(self, data: bytes, addr: tuple[str, int], transport: asyncio.DatagramTransport) -> None:
        session = self._sessions.get(("udp", addr))
        if session is None:  # joins the table at CONNECT
            session = Session(0, False, lambda out: transport.sendto(out, addr), addr=addr[0], key=("udp", addr))
        task = asyncio.ensure_future(self._udp_handle(session, data, addr))
        self._udp_tasks.add(task)
        task.add_done_callback(self._udp_tasks.discard)

    async def _udp_handle(self, session: Session, data: bytes, addr: tuple[str, int]) -> None:
        try:
            await self._prefetch(session, data)
            self._handle(session, data, udp=True)
        except ProtocolError as exc:
            log.warning("port 4370 (UDP %s): %s", addr[0], exc)

    # -- the protocol ----------------------------------------------------------------------

    def _reply(self, session: Session, request: Packet, command: int, data: bytes = b"") -> None:
        session.send(Packet(command, session.id, request.reply, data).encode())

    def _handle(self, session: Session, raw: bytes, *, udp: bool = False) -> None:
        request = Packet.decode(raw)
        cmd = request.command
        now = self._now_s()
        if cmd == Cmd.CONNECT:
            if self._sessions.get(session.key) is not session and not self._admit(session):
                self._reply(session, request, Cmd.ACK_ERROR)  # busy: the client fails at once, not after its timeout
                return
            session.last_s = now
            session.id = self._rng.randint(1, 0xFFFE)
            session.authenticated = self.policy.comm_key == 0
            self._reply(session, request, Cmd.ACK_OK if session.authenticated else Cmd.ACK_UNAUTH)
            return
        if session.id == 0 or request.session != session.id:
            # not this peer's session: a spoofed source or a stale client; never answered with data
            if cmd != Cmd.ACK_OK:
                self._reply(session, request, Cmd.ACK_UNAUTH)
            return
        session.last_s = now
        if cmd == Cmd.ACK_OK:  # a client acknowledging a live event
            return
        if cmd == Cmd.AUTH:
            self._auth(session, request, now)
            return
        if not session.authenticated:
            self._reply(session, request, Cmd.ACK_UNAUTH)
            return
        handler = self._handlers.get(cmd)
        if handler is not None:
            handler(self, session, request, udp)
        elif cmd in REFUSED_WRITES:
            why = (
                "the unit is managed from its maintenance page"
                if cmd in (Cmd.RESTART, Cmd.POWEROFF)
                else "the roster is managed by the central server"
            )
            log.warning("port 4370: refused %s (%s)", REFUSED_WRITES[cmd], why)
            self._reply(session, request, Cmd.ACK_ERROR)
        else:
            log.info("port 4370: unsupported command %d", cmd)
            self._reply(session, request, Cmd.ACK_ERROR)

    def _auth(self, session: Session, request: Packet, now: float) -> None:
        locked = self._guard.locked_for(session.addr, now)
        if locked:
            log.warning("port 4370: %s is locked out for %.0f s after wrong comm keys; not checked", session.addr, locked)
            self._reply(session, request, Cmd.ACK_UNAUTH)
            return
        session.authenticated = check_commkey(request.data, self.policy.comm_key, session.id)
        if session.authenticated:
            self._guard.succeeded(session.addr)
        else:
            lock = self._guard.failed(session.addr, now)
            log.warning("port 4370: %s gave a wrong comm key%s", session.addr, f"; locked out for {lock:.0f} s" if lock else "")
        self._reply(session, request, Cmd.ACK_OK if session.authenticated else Cmd.ACK_UNAUTH)

    # -- the session table -----------------------------------------------------------------

    def session_count(self) -> int:
        """Sessions held now (TCP connections and UDP peers that connected)."""
        return len(self._sessions)

    def _now_s(self) -> float:
        return self.clock.monotonic_ns() / 1e9

    def _admit(self, session: Session) -> bool:
        """Put a session in the bounded table, dropping expired ones and, when full, the idlest
        one that has not authenticated (else the idlest). False: no room (all are busy)."""
        now = self._now_s()
        session.last_s = now
        self._expire(now)
        if len(self._sessions) >= MAX_SESSIONS:
            victims = sorted(self._sessions.items(), key=lambda kv: (kv[1].authenticated, kv[1].last_s))
            old_key, old = victims[0]
            if old.authenticated and now - old.last_s < UNAUTHENTICATED_IDLE_S:
                log.warning("port 4370: %d sessions are busy; refused a new one from %s", len(self._sessions), session.addr)
                return False
            self._drop(old_key, old, "the session table is full")
        self._sessions[session.key] = session
        return True

    def _expire(self, now: float) -> None:
        for key, session in list(self._sessions.items()):
            if session.live and session.authenticated:
                continue  # a live-event listener is quiet while nobody punches
            limit = IDLE_S if session.authenticated else UNAUTHENTICATED_IDLE_S
            if now - session.last_s > limit:
                self._drop(key, session, "idle")

    def _drop(self, key: tuple[str, object], session: Session, why: str) -> None:
        self._sessions.pop(key, None)
        session.live = False
        session.authenticated = False
        session.id = 0
        session.closing = True
        session.close()
        log.info("port 4370: ended the session of %s (%s)", session.addr, why)

    def _ok(self, session: Session, request: Packet, udp: bool) -> None:
        self._reply(session, request, Cmd.ACK_OK)

    def _exit(self, session: Session, request: Packet, udp: bool) -> None:
        self._reply(session, request, Cmd.ACK_OK)
        session.live = False
        session.closing = not udp
        if self._sessions.get(session.key) is session:
            del self._sessions[session.key]
        if udp:
            session.id, session.authenticated = 0, False

    def _version(self, session: Session, request: Packet, udp: bool) -> None:
        self._reply(session, request, Cmd.ACK_OK, b"Ver 6.60 Presensi Kiosk\x00")

    def _options(self, session: Session, request: Packet, udp: bool) -> None:
        key = request.data.split(b"\x00")[0].decode("ascii", "replace")
        values = {
            "~SerialNumber": self.device_id,
            "~DeviceName": "Presensi Kiosk",
            "~Platform": "RPi_Presensi",
            "~ZKFPVersion": "10",
            "~ExtendFmt": "0",
            "ExtendFmt": "0",
            "ZKFaceVersion": "0",
            "~UserExtFmt": "0",
            "MAC": "00:00:00:00:00:00",
            "~OS": "1",
            "~PIN2Width": "24",
        }
        if key not in values:
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        self._reply(session, request, Cmd.ACK_OK, f"{key}={values[key]}\x00".encode())

    def _sizes(self, session: Session, request: Packet, udp: bool) -> None:
        session.snapshot = self._snapshot_now(session)
        self._reply(session, request, Cmd.ACK_OK, session.snapshot.sizes.encode())

    def _prepare_buffer(self, session: Session, request: Packet, udp: bool) -> None:
        if len(request.data) < 11:
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        _flag, command, _fct, _ext = struct.unpack("<bhii", request.data[:11])
        if session.snapshot is None:
            session.snapshot = self._snapshot_now(session)
        if command == Cmd.USERTEMP_RRQ:
            session.buffer = session.snapshot.users_blob
        elif command == Cmd.ATTLOG_RRQ:
            session.buffer = session.snapshot.attendance_blob
        else:  # fingerprint templates (7) and anything else: never served
            session.buffer = struct.pack("<I", 0)
        size = len(session.buffer)
        self._reply(session, request, Cmd.ACK_OK, b"\x00" + struct.pack("<III", size, size, 0))

    def _read_buffer(self, session: Session, request: Packet, udp: bool) -> None:
        if len(request.data) < 8:
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        start, size = struct.unpack("<ii", request.data[:8])
        if start < 0 or size <= 0 or start + size > len(session.buffer) or size > TCP_CHUNK_MAX:
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        chunk = session.buffer[start : start + size]
        self._reply(session, request, Cmd.PREPARE_DATA, struct.pack("<II", size, 0))
        step = UDP_DATA_MAX if udp else TCP_CHUNK_MAX
        for offset in range(0, len(chunk), step):
            self._reply(session, request, Cmd.DATA, chunk[offset : offset + step])
        self._reply(session, request, Cmd.ACK_OK)

    def _free_data(self, session: Session, request: Packet, udp: bool) -> None:
        session.buffer = b""
        self._reply(session, request, Cmd.ACK_OK)

    def _get_time(self, session: Session, request: Packet, udp: bool) -> None:
        local = self.clock.now().astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        self._reply(session, request, Cmd.ACK_OK, struct.pack("<I", encode_time(local)))

    def _set_time(self, session: Session, request: Packet, udp: bool) -> None:
        if not self.policy.allow_set_time or self.policy.set_time is None or len(request.data) < 4:
            log.warning("port 4370: refused setting the time (zk4370.allow_set_time is off)")
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        (value,) = struct.unpack("<I", request.data[:4])
        try:
            instant = decode_time(value).replace(tzinfo=ZoneInfo(self.zone))
            self.policy.set_time(instant)
        except Exception as exc:  # noqa: BLE001 - the clock could not be set (timedatectl, polkit): reply an error, keep the connection
            log.warning("port 4370: setting the time failed: %s", exc)
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        log.warning("port 4370: a connector application set the time to %s", instant.isoformat())
        self._reply(session, request, Cmd.ACK_OK)

    def _pin_width(self, session: Session, request: Packet, udp: bool) -> None:
        """The longest user id the unit holds: an 18-digit NIP needs more than ZK's usual 9."""
        self._reply(session, request, Cmd.ACK_OK, bytes([PIN_WIDTH]))  # one byte: pyzk reads 9 bytes of reply

    def _clear_log(self, session: Session, request: Packet, udp: bool) -> None:
        assert self._conn is not None
        last = head_seq(self._conn)
        acked = self.policy.acked_seq()
        if not self.policy.allow_clear_log or self.policy.prune_through is None:
            log.warning("port 4370: refused clearing the attendance log (zk4370.allow_clear_log is off)")
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        if acked < last:
            log.warning(
                "port 4370: refused clearing the log: punches %d–%d are not yet acknowledged by the central server",
                acked + 1,
                last,
            )
            self._reply(session, request, Cmd.ACK_ERROR)
            return
        removed = self.policy.prune_through(acked)
        log.info("port 4370: cleared %d acknowledged punches", removed)
        self._reply(session, request, Cmd.ACK_OK)

    def _reg_event(self, session: Session, request: Packet, udp: bool) -> None:
        flags = struct.unpack("<I", request.data[:4])[0] if len(request.data) >= 4 else 0
        assert self._conn is not None
        session.live = bool(flags & EF_ATTLOG)
        session.live_after = head_seq(self._conn)
        self._reply(session, request, Cmd.ACK_OK)

    _handlers: ClassVar[dict[int, Callable[[ZkServer, Session, Packet, bool], None]]] = {
        Cmd.EXIT: _exit,
        Cmd.ENABLEDEVICE: _ok,
        Cmd.DISABLEDEVICE: _ok,
        Cmd.REFRESHDATA: _ok,
        Cmd.CANCELCAPTURE: _ok,
        Cmd.STARTVERIFY: _ok,
        Cmd.GET_VERSION: _version,
        Cmd.OPTIONS_RRQ: _options,
        Cmd.GET_FREE_SIZES: _sizes,
        Cmd.PREPARE_BUFFER: _prepare_buffer,
        Cmd.READ_BUFFER: _read_buffer,
        Cmd.FREE_DATA: _free_data,
        Cmd.GET_TIME: _get_time,
        Cmd.SET_TIME: _set_time,
        Cmd.CLEAR_ATTLOG: _clear_log,
        Cmd.REG_EVENT: _reg_event,
        Cmd.GET_PINWIDTH: _pin_width,
    }

    async def _pump_events(self) -> None:
        """Push new punches to sessions that registered for live events."""
        assert self._conn is not None
        version = -1
        while True:
            await asyncio.sleep(self.poll_s)
            self._expire(self._now_s())
            current = data_version(self._conn)
            live = [s for s in self._sessions.values() if s.live]
            if current == version or not live:
                version = current
                continue
            version = current
            for session in live:
                events, session.live_after = new_events(self._conn, session.live_after, self.zone, self.states)
                for payload in events:
                    session.send(Packet(Cmd.REG_EVENT, EF_ATTLOG, 0, payload).encode())


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: ZkServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.server._udp_datagram(data, addr, self.transport)
