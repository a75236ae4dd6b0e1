"""Keyboard-wedge readers: the keystroke decoder by unit and property tests (injected clock), and
the evdev reader through a real uinput device where /dev/uinput exists.

On a Pi or a laptop: ``sudo modprobe uinput`` and run as a user who may write /dev/uinput (or root).
"""

from __future__ import annotations

import os
import select
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import FakeClock
from core.errors import DeviceError
from kiosk.cards.base import CardEventKind
from kiosk.cards.hid import ENTER_KEYS, KEY_DIGITS, KEYPAD_DIGITS, HidKeyboardReader, KeystrokeDecoder, find_device

CODE_OF = {digit: code for code, digit in KEY_DIGITS.items()}
KEYPAD_CODE_OF = {digit: code for code, digit in KEYPAD_DIGITS.items()}
ENTER, KPENTER, LEFTSHIFT, KEY_Q = 28, 96, 42, 16


def type_number(decoder: KeystrokeDecoder, clock: FakeClock, text: str, gap_s: float = 0.01, enter: int = ENTER) -> str | None:
    out = None
    for ch in text:
        clock.advance(gap_s)
        assert decoder.feed(CODE_OF[ch], 1) is None
        decoder.feed(CODE_OF[ch], 0)
    clock.advance(gap_s)
    out = decoder.feed(enter, 1)
    decoder.feed(enter, 0)
    return out


def test_key_codes_match_the_kernel_headers() -> None:
    ecodes = pytest.importorskip("evdev.ecodes", reason="python-evdev is in the dev extra")
    for code, digit in KEY_DIGITS.items():
        assert getattr(ecodes, f"KEY_{digit}") == code
    for code, digit in KEYPAD_DIGITS.items():
        assert getattr(ecodes, f"KEY_KP{digit}") == code
    assert {ecodes.KEY_ENTER, ecodes.KEY_KPENTER} == ENTER_KEYS


def test_ten_digits_and_enter_make_one_number() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock)
    assert type_number(decoder, clock, "0001193046") == "0001193046"
    assert decoder.pending == ""


def test_keypad_digits_and_keypad_enter_work_too() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock)
    for ch in "0012345678":
        clock.advance(0.005)
        decoder.feed(KEYPAD_CODE_OF[ch], 1)
    assert decoder.feed(KPENTER, 1) == "0012345678"


def test_a_pause_longer_than_the_gap_drops_the_partial_number() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock, gap_s=0.1)
    for ch in "00011":
        clock.advance(0.01)
        decoder.feed(CODE_OF[ch], 1)
    clock.advance(0.15)  # a half-read card, then a full read
    assert type_number(decoder, clock, "0001193046") == "0001193046"
    assert decoder.dropped == 1


def test_exactly_at_the_gap_is_still_one_number() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock, gap_s=0.1)
    assert type_number(decoder, clock, "42", gap_s=0.1) == "42"


def test_idle_expiry_drops_a_number_without_enter() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock)
    decoder.feed(CODE_OF["7"], 1)
    decoder.expire()
    assert decoder.pending == "7"
    clock.advance(0.2)
    decoder.expire()
    assert decoder.pending == "" and decoder.dropped == 1


def test_repeat_and_release_events_and_modifiers_are_ignored_other_keys_reset() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock)
    decoder.feed(LEFTSHIFT, 1)
    decoder.feed(CODE_OF["1"], 1)
    decoder.feed(CODE_OF["1"], 2)  # auto-repeat
    decoder.feed(CODE_OF["1"], 0)
    assert decoder.pending == "1"
    decoder.feed(KEY_Q, 1)  # a person typing on a real keyboard
    assert decoder.pending == "" and decoder.dropped == 1
    assert decoder.feed(ENTER, 1) is None  # Enter alone is no number


def test_hex_letters_only_when_asked() -> None:
    clock = FakeClock()
    plain = KeystrokeDecoder(clock)
    plain.feed(30, 1)  # KEY_A
    assert plain.pending == ""
    hexa = KeystrokeDecoder(clock, hex_letters=True)
    for code in (30, 48, 46, 32, 18, 33):
        hexa.feed(code, 1)
    assert hexa.feed(ENTER, 1) == "ABCDEF"


def test_too_many_digits_are_dropped() -> None:
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock)
    # the 21st digit overflows: what came before is dropped with it, the last four remain
    assert type_number(decoder, clock, "1" * 25) == "1111"
    assert decoder.dropped == 1


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.integers(min_value=0, max_value=21))
def test_property_a_long_pause_keeps_only_what_follows_it(digits: str, cut: int) -> None:
    """A pause before key ``cut`` (Enter is key ``len(digits)``) drops what was typed before it."""
    clock = FakeClock()
    decoder = KeystrokeDecoder(clock, gap_s=0.1)
    cut = min(cut, len(digits))
    codes = [CODE_OF[ch] for ch in digits] + [ENTER]
    result = None
    for i, code in enumerate(codes):
        clock.advance(0.5 if i == cut and cut > 0 else 0.02)
        result = decoder.feed(code, 1)
    if cut == 0:
        assert result == digits
    elif cut < len(digits):
        assert result == digits[cut:]
    else:
        assert result is None


def test_find_device_passes_paths_through() -> None:
    assert find_device("/dev/input/by-id/usb-reader-event-kbd") == "/dev/input/by-id/usb-reader-event-kbd"


def test_opening_a_missing_node_says_what_to_check(tmp_path: object) -> None:
    pytest.importorskip("evdev", reason="python-evdev is in the dev extra")
    with pytest.raises(DeviceError, match="USB cable"):
        HidKeyboardReader("/dev/input/event-that-is-not-there").open()


# -- through the kernel: a uinput keyboard ---------------------------------------------------


@pytest.fixture
def uinput_keyboard() -> Iterator[object]:
    if not os.path.exists("/dev/uinput"):
        pytest.skip("/dev/uinput does not exist here (container without the uinput module); on a Pi: sudo modprobe uinput")
    if not os.access("/dev/uinput", os.W_OK):
        pytest.skip("/dev/uinput is not writable by this user; run as root or add a udev rule for the test user")
    evdev = pytest.importorskip("evdev", reason="python-evdev is in the dev extra")
    keys = [*KEY_DIGITS, *ENTER_KEYS]
    device = evdev.UInput({evdev.ecodes.EV_KEY: keys}, name="Presensi test RFID reader")
    yield device
    device.close()


def _type(ui: object, text: str) -> None:
    import evdev

    for code in [*(CODE_OF[ch] for ch in text), ENTER]:
        ui.write(evdev.ecodes.EV_KEY, code, 1)  # type: ignore[attr-defined]
        ui.write(evdev.ecodes.EV_KEY, code, 0)  # type: ignore[attr-defined]
        ui.syn()  # type: ignore[attr-defined]


def test_uinput_reader_reads_grabs_and_notices_unplug(uinput_keyboard: object) -> None:
    import evdev

    path = find_device("name:Presensi test RFID reader")
    reader = HidKeyboardReader(path, clock=FakeClock())
    reader.open()
    bystander = evdev.InputDevice(path)  # what the console would see
    try:
        _type(uinput_keyboard, "0001193046")
        event = None
        for _ in range(50):
            event = reader.read(0.1)
            if event is not None:
                break
        assert event is not None and event.kind is CardEventKind.PRESENT and event.uid == "00123456"
        ready, _, _ = select.select([bystander.fd], [], [], 0.2)
        assert not ready, "the grabbed reader's keystrokes leaked to another reader of the device"
        uinput_keyboard.close()  # type: ignore[attr-defined]
        with pytest.raises(DeviceError):
            for _ in range(50):
                reader.read(0.1)
    finally:
        bystander.close()
        reader.close()
