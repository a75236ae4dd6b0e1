"""Card numbers: one normal form (upper-case hex) and the rules that match a card across readers.

Readers report the same card differently:

- PC/SC readers answer ``FF CA 00 00 00`` with the UID bytes (4, 7 or 10 for 13.56 MHz cards).
- RDM6300-class UART modules send the whole 40-bit EM4100 id: 10 hex digits (version + 32 bits).
- USB keyboard-wedge 125 kHz readers type a decimal number, usually the 10-digit decimal of
  the low 32 bits; the same number is printed on most EM4100 cards, often next to the Wiegand-26
  form ``fff,nnnnn`` (facility code, card number: the low 24 bits).

Everything is stored as upper-case hex. A truncated EM4100 form (8 hex = low 32 bits, 6 hex = low
24 bits) matches a longer EM4100 id whose last digits are the same (:func:`same_card`), so a card
registered on one reader type still punches on another.
"""

from __future__ import annotations

import enum
import re

from core.errors import CardUidError

#: Hex lengths that belong to the EM4100 family: 24-bit (Wiegand-26), 32-bit (decimal) and the full 40-bit id.
EM_FAMILY_HEX_LENGTHS = (6, 8, 10)
MAX_UID_BYTES = 10

_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX = re.compile(r"^[0-9A-F]+$")
_W26 = re.compile(r"^(\d{1,3}),(\d{1,5})$")


class UidForm(enum.StrEnum):
    """How a reader (or a person at the maintenance page) writes a card number."""

    AUTO = "auto"  # decide from the text: 10 digits or fff,nnnnn are decimal, anything else hex
    HEX = "hex"
    DECIMAL = "decimal"


def normalise_uid(value: str | bytes, form: UidForm | str = UidForm.AUTO) -> str:
    """The stored form of a card number: upper-case hex, an even number of digits.

    Raises :class:`CardUidError` (a ``ValueError``) saying which forms are accepted.
    """
    if isinstance(value, bytes | bytearray):
        if not 1 <= len(value) <= MAX_UID_BYTES:
            raise CardUidError(f"a card UID has 1–{MAX_UID_BYTES} bytes, not {len(value)}")
        return bytes(value).hex().upper()
    form = UidForm(form)
    text = _SEPARATORS.sub("", value.strip()) if form is not UidForm.DECIMAL else value.strip()
    if not text:
        raise CardUidError("the card number is empty; tap the card again or type the number printed on it")
    if form is UidForm.AUTO:
        form = UidForm.DECIMAL if (text.isdigit() and len(text) == 10) or _W26.match(text) else UidForm.HEX
    if form is UidForm.DECIMAL:
        return _from_decimal(text)
    return _from_hex(text)


def _from_hex(text: str) -> str:
    upper = text.upper().removeprefix("0X")
    if not _HEX.match(upper):
        raise CardUidError(
            f"{text!r} is not a card number: expected hex digits (e.g. 04A1B2C3), the 10-digit number printed on "
            "the card, or the fff,nnnnn form"
        )
    if len(upper) % 2:
        upper = "0" + upper
    if len(upper) > 2 * MAX_UID_BYTES:
        raise CardUidError(f"{text!r} is too long for a card UID (at most {MAX_UID_BYTES} bytes)")
    return upper


def _from_decimal(text: str) -> str:
    w26 = _W26.match(text)
    if w26:
        facility, number = int(w26.group(1)), int(w26.group(2))
        if facility > 0xFF or number > 0xFFFF:
            raise CardUidError(f"{text!r}: the facility code is at most 255 and the card number at most 65535")
        return f"{facility:02X}{number:04X}"
    if not text.isdigit():
        raise CardUidError(f"{text!r} is not a decimal card number (digits only, or fff,nnnnn)")
    number = int(text)
    if number >= 2**40:
        raise CardUidError(f"{text!r} is larger than any EM4100 card number")
    return f"{number:08X}" if number < 2**32 else f"{number:010X}"


def same_card(a: str, b: str) -> bool:
    """Whether two normalised UIDs name the same card: equal, or EM4100 forms where the shorter
    is the tail of the longer (a decimal reader sees only the low 32 or 24 bits)."""
    if a == b:
        return True
    if len(a) in EM_FAMILY_HEX_LENGTHS and len(b) in EM_FAMILY_HEX_LENGTHS and len(a) != len(b):
        short, long_ = sorted((a, b), key=len)
        return long_.endswith(short)
    return False


def em4100_decimal(uid: str) -> str | None:
    """The 10-digit decimal (low 32 bits) printed on EM4100 cards and typed by keyboard readers;
    None for UIDs that are not EM4100-family (13.56 MHz UIDs are shown in hex)."""
    if len(uid) not in (8, 10):
        return None
    return f"{int(uid[-8:], 16):010d}"


def display_uid(uid: str) -> str:
    """A UID for people: hex in byte pairs, plus the printed decimal for EM4100 cards."""
    pairs = ":".join(uid[i : i + 2] for i in range(0, len(uid), 2))
    decimal = em4100_decimal(uid) if len(uid) == 10 else None
    return f"{pairs} ({decimal})" if decimal else pairs


def masked_uid(uid: str) -> str:
    """The UID as logs show it: enough to tell cards apart, not enough to clone one."""
    return f"…{uid[-4:]}" if len(uid) > 4 else uid
