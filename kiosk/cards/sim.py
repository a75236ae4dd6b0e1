"""A simulated card reader for the demo, the kiosk screen's control panel and tests.

It behaves like a PC/SC reader: a card is put on it (:meth:`SimCardReader.present`) and taken
off (:meth:`SimCardReader.remove`); a card already lying on it when it is opened counts as
presented. It can be unplugged and plugged back in (:meth:`unplug`, :meth:`replug`); taps while
it is unplugged are lost, as they would be with a real reader. Every method is thread-safe: a
web handler may tap while the card service reads.
"""

from __future__ import annotations

import collections
import logging
import threading

from core.card_uid import masked_uid, normalise_uid
from core.clock import Clock, SystemClock
from core.errors import DeviceError
from kiosk.cards.base import CardEvent, CardEventKind, CardReader

log = logging.getLogger(__name__)


class SimCardReader(CardReader):
    type_key = "sim"

    def __init__(self, name: str = "Simulated reader", *, clock: Clock | None = None) -> None:
        super().__init__(name)
        self._clock = clock or SystemClock()
        self._cond = threading.Condition()
        self._events: collections.deque[CardEvent] = collections.deque()
        self._open = False
        self._plugged = True
        self._card: str | None = None
        self._woken = False
        self.opens = 0

    # -- what a person (or a test) does -----------------------------------------------------

    def present(self, uid: str | bytes) -> str:
        """Put a card on the reader; returns its normalised UID. A different card already there
        is taken off first; the same card again is still the same presentation."""
        normalised = normalise_uid(uid)
        with self._cond:
            if self._card == normalised:
                return normalised
            if self._card is not None:
                self._push(CardEventKind.REMOVED)
            self._card = normalised
            self._push(CardEventKind.PRESENT, normalised)
        log.debug("sim reader: card %s presented", masked_uid(normalised))
        return normalised

    def remove(self) -> None:
        """Take the card off the reader (no-op when there is none)."""
        with self._cond:
            if self._card is not None:
                self._card = None
                self._push(CardEventKind.REMOVED)

    def tap(self, uid: str | bytes) -> str:
        """Present a card and take it away again, as a person tapping a card does."""
        normalised = self.present(uid)
        self.remove()
        return normalised

    def present_unreadable(self, detail: str = "simulated read failure") -> None:
        """A card the reader cannot read (bent, foreign technology)."""
        with self._cond:
            self._push(CardEventKind.UNREADABLE, detail=detail)

    def unplug(self) -> None:
        """Pull the reader's cable: a pending ``read`` fails and ``open`` fails until :meth:`replug`."""
        with self._cond:
            self._plugged = False
            self._events.clear()
            self._cond.notify_all()
        log.info("sim reader %s unplugged", self.name)

    def replug(self) -> None:
        with self._cond:
            self._plugged = True
            self._cond.notify_all()
        log.info("sim reader %s plugged back in", self.name)

    @property
    def plugged(self) -> bool:
        return self._plugged

    @property
    def card(self) -> str | None:
        """The UID of the card lying on the reader, if any."""
        return self._card

    # -- the reader interface ---------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        with self._cond:
            if not self._plugged:
                raise DeviceError(f"simulated reader {self.name!r} is unplugged; plug it back in (replug)")
            self._open = True
            self.opens += 1
            self._events.clear()
            if self._card is not None:
                self._push(CardEventKind.PRESENT, self._card)

    def close(self) -> None:
        with self._cond:
            self._open = False
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def read(self, timeout_s: float) -> CardEvent | None:
        with self._cond:
            self._cond.wait_for(lambda: self._events or not self._plugged or not self._open or self._woken, timeout=timeout_s)
            self._woken = False
            if not self._open:
                raise DeviceError(f"simulated reader {self.name!r} is closed")
            if not self._plugged:
                self._open = False
                raise DeviceError(f"simulated reader {self.name!r} was unplugged; check its cable")
            return self._events.popleft() if self._events else None

    def _push(self, kind: CardEventKind, uid: str | None = None, detail: str = "") -> None:
        if not (self._open and self._plugged):
            return  # nobody is listening: the tap is lost, as on a real reader
        self._events.append(CardEvent(kind, self.name, self._clock.monotonic_ns(), uid, detail))
        self._cond.notify_all()

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        plug = "" if self._plugged else ", unplugged"
        return f"SimCardReader({self.name!r}, {state}{plug})"
