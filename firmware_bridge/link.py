"""The serial line to a module: pyserial underneath, deadlines and our errors on top.

Works the same on a real UART (``/dev/serial0``, ``/dev/ttyUSB0``) and on a simulator's
pseudo-terminal. Reads never block past the deadline they are given; an unplugged adapter
surfaces as :class:`~core.errors.DeviceError`, silence as an empty read.
"""

from __future__ import annotations

import logging
import termios
import time
from collections.abc import Callable

import serial

from core.errors import DeviceError

log = logging.getLogger(__name__)

#: Bits on the wire per byte at 8N1 (start + 8 data + stop).
BITS_PER_BYTE = 10


def wire_seconds(nbytes: int, baud: int) -> float:
    """The least time ``nbytes`` take on a line at ``baud`` (8N1)."""
    return nbytes * BITS_PER_BYTE / baud


class SerialLink:
    """An open serial port. ``monotonic`` is injectable for deadline arithmetic."""

    def __init__(self, port: str, baud: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.port = port
        self._monotonic = monotonic
        self._serial: serial.Serial | None = None
        self._baud = baud
        self.bytes_in = 0
        self.bytes_out = 0

    def __repr__(self) -> str:
        state = "open" if self._serial is not None else "closed"
        return f"SerialLink({self.port!r}, {self._baud} baud, {state})"

    def __enter__(self) -> SerialLink:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def baud(self) -> int:
        return self._baud

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        if self._serial is not None:
            return
        try:
            self._serial = serial.Serial(self.port, self._baud, timeout=0, write_timeout=2.0, exclusive=True)
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            raise DeviceError(
                f"cannot open the fingerprint module's port {self.port}: {exc}; check the cable and fingerprint.port"
            ) from exc

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError, termios.error) as exc:
                log.debug("closing %s: %s", self.port, exc)
            self._serial = None

    def set_baud(self, baud: int) -> None:
        self._baud = baud
        if self._serial is not None:
            try:
                self._serial.baudrate = baud
            except (serial.SerialException, OSError, ValueError, termios.error) as exc:
                raise DeviceError(f"cannot set {baud} baud on {self.port}: {exc}") from exc

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise DeviceError(f"the fingerprint module's port {self.port} is not open")
        return self._serial

    def write(self, data: bytes) -> None:
        try:
            self._port().write(data)
            self._port().flush()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise DeviceError(f"writing to the fingerprint module on {self.port} failed: {exc}; is it unplugged?") from exc
        self.bytes_out += len(data)

    def read_some(self, deadline: float) -> bytes:
        """What has arrived (at least one byte), or b"" when ``deadline`` (monotonic) passed."""
        port = self._port()
        while True:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                return b""
            try:
                port.timeout = remaining
                first = port.read(1)
                if not first:
                    return b""
                waiting = port.in_waiting
                port.timeout = 0
                data = first + (port.read(waiting) if waiting else b"")
            except (serial.SerialException, OSError, TypeError, termios.error) as exc:
                # pyserial raises SerialException ("readiness to read but returned no data")
                # when the other end of a pty or a USB adapter goes away.
                raise DeviceError(f"reading from the fingerprint module on {self.port} failed: {exc}; is it unplugged?") from exc
            self.bytes_in += len(data)
            return bytes(data)

    def drain_input(self, quiet_s: float = 0.0) -> int:
        """Discard what is waiting (and what arrives within ``quiet_s``); returns the count."""
        port = self._port()
        dropped = 0
        try:
            port.reset_input_buffer()
            if quiet_s > 0:
                deadline = self._monotonic() + quiet_s
                while chunk := self.read_some(deadline):
                    dropped += len(chunk)
        except (serial.SerialException, OSError, termios.error) as exc:
            raise DeviceError(f"flushing the fingerprint module's port {self.port} failed: {exc}") from exc
        return dropped
