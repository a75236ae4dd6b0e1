"""Identifiers: UUIDv7 (RFC 9562) from an injected clock and random source."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable


def uuid7(unix_ms: int, randbytes: Callable[[int], bytes] = os.urandom) -> uuid.UUID:
    """A UUIDv7 whose 48-bit prefix is ``unix_ms`` and whose other 74 bits are random."""
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError(f"unix_ms out of range for UUIDv7: {unix_ms}")
    rand = int.from_bytes(randbytes(10), "big")
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
