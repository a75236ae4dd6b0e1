"""A GT-521F52 (or F32) on a pseudo-terminal, answering the commands of PROTOCOLS.md §2.

Boots at 9600 baud (ChangeBaudrate lasts until the next power cycle, as on the module); the
sensor's LED must be on for a finger to be seen; Enroll3 checks for duplicates and answers one
with the slot it duplicates; SetTemplate checks too unless the parameter's high word is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from firmware_bridge import simfinger
from firmware_bridge.errors import FrameError
from firmware_bridge.gt521.codec import (
    DEVICE_ID,
    TEMPLATE_SIZE,
    Command,
    DataPacket,
    DeviceInfo,
    FrameReader,
    Nack,
    Packet,
    data_packet,
    response,
)
from firmware_bridge.simcore import ModuleSimulator

log = logging.getLogger(__name__)

TEMPLATE = simfinger.TemplateFormat(b"GT", TEMPLATE_SIZE)
BAUDS = (9600, 19200, 38400, 57600, 115200)
NO_SAVE = 0xFFFFFFFF
SECURITY = 3


class GT521Simulator(ModuleSimulator):
    family = "gt521"

    def __init__(
        self,
        *,
        capacity: int = 3000,
        serial_number: bytes = b"SIM-GT521F52-001",
        link: Path | None = None,
        library_file: Path | None = None,
        baud: int = 9600,
        pace: bool = True,
        check_baud: bool = True,
    ) -> None:
        self.capacity = capacity
        self.boot_baud = baud
        self.info = DeviceInfo(0x20240101, 0x1000, serial_number.ljust(16, b"\0")[:16])
        self.led_on = False
        self.last_capture: list[int] | None = None
        self.enrol_slot: int | None = None
        self.enrol_steps: list[list[int]] = []
        self._captures: dict[str, int] = {}
        self._reader = FrameReader(DEVICE_ID)
        self._set_template_slot: int | None = None
        self._set_template_check = True
        super().__init__(link=link, library_file=library_file, baud=baud, pace=pace, check_baud=check_baud)

    def power_on(self) -> None:
        super().power_on()
        self.baud = self.boot_baud
        self.led_on = False
        self.last_capture = None
        self.enrol_slot = None
        self.enrol_steps = []
        self._set_template_slot = None
        self._reader.clear()
        self._reader.expect_data(None)

    # -- the wire --------------------------------------------------------------------------------

    def handle(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                packet = self._reader.next()
            except FrameError as exc:
                log.debug("simulator dropped a bad packet: %s", exc)
                continue
            if packet is None:
                return
            if isinstance(packet, DataPacket):
                self._template_data(packet.data)
            else:
                self._command(packet)

    def _ack(self, param: int = 0) -> None:
        self.send(response(True, param))

    def _nack(self, code: int) -> None:
        self.send(response(False, code))

    def _command(self, packet: Packet) -> None:
        self._handled(packet.code)
        self._set_template_slot = None
        self._reader.expect_data(None)
        handler = _HANDLERS.get(packet.code)
        if handler is None:
            self._nack(Nack.IS_NOT_SUPPORTED)
            return
        handler(self, packet.param)

    def _slot_error(self, slot: int) -> bool:
        if slot >= self.capacity:
            self._nack(Nack.INVALID_POS)
            return True
        return False

    def _duplicate_of(self, points: list[int]) -> int | None:
        for slot, stored in sorted(self.library.items()):
            theirs = TEMPLATE.unpack(stored)
            if theirs is not None and simfinger.matches(points, theirs, SECURITY):
                return slot
        return None

    # -- commands --------------------------------------------------------------------------------

    def _open(self, param: int) -> None:
        self._ack()
        if param:
            self.send(data_packet(self.info.encode()))

    def _close(self, param: int) -> None:
        self._ack()

    def _change_baudrate(self, param: int) -> None:
        if param not in BAUDS:
            self._nack(Nack.INVALID_BAUDRATE)
            return
        self._ack()
        self.baud = param

    def _cmos_led(self, param: int) -> None:
        self.led_on = bool(param)
        self.led_history.append((int(self.led_on),))
        self._ack()

    def _get_enroll_count(self, param: int) -> None:
        self._ack(len(self.library))

    def _check_enrolled(self, param: int) -> None:
        if self._slot_error(param):
            return
        if param in self.library:
            self._ack()
        else:
            self._nack(Nack.IS_NOT_USED)

    def _enroll_start(self, param: int) -> None:
        if param != NO_SAVE and self._slot_error(param):
            return
        if len(self.library) >= self.capacity:
            self._nack(Nack.DB_IS_FULL)
            return
        if param in self.library:
            self._nack(Nack.IS_ALREADY_USED)
            return
        self.enrol_slot = param
        self.enrol_steps = []
        self._ack()

    def _enroll(self, step: int) -> None:
        if self.enrol_slot is None or len(self.enrol_steps) != step - 1:
            self._nack(Nack.TURN_ERR)
            return
        if self.last_capture is None:
            self._nack(Nack.BAD_FINGER)
            return
        self.enrol_steps.append(self.last_capture)
        self.last_capture = None
        if step < 3:
            self._ack()
            return
        first, second, third = self.enrol_steps
        slot, self.enrol_slot = self.enrol_slot, None
        if not (simfinger.matches(first, second, SECURITY) and simfinger.matches(first, third, SECURITY)):
            self._nack(Nack.ENROLL_FAILED)
            return
        model = simfinger.combine(simfinger.combine(first, second), third)
        duplicate = self._duplicate_of(model)
        if duplicate is not None:
            self._nack(duplicate)
            return
        template = TEMPLATE.pack(model)
        self._ack()
        if slot == NO_SAVE:
            self.send(data_packet(template))
        else:
            self.library[slot] = template
            self.save_library()

    def _enroll1(self, param: int) -> None:
        self._enroll(1)

    def _enroll2(self, param: int) -> None:
        self._enroll(2)

    def _enroll3(self, param: int) -> None:
        self._enroll(3)

    def _is_press_finger(self, param: int) -> None:
        pressed = self.led_on and not self.glass.empty
        if not pressed:
            self.glass.empty_polls += 1
        self._ack(0 if pressed else 1)

    def _delete_id(self, param: int) -> None:
        if self._slot_error(param):
            return
        if self.library.pop(param, None) is None:
            self._nack(Nack.IS_NOT_USED)
            return
        self.save_library()
        self._ack()

    def _delete_all(self, param: int) -> None:
        if not self.library:
            self._nack(Nack.DB_IS_EMPTY)
            return
        self.library.clear()
        self.save_library()
        self._ack()

    def _verify(self, param: int) -> None:
        if self._slot_error(param):
            return
        if param not in self.library:
            self._nack(Nack.IS_NOT_USED)
        elif self.last_capture is None:
            self._nack(Nack.FINGER_IS_NOT_PRESSED)
        else:
            stored = TEMPLATE.unpack(self.library[param]) or []
            ok = simfinger.matches(self.last_capture, stored, SECURITY)
            self._ack() if ok else self._nack(Nack.VERIFY_FAILED)

    def _identify(self, param: int) -> None:
        if not self.library:
            self._nack(Nack.DB_IS_EMPTY)
        elif self.last_capture is None:
            self._nack(Nack.FINGER_IS_NOT_PRESSED)
        else:
            slot = self._duplicate_of(self.last_capture)
            self._ack(slot) if slot is not None else self._nack(Nack.IDENTIFY_FAILED)

    def _capture_finger(self, param: int) -> None:
        glass = self.glass
        if not self.led_on or glass.empty:
            self._nack(Nack.FINGER_IS_NOT_PRESSED)
            return
        if glass.smudge:
            self.last_capture = None
            self._nack(Nack.BAD_FINGER)
            return
        assert glass.finger is not None
        number = self._captures.get(glass.finger, 0) + 1
        self._captures[glass.finger] = number
        self.last_capture = simfinger.capture(glass.finger, number)
        self._ack()

    def _get_template(self, param: int) -> None:
        if self._slot_error(param):
            return
        if param not in self.library:
            self._nack(Nack.IS_NOT_USED)
            return
        self._ack()
        self.send(data_packet(self.library[param]))

    def _set_template(self, param: int) -> None:
        slot = param & 0xFFFF
        if self._slot_error(slot):
            return
        self._ack()
        self._set_template_slot = slot
        self._set_template_check = not param >> 16
        self._reader.expect_data(TEMPLATE_SIZE)

    def _template_data(self, data: bytes) -> None:
        slot, self._set_template_slot = self._set_template_slot, None
        if slot is None:
            return
        points = TEMPLATE.unpack(data)
        if points is None:
            self._nack(Nack.COMM_ERR)
            return
        if self._set_template_check:
            duplicate = self._duplicate_of(points)
            if duplicate is not None and duplicate != slot:
                self._nack(duplicate)
                return
        self.library[slot] = data
        self.save_library()
        self._ack()
        self._notify()


_HANDLERS: dict[int, Callable[[GT521Simulator, int], None]] = {
    Command.OPEN: GT521Simulator._open,
    Command.CLOSE: GT521Simulator._close,
    Command.CHANGE_BAUDRATE: GT521Simulator._change_baudrate,
    Command.CMOS_LED: GT521Simulator._cmos_led,
    Command.GET_ENROLL_COUNT: GT521Simulator._get_enroll_count,
    Command.CHECK_ENROLLED: GT521Simulator._check_enrolled,
    Command.ENROLL_START: GT521Simulator._enroll_start,
    Command.ENROLL1: GT521Simulator._enroll1,
    Command.ENROLL2: GT521Simulator._enroll2,
    Command.ENROLL3: GT521Simulator._enroll3,
    Command.IS_PRESS_FINGER: GT521Simulator._is_press_finger,
    Command.DELETE_ID: GT521Simulator._delete_id,
    Command.DELETE_ALL: GT521Simulator._delete_all,
    Command.VERIFY: GT521Simulator._verify,
    Command.IDENTIFY: GT521Simulator._identify,
    Command.CAPTURE_FINGER: GT521Simulator._capture_finger,
    Command.GET_TEMPLATE: GT521Simulator._get_template,
    Command.SET_TEMPLATE: GT521Simulator._set_template,
}
