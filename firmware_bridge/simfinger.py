"""Simulated fingers: deterministic feature sets, so the same finger matches and others do not.

A finger is named by a string (``"199001012019032002/1"``, ``"stranger-7"``). Its features are
40 minutiae (16-bit values) derived from the name by SHA-256. Each capture is the finger's
minutiae with a few dropped and a few spurious ones added, chosen by the capture number, so two
captures of one finger share about 32 minutiae and two different fingers almost none. Matching
counts shared minutiae. The simulators pack these sets into each family's template size.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

MINUTIAE = 40
DROPPED_PER_CAPTURE = 4
SPURIOUS_PER_CAPTURE = 4
MAX_MINUTIAE = 64
#: Shared minutiae needed for a match at security level 1; each level adds two.
BASE_THRESHOLD = 14
SCORE_PER_MINUTIA = 8


def _stream(seed: bytes, count: int) -> list[int]:
    values: list[int] = []
    block = 0
    while len(values) < count:
        digest = hashlib.sha256(seed + block.to_bytes(4, "big")).digest()
        values.extend(struct.unpack(">16H", digest))
        block += 1
    return values[:count]


def minutiae(name: str) -> list[int]:
    """The finger's true minutiae (distinct, sorted)."""
    seen: dict[int, None] = {}
    for value in _stream(b"finger:" + name.encode(), MINUTIAE * 2):
        seen.setdefault(value, None)
        if len(seen) == MINUTIAE:
            break
    return sorted(seen)


def capture(name: str, number: int) -> list[int]:
    """One capture of finger ``name``: deterministic in (name, number)."""
    true = minutiae(name)
    noise = _stream(f"capture:{name}:{number}".encode(), DROPPED_PER_CAPTURE + SPURIOUS_PER_CAPTURE)
    dropped = {true[n % len(true)] for n in noise[:DROPPED_PER_CAPTURE]}
    kept = [m for m in true if m not in dropped]
    return sorted(set(kept) | set(noise[DROPPED_PER_CAPTURE:]))


def combine(a: list[int], b: list[int]) -> list[int]:
    """The enrolment model of two or more captures: minutiae seen in at least two, plus the rest
    of the first, up to :data:`MAX_MINUTIAE`."""
    common = sorted(set(a) & set(b))
    rest = [m for m in a if m not in set(common)]
    return (common + rest)[:MAX_MINUTIAE]


def shared(a: list[int], b: list[int]) -> int:
    return len(set(a) & set(b))


def score(a: list[int], b: list[int]) -> int:
    return shared(a, b) * SCORE_PER_MINUTIA


def matches(a: list[int], b: list[int], security: int = 3) -> bool:
    return shared(a, b) >= BASE_THRESHOLD + 2 * (max(1, min(5, security)) - 1)


@dataclass(frozen=True)
class TemplateFormat:
    """How a family's simulator lays a minutiae set out in its template bytes."""

    magic: bytes
    size: int

    def pack(self, points: list[int]) -> bytes:
        points = points[:MAX_MINUTIAE]
        body = self.magic + bytes([1, len(points)]) + b"".join(p.to_bytes(2, "big") for p in points)
        filler = b"".join(hashlib.sha256(body + i.to_bytes(4, "big")).digest() for i in range(self.size // 32 + 1))
        return (body + filler)[: self.size]

    def unpack(self, data: bytes) -> list[int] | None:
        """The minutiae, or None when ``data`` is not a template of this format."""
        head = len(self.magic)
        if len(data) != self.size or data[:head] != self.magic or data[head] != 1:
            return None
        count = data[head + 1]
        if count > MAX_MINUTIAE:
            return None
        start = head + 2
        points = [int.from_bytes(data[start + 2 * i : start + 2 * i + 2], "big") for i in range(count)]
        return points if self.pack(points) == data else None


def image(name: str, number: int, width: int, height: int) -> bytes:
    """A 4-bit-per-pixel picture of a capture: deterministic ridges, two pixels a byte."""
    points = capture(name, number)
    out = bytearray()
    for y in range(height):
        for x in range(0, width, 2):
            a = (points[(x + y) % len(points)] >> (x % 12)) & 0xF if points else 0
            b = (points[(x + 1 + y) % len(points)] >> ((x + 1) % 12)) & 0xF if points else 0
            out.append(a << 4 | b)
    return bytes(out)
