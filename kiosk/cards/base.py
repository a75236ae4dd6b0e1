"""The card reader seam: one small interface, a driver per reader family, a simulator.

A reader is opened, then polled with :meth:`CardReader.read`, which waits at most ``timeout_s``
and returns one :class:`CardEvent` or None. A reader that disappears (USB unplugged, pcscd
stopped, serial adapter gone) raises :class:`~core.errors.DeviceError` from ``open`` or ``read``;
the card service closes it, reports the gap and opens it again with backoff.

Each family is a plugin with a ``type_key`` matching ``cards.reader`` in the configuration
(``pcsc``, ``evdev``, ``serial``, ``sim``); :func:`kiosk.cards.factory.make_reader` picks one.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Self


class CardEventKind(enum.StrEnum):
    PRESENT = "present"  # a card was put on the reader (or typed by a keyboard reader): act on it
    REMOVED = "removed"  # the card left the field (readers that can tell)
    UNREADABLE = "unreadable"  # a card is there but its number could not be read


@dataclass(frozen=True)
class CardEvent:
    """What a reader saw. ``uid`` is normalised hex (see :mod:`core.card_uid`) for PRESENT."""

    kind: CardEventKind
    reader: str
    t_mono_ns: int
    uid: str | None = None
    detail: str = ""


class CardReader(abc.ABC):
    """A card reader. Open it (or use it as a context manager), poll :meth:`read`, close it.

    ``close`` is idempotent; ``read`` on a closed reader raises ``DeviceError``.
    """

    type_key: ClassVar[str]

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    @abc.abstractmethod
    def is_open(self) -> bool: ...

    @abc.abstractmethod
    def open(self) -> None:
        """Open the reader; raises ``DeviceError`` saying what to check when it is absent."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the reader (idempotent)."""

    @abc.abstractmethod
    def read(self, timeout_s: float) -> CardEvent | None:
        """The next event, waiting at most ``timeout_s``; None when nothing happened.

        Raises ``DeviceError`` when the reader has gone away.
        """

    def wake(self) -> None:  # noqa: B027 - optional: the default is to wait for the timeout
        """Make a ``read`` blocked in another thread return soon (the service is stopping).
        Readers that cannot be interrupted return at their next timeout."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"{type(self).__name__}({self.name!r}, {state})"
