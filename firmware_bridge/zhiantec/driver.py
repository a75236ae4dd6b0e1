"""The ZhianTec driver: every instruction of PROTOCOLS.md §1 over a :class:`SerialLink`.

Low-level methods are named after the instructions (``gen_img``, ``img2tz``, ``search`` …) and
return what the ack carried; the :class:`FingerprintModule` methods above them are what the
bridge uses. Timeouts are :class:`ModuleTimeout`, corrupt answers :class:`FrameError`, refusals
:class:`ModuleRefused` (with ``WrongPassword``, ``BadLocation``, ``LibraryFull`` by name).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Collection, Iterable

from firmware_bridge.base import Capture, FingerMatch, FingerprintModule, Led, ModuleInfo, register
from firmware_bridge.errors import BadLocation, FrameError, LibraryFull, ModuleRefused, ModuleTimeout, WrongPassword
from firmware_bridge.link import SerialLink, wire_seconds
from firmware_bridge.zhiantec.codec import (
    DEFAULT_ADDRESS,
    OVERHEAD,
    Code,
    FrameReader,
    Instruction,
    LedColour,
    LedControl,
    Packet,
    Pid,
    SystemParameters,
    code_name,
    command,
    data_packets,
    index_bits,
    u16,
)

log = logging.getLogger(__name__)

#: Bauds tried, after the configured one, when the module does not answer (9600 × N, N = 1..12).
BAUD_CANDIDATES = (57600, 115200, 9600, 19200, 38400, 28800, 48000, 67200, 76800, 86400, 96000, 105600)

_LED: dict[Led, tuple[int, int, int, int]] = {
    # control, speed, colour, times
    Led.IDLE: (LedControl.BREATHE, 0x80, LedColour.BLUE, 0),
    Led.CAPTURING: (LedControl.ON, 0, LedColour.PURPLE, 0),
    Led.ACCEPTED: (LedControl.FLASH, 0x20, LedColour.BLUE, 2),
    Led.REJECTED: (LedControl.FLASH, 0x20, LedColour.RED, 3),
    Led.ENROL: (LedControl.BREATHE, 0x40, LedColour.PURPLE, 0),
    Led.OFF: (LedControl.OFF, 0, LedColour.BLUE, 0),
}

_REFUSALS: dict[int, type[ModuleRefused]] = {
    Code.WRONG_PASSWORD: WrongPassword,
    Code.PASSWORD_REQUIRED: WrongPassword,
    Code.BAD_LOCATION: BadLocation,
    Code.LIBRARY_FULL: LibraryFull,
}


@register
class ZhianTecModule(FingerprintModule):
    """An R30x/R503/AS608-class module. ``index_bit_order`` is 'lsb', 'msb' or 'auto' (probed
    against a known slot on first use, see :meth:`probe_index_bit_order`)."""

    family = "zhiantec"
    enrol_captures = 2

    def __init__(
        self,
        port: str,
        *,
        baud: int = 57600,
        password: int = 0,
        address: int = DEFAULT_ADDRESS,
        timeout_s: float = 1.0,
        autobaud: bool = True,
        index_bit_order: str = "auto",
        led: str = "auto",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.password = password
        self.address = address
        self.timeout_s = timeout_s
        self.autobaud = autobaud
        self.index_bit_order: str | None = None if index_bit_order == "auto" else index_bit_order
        self._led_mode = led
        self._monotonic = monotonic
        self.link = SerialLink(port, baud, monotonic=monotonic)
        self.reader = FrameReader(address)
        self.params: SystemParameters | None = None
        self._info: ModuleInfo | None = None
        self.frame_errors = 0

    def __repr__(self) -> str:
        state = f"{self.link.baud} baud" if self.link.is_open else "closed"
        return f"ZhianTecModule({self.port!r}, {state})"

    @property
    def info(self) -> ModuleInfo | None:
        return self._info

    @property
    def packet_size(self) -> int:
        return self.params.packet_size if self.params else 128

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
        self.link.close()
        self.reader.clear()

    def _handshake(self) -> None:
        # An R503 sends a lone 0x55 after power-on and SoftRst: flush it before the first command.
        self.link.drain_input()
        self.reader.clear()
        try:
            self.verify_password(self.password)
        except (ModuleTimeout, FrameError) as exc:
            if not self.autobaud:
                raise
            self._find_baud(exc)
        self.params = self.read_sys_para()
        if self.params.baud and self.params.baud != self.link.baud:
            log.warning("module reports %d baud in its register but answers at %d", self.params.baud, self.link.baud)
        has_led = self._probe_led()
        self._info = ModuleInfo(
            family=self.family,
            capacity=self.params.capacity,
            baud=self.link.baud,
            packet_size=self.params.packet_size,
            security=self.params.security,
            system_id=self.params.system_id,
            has_led=has_led,
        )
        log.info(
            "ZhianTec module on %s: %d baud, capacity %d, packet size %d, LED %s",
            self.port,
            self.link.baud,
            self.params.capacity,
            self.params.packet_size,
            "yes" if has_led else "no",
        )

    def _find_baud(self, first: Exception) -> None:
        configured = self.link.baud
        for baud in (b for b in BAUD_CANDIDATES if b != configured):
            try:
                self.link.set_baud(baud)
            except ModuleRefused:
                raise
            except Exception as exc:  # noqa: BLE001 - a rate this port cannot do is skipped
                log.debug("cannot try %d baud: %s", baud, exc)
                continue
            self.link.drain_input()
            self.reader.clear()
            try:
                self.verify_password(self.password, timeout_s=min(self.timeout_s, 0.25) + wire_seconds(24, baud))
            except (ModuleTimeout, FrameError):
                continue
            log.warning("fingerprint module answers at %d baud, not %d; set fingerprint.baud = %d", baud, configured, baud)
            return
        self.link.set_baud(configured)
        raise ModuleTimeout(
            f"the fingerprint module on {self.port} does not answer at any baud (9600×1..12): {first}; "
            "check power, wiring (TX↔RX) and fingerprint.port"
        )

    def _probe_led(self) -> bool:
        if self._led_mode == "off":
            return False
        try:
            self.aura_led(LedControl.OFF, 0, LedColour.BLUE, 0)
        except ModuleRefused:
            if self._led_mode == "on":
                log.warning("fingerprint.led = 'on' but the module refused the LED command")
            return False
        return True

    # -- transport ---------------------------------------------------------------------------

    def transact(self, instruction: int, params: bytes = b"", *, timeout_s: float | None = None, retries: int = 1) -> Packet:
        """Send one command and return its ack; a corrupt ack is retried ``retries`` times."""
        frame = command(instruction, params, self.address)
        for attempt in range(retries + 1):
            self.link.write(frame)
            try:
                return self._read_packet(timeout_s, expect=(Pid.ACK,), sent=len(frame))
            except FrameError:
                if attempt == retries:
                    raise
                log.info("corrupt answer to instruction 0x%02x, asking again", instruction)
                self.link.drain_input()
                self.reader.clear()
        raise AssertionError("unreachable")

    def _read_packet(self, timeout_s: float | None, *, expect: Iterable[int], sent: int = 0) -> Packet:
        expected = set(expect)
        base = self.timeout_s if timeout_s is None else timeout_s
        deadline = self._monotonic() + base + wire_seconds(sent + OVERHEAD + 256, self.link.baud)
        corrupt: FrameError | None = None
        while True:
            try:
                packet = self.reader.next()
            except FrameError as exc:
                self.frame_errors += 1
                corrupt = exc
                # The answer was mangled: wait only as long as a retransmission would take.
                deadline = min(deadline, self._monotonic() + 0.05 + wire_seconds(OVERHEAD + 256, self.link.baud))
                continue
            if packet is not None:
                if packet.pid in expected:
                    return packet
                log.debug("skipping an unexpected packet of type 0x%02x", packet.pid)
                continue
            chunk = self.link.read_some(deadline)
            if not chunk:
                if corrupt is not None:
                    raise FrameError(f"the fingerprint module's answer was corrupt ({corrupt}); check the cable")
                raise ModuleTimeout(
                    f"the fingerprint module on {self.port} did not answer within {base:.1f} s; "
                    "check that it is plugged in and powered"
                )
            self.reader.feed(chunk)

    def _ok(self, ack: Packet, doing: str, *, allowed: Iterable[int] = ()) -> int:
        code = ack.code
        if code == Code.OK or code in set(allowed):
            return code
        raise self.refusal(code, doing)

    def refusal(self, code: int, doing: str) -> ModuleRefused:
        cls = _REFUSALS.get(code, ModuleRefused)
        hints: dict[int, str] = {
            Code.WRONG_PASSWORD: "set fingerprint.password_file to the module's password",
            Code.PASSWORD_REQUIRED: "set fingerprint.password_file to the module's password",
            Code.BAD_LOCATION: "the slot is outside the module's library",
            Code.LIBRARY_FULL: "delete unused templates or use a module with a larger library",
            Code.FLASH_ERROR: "the module's flash failed; replace the module",
        }
        hint = hints.get(code, "retry; if it persists, power-cycle the module")
        return cls(
            f"fingerprint module refused {doing}: {code_name(code)} (0x{code:02x}); {hint}", code=code, name=code_name(code)
        )

    def _receive_data(self, doing: str) -> bytes:
        data = bytearray()
        per_packet = self.timeout_s
        while True:
            try:
                packet = self._read_packet(per_packet, expect=(Pid.DATA, Pid.END_DATA))
            except ModuleTimeout as exc:
                raise ModuleTimeout(f"the fingerprint module stalled {doing} after {len(data)} bytes; {exc}") from exc
            data += packet.payload
            if packet.pid == Pid.END_DATA:
                return bytes(data)

    def _send_data(self, data: bytes) -> None:
        for frame in data_packets(data, self.packet_size, self.address):
            self.link.write(frame)

    # -- instructions ------------------------------------------------------------------------

    def verify_password(self, password: int, *, timeout_s: float | None = None) -> None:
        self._ok(self.transact(Instruction.VERIFY_PASSWORD, struct.pack(">I", password), timeout_s=timeout_s), "the password")

    def gen_img(self) -> int:
        """00 image taken, 02 no finger, 03 capture failed."""
        return self._ok(self.transact(Instruction.GEN_IMG), "to capture", allowed=(Code.NO_FINGER, Code.CAPTURE_FAILED))

    def img2tz(self, buffer: int) -> int:
        """00 features in ``buffer``; 06 messy, 07 too few features, 15 invalid image."""
        ack = self.transact(Instruction.IMG2TZ, bytes([buffer]))
        return self._ok(ack, "to extract features", allowed=(Code.MESSY_IMAGE, Code.TOO_FEW_FEATURES, Code.INVALID_IMAGE))

    def match(self) -> int | None:
        """The score of buffer 1 against buffer 2, or None (08 no match)."""
        ack = self.transact(Instruction.MATCH)
        if self._ok(ack, "to match", allowed=(Code.NO_MATCH,)) == Code.NO_MATCH:
            return None
        return u16(ack.payload, 1)

    def search(
        self, buffer: int = 1, start: int = 0, count: int | None = None, *, high_speed: bool = False
    ) -> FingerMatch | None:
        """The library slot matching ``buffer``, or None (09 not found)."""
        total = count if count is not None else (self.params.capacity if self.params else 1000)
        instruction = Instruction.HIGH_SPEED_SEARCH if high_speed else Instruction.SEARCH
        ack = self.transact(instruction, struct.pack(">BHH", buffer, start, total))
        if self._ok(ack, "to search", allowed=(Code.NOT_FOUND,)) == Code.NOT_FOUND:
            return None
        return FingerMatch(slot=u16(ack.payload, 1), score=u16(ack.payload, 3))

    def reg_model(self) -> bool:
        """Combine buffers 1 and 2; False when they do not combine (0A)."""
        return self._ok(self.transact(Instruction.REG_MODEL), "to combine", allowed=(Code.COMBINE_FAILED,)) == Code.OK

    def store(self, buffer: int, page: int) -> None:
        self._ok(self.transact(Instruction.STORE, struct.pack(">BH", buffer, page)), f"to store slot {page}")

    def load_char(self, buffer: int, page: int) -> bool:
        """Load ``page`` into ``buffer``; False when the slot holds no valid template (0C)."""
        ack = self.transact(Instruction.LOAD_CHAR, struct.pack(">BH", buffer, page))
        return self._ok(ack, f"to load slot {page}", allowed=(Code.BAD_TEMPLATE,)) == Code.OK

    def up_char(self, buffer: int) -> bytes:
        """The template in ``buffer`` (module → host), exactly the bytes the module sent."""
        self._ok(self.transact(Instruction.UP_CHAR, bytes([buffer])), "to send a template")
        return self._receive_data("sending a template")

    def down_char(self, buffer: int, template: bytes) -> None:
        """Send a template into ``buffer`` (host → module), split by the module's packet size."""
        self._ok(self.transact(Instruction.DOWN_CHAR, bytes([buffer])), "to receive a template")
        self._send_data(template)

    def up_image(self) -> bytes:
        """The last image, 4 bits per pixel."""
        self._ok(self.transact(Instruction.UP_IMAGE), "to send the image")
        return self._receive_data("sending the image")

    def delete_char(self, page: int, count: int = 1) -> None:
        self._ok(self.transact(Instruction.DELETE_CHAR, struct.pack(">HH", page, count)), f"to delete slot {page}")

    def empty(self) -> None:
        self._ok(self.transact(Instruction.EMPTY), "to empty the library")

    def set_sys_para(self, register_: int, value: int) -> None:
        self._ok(self.transact(Instruction.SET_SYS_PARA, bytes([register_, value])), f"to set register {register_}")

    def read_sys_para(self) -> SystemParameters:
        ack = self.transact(Instruction.READ_SYS_PARA)
        self._ok(ack, "to read its parameters")
        return SystemParameters.decode(ack.payload[1:])

    def template_num(self) -> int:
        ack = self.transact(Instruction.TEMPLATE_NUM)
        self._ok(ack, "to count templates")
        return u16(ack.payload, 1)

    def read_index_table(self, page: int) -> bytes:
        """The 32 raw bytes of index page ``page`` (0–3); decode with the probed bit order."""
        ack = self.transact(Instruction.READ_INDEX_TABLE, bytes([page]))
        self._ok(ack, f"to read index page {page}")
        table = ack.payload[1:33]
        if len(table) != 32:
            raise FrameError(f"index page of {len(table)} bytes, expected 32")
        return table

    def aura_led(self, control: int, speed: int, colour: int, times: int) -> None:
        self._ok(self.transact(Instruction.AURA_LED, bytes([control, speed, colour, times])), "the LED command")

    def soft_reset(self) -> None:
        """SoftRst; the module then sends a lone 0x55, flushed here before anything else."""
        self._ok(self.transact(Instruction.SOFT_RESET), "to reset")
        dropped = self.link.drain_input(quiet_s=0.2)
        self.reader.clear()
        log.debug("flushed %d byte(s) after reset", dropped)

    # -- the bridge's interface ----------------------------------------------------------------

    def capture(self, step: int = 0) -> Capture:
        code = self.gen_img()
        if code == Code.NO_FINGER:
            return Capture.NO_FINGER
        if code != Code.OK:
            return Capture.POOR
        buffer = 1 if step <= 1 else 2
        return Capture.OK if self.img2tz(buffer) == Code.OK else Capture.POOR

    def finger_present(self) -> bool:
        return self.gen_img() != Code.NO_FINGER

    def identify(self) -> FingerMatch | None:
        return self.search(1)

    def enrol_begin(self, slot: int) -> None:
        capacity = self.params.capacity if self.params else 0
        if not 0 <= slot < capacity:
            raise BadLocation(
                f"slot {slot} is outside the library (0–{capacity - 1})", code=Code.BAD_LOCATION, name="bad_location"
            )

    def enrol_finish(self, slot: int) -> int | None:
        if not self.reg_model():
            raise ModuleRefused(
                "the two captures are not the same finger; start the enrolment again",
                code=Code.COMBINE_FAILED,
                name="combine_failed",
            )
        duplicate = self.search(1)
        if duplicate is not None:
            return duplicate.slot
        self.store(1, slot)
        return None

    def read_template(self, slot: int) -> bytes:
        if not self.load_char(1, slot):
            raise ModuleRefused(f"slot {slot} holds no valid template", code=Code.BAD_TEMPLATE, name="bad_template")
        return self.up_char(1)

    def write_template(self, slot: int, template: bytes) -> None:
        self.down_char(1, template)
        self.store(1, slot)

    def delete(self, slot: int) -> None:
        self.delete_char(slot, 1)

    def used_slots(self, hint: Collection[int] = ()) -> set[int]:
        capacity = self.params.capacity if self.params else 256
        pages = [self.read_index_table(p) for p in range((capacity + 255) // 256)]
        if self.index_bit_order is None:
            self.index_bit_order = self.probe_index_bit_order(pages)
        order = self.index_bit_order or "lsb"  # undetermined: every used byte reads the same both ways
        used: set[int] = set()
        for p, table in enumerate(pages):
            used.update(p * 256 + i for i, flag in enumerate(index_bits(table, order)) if flag and p * 256 + i < capacity)
        return used

    def probe_index_bit_order(self, pages: list[bytes] | None = None) -> str | None:
        """Settle the index table's bit order against the module itself (PROTOCOLS.md §1 marks
        it UNCONFIRMED): find a used byte whose two readings disagree on a slot and ask the
        module to load that slot. None while every used byte reads the same both ways."""
        if pages is None:
            capacity = self.params.capacity if self.params else 256
            pages = [self.read_index_table(p) for p in range((capacity + 255) // 256)]
        for p, table in enumerate(pages):
            for i, byte in enumerate(table):
                for bit in range(8):
                    if byte >> bit & 1 and not byte >> (7 - bit) & 1:
                        slot = p * 256 + i * 8 + bit  # where LSB-first reading puts it
                        order = "lsb" if self.load_char(1, slot) else "msb"
                        log.info("index table bit order probed on slot %d: %s-first", slot, order)
                        return order
        return None

    def led(self, state: Led) -> None:
        if self._info is None or not self._info.has_led:
            return
        self.aura_led(*_LED[state])
