"""Picking the reader named by ``[cards]``."""

from __future__ import annotations

from core.card_uid import UidForm
from core.clock import Clock
from core.config import CardsConfig
from core.errors import ConfigError
from kiosk.cards.base import CardReader
from kiosk.cards.hid import HidKeyboardReader
from kiosk.cards.pcsc import PcscReader
from kiosk.cards.sim import SimCardReader
from kiosk.cards.uart import Rdm6300Reader


def make_reader(config: CardsConfig, clock: Clock, *, simulated: bool = False) -> CardReader | None:
    """The reader for ``cards.reader`` (None for ``none``); ``simulated`` (unit.hardware = 'sim')
    puts a :class:`~kiosk.cards.sim.SimCardReader` in place of any real one."""
    kind = config.reader
    if kind == "none":
        return None
    if kind == "sim" or simulated:
        return SimCardReader(clock=clock)
    if kind == "pcsc":
        return PcscReader(config.device, clock=clock)
    if not config.device:
        raise ConfigError(f"cards.device is empty; give the {kind} reader's device (see docs/cards.md)")
    if kind == "evdev":
        form = UidForm.DECIMAL if config.decimal_em4100 else UidForm.HEX
        return HidKeyboardReader(config.device, form=form, gap_s=config.key_gap_ms / 1000, grab=config.grab, clock=clock)

    return Rdm6300Reader(config.device, baud=config.baud, release_s=config.release_ms / 1000, clock=clock)
