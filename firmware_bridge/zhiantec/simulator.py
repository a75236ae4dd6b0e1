"""A ZhianTec module on a pseudo-terminal, answering every instruction of PROTOCOLS.md §1.

``model="r503"`` (200 slots, Aura LED, a lone 0x55 after power-on and SoftRst) or ``"r307"``
(1000 slots, no LED: the LED instruction is answered with a receive error). The index table's
bit order is a constructor choice (``index_bit_order``), so drivers can be tested against both
readings the sources disagree on. The library and the non-volatile registers persist in
``library_file``. Baud changes (register 4) take effect at the next power cycle, as on the
modules, which save them to flash.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware_bridge import simfinger
from firmware_bridge.errors import FrameError
from firmware_bridge.simcore import ModuleSimulator
from firmware_bridge.zhiantec.codec import (
    DEFAULT_ADDRESS,
    PACKET_SIZES,
    RESET_HANDSHAKE,
    Code,
    FrameReader,
    Instruction,
    Packet,
    Pid,
    SysReg,
    SystemParameters,
    ack,
    data_packets,
    index_bytes,
)

log = logging.getLogger(__name__)

TEMPLATE = simfinger.TemplateFormat(b"ZT", 512)
_MODELS: dict[str, dict[str, Any]] = {
    "r503": {"capacity": 200, "led": True, "reset_byte": True, "image": (192, 192)},
    "r307": {"capacity": 1000, "led": False, "reset_byte": False, "image": (256, 288)},
}


class ZhianTecSimulator(ModuleSimulator):
    family = "zhiantec"

    def __init__(
        self,
        *,
        model: str = "r503",
        capacity: int | None = None,
        password: int = 0,
        address: int = DEFAULT_ADDRESS,
        packet_size: int = 128,
        security: int = 3,
        index_bit_order: str = "lsb",
        link: Path | None = None,
        library_file: Path | None = None,
        baud: int = 57600,
        pace: bool = True,
        check_baud: bool = True,
    ) -> None:
        spec = _MODELS[model]
        self.model = model
        self.capacity = capacity or int(spec["capacity"])
        self.has_led = bool(spec["led"])
        self.password = password
        self.address = address
        self.packet_size_code = PACKET_SIZES.index(packet_size)
        self.security = security
        self.index_bit_order = index_bit_order
        self.pending_baud = baud
        self.buffers: dict[int, bytes | None] = {1: None, 2: None}
        self.image_of: tuple[str, int] | None = None  # (finger, capture number) of the last image
        self.smudged = False
        self.verified = password == 0
        self.led: tuple[int, ...] = ()
        self._captures: dict[str, int] = {}
        self._reader = FrameReader(None)
        self._receiving: int | None = None  # buffer a DownChar is filling
        self._incoming = bytearray()
        super().__init__(link=link, library_file=library_file, baud=baud, pace=pace, check_baud=check_baud)

    # -- persistence ----------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return {
            "baud": self.pending_baud,
            "password": self.password,
            "address": self.address,
            "packet_size_code": self.packet_size_code,
            "security": self.security,
        }

    def apply_settings(self, settings: dict[str, Any]) -> None:
        self.baud = self.pending_baud = int(settings.get("baud", self.baud))
        self.password = int(settings.get("password", self.password))
        self.address = int(settings.get("address", self.address))
        self.packet_size_code = int(settings.get("packet_size_code", self.packet_size_code))
        self.security = int(settings.get("security", self.security))
        self.verified = self.password == 0

    # -- power ---------------------------------------------------------------------------------

    def power_on(self) -> None:
        super().power_on()
        self.baud = self.pending_baud
        self.buffers = {1: None, 2: None}
        self.image_of = None
        self.verified = self.password == 0
        self._receiving = None
        self._reader.clear()
        if _MODELS[self.model]["reset_byte"]:
            self.send(bytes([RESET_HANDSHAKE]), corruptible=False)

    # -- the wire --------------------------------------------------------------------------------

    def handle(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                packet = self._reader.next()
            except FrameError as exc:
                log.debug("simulator dropped a bad frame: %s", exc)
                continue
            if packet is None:
                return
            if packet.address != self.address:
                continue  # not for us: a real module stays silent
            if packet.pid in (Pid.DATA, Pid.END_DATA):
                self._data(packet)
            elif packet.pid == Pid.COMMAND and packet.payload:
                self._command(packet.payload[0], packet.payload[1:])

    def _reply(self, code: int, results: bytes = b"") -> None:
        self.send(ack(code, results, self.address))

    def _data(self, packet: Packet) -> None:
        if self._receiving is None:
            return
        self._incoming += packet.payload
        if packet.pid == Pid.END_DATA:
            self.buffers[self._receiving] = bytes(self._incoming)
            self._receiving = None
            self._incoming.clear()
            self._notify()

    def _command(self, code: int, params: bytes) -> None:
        self._receiving = None
        self._handled(code)
        if not self.verified and code not in (Instruction.VERIFY_PASSWORD, Instruction.GET_RANDOM):
            self._reply(Code.PASSWORD_REQUIRED)
            return
        handler = _HANDLERS.get(code)
        if handler is None or (code == Instruction.AURA_LED and not self.has_led):
            self._reply(Code.RECEIVE_ERROR)
            return
        try:
            handler(self, params)
        except (IndexError, struct.error):
            self._reply(Code.RECEIVE_ERROR)

    # -- instructions ----------------------------------------------------------------------------

    def _verify_password(self, params: bytes) -> None:
        (pwd,) = struct.unpack(">I", params[:4])
        self.verified = pwd == self.password
        self._reply(Code.OK if self.verified else Code.WRONG_PASSWORD)

    def _set_password(self, params: bytes) -> None:
        (self.password,) = struct.unpack(">I", params[:4])
        self.save_library()
        self._reply(Code.OK)

    def _set_address(self, params: bytes) -> None:
        old = self.address
        (self.address,) = struct.unpack(">I", params[:4])
        self.save_library()
        self.send(ack(Code.OK, b"", old))

    def _get_random(self, params: bytes) -> None:
        self._reply(Code.OK, os.urandom(4))

    def _gen_img(self, params: bytes) -> None:
        glass = self.glass
        if glass.empty:
            glass.empty_polls += 1
            self._reply(Code.NO_FINGER)
            return
        if glass.smudge:
            self.image_of, self.smudged = ("", 0), True
        else:
            assert glass.finger is not None
            number = self._captures.get(glass.finger, 0) + 1
            self._captures[glass.finger] = number
            self.image_of, self.smudged = (glass.finger, number), False
        self._reply(Code.OK)

    def _img2tz(self, params: bytes) -> None:
        buffer = params[0]
        if buffer not in self.buffers:
            self._reply(Code.RECEIVE_ERROR)
        elif self.image_of is None:
            self._reply(Code.INVALID_IMAGE)
        elif self.smudged:
            self._reply(Code.MESSY_IMAGE)
        else:
            self.buffers[buffer] = TEMPLATE.pack(simfinger.capture(*self.image_of))
            self._reply(Code.OK)

    def _points(self, buffer: int) -> list[int] | None:
        data = self.buffers.get(buffer)
        return TEMPLATE.unpack(data) if data else None

    def _match(self, params: bytes) -> None:
        a, b = self._points(1), self._points(2)
        if a is None or b is None or not simfinger.matches(a, b, self.security):
            self._reply(Code.NO_MATCH)
        else:
            self._reply(Code.OK, struct.pack(">H", simfinger.score(a, b)))

    def _search(self, params: bytes) -> None:
        buffer, start, count = struct.unpack(">BHH", params[:5])
        probe = self._points(buffer)
        best: tuple[int, int] | None = None
        if probe is not None:
            for slot in range(start, min(start + count, self.capacity)):
                stored = self.library.get(slot)
                points = TEMPLATE.unpack(stored) if stored else None
                if points is not None and simfinger.matches(probe, points, self.security):
                    score = simfinger.score(probe, points)
                    if best is None or score > best[1]:
                        best = (slot, score)
        if best is None:
            self._reply(Code.NOT_FOUND)
        else:
            self._reply(Code.OK, struct.pack(">HH", *best))

    def _reg_model(self, params: bytes) -> None:
        a, b = self._points(1), self._points(2)
        if a is None or b is None or not simfinger.matches(a, b, self.security):
            self._reply(Code.COMBINE_FAILED)
            return
        model = TEMPLATE.pack(simfinger.combine(a, b))
        self.buffers[1] = self.buffers[2] = model
        self._reply(Code.OK)

    def _store(self, params: bytes) -> None:
        buffer, page = struct.unpack(">BH", params[:3])
        if page >= self.capacity:
            self._reply(Code.BAD_LOCATION)
        elif self.buffers.get(buffer) is None:
            self._reply(Code.RECEIVE_ERROR)
        else:
            data = self.buffers[buffer]
            assert data is not None
            self.library[page] = data
            self.save_library()
            self._reply(Code.OK)

    def _load_char(self, params: bytes) -> None:
        buffer, page = struct.unpack(">BH", params[:3])
        if page >= self.capacity:
            self._reply(Code.BAD_LOCATION)
        elif page not in self.library or buffer not in self.buffers:
            self._reply(Code.BAD_TEMPLATE)
        else:
            self.buffers[buffer] = self.library[page]
            self._reply(Code.OK)

    def _up_char(self, params: bytes) -> None:
        data = self.buffers.get(params[0])
        if data is None:
            self._reply(Code.UPLOAD_FAILED)
            return
        self._reply(Code.OK)
        for frame in data_packets(data, PACKET_SIZES[self.packet_size_code], self.address):
            self.send(frame)

    def _down_char(self, params: bytes) -> None:
        if params[0] not in self.buffers:
            self._reply(Code.CANNOT_RECEIVE)
            return
        self._reply(Code.OK)
        self._receiving = params[0]
        self._incoming.clear()

    def _up_image(self, params: bytes) -> None:
        if self.image_of is None:
            self._reply(Code.IMAGE_UPLOAD_FAILED)
            return
        width, height = _MODELS[self.model]["image"]
        name, number = self.image_of
        picture = simfinger.image(name or "smudge", number, width, height)
        self._reply(Code.OK)
        for frame in data_packets(picture, PACKET_SIZES[self.packet_size_code], self.address):
            self.send(frame)

    def _delete_char(self, params: bytes) -> None:
        page, count = struct.unpack(">HH", params[:4])
        if count < 1 or page + count > self.capacity:
            self._reply(Code.DELETE_FAILED)
            return
        for slot in range(page, page + count):
            self.library.pop(slot, None)
        self.save_library()
        self._reply(Code.OK)

    def _empty(self, params: bytes) -> None:
        self.library.clear()
        self.save_library()
        self._reply(Code.OK)

    def _set_sys_para(self, params: bytes) -> None:
        register, value = params[0], params[1]
        if register == SysReg.BAUD and 1 <= value <= 12:
            self.pending_baud = 9600 * value
        elif register == SysReg.SECURITY and 1 <= value <= 5:
            self.security = value
        elif register == SysReg.PACKET_SIZE and 0 <= value <= 3:
            self.packet_size_code = value
        else:
            self._reply(Code.BAD_REGISTER)
            return
        self.save_library()
        self._reply(Code.OK)

    def _read_sys_para(self, params: bytes) -> None:
        params_now = SystemParameters(
            status=0x0000,
            system_id=0x0000,
            capacity=self.capacity,
            security=self.security,
            address=self.address,
            packet_size_code=self.packet_size_code,
            baud_n=self.pending_baud // 9600,
        )
        self._reply(Code.OK, params_now.encode())

    def _template_num(self, params: bytes) -> None:
        self._reply(Code.OK, struct.pack(">H", len(self.library)))

    def _read_index_table(self, params: bytes) -> None:
        page = params[0]
        if page > 3:
            self._reply(Code.RECEIVE_ERROR)
            return
        flags = [page * 256 + i in self.library for i in range(256)]
        self._reply(Code.OK, index_bytes(flags, self.index_bit_order))

    def _aura_led(self, params: bytes) -> None:
        self.led = tuple(params[:4])
        self.led_history.append(self.led)
        self._reply(Code.OK)

    def _soft_reset(self, params: bytes) -> None:
        self._reply(Code.OK)
        self.power_on()


_HANDLERS: dict[int, Callable[[ZhianTecSimulator, bytes], None]] = {
    Instruction.VERIFY_PASSWORD: ZhianTecSimulator._verify_password,
    Instruction.SET_PASSWORD: ZhianTecSimulator._set_password,
    Instruction.SET_ADDRESS: ZhianTecSimulator._set_address,
    Instruction.GET_RANDOM: ZhianTecSimulator._get_random,
    Instruction.GEN_IMG: ZhianTecSimulator._gen_img,
    Instruction.IMG2TZ: ZhianTecSimulator._img2tz,
    Instruction.MATCH: ZhianTecSimulator._match,
    Instruction.SEARCH: ZhianTecSimulator._search,
    Instruction.HIGH_SPEED_SEARCH: ZhianTecSimulator._search,
    Instruction.REG_MODEL: ZhianTecSimulator._reg_model,
    Instruction.STORE: ZhianTecSimulator._store,
    Instruction.LOAD_CHAR: ZhianTecSimulator._load_char,
    Instruction.UP_CHAR: ZhianTecSimulator._up_char,
    Instruction.DOWN_CHAR: ZhianTecSimulator._down_char,
    Instruction.UP_IMAGE: ZhianTecSimulator._up_image,
    Instruction.DELETE_CHAR: ZhianTecSimulator._delete_char,
    Instruction.EMPTY: ZhianTecSimulator._empty,
    Instruction.SET_SYS_PARA: ZhianTecSimulator._set_sys_para,
    Instruction.READ_SYS_PARA: ZhianTecSimulator._read_sys_para,
    Instruction.TEMPLATE_NUM: ZhianTecSimulator._template_num,
    Instruction.READ_INDEX_TABLE: ZhianTecSimulator._read_index_table,
    Instruction.AURA_LED: ZhianTecSimulator._aura_led,
    Instruction.SOFT_RESET: ZhianTecSimulator._soft_reset,
}
