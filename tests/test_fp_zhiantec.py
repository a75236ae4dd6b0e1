"""The ZhianTec driver against its simulator on a real pty: every instruction, every error code
the bridge depends on, baud detection, the reset byte, corrupt frames, timeouts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import DeviceError, DeviceTimeout
from core.store.finger_templates import FingerDB
from firmware_bridge.base import Capture, FingerMatch, Led
from firmware_bridge.errors import BadLocation, FrameError, LibraryFull, ModuleRefused, ModuleTimeout, WrongPassword
from firmware_bridge.reconcile import Reconciler
from firmware_bridge.zhiantec.codec import Code, LedColour, LedControl, SysReg
from firmware_bridge.zhiantec.driver import ZhianTecModule
from firmware_bridge.zhiantec.simulator import ZhianTecSimulator


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[ZhianTecSimulator]:
    with ZhianTecSimulator(link=tmp_path / "fp", library_file=tmp_path / "lib.json", pace=False) as s:
        yield s  # type: ignore[misc]


@pytest.fixture
def module(sim: ZhianTecSimulator) -> Iterator[ZhianTecModule]:
    m = ZhianTecModule(sim.port, timeout_s=0.5)
    m.open()
    yield m
    m.close()


def enrol(module: ZhianTecModule, sim: ZhianTecSimulator, finger: str, slot: int) -> None:
    sim.place_finger(finger)
    assert module.capture(1) is Capture.OK
    assert module.capture(2) is Capture.OK
    assert module.enrol_finish(slot) is None


def test_handshake_reads_packet_size_and_baud_from_the_module(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    params = module.read_sys_para()
    assert (params.capacity, params.packet_size, params.baud, params.security) == (200, 128, 57600, 3)
    assert module.info is not None and module.info.has_led and module.info.packet_size == 128
    assert sim.commands[:2] == [0x13, 0x0F]  # VfyPwd first, then ReadSysPara


def test_gen_img_img2tz_no_finger_messy_and_invalid_image(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    assert module.gen_img() == Code.NO_FINGER
    assert module.img2tz(1) == Code.INVALID_IMAGE  # nothing captured yet
    sim.place_smudge()
    assert module.gen_img() == Code.OK
    assert module.img2tz(1) == Code.MESSY_IMAGE
    assert module.capture(0) is Capture.POOR
    sim.place_finger("a")
    assert module.capture(0) is Capture.OK


def test_match_search_regmodel_store_load_and_no_match(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    sim.place_finger("alice")
    module.gen_img()
    module.img2tz(1)
    module.gen_img()
    module.img2tz(2)
    assert (module.match() or 0) > 0
    assert module.search(1) is None  # empty library: not found
    assert module.reg_model()
    module.store(1, 7)
    module.gen_img()
    module.img2tz(1)
    found = module.search(1, 0, 200)
    assert found is not None and found.slot == 7
    assert module.search(1, 0, 200, high_speed=True) == FingerMatch(7, found.score)
    sim.place_finger("bob")
    module.gen_img()
    module.img2tz(2)
    assert module.match() is None  # alice in buffer 1, bob in buffer 2: 08 no match
    assert not module.reg_model()  # 0A: they do not combine
    with pytest.raises(ModuleRefused, match="same finger"):
        module.enrol_finish(8)
    assert module.load_char(2, 7)
    assert not module.load_char(2, 8)  # 0C: empty slot


def test_bad_location_and_full_library(sim: ZhianTecSimulator, module: ZhianTecModule, tmp_path: Path) -> None:
    enrol(module, sim, "carol", 0)
    with pytest.raises(BadLocation) as info:
        module.store(1, 200)
    assert info.value.code == Code.BAD_LOCATION
    with pytest.raises(BadLocation):
        module.load_char(1, 5000)
    with pytest.raises(BadLocation):
        module.enrol_begin(200)
    with pytest.raises(ModuleRefused) as deleted:
        module.delete_char(199, 5)
    assert deleted.value.code == Code.DELETE_FAILED
    # Fill the library: the reconciler's free-slot search reports it full.
    template = module.read_template(0)
    sim.library.update({slot: template for slot in range(200)})
    db = FingerDB(_empty_db(tmp_path))
    with pytest.raises(LibraryFull):
        Reconciler(module, db, "m", "zhiantec").free_slot()


def _empty_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    from core.store.db import open_database

    return open_database(tmp_path / "x.db")


def test_wrong_password_and_password_required(tmp_path: Path) -> None:
    with ZhianTecSimulator(link=tmp_path / "fp", password=0x1234, pace=False) as sim:
        wrong = ZhianTecModule(sim.port, password=0x9999, timeout_s=0.5, autobaud=False)
        with pytest.raises(WrongPassword) as info:
            wrong.open()
        assert info.value.code == Code.WRONG_PASSWORD and "password_file" in str(info.value)
        right = ZhianTecModule(sim.port, password=0x1234, timeout_s=0.5)
        assert right.open().capacity == 200
        right.close()
        sim.power_on()  # forgets the verification
        raw = ZhianTecModule(sim.port, timeout_s=0.5)
        raw.link.open()
        with pytest.raises(WrongPassword) as required:
            raw.template_num()
        assert required.value.code == Code.PASSWORD_REQUIRED
        raw.close()


def test_template_upload_download_keeps_exact_bytes_at_every_packet_size(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    enrol(module, sim, "dina", 3)
    original = module.read_template(3)
    assert len(original) == 512
    for code, size in enumerate((32, 64, 128, 256)):
        module.set_sys_para(SysReg.PACKET_SIZE, code)
        module.params = module.read_sys_para()
        assert module.packet_size == size
        assert module.read_template(3) == original
        module.write_template(10 + code, original)
        assert sim.library[10 + code] == original
    with pytest.raises(ModuleRefused) as info:
        module.set_sys_para(9, 1)
    assert info.value.code == Code.BAD_REGISTER


def test_template_of_any_size_round_trips(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    # The template size is not assumed: 768 bytes (some clones) go down and come back whole.
    odd = bytes(range(256)) * 3
    module.down_char(1, odd)
    assert sim.wait_for(lambda: sim.buffers[1] == odd, 2)
    module.store(1, 40)
    assert module.read_template(40) == odd


def test_delete_empty_count_and_index_table(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    enrol(module, sim, "eko", 9)
    module.write_template(12, module.read_template(9))
    assert module.template_num() == 2
    assert module.used_slots() == {9, 12}
    module.delete(9)
    assert module.used_slots() == {12}
    module.empty()
    assert module.template_num() == 0 and module.used_slots() == set()


@pytest.mark.parametrize("order", ["lsb", "msb"])
def test_index_bit_order_is_probed_not_guessed(tmp_path: Path, order: str) -> None:
    with ZhianTecSimulator(link=tmp_path / "fp", index_bit_order=order, pace=False) as sim:
        module = ZhianTecModule(sim.port, timeout_s=0.5)
        module.open()
        assert module.index_bit_order is None
        assert module.used_slots() == set()  # empty: nothing to settle yet
        assert module.index_bit_order is None
        enrol(module, sim, "fajar", 2)  # slot 2: LSB bit 2, MSB bit 5 — the readings disagree
        assert module.used_slots() == {2}
        assert module.index_bit_order == order
        module.close()
        fixed = ZhianTecModule(sim.port, timeout_s=0.5, index_bit_order=order)
        fixed.open()
        assert fixed.used_slots() == {2}
        fixed.close()


def test_up_image_is_4_bits_per_pixel(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    with pytest.raises(ModuleRefused):
        module.up_image()  # no image yet: 0F
    sim.place_finger("gita")
    module.gen_img()
    assert len(module.up_image()) == 192 * 192 // 2


def test_aura_led_and_r307_without_led(tmp_path: Path, sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    module.led(Led.ACCEPTED)
    assert sim.led_history[-1] == (LedControl.FLASH, 0x20, LedColour.BLUE, 2)
    module.aura_led(LedControl.BREATHE, 0x80, LedColour.PURPLE, 0)
    assert sim.led == (1, 0x80, 3, 0)
    with ZhianTecSimulator(link=tmp_path / "r307", model="r307", pace=False) as plain:
        old = ZhianTecModule(plain.port, timeout_s=0.5)
        info = old.open()
        assert (info.has_led, info.capacity) == (False, 1000)
        old.led(Led.ACCEPTED)  # quietly nothing
        assert plain.led_history == []
        old.close()


def test_soft_reset_flushes_the_lone_0x55(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    module.soft_reset()
    assert module.template_num() == 0  # the 0x55 did not spoil the next answer


def test_baud_is_auto_detected_and_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with ZhianTecSimulator(link=tmp_path / "fp", baud=115200, pace=False) as sim:
        module = ZhianTecModule(sim.port, baud=9600, timeout_s=0.3)
        info = module.open()
        assert info.baud == 115200
        assert "set fingerprint.baud = 115200" in caplog.text
        module.close()
        stubborn = ZhianTecModule(sim.port, baud=9600, timeout_s=0.2, autobaud=False)
        with pytest.raises(ModuleTimeout):
            stubborn.open()


def test_baud_change_takes_effect_after_power_cycle(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    module.set_sys_para(SysReg.BAUD, 2)
    assert module.read_sys_para().baud == 19200
    assert module.template_num() == 0  # still answers at 57600 until it reboots
    sim.unstall()  # a power cycle
    module.close()
    again = ZhianTecModule(sim.port, timeout_s=0.3)
    assert again.open().baud == 19200
    again.close()


def test_corrupt_answer_is_retried_and_counted(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    sim.corrupt_next_frame()
    assert module.template_num() == 0
    assert module.frame_errors == 1
    sim.corrupt_next_frame()
    with pytest.raises(FrameError):
        module.transact(0x1D, retries=0)


def test_silence_is_a_timeout_not_a_bad_header(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    sim.stall()
    with pytest.raises(ModuleTimeout) as info:
        module.template_num()
    assert isinstance(info.value, DeviceTimeout)
    sim.unstall()
    assert module.template_num() == 0


def test_stall_mid_transfer_is_a_timeout(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    enrol(module, sim, "hadi", 1)
    sim.stall(after_frames=2)  # LoadChar ack, UpChar ack, then silence after... the first data packet never comes
    with pytest.raises(ModuleTimeout, match="stalled"):
        module.read_template(1)


def test_unplugged_port_is_a_device_error(sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    sim.unplug()
    with pytest.raises(DeviceError):
        module.template_num()
    module.close()
    with pytest.raises(DeviceError, match="cannot open"):
        ZhianTecModule(sim.port, timeout_s=0.2).open()
    sim.replug()
    again = ZhianTecModule(sim.port, timeout_s=0.5)
    assert again.open().capacity == 200
    again.close()


def test_library_persists_in_its_file(tmp_path: Path, sim: ZhianTecSimulator, module: ZhianTecModule) -> None:
    enrol(module, sim, "indah", 4)
    saved = json.loads((tmp_path / "lib.json").read_text())
    assert list(saved["slots"]) == ["4"] and saved["family"] == "zhiantec"
    with ZhianTecSimulator(link=tmp_path / "fp2", library_file=tmp_path / "lib.json", pace=False) as reborn:
        m2 = ZhianTecModule(reborn.port, timeout_s=0.5)
        m2.open()
        reborn.place_finger("indah")
        assert m2.capture(0) is Capture.OK
        assert m2.identify() is not None and m2.identify().slot == 4  # type: ignore[union-attr]
        m2.close()


def test_pace_makes_the_line_as_slow_as_the_baud(tmp_path: Path) -> None:
    import time

    with ZhianTecSimulator(link=tmp_path / "fp", baud=9600) as sim:
        module = ZhianTecModule(sim.port, baud=9600, timeout_s=1.0)
        module.open()
        enrol(module, sim, "joko", 0)
        started = time.perf_counter()
        module.read_template(0)
        elapsed = time.perf_counter() - started
        # LoadChar (13+12 bytes), UpChar (13+12), 4 data packets of 128 + 11: at least 0.64 s at 9600.
        assert elapsed >= (25 + 25 + 4 * 139) * 10 / 9600 * 0.95
        module.close()
