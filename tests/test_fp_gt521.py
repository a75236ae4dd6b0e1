"""The GT-521F52 driver against its simulator on a real pty: every command and its NACKs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import DeviceError
from firmware_bridge.base import Capture, FingerMatch, Led
from firmware_bridge.errors import BadLocation, FrameError, LibraryFull, ModuleRefused, ModuleTimeout
from firmware_bridge.gt521.codec import TEMPLATE_SIZE, Nack
from firmware_bridge.gt521.driver import GT521Module
from firmware_bridge.gt521.simulator import GT521Simulator


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[GT521Simulator]:
    with GT521Simulator(link=tmp_path / "gt", library_file=tmp_path / "gt.json", pace=False) as s:
        yield s  # type: ignore[misc]


@pytest.fixture
def module(sim: GT521Simulator) -> Iterator[GT521Module]:
    m = GT521Module(sim.port, timeout_s=0.5)
    m.open()
    m.led(Led.IDLE)
    yield m
    m.close()


def enrol(module: GT521Module, sim: GT521Simulator, finger: str, slot: int) -> int | None:
    module.enrol_begin(slot)
    for step in (1, 2, 3):
        sim.place_finger(finger)
        assert module.capture(step) is Capture.OK
        sim.lift()
    return module.enrol_finish(slot)


def test_open_reports_device_info_and_capacity(sim: GT521Simulator, module: GT521Module) -> None:
    assert module.device_info is not None and module.device_info.serial_number.startswith(b"SIM-GT521F52")
    assert module.info is not None and module.info.capacity == 3000
    assert sim.commands[0] == 0x01


def test_f32_capacity_is_probed(tmp_path: Path) -> None:
    with GT521Simulator(link=tmp_path / "f32", capacity=200, pace=False) as sim:
        m = GT521Module(sim.port, timeout_s=0.5)
        assert m.open().capacity == 200
        m.close()


def test_led_must_be_on_to_see_a_finger(sim: GT521Simulator, module: GT521Module) -> None:
    sim.place_finger("a")
    module.cmos_led(False)
    assert not module.is_press_finger()
    assert module.capture(0) is Capture.NO_FINGER
    module.cmos_led(True)
    assert module.is_press_finger()
    sim.lift()
    assert not module.capture_finger()  # NACK finger is not pressed


def test_enrol_identify_verify_and_no_match(sim: GT521Simulator, module: GT521Module) -> None:
    assert module.identify_n() is None  # NACK db is empty
    assert enrol(module, sim, "budi", 5) is None
    assert module.get_enroll_count() == 1 and module.check_enrolled(5) and not module.check_enrolled(6)
    sim.place_finger("budi")
    assert module.capture(0) is Capture.OK
    assert module.identify() == FingerMatch(5, 0)
    assert module.verify(5)
    sim.place_finger("citra")
    assert module.capture(0) is Capture.OK
    assert module.identify() is None  # NACK identify failed
    assert not module.verify(5)  # NACK verify failed
    assert enrol(module, sim, "budi", 6) == 5  # duplicate finger: Enroll3 names slot 5


def test_smudge_is_a_poor_capture(sim: GT521Simulator, module: GT521Module) -> None:
    sim.place_smudge()
    assert module.capture(0) is Capture.POOR


def test_enrol_errors_bad_location_used_and_full(tmp_path: Path, sim: GT521Simulator, module: GT521Module) -> None:
    with pytest.raises(BadLocation):
        module.enrol_begin(3000)
    enrol(module, sim, "dewi", 0)
    with pytest.raises(ModuleRefused) as used:
        module.enrol_begin(0)
    assert used.value.code == Nack.IS_ALREADY_USED
    with pytest.raises(ModuleRefused) as turn:
        module.enroll(2)
    assert turn.value.code == Nack.TURN_ERR
    with GT521Simulator(link=tmp_path / "small", capacity=200, pace=False) as small:
        m = GT521Module(small.port, timeout_s=0.5)
        m.open()
        template = module.get_template(0)
        small.library.update({slot: template for slot in range(200)})
        with pytest.raises(LibraryFull) as full:
            m.enrol_begin(199)
        assert full.value.code == Nack.DB_IS_FULL
        m.close()


def test_templates_move_between_modules_byte_exact(sim: GT521Simulator, module: GT521Module, tmp_path: Path) -> None:
    enrol(module, sim, "eka", 1)
    template = module.read_template(1)
    assert len(template) == TEMPLATE_SIZE
    with pytest.raises(ModuleRefused):
        module.get_template(2)  # NACK is not used
    with GT521Simulator(link=tmp_path / "b", pace=False) as other:
        b = GT521Module(other.port, timeout_s=0.5)
        b.open()
        b.write_template(40, template)
        assert other.library[40] == template
        with pytest.raises(ModuleRefused, match="already holds"):
            b.write_template(41, template)  # duplicate check on SetTemplate
        with pytest.raises(ModuleRefused, match="498"):
            b.write_template(42, bytes(512))  # a ZhianTec-sized template
        b.led(Led.IDLE)
        other.place_finger("eka")
        assert b.capture(0) is Capture.OK and b.identify() == FingerMatch(40, 0)
        b.close()


def test_delete_and_delete_all(sim: GT521Simulator, module: GT521Module) -> None:
    other = _other_template(module, sim)
    enrol(module, sim, "fitri", 2)
    module.write_template(3, other)
    assert module.used_slots({2}) == {2, 3}
    module.delete(2)
    module.delete(2)  # already gone: not an error
    assert module.used_slots() == {3}
    module.delete_all()
    module.delete_all()  # empty: not an error
    assert module.get_enroll_count() == 0


def _other_template(module: GT521Module, sim: GT521Simulator) -> bytes:
    enrol(module, sim, "gilang", 9)
    template = module.read_template(9)
    module.delete(9)
    return template


def test_baud_change_auto_detection_and_reset_at_power_cycle(sim: GT521Simulator, module: GT521Module) -> None:
    module.change_baudrate(115200)
    assert module.get_enroll_count() == 0
    with pytest.raises(ModuleRefused) as bad:
        module.change_baudrate(12345)
    assert bad.value.code == Nack.INVALID_BAUDRATE
    module.close()
    fresh = GT521Module(sim.port, baud=115200, timeout_s=0.3)
    assert fresh.open().baud == 115200
    fresh.close()
    sim.unstall()  # power cycle: back to 9600
    again = GT521Module(sim.port, baud=115200, timeout_s=0.3)
    assert again.open().baud == 9600  # found by auto-detection
    again.close()


def test_corrupt_timeout_and_unplug(sim: GT521Simulator, module: GT521Module) -> None:
    sim.corrupt_next_frame()
    assert module.get_enroll_count() == 0 and module.frame_errors == 1
    sim.corrupt_next_frame()
    with pytest.raises(FrameError):
        module.transact(0x20, retries=0)
    sim.stall()
    with pytest.raises(ModuleTimeout):
        module.get_enroll_count()
    sim.unstall()
    sim.unplug()
    with pytest.raises(DeviceError):
        module.get_enroll_count()
