"""The GT-521F32/F52 driver: the commands of PROTOCOLS.md §2 over a :class:`SerialLink`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from firmware_bridge.base import Capture, FingerMatch, FingerprintModule, Led, ModuleInfo, register
from firmware_bridge.errors import BadLocation, FrameError, LibraryFull, ModuleRefused, ModuleTimeout
from firmware_bridge.gt521.codec import (
    DEVICE_ID,
    DEVICE_INFO_SIZE,
    PACKET_SIZE,
    TEMPLATE_SIZE,
    Command,
    DataPacket,
    DeviceInfo,
    FrameReader,
    Nack,
    Packet,
    command,
    data_packet,
    nack_name,
)
from firmware_bridge.link import SerialLink, wire_seconds

log = logging.getLogger(__name__)

BAUD_CANDIDATES = (9600, 115200, 57600, 38400, 19200)
CAPACITY_F52 = 3000
CAPACITY_F32 = 200

_REFUSALS: dict[int, type[ModuleRefused]] = {Nack.DB_IS_FULL: LibraryFull, Nack.INVALID_POS: BadLocation}


@register
class GT521Module(FingerprintModule):
    family = "gt521"
    enrol_captures = 3

    def __init__(
        self,
        port: str,
        *,
        baud: int = 9600,
        timeout_s: float = 1.0,
        autobaud: bool = True,
        device_id: int = DEVICE_ID,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.timeout_s = timeout_s
        self.autobaud = autobaud
        self.device_id = device_id
        self._monotonic = monotonic
        self.link = SerialLink(port, baud, monotonic=monotonic)
        self.reader = FrameReader(device_id)
        self.device_info: DeviceInfo | None = None
        self._info: ModuleInfo | None = None
        self._duplicate: int | None = None
        self.frame_errors = 0

    def __repr__(self) -> str:
        state = f"{self.link.baud} baud" if self.link.is_open else "closed"
        return f"GT521Module({self.port!r}, {state})"

    @property
    def info(self) -> ModuleInfo | None:
        return self._info

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> ModuleInfo:
        self.link.open()
        try:
            self._handshake()
        except BaseException:
            self.link.close()
            raise
        assert self._info is not None
        return self._info

    def close(self) -> None:
        if self.link.is_open:
            try:
                self.transact(Command.CLOSE, timeout_s=0.2, retries=0)
            except Exception as exc:  # noqa: BLE001 - closing must not fail
                log.debug("GT-521 Close: %s", exc)
        self.link.close()
        self.reader.clear()

    def _handshake(self) -> None:
        self.link.drain_input()
        self.reader.clear()
        try:
            self.device_info = self.open_module()
        except (ModuleTimeout, FrameError) as exc:
            if not self.autobaud:
                raise
            self._find_baud(exc)
        capacity = CAPACITY_F52
        try:
            self.check_enrolled(CAPACITY_F52 - 1)
        except BadLocation:
            capacity = CAPACITY_F32
        firmware = f"{self.device_info.firmware_version:08x}" if self.device_info else ""
        self._info = ModuleInfo(family=self.family, capacity=capacity, baud=self.link.baud, firmware=firmware, has_led=True)
        log.info("GT-521 module on %s: %d baud, capacity %d, firmware %s", self.port, self.link.baud, capacity, firmware)

    def _find_baud(self, first: Exception) -> None:
        configured = self.link.baud
        for baud in (b for b in BAUD_CANDIDATES if b != configured):
            self.link.set_baud(baud)
            self.link.drain_input()
            self.reader.clear()
            try:
                self.device_info = self.open_module(timeout_s=0.25 + wire_seconds(40, baud))
            except (ModuleTimeout, FrameError):
                continue
            log.warning("GT-521 module answers at %d baud, not %d; set fingerprint.baud = %d", baud, configured, baud)
            return
        self.link.set_baud(configured)
        raise ModuleTimeout(
            f"the GT-521 module on {self.port} does not answer at any baud: {first}; check power, wiring and fingerprint.port"
        )

    # -- transport ---------------------------------------------------------------------------

    def transact(self, code: int, param: int = 0, *, timeout_s: float | None = None, retries: int = 1) -> Packet:
        frame = command(code, param, self.device_id)
        for attempt in range(retries + 1):
            self.link.write(frame)
            try:
                packet = self._read(timeout_s)
                assert isinstance(packet, Packet)
                return packet
            except FrameError:
                if attempt == retries:
                    raise
                log.info("corrupt answer to command 0x%02x, asking again", code)
                self.link.drain_input()
                self.reader.clear()
        raise AssertionError("unreachable")

    def _read(self, timeout_s: float | None, *, data_len: int | None = None) -> Packet | DataPacket:
        self.reader.expect_data(data_len)
        base = self.timeout_s if timeout_s is None else timeout_s
        size = PACKET_SIZE * 2 + (data_len or 0) + 6
        deadline = self._monotonic() + base + wire_seconds(size, self.link.baud)
        corrupt: FrameError | None = None
        while True:
            try:
                packet = self.reader.next()
            except FrameError as exc:
                self.frame_errors += 1
                corrupt = exc
                deadline = min(deadline, self._monotonic() + 0.05 + wire_seconds(size, self.link.baud))
                continue
            if packet is not None:
                if (data_len is None) == isinstance(packet, Packet):
                    return packet
                continue
            chunk = self.link.read_some(deadline)
            if not chunk:
                if corrupt is not None:
                    raise FrameError(f"the GT-521 module's answer was corrupt ({corrupt}); check the cable")
                what = "a data packet" if data_len else "an answer"
                raise ModuleTimeout(f"the GT-521 module on {self.port} sent no {what} within {base:.1f} s; is it plugged in?")
            self.reader.feed(chunk)

    def _ok(self, packet: Packet, doing: str, *, allowed: Collection[int] = ()) -> int | None:
        """The parameter of an ACK; None for an allowed NACK; raises for any other NACK."""
        if packet.ok:
            return packet.param
        if packet.param in allowed:
            return None
        raise self.refusal(packet.param, doing)

    def refusal(self, code: int, doing: str) -> ModuleRefused:
        cls = _REFUSALS.get(code, ModuleRefused)
        return cls(f"GT-521 module refused {doing}: {nack_name(code)} (0x{code:04x})", code=code, name=nack_name(code))

    # -- commands ----------------------------------------------------------------------------

    def open_module(self, *, timeout_s: float | None = None) -> DeviceInfo:
        """Open with the extra-info flag: the module sends its firmware and serial number."""
        self._ok(self.transact(Command.OPEN, 1, timeout_s=timeout_s), "to open")
        packet = self._read(timeout_s, data_len=DEVICE_INFO_SIZE)
        assert isinstance(packet, DataPacket)
        return DeviceInfo.decode(packet.data)

    def change_baudrate(self, baud: int) -> None:
        self._ok(self.transact(Command.CHANGE_BAUDRATE, baud), f"to change to {baud} baud")
        self.link.set_baud(baud)
        self.link.drain_input()
        self.reader.clear()

    def cmos_led(self, on: bool) -> None:
        self._ok(self.transact(Command.CMOS_LED, 1 if on else 0), "the LED command")

    def get_enroll_count(self) -> int:
        return int(self._ok(self.transact(Command.GET_ENROLL_COUNT), "to count templates") or 0)

    def check_enrolled(self, slot: int) -> bool:
        return (
            self._ok(self.transact(Command.CHECK_ENROLLED, slot), f"to check slot {slot}", allowed=(Nack.IS_NOT_USED,))
            is not None
        )

    def enroll_start(self, slot: int) -> None:
        self._ok(self.transact(Command.ENROLL_START, slot), f"to start enrolling slot {slot}")

    def enroll(self, step: int) -> int | None:
        """Enroll1/2/3 on the last capture. Returns None, or the slot a duplicate matches
        (Enroll3); raises for a bad finger or a failed enrolment."""
        code = (Command.ENROLL1, Command.ENROLL2, Command.ENROLL3)[step - 1]
        packet = self.transact(code)
        if not packet.ok and packet.param < 0x1000:
            return packet.param
        self._ok(packet, f"enrolment step {step}")
        return None

    def is_press_finger(self) -> bool:
        return self._ok(self.transact(Command.IS_PRESS_FINGER), "to sense a finger") == 0

    def delete_id(self, slot: int) -> None:
        self._ok(self.transact(Command.DELETE_ID, slot), f"to delete slot {slot}", allowed=(Nack.IS_NOT_USED,))

    def delete_all(self) -> None:
        self._ok(self.transact(Command.DELETE_ALL), "to delete all", allowed=(Nack.DB_IS_EMPTY,))

    def verify(self, slot: int) -> bool:
        allowed = (Nack.VERIFY_FAILED, Nack.IS_NOT_USED)
        return self._ok(self.transact(Command.VERIFY, slot), f"to verify against slot {slot}", allowed=allowed) is not None

    def identify_n(self) -> int | None:
        allowed = (Nack.IDENTIFY_FAILED, Nack.DB_IS_EMPTY)
        return self._ok(self.transact(Command.IDENTIFY), "to identify", allowed=allowed)

    def capture_finger(self, best: bool = False) -> bool:
        """False when no finger is pressed."""
        result = self._ok(
            self.transact(Command.CAPTURE_FINGER, 1 if best else 0), "to capture", allowed=(Nack.FINGER_IS_NOT_PRESSED,)
        )
        return result is not None

    def get_template(self, slot: int) -> bytes:
        self._ok(self.transact(Command.GET_TEMPLATE, slot), f"to send slot {slot}")
        try:
            packet = self._read(None, data_len=TEMPLATE_SIZE)
        except ModuleTimeout as exc:
            raise ModuleTimeout(f"the GT-521 module stalled sending a template; {exc}") from exc
        assert isinstance(packet, DataPacket)
        return packet.data

    def set_template(self, slot: int, template: bytes) -> int | None:
        """Store ``template``; returns the slot it duplicates when the module refuses it as one."""
        if len(template) != TEMPLATE_SIZE:
            raise ModuleRefused(
                f"a GT-521 template is {TEMPLATE_SIZE} bytes, this one {len(template)}; it came from another module family",
                code=Nack.INVALID_PARAM,
                name="invalid_param",
            )
        self._ok(self.transact(Command.SET_TEMPLATE, slot), f"to receive slot {slot}")
        self.link.write(data_packet(template, self.device_id))
        packet = self._read(None)
        assert isinstance(packet, Packet)
        if not packet.ok and packet.param < 0x1000:
            return packet.param
        self._ok(packet, f"the template for slot {slot}")
        return None

    # -- the bridge's interface ----------------------------------------------------------------

    def capture(self, step: int = 0) -> Capture:
        if not self.is_press_finger():
            return Capture.NO_FINGER
        try:
            if not self.capture_finger(best=step > 0):
                return Capture.NO_FINGER
        except ModuleRefused as exc:
            if exc.code in (Nack.BAD_FINGER, Nack.TIMEOUT):
                return Capture.POOR
            raise
        if step > 0:
            try:
                duplicate = self.enroll(step)
            except ModuleRefused as exc:
                if exc.code == Nack.BAD_FINGER:
                    return Capture.POOR
                raise
            if step == self.enrol_captures:
                self._duplicate = duplicate
        return Capture.OK

    def finger_present(self) -> bool:
        return self.is_press_finger()

    def identify(self) -> FingerMatch | None:
        slot = self.identify_n()
        return None if slot is None else FingerMatch(slot=slot, score=0)

    def enrol_begin(self, slot: int) -> None:
        self._duplicate = None
        self.enroll_start(slot)

    def enrol_finish(self, slot: int) -> int | None:
        # Enroll3 already combined and stored the captures (or found the duplicate).
        return self._duplicate

    def read_template(self, slot: int) -> bytes:
        return self.get_template(slot)

    def write_template(self, slot: int, template: bytes) -> None:
        duplicate = self.set_template(slot, template)
        if duplicate is not None:
            raise ModuleRefused(
                f"the module already holds this finger in slot {duplicate}", code=duplicate, name="duplicate_finger"
            )

    def delete(self, slot: int) -> None:
        self.delete_id(slot)

    def used_slots(self, hint: Collection[int] = ()) -> set[int]:
        """Slots in use. The module has no index table: the slots in ``hint`` are checked
        first, and the rest of the library is scanned only when the count says some are missing."""
        capacity = self._info.capacity if self._info else CAPACITY_F52
        count = self.get_enroll_count()
        used = {slot for slot in sorted(set(hint)) if 0 <= slot < capacity and self.check_enrolled(slot)}
        slot = 0
        while len(used) < count and slot < capacity:
            if slot not in used and self.check_enrolled(slot):
                used.add(slot)
            slot += 1
        return used

    def led(self, state: Led) -> None:
        # The GT-521 has only the sensor's backlight, which must be on to capture.
        self.cmos_led(state is not Led.OFF)
