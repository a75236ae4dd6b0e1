"""PC/SC (13.56 MHz) readers such as the ACR122U, through pcscd and pyscard.

The reader waits in ``SCardGetStatusChange``; when a card arrives it connects, sends the
pseudo-APDU ``FF CA 00 00 00`` (get data: UID) and reports the UID; when the card leaves it
reports REMOVED. A card already on the reader when it is opened counts as arriving.

pyscard's ``CardMonitor`` is not used: its thread gives up when pcscd restarts and does not say
that the reader is gone. This driver uses the same library's ``scard`` layer directly so that
"pcscd stopped" and "reader unplugged" surface as :class:`~core.errors.DeviceError` and the card
service can reopen the reader once it is back.
"""

from __future__ import annotations

import logging
from typing import Any

from smartcard import scard

from core.card_uid import masked_uid, normalise_uid
from core.clock import Clock, SystemClock
from core.errors import CardUidError, DeviceError
from kiosk.cards.base import CardEvent, CardEventKind, CardReader

log = logging.getLogger(__name__)

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
#: Errors meaning pcscd itself is gone or restarting.
_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_F_COMM_ERROR,
    scard.SCARD_E_INVALID_HANDLE,
}
#: Errors meaning this reader is gone.
_READER_GONE = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_NO_READERS_AVAILABLE}
#: Errors meaning the card left before it could be read.
_CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD}
_STATE_MASK = 0xFFFF  # pcsc-lite keeps an event counter in the high 16 bits
READ_ATTEMPTS = 5
RETRY_MS = 250


def _message(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


class PcscReader(CardReader):
    type_key = "pcsc"

    def __init__(self, reader_filter: str = "", *, clock: Clock | None = None) -> None:
        super().__init__(f"PC/SC {reader_filter or '(first reader)'}")
        self.reader_filter = reader_filter
        self._clock = clock or SystemClock()
        self._context: Any = None
        self._reader = ""
        self._state = scard.SCARD_STATE_UNAWARE
        self._present = False
        self._failed_reads = 0

    @property
    def is_open(self) -> bool:
        return self._context is not None

    @property
    def reader(self) -> str:
        """The PC/SC name of the reader in use (empty while closed)."""
        return self._reader

    def open(self) -> None:
        if self._context is not None:
            return
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise DeviceError(f"cannot reach pcscd: {_message(hresult)}; start it (systemctl start pcscd.socket)")
        try:
            self._reader = self._pick_reader(context)
        except DeviceError:
            scard.SCardReleaseContext(context)
            raise
        self._context = context
        self._state = scard.SCARD_STATE_UNAWARE
        self._present = False
        self._failed_reads = 0
        self.name = f"PC/SC {self._reader}"
        log.info("opened %s", self.name)

    def _pick_reader(self, context: Any) -> str:
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult in _READER_GONE or (hresult == scard.SCARD_S_SUCCESS and not readers):
            raise DeviceError("no PC/SC reader is connected; plug the card reader in (check with pcsc_scan)")
        if hresult != scard.SCARD_S_SUCCESS:
            raise DeviceError(f"cannot list PC/SC readers: {_message(hresult)}; check pcscd")
        for name in readers:
            if self.reader_filter.lower() in name.lower():
                return str(name)
        raise DeviceError(f"no PC/SC reader matches {self.reader_filter!r} (connected: {', '.join(readers)}); fix cards.device")

    def wake(self) -> None:
        context = self._context
        if context is not None:
            scard.SCardCancel(context)

    def close(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)

    def read(self, timeout_s: float) -> CardEvent | None:
        context = self._context
        if context is None:
            raise DeviceError(f"{self.name} is not open")
        wait_ms = max(0, int(timeout_s * 1000))
        if self._failed_reads:
            wait_ms = min(wait_ms, RETRY_MS)
        hresult, states = scard.SCardGetStatusChange(context, wait_ms, [(self._reader, self._state)])
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            if self._failed_reads and not self._present and self._state & scard.SCARD_STATE_PRESENT:
                return self._attempt(context)  # the card is still there: try reading it again
            return None
        if hresult != scard.SCARD_S_SUCCESS:
            self.close()
            if hresult in _READER_GONE:
                raise DeviceError(f"the card reader {self._reader} was unplugged ({_message(hresult)}); check its USB cable")
            raise DeviceError(f"lost pcscd while waiting for a card: {_message(hresult)}; check that pcscd is running")
        _, event_state, _atr = states[0]
        self._state = event_state & ~scard.SCARD_STATE_CHANGED
        flags = event_state & _STATE_MASK
        if flags & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_IGNORE):
            self.close()
            raise DeviceError(f"the card reader {self._reader} is gone; check its USB cable")
        now = self._clock.monotonic_ns()
        present = bool(flags & scard.SCARD_STATE_PRESENT) and not flags & scard.SCARD_STATE_MUTE
        if present and not self._present:
            return self._attempt(context)
        if not present:
            self._failed_reads = 0
            if self._present:
                self._present = False
                return CardEvent(CardEventKind.REMOVED, self.name, now)
        if flags & scard.SCARD_STATE_MUTE and not self._present:
            self._present = True
            return CardEvent(CardEventKind.UNREADABLE, self.name, now, detail="the card does not answer (mute)")
        return None

    def _attempt(self, context: Any) -> CardEvent | None:
        """Read the UID of the card now present. A failure that may pass (the card still settling,
        or swapped quickly for another) is retried up to ``READ_ATTEMPTS`` times before it is
        reported as UNREADABLE; a card taken away before it was read is no event at all."""
        now = self._clock.monotonic_ns()
        event, transient = self._read_uid(context, now)
        if transient is None:
            self._present, self._failed_reads = event is not None, 0
            return event
        self._failed_reads += 1
        if self._failed_reads < READ_ATTEMPTS:
            log.debug("PC/SC: reading a card failed (%s); trying again", transient)
            return None
        self._present, self._failed_reads = True, 0
        return CardEvent(CardEventKind.UNREADABLE, self.name, now, detail=transient)

    def _read_uid(self, context: Any, now: int) -> tuple[CardEvent | None, str | None]:
        """(event, None) when done — event None if the card left — or (None, why) to try again."""
        hresult, card, protocol = scard.SCardConnect(
            context, self._reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if hresult in _CARD_GONE:
            return None, None
        if hresult in _SERVICE_GONE or hresult in _READER_GONE:
            self.close()
            raise DeviceError(f"lost the card reader while connecting to a card: {_message(hresult)}")
        if hresult != scard.SCARD_S_SUCCESS:
            return None, f"connect failed: {_message(hresult)}"
        try:
            hresult, response = scard.SCardTransmit(card, protocol, GET_UID)
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        if hresult in _CARD_GONE:
            return None, None
        if hresult != scard.SCARD_S_SUCCESS:
            return None, f"transmit failed: {_message(hresult)}"
        data = bytes(response)
        if len(data) < 3 or data[-2:] != b"\x90\x00":
            status = data[-2:].hex().upper() if len(data) >= 2 else "none"
            detail = f"the reader answered FF CA with status {status} (not a contactless card it can read)"
            return CardEvent(CardEventKind.UNREADABLE, self.name, now, detail=detail), None
        try:
            uid = normalise_uid(data[:-2])
        except CardUidError as exc:
            return CardEvent(CardEventKind.UNREADABLE, self.name, now, detail=str(exc)), None
        log.debug("PC/SC: card %s", masked_uid(uid))
        return CardEvent(CardEventKind.PRESENT, self.name, now, uid), None
