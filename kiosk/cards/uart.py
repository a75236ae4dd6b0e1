"""RDM6300-class 125 kHz UART readers (PROTOCOLS.md §5).

The module sends, at 9600 8N1, a frame ``02`` + 10 ASCII hex digits (version byte + 32-bit id)
+ 2 ASCII hex digits of checksum (XOR of the 5 id bytes) + ``03``, and repeats it for as long as
the card stays in the field. :class:`Rdm6300Decoder` turns bytes into ids (resynchronising on
``02`` after garbage, counting bad frames); :class:`Rdm6300Reader` turns the stream of repeats
into one PRESENT when a card arrives and one REMOVED when no frame has come for ``release_s``.
"""

from __future__ import annotations

import collections
import logging
import time

import serial

from core.card_uid import masked_uid
from core.clock import Clock, SystemClock
from core.errors import DeviceError, ProtocolError
from kiosk.cards.base import CardEvent, CardEventKind, CardReader

log = logging.getLogger(__name__)

STX = 0x02
ETX = 0x03
FRAME_LEN = 14
_HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")


def checksum(id_bytes: bytes) -> int:
    value = 0
    for byte in id_bytes:
        value ^= byte
    return value


def encode_frame(uid: str) -> bytes:
    """The frame an RDM6300 sends for a 40-bit id given as 10 hex digits."""
    id_bytes = bytes.fromhex(uid)
    if len(id_bytes) != 5:
        raise ValueError(f"an RDM6300 id has 5 bytes (10 hex digits), not {len(id_bytes)}")
    return bytes([STX]) + uid.upper().encode("ascii") + f"{checksum(id_bytes):02X}".encode("ascii") + bytes([ETX])


def decode_frame(frame: bytes) -> str:
    """The 10-hex-digit id of one complete frame; raises ``ProtocolError`` saying what is wrong."""
    if len(frame) != FRAME_LEN or frame[0] != STX or frame[-1] != ETX:
        raise ProtocolError(f"not an RDM6300 frame ({len(frame)} bytes): expected 02, 12 hex digits, 03")
    body = frame[1:-1]
    if not all(byte in _HEX_DIGITS for byte in body):
        raise ProtocolError("RDM6300 frame carries non-hex characters")
    text = body.decode("ascii").upper()
    id_bytes = bytes.fromhex(text[:10])
    if checksum(id_bytes) != int(text[10:], 16):
        raise ProtocolError(f"RDM6300 frame checksum {text[10:]} does not match {checksum(id_bytes):02X}")
    return text[:10]


class Rdm6300Decoder:
    """Bytes in, ids out. Never raises on bad input: bad frames are counted and skipped."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.bad_frames = 0
        self.frames = 0

    def feed(self, data: bytes) -> list[str]:
        self._buf.extend(data)
        ids: list[str] = []
        while True:
            start = self._buf.find(STX)
            if start < 0:
                if self._buf:
                    self.bad_frames += 1
                self._buf.clear()
                return ids
            if start > 0:
                self.bad_frames += 1
                del self._buf[:start]
            if len(self._buf) < FRAME_LEN:
                # An STX inside a short tail: a restart (the frame was cut) shows up as a second STX.
                restart = self._buf.find(STX, 1)
                if restart > 0:
                    self.bad_frames += 1
                    del self._buf[:restart]
                    continue
                return ids
            candidate = bytes(self._buf[:FRAME_LEN])
            try:
                ids.append(decode_frame(candidate))
                self.frames += 1
                del self._buf[:FRAME_LEN]
            except ProtocolError:
                self.bad_frames += 1
                restart = self._buf.find(STX, 1)  # resynchronise on the next STX
                del self._buf[: restart if restart > 0 else len(self._buf)]


class Rdm6300Reader(CardReader):
    type_key = "serial"

    def __init__(
        self,
        port: str,
        *,
        baud: int = 9600,
        release_s: float = 0.5,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(f"RDM6300 {port}")
        self.port = port
        self.baud = baud
        self.release_ns = int(release_s * 1e9)
        self._clock = clock or SystemClock()
        self._serial: serial.Serial | None = None
        self._decoder = Rdm6300Decoder()
        self._pending: collections.deque[CardEvent] = collections.deque()
        self._card: str | None = None
        self._last_seen_ns = 0

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    @property
    def bad_frames(self) -> int:
        return self._decoder.bad_frames

    def open(self) -> None:
        if self._serial is not None:
            return
        try:
            self._serial = serial.Serial(self.port, self.baud, timeout=0.1)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceError(
                f"cannot open the RDM6300 reader on {self.port}: {exc}; check the USB-serial adapter and cards.device"
            ) from exc
        self._decoder = Rdm6300Decoder()
        self._pending.clear()
        self._card = None

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                log.debug("closing %s: %s", self.port, exc)

    def read(self, timeout_s: float) -> CardEvent | None:
        """The next event, waiting up to ``timeout_s`` for the port; a frame split across reads
        (a slow or loaded machine) is waited for, not answered with None before the time is up."""
        if self._pending:
            return self._pending.popleft()
        port = self._serial
        if port is None:
            raise DeviceError(f"the RDM6300 reader on {self.port} is not open")
        deadline = time.monotonic() + timeout_s  # the port's own timeout: real time, as the UART's
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                port.timeout = remaining
                data = port.read(1)
                if data and port.in_waiting:
                    data += port.read(port.in_waiting)
            except (serial.SerialException, OSError) as exc:
                self.close()
                raise DeviceError(f"the RDM6300 reader on {self.port} went away ({exc}); check its cable") from exc
            self._take(data)
            if self._pending or not data or remaining <= 0:
                return self._pending.popleft() if self._pending else None

    def _take(self, data: bytes) -> None:
        now = self._clock.monotonic_ns()
        for uid in self._decoder.feed(data) if data else []:
            if uid == self._card and now - self._last_seen_ns <= self.release_ns:
                self._last_seen_ns = now
                continue
            if self._card is not None:
                self._pending.append(CardEvent(CardEventKind.REMOVED, self.name, now, self._card))
            self._card, self._last_seen_ns = uid, now
            log.debug("RDM6300: card %s", masked_uid(uid))
            self._pending.append(CardEvent(CardEventKind.PRESENT, self.name, now, uid))
        if not self._pending and self._card is not None and now - self._last_seen_ns > self.release_ns:
            self._pending.append(CardEvent(CardEventKind.REMOVED, self.name, now, self._card))
            self._card = None
