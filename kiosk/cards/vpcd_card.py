"""A virtual contactless card for vsmartcard's vpcd driver (Debian package ``vsmartcard-vpcd``).

pcscd loads the vpcd driver, which listens on a TCP port (35963 by default, set in
``/etc/reader.conf.d/vpcd``) for a virtual card. Connecting is putting the card on the reader;
closing the connection takes it away. Every message both ways is a 2-byte big-endian length and a
payload. A 1-byte payload from vpcd is a control code (0 power off, 1 power on, 2 reset, 4 "send
your ATR"); anything longer is an APDU, answered with the response APDU.

The card answers what a PC/SC contactless reader answers for a storage card: the PC/SC part 3
ATR and ``FF CA 00 00 00`` → UID + ``90 00``. Used by the PC/SC tests on the real pcscd stack and
by ``presensi cards vpcd-card`` for trying a unit without a physical card.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from types import TracebackType
from typing import Self

from core.card_uid import masked_uid, normalise_uid
from core.errors import DeviceError, DeviceTimeout

log = logging.getLogger(__name__)

DEFAULT_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
#: ATR a PC/SC reader synthesises for a MIFARE Classic 1K (PC/SC part 3, storage card, no historical bytes beyond RID).
CONTACTLESS_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"
SW_WRONG_P1P2 = b"\x6b\x00"


def answer_apdu(uid: bytes, apdu: bytes) -> bytes:
    """What a contactless reader answers for this card (pure)."""
    if len(apdu) < 4:
        return SW_WRONG_LENGTH
    cla, ins, p1, p2 = apdu[:4]
    if cla != 0xFF:
        return SW_CLA_NOT_SUPPORTED
    if ins != 0xCA:
        return SW_INS_NOT_SUPPORTED
    if (p1, p2) != (0x00, 0x00):
        return SW_WRONG_P1P2  # P1=01 asks for historical bytes: not kept here
    le = apdu[4] if len(apdu) >= 5 else 0
    if le and le < len(uid):
        return bytes([0x6C, len(uid)])  # "wrong Le; the right one is …"
    return uid + SW_OK


class VirtualContactlessCard:
    """A card that connects to vpcd. :meth:`insert` puts it on the reader, :meth:`remove` takes it off."""

    def __init__(self, uid: str | bytes, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.uid = bytes.fromhex(normalise_uid(uid)) if isinstance(uid, str) else bytes(uid)
        self.host = host
        self.port = port
        self.apdus: list[bytes] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.disconnected = threading.Event()

    @property
    def inserted(self) -> bool:
        return self._sock is not None and not self.disconnected.is_set()

    def insert(self, timeout_s: float = 5.0) -> Self:
        """Connect to vpcd (waiting up to ``timeout_s`` for pcscd to load the driver)."""
        if self.inserted:
            return self
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise DeviceTimeout(
                        f"vpcd is not listening on {self.host}:{self.port} ({exc.strerror}); is pcscd running with the vpcd driver?"
                    ) from exc
                self.disconnected.wait(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.disconnected = threading.Event()
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock, self.disconnected), name="vpcd-card", daemon=True)
        self._thread.start()
        log.info("virtual card %s on vpcd %s:%d", masked_uid(self.uid.hex().upper()), self.host, self.port)
        return self

    def remove(self) -> None:
        """Take the card off the reader (close the connection)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _serve(self, sock: socket.socket, done: threading.Event) -> None:
        try:
            while True:
                header = _recv_exact(sock, 2)
                (length,) = struct.unpack(">H", header)
                payload = _recv_exact(sock, length)
                if length == 1:
                    if payload[0] == CTRL_ATR:
                        _send(sock, CONTACTLESS_ATR)
                    continue  # power off / on / reset need no answer
                with self._lock:
                    self.apdus.append(payload)
                _send(sock, answer_apdu(self.uid, payload))
        except (OSError, EOFError) as exc:
            log.debug("virtual card: connection ended (%s)", exc)
        finally:
            done.set()

    def __enter__(self) -> Self:
        return self.insert()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.remove()

    def __repr__(self) -> str:
        state = "inserted" if self.inserted else "off the reader"
        return f"VirtualContactlessCard(…{self.uid.hex().upper()[-4:]}, {self.host}:{self.port}, {state})"


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError("vpcd closed the connection")
        data += chunk
    return data


def _send(sock: socket.socket, payload: bytes) -> None:
    if len(payload) > 0xFFFF:
        raise DeviceError("a vpcd message is at most 65535 bytes")
    sock.sendall(struct.pack(">H", len(payload)) + payload)
