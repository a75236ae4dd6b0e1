"""Fuzzing the frame readers: 100,000+ random and mutated frames each, fed straight to the
parser in random chunks. The parser may raise only the project's protocol errors, and the valid
frame that follows the rubbish must always come out intact."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from core.errors import DeviceTimeout, ProtocolError
from firmware_bridge.gt521 import codec as gt
from firmware_bridge.zhiantec import codec as zt

TRIALS = 100_000


def _mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 3)):
        how = rng.randrange(6)
        if how == 0 and data:  # flip bits
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif how == 1 and data:  # truncate
            del data[rng.randrange(len(data)) :]
        elif how == 2:  # insert rubbish
            pos = rng.randrange(len(data) + 1)
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif how == 3 and data:  # delete a run
            pos = rng.randrange(len(data))
            del data[pos : pos + rng.randint(1, 4)]
        elif how == 4:  # a stray start code
            pos = rng.randrange(len(data) + 1)
            data[pos:pos] = rng.choice([b"\xef\x01", b"\x55\xaa", b"\x5a\xa5", b"\x55"])
        elif data:  # overwrite the length or parameter area
            pos = rng.randrange(len(data))
            data[pos] = rng.choice([0x00, 0xFF, 0x01, 0x02, 0x07, 0x08])
    return bytes(data)


def _run(
    rng: random.Random,
    make_valid: Callable[[random.Random], bytes],
    new_reader: Callable[[], object],
    decode_valid: Callable[[bytes], object],
    encode: Callable[[object], bytes],
    prime: Callable[[object, bytes], None] = lambda reader, frame: None,
) -> dict[str, int]:
    """Rubbish then one valid frame, fed in random chunks. The valid frame must be the last
    packet out, except where a mutated frame happens to be valid itself AND its bytes run into
    the valid frame (a truncated frame completed by the next frame's first bytes, with a
    matching checksum): no parser can tell that apart from a real frame, so those are counted
    and bounded instead."""
    counts = {"protocol_errors": 0, "spurious_valid": 0, "ambiguous": 0, "trials": 0}
    for _ in range(TRIALS):
        kind = rng.randrange(3)
        if kind == 0:
            rubbish = rng.randbytes(rng.randint(0, 40))
        else:
            rubbish = _mutate(rng, make_valid(rng))
            if kind == 2:
                rubbish = rng.randbytes(rng.randint(0, 6)) + rubbish
        valid = make_valid(rng)
        wire = rubbish + valid
        reader = new_reader()
        prime(reader, valid)
        expected = decode_valid(valid)
        got = []
        pos = 0
        while pos < len(wire):
            step = rng.randint(1, 64)
            reader.feed(wire[pos : pos + step])  # type: ignore[attr-defined]
            pos += step
            while True:
                try:
                    packet = reader.next()  # type: ignore[attr-defined]
                except (ProtocolError, DeviceTimeout):
                    counts["protocol_errors"] += 1
                    continue
                if packet is None:
                    break
                got.append(packet)
                if packet != expected:
                    prime(reader, valid)
        counts["trials"] += 1
        if got and got[-1] == expected:
            counts["spurious_valid"] += len(got) - 1
            continue
        overlapping = [p for p in got if wire.find(encode(p)) + len(encode(p)) > len(rubbish)]
        assert overlapping, f"did not resynchronise on the valid frame: {wire.hex()}"
        counts["ambiguous"] += 1
    return counts


def _zhiantec_frame(rng: random.Random) -> bytes:
    pid = rng.choice(list(zt.Pid))
    size = rng.choice([1, 1, 2, 5, 17, 33, rng.randint(0, 256)])
    return zt.encode(pid, rng.randbytes(size))


def _zhiantec_decode(frame: bytes) -> zt.Packet:
    reader = zt.FrameReader()
    reader.feed(frame)
    packet = reader.next()
    assert packet is not None
    return packet


def test_zhiantec_reader_survives_100k_random_and_mutated_frames() -> None:
    rng = random.Random(20261123)
    counts = _run(rng, _zhiantec_frame, zt.FrameReader, _zhiantec_decode, lambda p: p.encode())  # type: ignore[attr-defined]
    assert counts["trials"] == TRIALS
    assert counts["ambiguous"] < TRIALS // 5000
    assert counts["protocol_errors"] > TRIALS // 4  # the rubbish really was rubbish, and it was reported


def _gt521_frame(rng: random.Random) -> bytes:
    if rng.random() < 0.8:
        return (
            gt.response(rng.random() < 0.5, rng.getrandbits(32))
            if rng.random() < 0.5
            else gt.command(rng.randrange(0x80), rng.getrandbits(32))
        )
    return gt.data_packet(rng.randbytes(rng.choice([24, 498])))


def _gt521_prime(reader: object, frame: bytes) -> None:
    if frame.startswith(gt.DATA_START):
        reader.expect_data(len(frame) - gt.DATA_OVERHEAD)  # type: ignore[attr-defined]


def _gt521_decode(frame: bytes) -> object:
    reader = gt.FrameReader()
    _gt521_prime(reader, frame)
    reader.feed(frame)
    return reader.next()


def _gt521_encode(packet: object) -> bytes:
    if isinstance(packet, gt.DataPacket):
        return gt.data_packet(packet.data, packet.device_id)
    assert isinstance(packet, gt.Packet)
    return gt._packet(packet.code, packet.param, packet.device_id)


def test_gt521_reader_survives_100k_random_and_mutated_frames() -> None:
    rng = random.Random(521)
    counts = _run(rng, _gt521_frame, gt.FrameReader, _gt521_decode, _gt521_encode, _gt521_prime)
    assert counts["trials"] == TRIALS
    assert counts["ambiguous"] < TRIALS // 5000
    assert counts["protocol_errors"] > TRIALS // 4


@pytest.mark.parametrize("reader_type", [zt.FrameReader, gt.FrameReader])
def test_pure_noise_never_raises_anything_else(reader_type: type) -> None:
    rng = random.Random(7)
    reader = reader_type()
    for _ in range(2000):
        reader.feed(rng.randbytes(rng.randint(0, 300)))
        for _ in range(400):
            try:
                if reader.next() is None:
                    break
            except ProtocolError:
                continue
