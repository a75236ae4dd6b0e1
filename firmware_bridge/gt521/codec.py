"""The GT-521F32/F52 packet codec (PROTOCOLS.md §2), little-endian.

Command and response packets are 12 bytes: ``55 AA · device id u16 · parameter u32 · command
u16 · checksum u16`` (a response carries ``0x30`` ACK or ``0x31`` NACK in the command field and
the result or error code in the parameter). A data packet is ``5A A5 · device id u16 · data ·
checksum u16``; its length is not on the wire, so the reader is told what to expect
(:meth:`FrameReader.expect_data`). ``checksum = sum(every preceding byte) & 0xFFFF``.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from firmware_bridge.errors import FrameError

COMMAND_START = b"\x55\xaa"
DATA_START = b"\x5a\xa5"
DEVICE_ID = 0x0001
PACKET_SIZE = 12
DATA_OVERHEAD = 6
TEMPLATE_SIZE = 498
DEVICE_INFO_SIZE = 24


class Command(enum.IntEnum):
    OPEN = 0x01
    CLOSE = 0x02
    CHANGE_BAUDRATE = 0x04
    CMOS_LED = 0x12
    GET_ENROLL_COUNT = 0x20
    CHECK_ENROLLED = 0x21
    ENROLL_START = 0x22
    ENROLL1 = 0x23
    ENROLL2 = 0x24
    ENROLL3 = 0x25
    IS_PRESS_FINGER = 0x26
    DELETE_ID = 0x40
    DELETE_ALL = 0x41
    VERIFY = 0x50
    IDENTIFY = 0x51
    CAPTURE_FINGER = 0x60
    GET_TEMPLATE = 0x70
    SET_TEMPLATE = 0x71


ACK = 0x30
NACK = 0x31


class Nack(enum.IntEnum):
    TIMEOUT = 0x1001
    INVALID_BAUDRATE = 0x1002
    INVALID_POS = 0x1003
    IS_NOT_USED = 0x1004
    IS_ALREADY_USED = 0x1005
    COMM_ERR = 0x1006
    VERIFY_FAILED = 0x1007
    IDENTIFY_FAILED = 0x1008
    DB_IS_FULL = 0x1009
    DB_IS_EMPTY = 0x100A
    TURN_ERR = 0x100B
    BAD_FINGER = 0x100C
    ENROLL_FAILED = 0x100D
    IS_NOT_SUPPORTED = 0x100E
    DEV_ERR = 0x100F
    CAPTURE_CANCELED = 0x1010
    INVALID_PARAM = 0x1011
    FINGER_IS_NOT_PRESSED = 0x1012


def nack_name(code: int) -> str:
    try:
        return Nack(code).name.lower()
    except ValueError:
        # Enroll3 / SetTemplate answer a duplicate with the id it duplicates (< 0x1000).
        return f"duplicate_of_{code}" if code < 0x1000 else f"nack_0x{code:04x}"


def checksum(data: bytes) -> int:
    return sum(data) & 0xFFFF


def _packet(code: int, param: int, device_id: int) -> bytes:
    body = COMMAND_START + struct.pack("<HIH", device_id, param & 0xFFFFFFFF, code)
    return body + struct.pack("<H", checksum(body))


def command(code: int, param: int = 0, device_id: int = DEVICE_ID) -> bytes:
    return _packet(code, param, device_id)


def response(ok: bool, param: int = 0, device_id: int = DEVICE_ID) -> bytes:
    return _packet(ACK if ok else NACK, param, device_id)


def data_packet(data: bytes, device_id: int = DEVICE_ID) -> bytes:
    body = DATA_START + struct.pack("<H", device_id) + data
    return body + struct.pack("<H", checksum(body))


@dataclass(frozen=True)
class Packet:
    """A command or response packet: ``code`` is the command, or ACK/NACK."""

    code: int
    param: int
    device_id: int = DEVICE_ID

    @property
    def ok(self) -> bool:
        return self.code == ACK


@dataclass(frozen=True)
class DataPacket:
    data: bytes
    device_id: int = DEVICE_ID


class FrameReader:
    """Bytes in, packets out, resynchronising on ``55 AA`` / ``5A A5`` after anything invalid.

    Only :class:`FrameError` is raised, after the reader has moved past the bad start code.
    A data packet is recognised only while one is expected (:meth:`expect_data`); otherwise its
    bytes are noise.
    """

    def __init__(self, device_id: int | None = DEVICE_ID) -> None:
        self.device_id = device_id
        self._buf = bytearray()
        self._data_len: int | None = None
        self.skipped = 0

    def __repr__(self) -> str:
        return f"GT521FrameReader(buffered={len(self._buf)}, expecting_data={self._data_len})"

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self.skipped += len(self._buf)
        self._buf.clear()

    def expect_data(self, length: int | None) -> None:
        """The next data packet carries ``length`` bytes (None: no data packet expected)."""
        self._data_len = length

    def next(self) -> Packet | DataPacket | None:
        while True:
            start = self._find(0)
            if start < 0:
                keep = 1 if bytes(self._buf[-1:]) in (b"\x55", b"\x5a") else 0
                self._drop(len(self._buf) - keep)
                return None
            self._drop(start)
            verdict = self._check_at(0)
            if isinstance(verdict, (Packet, DataPacket)):
                size = PACKET_SIZE if isinstance(verdict, Packet) else len(verdict.data) + DATA_OVERHEAD
                del self._buf[:size]
                if isinstance(verdict, DataPacket):
                    self._data_len = None
                return verdict
            if verdict is None:
                later = self._later_valid_start()
                if later is None:
                    return None
                self._drop(later)
                raise FrameError("truncated packet from the module, dropped; a later packet follows")
            self._drop(2)
            raise FrameError(verdict)

    def _find(self, pos: int) -> int:
        a = self._buf.find(COMMAND_START, pos)
        b = self._buf.find(DATA_START, pos) if self._data_len is not None else -1
        return min(x for x in (a, b) if x >= 0) if max(a, b) >= 0 else -1

    def _check_at(self, pos: int) -> Packet | DataPacket | str | None:
        buf = self._buf
        is_data = buf[pos : pos + 2] == DATA_START
        size = (self._data_len or 0) + DATA_OVERHEAD if is_data else PACKET_SIZE
        if len(buf) - pos < 4:
            return None
        (device_id,) = struct.unpack_from("<H", buf, pos + 2)
        if self.device_id is not None and device_id != self.device_id:
            return f"packet for device {device_id}, expected {self.device_id}"
        if len(buf) - pos < size:
            return None
        (received,) = struct.unpack_from("<H", buf, pos + size - 2)
        expected = checksum(bytes(buf[pos : pos + size - 2]))
        if received != expected:
            return f"packet checksum 0x{received:04x} does not match 0x{expected:04x}"
        if is_data:
            return DataPacket(bytes(buf[pos + 4 : pos + size - 2]), device_id)
        param, code = struct.unpack_from("<IH", buf, pos + 4)
        return Packet(code, param, device_id)

    def _later_valid_start(self) -> int | None:
        pos = self._find(1)
        while pos >= 0:
            if isinstance(self._check_at(pos), (Packet, DataPacket)):
                return pos
            pos = self._find(pos + 1)
        return None

    def _drop(self, count: int) -> None:
        if count > 0:
            self.skipped += count
            del self._buf[:count]


@dataclass(frozen=True)
class DeviceInfo:
    firmware_version: int
    iso_area_max_size: int
    serial_number: bytes

    def encode(self) -> bytes:
        return struct.pack("<II16s", self.firmware_version, self.iso_area_max_size, self.serial_number)

    @classmethod
    def decode(cls, data: bytes) -> DeviceInfo:
        if len(data) != DEVICE_INFO_SIZE:
            raise FrameError(f"device info of {len(data)} bytes, expected {DEVICE_INFO_SIZE}")
        return cls(*struct.unpack("<II16s", data))
