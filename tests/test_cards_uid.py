"""Card number normalisation and cross-reader matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.card_uid import UidForm, display_uid, em4100_decimal, masked_uid, normalise_uid, same_card
from core.errors import CardUidError


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("04:a1:b2:c3", UidForm.AUTO, "04A1B2C3"),
        ("04 A1 B2 C3 D4 E5 F6", UidForm.AUTO, "04A1B2C3D4E5F6"),
        ("0x4a1b2c3", UidForm.AUTO, "04A1B2C3"),
        ("0001193046", UidForm.AUTO, "00123456"),  # the 10-digit decimal printed on EM4100 cards
        ("4294967295", UidForm.DECIMAL, "FFFFFFFF"),
        ("018,13398", UidForm.AUTO, "123456"),  # Wiegand-26: facility 18 (0x12), card 13398 (0x3456)
        ("0A00123456", UidForm.HEX, "0A00123456"),  # an RDM6300 id is hex even when it is all digits
        ("1193046", UidForm.DECIMAL, "00123456"),
    ],
)
def test_forms(text: str, form: UidForm, expected: str) -> None:
    assert normalise_uid(text, form) == expected


def test_bytes_from_pcsc() -> None:
    assert normalise_uid(bytes.fromhex("04a1b2c3d4e5f6")) == "04A1B2C3D4E5F6"


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("", UidForm.AUTO),
        ("zz12", UidForm.AUTO),
        ("12345678901234567890AB", UidForm.HEX),
        ("999,1", UidForm.AUTO),
        ("12a", UidForm.DECIMAL),
    ],
)
def test_bad_numbers_are_refused_saying_what_is_accepted(text: str, form: UidForm) -> None:
    with pytest.raises(CardUidError) as refused:
        normalise_uid(text, form)
    assert isinstance(refused.value, ValueError)


def test_too_many_bytes() -> None:
    with pytest.raises(CardUidError):
        normalise_uid(bytes(11))


@given(st.integers(min_value=0, max_value=255), st.integers(min_value=0, max_value=2**32 - 1))
def test_decimal_of_the_low_32_bits_matches_the_full_em4100_id(version: int, number: int) -> None:
    full = normalise_uid(f"{version:02X}{number:08X}", UidForm.HEX)
    typed = normalise_uid(f"{number:010d}", UidForm.AUTO)
    assert same_card(full, typed) and same_card(typed, full)
    assert em4100_decimal(full) == f"{number:010d}"
    w26 = normalise_uid(f"{(number >> 16) & 0xFF},{number & 0xFFFF}", UidForm.DECIMAL)
    assert same_card(full, w26) and same_card(typed, w26)


@given(st.binary(min_size=1, max_size=10))
def test_hex_round_trip(uid: bytes) -> None:
    assert normalise_uid(uid.hex(), UidForm.HEX) == uid.hex().upper()
    assert normalise_uid(":".join(f"{b:02x}" for b in uid), UidForm.HEX) == uid.hex().upper()


def test_different_cards_of_other_families_never_match_by_tail() -> None:
    assert not same_card("04A1B2C3D4E5F6", "A1B2C3D4E5F6")  # 7-byte vs 6-byte 13.56 MHz UIDs
    assert not same_card("0A00123456", "00123457")
    assert not same_card("04A1B2C3", "14A1B2C3")


def test_display_and_mask() -> None:
    assert display_uid("0A00123456") == "0A:00:12:34:56 (0001193046)"
    assert display_uid("04A1B2C3") == "04:A1:B2:C3"
    assert masked_uid("04A1B2C3") == "…B2C3"
    assert em4100_decimal("04A1B2C3D4E5F6") is None
