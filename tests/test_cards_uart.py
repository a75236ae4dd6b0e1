"""RDM6300 frames: the codec by property tests, the reader through a real pty, unplug and replug."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import health
from core.card_uid import normalise_uid
from core.clock import FakeClock
from core.config import CardsConfig
from core.errors import DeviceError, ProtocolError
from core.store.punches import PunchStore
from kiosk.cards.base import CardEventKind
from kiosk.cards.rdm6300_sim import Rdm6300Simulator
from kiosk.cards.service import CardAttempt, CardService, Outcome
from kiosk.cards.uart import Rdm6300Decoder, Rdm6300Reader, decode_frame, encode_frame

WAIT_S = 5.0
ids = st.binary(min_size=5, max_size=5).map(lambda b: b.hex().upper())


def test_worked_frame() -> None:
    # version 0x0A, id 0x00123456: checksum 0A^00^12^34^56 = 0x7A
    frame = encode_frame("0A00123456")
    assert frame == b"\x020A001234567A\x03"
    assert decode_frame(frame) == "0A00123456"
    assert decode_frame(b"\x020a001234567a\x03") == "0A00123456"  # lower-case hex from some clones


@given(ids)
def test_encode_decode_round_trip(uid: str) -> None:
    assert decode_frame(encode_frame(uid)) == uid


@given(ids, st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=255))
def test_a_corrupted_body_byte_is_refused(uid: str, position: int, value: int) -> None:
    frame = bytearray(encode_frame(uid))
    if frame[position] == value:
        return
    frame[position] = value
    try:
        decoded = decode_frame(bytes(frame))
    except ProtocolError:
        return
    # Only a change that keeps valid hex *and* a matching checksum can pass: the same id in other case.
    assert decoded == uid


@given(st.lists(ids, min_size=1, max_size=5), st.binary(max_size=40), st.data())
def test_decoder_finds_every_frame_among_garbage_and_any_chunking(frames: list[str], garbage: bytes, data: st.DataObject) -> None:
    noise = bytes(b for b in garbage if b != 0x02)  # an STX in the noise may legitimately start a cut frame
    stream = noise + b"".join(encode_frame(f) + noise for f in frames)
    decoder = Rdm6300Decoder()
    found: list[str] = []
    i = 0
    while i < len(stream):
        step = data.draw(st.integers(min_value=1, max_value=20))
        found += decoder.feed(stream[i : i + step])
        i += step
    assert found == frames


def test_decoder_resynchronises_after_a_cut_frame() -> None:
    decoder = Rdm6300Decoder()
    cut = encode_frame("0A00123456")[:7]
    assert decoder.feed(cut + encode_frame("1100ABCDEF")) == ["1100ABCDEF"]
    assert decoder.bad_frames == 1
    assert decoder.feed(b"\x020A0012345600\x03") == []  # bad checksum
    assert decoder.bad_frames == 2


def test_reader_on_a_pty_reports_one_presentation_per_card(tmp_path: Path) -> None:
    clock = FakeClock()
    with Rdm6300Simulator(tmp_path / "rdm6300") as sim:
        reader = Rdm6300Reader(sim.port, release_s=0.5, clock=clock)
        with reader:
            sim.tap("0A00123456", repeats=4)
            event = reader.read(WAIT_S)
            assert event is not None and event.kind is CardEventKind.PRESENT and event.uid == "0A00123456"
            sim.tap("0A00123456", repeats=2)  # the card is still in the field: same presentation
            assert reader.read(0.2) is None
            clock.advance(0.6)
            removed = reader.read(WAIT_S)  # the release, once the reader has seen the quiet time pass
            assert removed is not None and removed.kind is CardEventKind.REMOVED
            sim.send_raw(b"\x02ZZ garbage\x03")
            sim.tap("1100ABCDEF")
            again = reader.read(WAIT_S)
            assert again is not None and again.uid == "1100ABCDEF"
            assert reader.bad_frames >= 1
        assert "RDM6300" in repr(reader)


def test_a_different_card_ends_the_previous_presentation(tmp_path: Path) -> None:
    with Rdm6300Simulator() as sim, Rdm6300Reader(sim.port, clock=FakeClock()) as reader:
        sim.tap("0A00123456")
        sim.tap("1100ABCDEF")
        kinds = []
        for _ in range(3):
            event = reader.read(WAIT_S)
            assert event is not None
            kinds.append((event.kind, event.uid))
    assert kinds == [
        (CardEventKind.PRESENT, "0A00123456"),
        (CardEventKind.REMOVED, "0A00123456"),
        (CardEventKind.PRESENT, "1100ABCDEF"),
    ]


def test_unplugging_the_adapter_is_a_device_error(tmp_path: Path) -> None:
    sim = Rdm6300Simulator(tmp_path / "rdm6300").start()
    reader = Rdm6300Reader(sim.port, clock=FakeClock())
    reader.open()
    sim.unplug()
    with pytest.raises(DeviceError, match="went away"):
        for _ in range(20):
            reader.read(0.2)
    assert not reader.is_open
    with pytest.raises(DeviceError, match="cannot open"):
        reader.open()
    sim.replug()
    reader.open()
    sim.tap("0A00123456")
    event = reader.read(WAIT_S)
    assert event is not None and event.uid == "0A00123456"
    reader.close()
    sim.close()


def test_card_service_on_rdm6300_survives_unplug_and_reports_the_gap(tmp_path: Path, store: PunchStore, clock: FakeClock) -> None:
    store.conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('P3K-0031', 'Agus Wibowo', 'x')")
    # registered by the number printed on the card (decimal of the low 32 bits)
    store.conn.execute(
        "INSERT INTO cards (uid, employee_id, created_at) VALUES (?, 'P3K-0031', 'x')", (normalise_uid("0001193046"),)
    )
    sim = Rdm6300Simulator(tmp_path / "ttyRDM").start()
    config = CardsConfig(reader="serial", device=sim.port, reconnect_initial_s=0.02, reconnect_max_s=0.1)
    service = CardService(Rdm6300Reader(sim.port, clock=clock), store, config=config, clock=clock)
    decisions: queue.Queue[CardAttempt] = queue.Queue()
    service.subscribe(decisions.put)
    try:
        service.start()
        assert service.wait_connected(WAIT_S)
        sim.tap("0A00123456")
        accepted = decisions.get(timeout=WAIT_S)
        assert accepted.outcome is Outcome.ACCEPTED and accepted.employee_name == "Agus Wibowo"
        sim.unplug()
        assert service.wait_disconnected(WAIT_S)
        assert next(p for p in health.read_all(store.conn) if p.part == "card_reader").status is health.Health.FAIL
        clock.advance(12.0)
        sim.replug()
        assert service.wait_connected(WAIT_S)
        back = next(p for p in health.read_all(store.conn) if p.part == "card_reader")
        assert back.status is health.Health.OK and back.metrics["last_gap_s"] == pytest.approx(12.0)
        clock.advance(120)
        sim.tap("0A00123456")
        assert decisions.get(timeout=WAIT_S).outcome is Outcome.ACCEPTED
        assert store.count() == 2
    finally:
        service.stop()
        sim.close()
