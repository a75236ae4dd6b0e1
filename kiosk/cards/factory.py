"""Picking the reader named by ``[cards]``."""

from __future__ import annotations

from core.card_uid import UidForm
from core.clock import Clock
from core.config import CardsConfig
from core.errors import ConfigError
from kiosk.cards.base import CardReader


def make_reader(config: CardsConfig, clock: Clock, *, simulated: bool = False) -> CardReader | None:
    """The reader for ``cards.reader`` (None for ``none``); ``simulated`` (unit.hardware = 'sim')
    puts a :class:`~kiosk.cards.sim.SimCardReader` in place of any real one."""
    kind = config.reader
    if kind == "none":
        return None
    if kind == "sim" or simulated:
        # late: only the configured reader's library (pyscard, evdev, pyserial) loads
        from kiosk.cards.sim import SimCardReader

        return SimCardReader(clock=clock)
    if kind == "pcsc":
        # late: only the configured reader's library (pyscard, evdev, pyserial) loads
        from kiosk.cards.pcsc import PcscReader

        return PcscReader(config.device, clock=clock)
    if not config.device:
        raise ConfigError(f"cards.device is empty; give the {kind} reader's device (see docs/cards.md)")
    if kind == "evdev":
        # late: only the configured reader's library (pyscard, evdev, pyserial) loads
        from kiosk.cards.hid import HidKeyboardReader

        form = UidForm.DECIMAL if config.decimal_em4100 else UidForm.HEX
        return HidKeyboardReader(config.device, form=form, gap_s=config.key_gap_ms / 1000, grab=config.grab, clock=clock)
    # late: only the configured reader's library (pyscard, evdev, pyserial) loads
    from kiosk.cards.uart import Rdm6300Reader

    return Rdm6300Reader(config.device, baud=config.baud, release_s=config.release_ms / 1000, clock=clock)
