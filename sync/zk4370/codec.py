"""Bytes of the ZK standalone protocol (PROTOCOLS.md §3): framing, checksum, time, records."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

from core.errors import ProtocolError

TCP_MAGIC = b"\x50\x50\x82\x7d"
HEADER = struct.Struct("<4H")
USHRT_MAX = 0xFFFF


class Cmd:
    CONNECT = 1000
    EXIT = 1001
    ENABLEDEVICE = 1002
    DISABLEDEVICE = 1003
    RESTART = 1004
    POWEROFF = 1005
    REFRESHDATA = 1013
    GET_VERSION = 1100
    AUTH = 1102
    PREPARE_DATA = 1500
    DATA = 1501
    FREE_DATA = 1502
    PREPARE_BUFFER = 1503
    READ_BUFFER = 1504
    USER_WRQ = 8
    USERTEMP_RRQ = 9
    OPTIONS_RRQ = 11
    OPTIONS_WRQ = 12
    ATTLOG_RRQ = 13
    CLEAR_DATA = 14
    CLEAR_ATTLOG = 15
    DELETE_USER = 18
    GET_FREE_SIZES = 50
    STARTVERIFY = 60
    CANCELCAPTURE = 62
    GET_PINWIDTH = 69
    GET_TIME = 201
    SET_TIME = 202
    REG_EVENT = 500
    ACK_OK = 2000
    ACK_ERROR = 2001
    ACK_DATA = 2002
    ACK_UNAUTH = 2005
    ACK_UNKNOWN = 0xFFFF


EF_ATTLOG = 1


def checksum(packet: bytes) -> int:
    """16-bit little-endian words (odd byte padded), summed with carries folded, complemented.
    Computed as ZKTeco's firmware and pyzk do (sum folded by subtracting 0xFFFF)."""
    total = 0
    data = packet if len(packet) % 2 == 0 else packet + b"\x00"
    for (word,) in struct.iter_unpack("<H", data):
        total += word
        if total > USHRT_MAX:
            total -= USHRT_MAX
    return ~total & USHRT_MAX


@dataclass(frozen=True)
class Packet:
    command: int
    session: int
    reply: int
    data: bytes = b""

    def encode(self) -> bytes:
        body = HEADER.pack(self.command, 0, self.session, self.reply) + self.data
        return HEADER.pack(self.command, checksum(body), self.session, self.reply) + self.data

    @classmethod
    def decode(cls, raw: bytes) -> Packet:
        if len(raw) < HEADER.size:
            raise ProtocolError(f"ZK packet too short ({len(raw)} bytes)")
        command, check, session, reply = HEADER.unpack_from(raw)
        data = raw[HEADER.size :]
        expected = checksum(HEADER.pack(command, 0, session, reply) + data)
        if check != expected:
            raise ProtocolError(f"ZK packet checksum {check:#06x} != {expected:#06x}")
        return cls(command, session, reply, data)


def tcp_frame(packet: bytes) -> bytes:
    return TCP_MAGIC + struct.pack("<I", len(packet)) + packet


def encode_time(local: datetime) -> int:
    """ZK's packed local time (years 2000–2099)."""
    return (
        ((local.year % 100) * 12 * 31 + (local.month - 1) * 31 + local.day - 1) * 86400
        + (local.hour * 60 + local.minute) * 60
        + local.second
    )


def decode_time(value: int) -> datetime:
    second, value = value % 60, value // 60
    minute, value = value % 60, value // 60
    hour, value = value % 24, value // 24
    day, value = value % 31 + 1, value // 31
    month, value = value % 12 + 1, value // 12
    return datetime(value + 2000, month, day, hour, minute, second)


USER_RECORD = struct.Struct("<HB8s24sIx7sx24s")  # 72 bytes
ATTENDANCE_RECORD = struct.Struct("<H24sB4sB8s")  # 40 bytes
LIVE_EVENT = struct.Struct("<24sBB6s4s")  # 36 bytes

#: ZK verify types, as connector applications read them.
VERIFY_TYPES = {"finger": 1, "card+finger": 1, "card": 4, "face": 15, "card+face": 15, "manual": 0}
#: ZK attendance states: 0 check-in, 1 check-out, 4 overtime-in.
#: ZK attendance states (0 check-in, 1 check-out, 2 break-out, 3 break-in, 4 overtime-in,
#: 5 overtime-out) for the unit's kinds. Apel and senam are sent as check-in: on a working day
#: they count as that day's masuk (balangan-perbup-32-2020.txt Pasal 4(3)); ``zk4370.states``
#: changes the mapping for a connector that expects otherwise. Other kinds are check-in.
STATES = {"masuk": 0, "pulang": 1, "apel": 0, "senam": 0}
#: ZK's privilege byte: bit 0 set marks a user disabled (connectors keep their punches, refuse new ones).
PRIVILEGE_DISABLED = 1


def _text(value: str, size: int) -> bytes:
    """``value`` in a NUL-padded field of ``size`` bytes, cut at a character boundary (a name
    cut inside a UTF-8 sequence shows as garbage, or fails to decode, in connector software)."""
    raw = value.encode("utf-8")[: size - 1]
    return raw.decode("utf-8", "ignore").encode("utf-8").ljust(size, b"\x00")


def user_record(uid: int, name: str, card: int, user_id: str, *, privilege: int = 0, group: str = "") -> bytes:
    return USER_RECORD.pack(uid, privilege, b"\x00" * 8, _text(name, 24), card & 0xFFFFFFFF, _text(group, 7), _text(user_id, 24))


def attendance_record(uid: int, user_id: str, verify: int, local: datetime, state: int) -> bytes:
    return ATTENDANCE_RECORD.pack(uid, _text(user_id, 24), verify, struct.pack("<I", encode_time(local)), state, b"\x00" * 8)


def live_event(user_id: str, verify: int, state: int, local: datetime) -> bytes:
    stamp = bytes([local.year % 100, local.month, local.day, local.hour, local.minute, local.second])
    return LIVE_EVENT.pack(_text(user_id, 24), verify, state, stamp, b"\x00" * 4)


def make_commkey(key: int, session_id: int, ticks: int = 50) -> bytes:
    """The comm-key scramble of ZKTeco's SDK (commpro.c MakeKey): what a client sends in AUTH."""
    k = 0
    for i in range(32):
        k = (k << 1 | 1) if key & (1 << i) else k << 1
    k = (k + session_id) & 0xFFFFFFFF
    b = struct.pack("<I", k)
    b = bytes([b[0] ^ ord("Z"), b[1] ^ ord("K"), b[2] ^ ord("S"), b[3] ^ ord("O")])
    lo, hi = struct.unpack("<HH", b)
    b = struct.pack("<HH", hi, lo)
    t = ticks & 0xFF
    return bytes([b[0] ^ t, b[1] ^ t, t, b[3] ^ t])


def check_commkey(received: bytes, key: int, session_id: int) -> bool:
    """True when ``received`` is the scramble of ``key`` for this session (any tick value)."""
    if len(received) != 4:
        return False
    return received == make_commkey(key, session_id, received[2])
