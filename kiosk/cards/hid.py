"""USB keyboard-wedge 125 kHz readers (EM4100), read through evdev with the device grabbed.

Such a reader is a keyboard: it types the card number and Enter. Grabbing the input device
(``EVIOCGRAB``) keeps the digits away from the console and from Chromium. The keystroke decoder
(:class:`KeystrokeDecoder`) is pure: key codes and an injected clock in, card numbers out; keys
more than ``gap_s`` apart (a person typing, or a half-read card) drop the partial number.

``cards.device`` is an event node (``/dev/input/by-id/usb-…-event-kbd`` is stable across
replugs), or ``name:<text>`` to pick the first input device whose name contains ``text``.
"""

from __future__ import annotations

import collections
import errno
import logging
import select
from typing import Any

from core.card_uid import UidForm, masked_uid, normalise_uid
from core.clock import Clock, SystemClock
from core.errors import CardUidError, DeviceError
from kiosk.cards.base import CardEvent, CardEventKind, CardReader

log = logging.getLogger(__name__)

# Linux input key codes (include/uapi/linux/input-event-codes.h, a stable kernel ABI).
KEY_DIGITS: dict[int, str] = {11: "0", 2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9"}
KEYPAD_DIGITS: dict[int, str] = {82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9"}
HEX_LETTERS: dict[int, str] = {30: "A", 48: "B", 46: "C", 32: "D", 18: "E", 33: "F"}
ENTER_KEYS = frozenset({28, 96})  # KEY_ENTER, KEY_KPENTER
#: Shift, Ctrl, Alt, Meta, NumLock, CapsLock: some readers press them around the digits.
IGNORED_KEYS = frozenset({42, 54, 29, 97, 56, 100, 125, 126, 69, 58})
EV_KEY = 1
KEY_DOWN = 1

MAX_DIGITS = 20


class KeystrokeDecoder:
    """Key-down events in, complete card numbers out (pure; the clock is injected)."""

    def __init__(self, clock: Clock, *, gap_s: float = 0.1, hex_letters: bool = False) -> None:
        self._clock = clock
        self.gap_ns = int(gap_s * 1e9)
        self._keys = dict(KEY_DIGITS) | KEYPAD_DIGITS | (HEX_LETTERS if hex_letters else {})
        self._buf: list[str] = []
        self._last_ns = 0
        self.dropped = 0  # partial numbers thrown away

    def feed(self, code: int, value: int = KEY_DOWN) -> str | None:
        """One key event (``value`` 1 down, 0 up, 2 auto-repeat); the number when Enter completes one."""
        if value != KEY_DOWN or code in IGNORED_KEYS:
            return None
        now = self._clock.monotonic_ns()
        if self._buf and now - self._last_ns > self.gap_ns:
            self._drop("keys too far apart")
        self._last_ns = now
        if code in ENTER_KEYS:
            text, self._buf = "".join(self._buf), []
            return text or None
        char = self._keys.get(code)
        if char is None:
            if self._buf:
                self._drop(f"unexpected key {code}")
            return None
        if len(self._buf) >= MAX_DIGITS:
            self._drop("too many digits")
            return None
        self._buf.append(char)
        return None

    def expire(self) -> None:
        """Drop a partial number whose last key is older than the gap (call when idle)."""
        if self._buf and self._clock.monotonic_ns() - self._last_ns > self.gap_ns:
            self._drop("no Enter after the last key")

    @property
    def pending(self) -> str:
        return "".join(self._buf)

    def _drop(self, why: str) -> None:
        log.debug("keyboard reader: dropped a partial number of %d keys (%s)", len(self._buf), why)
        self._buf = []
        self.dropped += 1


def find_device(spec: str) -> str:
    """The event node for ``spec``: a path as is, or ``name:<text>`` looked up among input devices."""
    if not spec.startswith("name:"):
        return spec
    # late: evdev loads only when this runs
    import evdev

    wanted = spec.removeprefix("name:").lower()
    for path in evdev.list_devices():
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        try:
            if wanted in device.name.lower():
                return str(path)
        finally:
            device.close()
    raise DeviceError(f"no input device whose name contains {wanted!r}; plug the card reader in, or check cards.device")


class HidKeyboardReader(CardReader):
    type_key = "evdev"

    def __init__(
        self,
        device: str,
        *,
        form: UidForm | str = UidForm.DECIMAL,
        gap_s: float = 0.1,
        grab: bool = True,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(f"keyboard reader {device}")
        self.spec = device
        self.form = UidForm(form)
        self.grab = grab
        self._clock = clock or SystemClock()
        self.decoder = KeystrokeDecoder(self._clock, gap_s=gap_s, hex_letters=self.form is UidForm.HEX)
        self._device: Any = None
        self._pending: collections.deque[CardEvent] = collections.deque()
        self.path = ""

    @property
    def is_open(self) -> bool:
        return self._device is not None

    def open(self) -> None:
        if self._device is not None:
            return
        try:
            # late: evdev loads only when this runs
            import evdev
        except ImportError as exc:
            raise DeviceError("python-evdev is not installed; install the 'pi' extra (pip install presensi-kiosk[pi])") from exc
        path = find_device(self.spec)
        try:
            device = evdev.InputDevice(path)
        except OSError as exc:
            raise DeviceError(
                f"cannot open the keyboard card reader {path}: {exc.strerror}; check the USB cable, cards.device "
                "and that the service user is in the 'input' group"
            ) from exc
        if self.grab:
            try:
                device.grab()
            except OSError as exc:
                device.close()
                raise DeviceError(
                    f"cannot grab {path} ({exc.strerror}): another program holds it; stop it so card numbers "
                    "do not leak to the console"
                ) from exc
        self._device, self.path = device, path
        self.name = f"keyboard reader {device.name} ({path})"
        log.info("opened %s", self.name)

    def close(self) -> None:
        device, self._device = self._device, None
        if device is None:
            return
        try:
            if self.grab:
                device.ungrab()
        except OSError:
            pass  # already gone: unplugged
        try:
            device.close()
        except OSError as exc:
            log.debug("closing %s: %s", self.path, exc)

    def read(self, timeout_s: float) -> CardEvent | None:
        if self._pending:
            return self._pending.popleft()
        device = self._device
        if device is None:
            raise DeviceError(f"the keyboard card reader {self.spec} is not open")
        try:
            ready, _, _ = select.select([device.fd], [], [], timeout_s)
            if not ready:
                self.decoder.expire()
                return None
            events = list(device.read())
        except BlockingIOError:
            return None
        except OSError as exc:
            self.close()
            if exc.errno in (errno.ENODEV, errno.EBADF, errno.EIO):
                raise DeviceError(f"the keyboard card reader {self.path} was unplugged; check its cable") from exc
            raise DeviceError(f"reading the keyboard card reader {self.path} failed: {exc.strerror}") from exc
        for event in events:
            if event.type != EV_KEY:
                continue
            number = self.decoder.feed(event.code, event.value)
            if number is None:
                continue
            now = self._clock.monotonic_ns()
            try:
                uid = normalise_uid(number, self.form)
            except CardUidError as exc:
                self._pending.append(CardEvent(CardEventKind.UNREADABLE, self.name, now, detail=str(exc)))
                continue
            log.debug("keyboard reader: card %s", masked_uid(uid))
            self._pending.append(CardEvent(CardEventKind.PRESENT, self.name, now, uid))
        return self._pending.popleft() if self._pending else None
