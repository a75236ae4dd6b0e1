"""Fingerprint codecs: worked frames byte-exact, hypothesis round trips of every packet type,
resynchronisation after garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ProtocolError
from firmware_bridge.errors import FrameError
from firmware_bridge.gt521 import codec as gt
from firmware_bridge.zhiantec import codec as zt

# -- ZhianTec: the worked frames of PROTOCOLS.md §1 -------------------------------------------


@pytest.mark.parametrize(
    ("frame", "hex_text"),
    [
        (zt.command(zt.Instruction.VERIFY_PASSWORD, b"\0\0\0\0"), "EF01 FFFFFFFF 01 0007 13 00000000 001B"),
        (zt.command(zt.Instruction.GEN_IMG), "EF01 FFFFFFFF 01 0003 01 0005"),
        (zt.ack(zt.Code.OK), "EF01 FFFFFFFF 07 0003 00 000A"),
        (zt.command(zt.Instruction.SEARCH, bytes.fromhex("01 0000 00C8")), "EF01 FFFFFFFF 01 0008 04 01 0000 00C8 00D6"),
    ],
)
def test_zhiantec_worked_frames(frame: bytes, hex_text: str) -> None:
    assert frame == bytes.fromhex(hex_text.replace(" ", ""))
    reader = zt.FrameReader()
    reader.feed(frame)
    packet = reader.next()
    assert packet is not None and packet.encode() == frame


addresses = st.integers(0, 0xFFFFFFFF)
payloads = st.binary(min_size=0, max_size=zt.MAX_PAYLOAD)


@given(pid=st.sampled_from(list(zt.Pid)), payload=payloads, address=addresses)
def test_zhiantec_every_packet_type_round_trips(pid: zt.Pid, payload: bytes, address: int) -> None:
    frame = zt.encode(pid, payload, address)
    assert len(frame) == zt.OVERHEAD + len(payload)
    reader = zt.FrameReader(address)
    reader.feed(frame)
    assert reader.next() == zt.Packet(pid, payload, address)
    assert reader.next() is None and reader.buffered() == 0


@given(instruction=st.sampled_from(list(zt.Instruction)), params=st.binary(max_size=40))
def test_zhiantec_commands_round_trip(instruction: zt.Instruction, params: bytes) -> None:
    reader = zt.FrameReader()
    reader.feed(zt.command(instruction, params))
    packet = reader.next()
    assert packet is not None and packet.pid == zt.Pid.COMMAND
    assert packet.payload == bytes([instruction]) + params


@given(code=st.sampled_from(list(zt.Code)), results=st.binary(max_size=64))
def test_zhiantec_acks_round_trip(code: zt.Code, results: bytes) -> None:
    reader = zt.FrameReader()
    reader.feed(zt.ack(code, results))
    packet = reader.next()
    assert packet is not None and packet.code == code and packet.payload[1:] == results


@given(data=st.binary(max_size=2000), size=st.sampled_from(zt.PACKET_SIZES), chunk=st.integers(1, 97))
def test_zhiantec_data_transfer_round_trips_in_any_chunking(data: bytes, size: int, chunk: int) -> None:
    wire = b"".join(zt.data_packets(data, size))
    reader = zt.FrameReader()
    got, pids = bytearray(), []
    for i in range(0, len(wire), chunk):
        reader.feed(wire[i : i + chunk])
        while (packet := reader.next()) is not None:
            got += packet.payload
            pids.append(packet.pid)
    assert bytes(got) == data
    assert pids[-1] == zt.Pid.END_DATA and all(p == zt.Pid.DATA for p in pids[:-1])


@given(
    st.builds(
        zt.SystemParameters,
        status=st.integers(0, 0xFFFF),
        system_id=st.integers(0, 0xFFFF),
        capacity=st.integers(0, 0xFFFF),
        security=st.integers(0, 0xFFFF),
        address=addresses,
        packet_size_code=st.integers(0, 3),
        baud_n=st.integers(1, 12),
    )
)
def test_system_parameters_round_trip(params: zt.SystemParameters) -> None:
    assert zt.SystemParameters.decode(params.encode()) == params
    assert params.packet_size == (32, 64, 128, 256)[params.packet_size_code]
    assert params.baud == 9600 * params.baud_n


@given(flags=st.lists(st.booleans(), min_size=256, max_size=256), order=st.sampled_from(["lsb", "msb"]))
def test_index_table_round_trips_in_both_bit_orders(flags: list[bool], order: str) -> None:
    table = zt.index_bytes(flags, order)
    assert len(table) == 32
    assert zt.index_bits(table, order) == flags


def test_index_bit_orders_differ_where_the_sources_disagree() -> None:
    assert zt.index_bits(b"\x01" + bytes(31), "lsb")[0] is True
    assert zt.index_bits(b"\x01" + bytes(31), "msb")[7] is True


def test_zhiantec_skips_the_lone_reset_byte_and_noise() -> None:
    reader = zt.FrameReader()
    reader.feed(bytes([zt.RESET_HANDSHAKE]) + b"\x00\xff\xef" + zt.ack(0))
    assert reader.next() == zt.Packet(zt.Pid.ACK, b"\x00")
    assert reader.skipped == 4


def test_zhiantec_bad_checksum_raises_then_resynchronises() -> None:
    good = zt.ack(0, b"\x12\x34")
    bad = bytearray(zt.ack(0, b"\x99"))
    bad[-1] ^= 0xFF
    reader = zt.FrameReader()
    reader.feed(bytes(bad) + good)
    with pytest.raises(FrameError, match="checksum") as info:
        reader.next()
    assert isinstance(info.value, ProtocolError)
    assert reader.next() == zt.Packet(zt.Pid.ACK, b"\x00\x12\x34")


def test_zhiantec_truncated_frame_does_not_hold_the_next_one_hostage() -> None:
    # A header claiming 200 payload bytes, cut short, then a whole ack: the ack must come out.
    truncated = zt.encode(zt.Pid.DATA, bytes(200))[:30]
    reader = zt.FrameReader()
    reader.feed(truncated + zt.ack(zt.Code.NO_FINGER))
    with pytest.raises(FrameError, match="truncated"):
        reader.next()
    assert reader.next() == zt.Packet(zt.Pid.ACK, b"\x02")


def test_zhiantec_wrong_address_is_a_protocol_error() -> None:
    reader = zt.FrameReader(0xFFFFFFFF)
    reader.feed(zt.ack(0, address=0x12345678) + zt.ack(0))
    with pytest.raises(FrameError, match="address"):
        reader.next()
    assert reader.next() == zt.Packet(zt.Pid.ACK, b"\x00")


def test_zhiantec_refuses_to_encode_an_oversized_payload() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        zt.encode(zt.Pid.DATA, bytes(257))


# -- GT-521 ----------------------------------------------------------------------------------


def test_gt521_open_example_is_byte_exact() -> None:
    assert gt.command(gt.Command.OPEN, 0) == bytes.fromhex("55 AA 01 00 00 00 00 00 01 00 01 01".replace(" ", ""))


@given(code=st.sampled_from(list(gt.Command)), param=st.integers(0, 0xFFFFFFFF))
def test_gt521_commands_round_trip(code: gt.Command, param: int) -> None:
    frame = gt.command(code, param)
    assert len(frame) == gt.PACKET_SIZE
    reader = gt.FrameReader()
    reader.feed(frame)
    assert reader.next() == gt.Packet(code, param)


@given(ok=st.booleans(), param=st.integers(0, 0xFFFFFFFF), device_id=st.integers(0, 0xFFFF))
def test_gt521_responses_round_trip(ok: bool, param: int, device_id: int) -> None:
    reader = gt.FrameReader(device_id)
    reader.feed(gt.response(ok, param, device_id))
    packet = reader.next()
    assert packet == gt.Packet(gt.ACK if ok else gt.NACK, param, device_id)
    assert isinstance(packet, gt.Packet) and packet.ok is ok


@given(data=st.binary(max_size=600), chunk=st.integers(1, 50))
def test_gt521_data_packets_round_trip(data: bytes, chunk: int) -> None:
    wire = gt.data_packet(data)
    reader = gt.FrameReader()
    reader.expect_data(len(data))
    got = None
    for i in range(0, len(wire), chunk):
        reader.feed(wire[i : i + chunk])
        got = got or reader.next()
    assert got == gt.DataPacket(data)


@given(serial=st.binary(min_size=16, max_size=16), fw=st.integers(0, 0xFFFFFFFF), iso=st.integers(0, 0xFFFFFFFF))
def test_gt521_device_info_round_trips(serial: bytes, fw: int, iso: int) -> None:
    info = gt.DeviceInfo(fw, iso, serial)
    assert gt.DeviceInfo.decode(info.encode()) == info


def test_gt521_data_packet_is_noise_unless_expected() -> None:
    reader = gt.FrameReader()
    reader.feed(gt.data_packet(b"\x55\xaa" * 10) + gt.response(True, 7))
    got = []
    for _ in range(40):
        try:
            packet = reader.next()
        except FrameError:
            continue
        if packet is None:
            break
        got.append(packet)
    assert got == [gt.Packet(gt.ACK, 7)]


def test_gt521_bad_checksum_raises_then_resynchronises() -> None:
    bad = bytearray(gt.response(True, 1))
    bad[5] ^= 0x01
    reader = gt.FrameReader()
    reader.feed(bytes(bad) + gt.response(False, gt.Nack.IDENTIFY_FAILED))
    with pytest.raises(FrameError):
        reader.next()
    assert reader.next() == gt.Packet(gt.NACK, gt.Nack.IDENTIFY_FAILED)


def test_gt521_nack_names() -> None:
    assert gt.nack_name(0x1008) == "identify_failed"
    assert gt.nack_name(17) == "duplicate_of_17"
