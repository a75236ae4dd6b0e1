"""Picking the reader named by ``[cards]`` and assembling the card service of a unit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.cards.base import CardReader
from kiosk.cards.uid import UidForm
from kiosk.clock import Clock
from kiosk.config import CardsConfig
from kiosk.errors import ConfigError

if TYPE_CHECKING:
    from kiosk.cards.policy import FaceVerifier
    from kiosk.cards.service import CardService, Classifier
    from kiosk.feedback.gpio import Feedback
    from kiosk.runtime import Runtime


def make_reader(config: CardsConfig, clock: Clock, *, simulated: bool = False) -> CardReader | None:
    """The reader for ``cards.reader`` (None for ``none``); ``simulated`` (unit.hardware = 'sim')
    puts a :class:`~kiosk.cards.sim.SimCardReader` in place of any real one."""
    kind = config.reader
    if kind == "none":
        return None
    if kind == "sim" or simulated:
        from kiosk.cards.sim import SimCardReader

        return SimCardReader(clock=clock)
    if kind == "pcsc":
        from kiosk.cards.pcsc import PcscReader

        return PcscReader(config.device, clock=clock)
    if not config.device:
        raise ConfigError(f"cards.device is empty; give the {kind} reader's device (see docs/cards.md)")
    if kind == "evdev":
        from kiosk.cards.hid import HidKeyboardReader

        form = UidForm.DECIMAL if config.decimal_em4100 else UidForm.HEX
        return HidKeyboardReader(config.device, form=form, gap_s=config.key_gap_ms / 1000, grab=config.grab, clock=clock)
    from kiosk.cards.uart import Rdm6300Reader

    return Rdm6300Reader(config.device, baud=config.baud, release_s=config.release_ms / 1000, clock=clock)


def build_card_service(
    runtime: Runtime,
    *,
    reader: CardReader | None = None,
    verify_face: FaceVerifier | None = None,
    classify: Classifier | None = None,
    feedback: Feedback | None = None,
) -> CardService | None:
    """The card service of this unit, with a punch store on its own database connection.

    None when no reader is configured. Pass ``reader`` to use one you hold (the demo keeps the
    :class:`~kiosk.cards.sim.SimCardReader` to tap simulated cards).
    """
    from kiosk.cards.service import CardService, no_schedule
    from kiosk.store.punches import PunchStore

    config = runtime.config
    reader = reader or make_reader(config.cards, runtime.clock, simulated=config.unit.hardware == "sim")
    if reader is None:
        return None
    store = PunchStore(
        runtime.connect(),
        runtime.identity(),
        runtime.clock,
        runtime.clock_state(),
        zone=config.unit.zone,
        unsynced_policy=config.clock.unsynced_policy,
    )
    return CardService(
        reader,
        store,
        config=config.cards,
        clock=runtime.clock,
        verify_face=verify_face,
        classify=classify or no_schedule,
        feedback=feedback,
    )
