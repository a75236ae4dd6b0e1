"""The ZhianTec packet codec (PROTOCOLS.md §1): frames, checksums and a resynchronising reader.

A frame is ``EF 01 · address u32 · PID u8 · length u16 · payload · checksum u16``, big-endian,
with ``length = len(payload) + 2`` and ``checksum = (PID + len_hi + len_lo + sum(payload)) & 0xFFFF``.
:class:`FrameReader` takes bytes as they arrive and hands out whole frames; every checksum is
checked, bytes before an ``EF 01`` header (a lone 0x55 after reset, line noise) are skipped and
counted, and a bad frame raises :class:`~firmware_bridge.errors.FrameError` after the reader has
already moved past its header, so the next call finds the next valid frame.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from firmware_bridge.errors import FrameError

HEADER = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
#: Largest payload a module sends (packet size code 3); the length field adds the checksum.
MAX_PAYLOAD = 256
#: Header, address, PID, length and checksum around the payload.
OVERHEAD = 11
#: The byte an R503 sends after power-on and after SoftRst.
RESET_HANDSHAKE = 0x55


class Pid(enum.IntEnum):
    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END_DATA = 0x08


class Instruction(enum.IntEnum):
    GEN_IMG = 0x01
    IMG2TZ = 0x02
    MATCH = 0x03
    SEARCH = 0x04
    REG_MODEL = 0x05
    STORE = 0x06
    LOAD_CHAR = 0x07
    UP_CHAR = 0x08
    DOWN_CHAR = 0x09
    UP_IMAGE = 0x0A
    DELETE_CHAR = 0x0C
    EMPTY = 0x0D
    SET_SYS_PARA = 0x0E
    READ_SYS_PARA = 0x0F
    SET_PASSWORD = 0x12
    VERIFY_PASSWORD = 0x13
    GET_RANDOM = 0x14
    SET_ADDRESS = 0x15
    HIGH_SPEED_SEARCH = 0x1B
    TEMPLATE_NUM = 0x1D
    READ_INDEX_TABLE = 0x1F
    AURA_LED = 0x35
    SOFT_RESET = 0x3D


class Code(enum.IntEnum):
    """Confirmation codes, the first payload byte of every ack."""

    OK = 0x00
    RECEIVE_ERROR = 0x01
    NO_FINGER = 0x02
    CAPTURE_FAILED = 0x03
    MESSY_IMAGE = 0x06
    TOO_FEW_FEATURES = 0x07
    NO_MATCH = 0x08
    NOT_FOUND = 0x09
    COMBINE_FAILED = 0x0A
    BAD_LOCATION = 0x0B
    BAD_TEMPLATE = 0x0C
    UPLOAD_FAILED = 0x0D
    CANNOT_RECEIVE = 0x0E
    IMAGE_UPLOAD_FAILED = 0x0F
    DELETE_FAILED = 0x10
    EMPTY_FAILED = 0x11
    WRONG_PASSWORD = 0x13
    INVALID_IMAGE = 0x15
    FLASH_ERROR = 0x18
    BAD_REGISTER = 0x1A
    LIBRARY_FULL = 0x1F
    WRONG_ADDRESS = 0x20
    PASSWORD_REQUIRED = 0x21
    TIMEOUT = 0x26
    DUPLICATE_FINGER = 0x27


def code_name(code: int) -> str:
    try:
        return Code(code).name.lower()
    except ValueError:
        return f"code_0x{code:02x}"


class SysReg(enum.IntEnum):
    """Registers of SetSysPara."""

    BAUD = 4
    SECURITY = 5
    PACKET_SIZE = 6


PACKET_SIZES = (32, 64, 128, 256)


class LedControl(enum.IntEnum):
    BREATHE = 1
    FLASH = 2
    ON = 3
    OFF = 4
    FADE_ON = 5
    FADE_OFF = 6


class LedColour(enum.IntEnum):
    RED = 1
    BLUE = 2
    PURPLE = 3
    GREEN = 4
    YELLOW = 5
    CYAN = 6
    WHITE = 7


@dataclass(frozen=True)
class Packet:
    """One frame. ``payload`` excludes the length and checksum."""

    pid: int
    payload: bytes
    address: int = DEFAULT_ADDRESS

    def encode(self) -> bytes:
        return encode(self.pid, self.payload, self.address)

    @property
    def code(self) -> int:
        """The confirmation code of an ack (its first payload byte)."""
        return self.payload[0] if self.payload else -1


def checksum(pid: int, payload: bytes) -> int:
    length = len(payload) + 2
    return (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode(pid: int, payload: bytes, address: int = DEFAULT_ADDRESS) -> bytes:
    """The bytes of one frame."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return (
        HEADER
        + struct.pack(">IBH", address & 0xFFFFFFFF, pid, len(payload) + 2)
        + payload
        + struct.pack(">H", checksum(pid, payload))
    )


def command(instruction: int, params: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    return encode(Pid.COMMAND, bytes([instruction]) + params, address)


def ack(code: int, results: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    return encode(Pid.ACK, bytes([code]) + results, address)


def data_packets(data: bytes, packet_size: int, address: int = DEFAULT_ADDRESS) -> list[bytes]:
    """``data`` split into data packets of ``packet_size``; PID 02 for all but the last (08)."""
    if packet_size not in PACKET_SIZES:
        raise ValueError(f"packet size {packet_size} is not one of {PACKET_SIZES}")
    chunks = [data[i : i + packet_size] for i in range(0, len(data), packet_size)] or [b""]
    return [encode(Pid.END_DATA if i == len(chunks) - 1 else Pid.DATA, c, address) for i, c in enumerate(chunks)]


_VALID_PIDS = frozenset(int(p) for p in Pid)


class FrameReader:
    """Turns a byte stream into frames; resynchronises on ``EF 01`` after anything invalid.

    ``address`` is the module address frames must carry (``None`` accepts any). Only
    :class:`FrameError` is ever raised, and only after the reader has skipped past the bad
    frame's header, so calling :meth:`next` again continues with what follows.
    """

    def __init__(self, address: int | None = DEFAULT_ADDRESS) -> None:
        self.address = address
        self._buf = bytearray()
        self.skipped = 0  # bytes dropped outside frames (noise, the reset 0x55, bad headers)

    def __repr__(self) -> str:
        return f"FrameReader(buffered={len(self._buf)}, skipped={self.skipped})"

    def feed(self, data: bytes) -> None:
        self._buf += data

    def buffered(self) -> int:
        return len(self._buf)

    def clear(self) -> None:
        self.skipped += len(self._buf)
        self._buf.clear()

    def next(self) -> Packet | None:
        """The next whole valid frame, or None until more bytes arrive."""
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                keep = 1 if self._buf.endswith(HEADER[:1]) else 0
                self._drop(len(self._buf) - keep)
                return None
            self._drop(start)
            verdict = self._check_at(0)
            if isinstance(verdict, Packet):
                del self._buf[: OVERHEAD + len(verdict.payload)]
                return verdict
            if verdict is None:
                # Incomplete: if a complete valid frame starts later in the buffer, this header
                # was noise (or a truncated frame) and must not hold that frame hostage.
                later = self._later_valid_start()
                if later is None:
                    return None
                self._drop(later)
                raise FrameError("truncated frame from the module, dropped; a later frame follows")
            self._drop(len(HEADER))
            raise FrameError(verdict)

    def _check_at(self, pos: int) -> Packet | str | None:
        """A packet at ``pos``, an error message, or None when more bytes are needed."""
        buf = self._buf
        if len(buf) - pos < 9:
            return None
        address, pid, length = struct.unpack_from(">IBH", buf, pos + 2)
        if pid not in _VALID_PIDS:
            return f"frame with unknown packet type 0x{pid:02x}"
        if length < 2 or length > MAX_PAYLOAD + 2:
            return f"frame with impossible length {length}"
        if self.address is not None and address != self.address:
            return f"frame for address 0x{address:08x}, expected 0x{self.address:08x}"
        end = pos + 9 + length
        if len(buf) < end:
            return None
        payload = bytes(buf[pos + 9 : end - 2])
        (received,) = struct.unpack_from(">H", buf, end - 2)
        if received != checksum(pid, payload):
            return f"frame checksum 0x{received:04x} does not match 0x{checksum(pid, payload):04x}"
        return Packet(pid, payload, address)

    def _later_valid_start(self) -> int | None:
        pos = self._buf.find(HEADER, 1)
        while pos >= 0:
            if isinstance(self._check_at(pos), Packet):
                return pos
            pos = self._buf.find(HEADER, pos + 1)
        return None

    def _drop(self, count: int) -> None:
        if count > 0:
            self.skipped += count
            del self._buf[:count]


# -- ack payload decoders (after the confirmation code) --------------------------------------


@dataclass(frozen=True)
class SystemParameters:
    status: int
    system_id: int
    capacity: int
    security: int
    address: int
    packet_size_code: int
    baud_n: int

    @property
    def packet_size(self) -> int:
        return PACKET_SIZES[self.packet_size_code] if 0 <= self.packet_size_code < 4 else 128

    @property
    def baud(self) -> int:
        return 9600 * self.baud_n

    def encode(self) -> bytes:
        return struct.pack(
            ">HHHHIHH",
            self.status,
            self.system_id,
            self.capacity,
            self.security,
            self.address,
            self.packet_size_code,
            self.baud_n,
        )

    @classmethod
    def decode(cls, results: bytes) -> SystemParameters:
        if len(results) < 16:
            raise FrameError(f"system parameters of {len(results)} bytes, expected 16")
        return cls(*struct.unpack_from(">HHHHIHH", results))


def u16(results: bytes, offset: int = 0) -> int:
    if len(results) < offset + 2:
        raise FrameError(f"ack too short: {len(results)} result bytes")
    return int.from_bytes(results[offset : offset + 2], "big")


def index_bits(page_bytes: bytes, order: str) -> list[bool]:
    """The 256 slot flags of one index-table page; ``order`` is 'lsb' or 'msb' first in a byte."""
    flags: list[bool] = []
    for byte in page_bytes:
        bits = range(8) if order == "lsb" else range(7, -1, -1)
        flags.extend(bool(byte >> b & 1) for b in bits)
    return flags


def index_bytes(flags: list[bool], order: str) -> bytes:
    """Inverse of :func:`index_bits` (32 bytes for 256 flags)."""
    out = bytearray(len(flags) // 8)
    for i, used in enumerate(flags):
        if used:
            bit = i % 8 if order == "lsb" else 7 - i % 8
            out[i // 8] |= 1 << bit
    return bytes(out)
