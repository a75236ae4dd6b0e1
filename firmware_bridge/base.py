"""The module-family plugin interface: what the bridge needs from any fingerprint module.

A family (ZhianTec, GT-521) is one subclass of :class:`FingerprintModule` with a ``family``
key, registered in :data:`FAMILIES`. The bridge service speaks only this interface, so a new
family is one driver file plus its simulator. Drivers raise only :mod:`core.errors` families:
:class:`~firmware_bridge.errors.ModuleTimeout` for silence,
:class:`~core.errors.ProtocolError` for garbage, :class:`~core.errors.DeviceError` for a port
that went away and :class:`~firmware_bridge.errors.ModuleRefused` for a refusal.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar


class Capture(enum.Enum):
    """What one capture attempt saw."""

    NO_FINGER = "no_finger"
    POOR = "poor"  # a finger, but a smudged or partial image: ask to place it again
    OK = "ok"


class Led(enum.Enum):
    """Feedback states; a family maps them onto what its module can show."""

    IDLE = "idle"
    CAPTURING = "capturing"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ENROL = "enrol"
    OFF = "off"


@dataclass(frozen=True)
class ModuleInfo:
    """What the handshake learned about the module."""

    family: str
    capacity: int
    baud: int
    packet_size: int | None = None  # ZhianTec data packet size (ReadSysPara)
    security: int | None = None
    system_id: int | None = None
    firmware: str = ""
    has_led: bool = False


@dataclass(frozen=True)
class FingerMatch:
    slot: int
    score: int


class FingerprintModule(abc.ABC):
    """One module on one serial port. Open with ``open()`` or ``with``; ``close()`` is idempotent."""

    family: ClassVar[str]
    #: Captures an enrolment takes (ZhianTec 2, GT-521 3).
    enrol_captures: ClassVar[int]

    def __enter__(self) -> FingerprintModule:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def open(self) -> ModuleInfo:
        """Open the port, find the baud, handshake; returns what the module said about itself."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @property
    @abc.abstractmethod
    def info(self) -> ModuleInfo | None: ...

    @abc.abstractmethod
    def capture(self, step: int = 0) -> Capture:
        """Take an image and turn it into features: for identification (step 0) or as enrolment
        capture ``step`` (1..enrol_captures)."""

    @abc.abstractmethod
    def finger_present(self) -> bool: ...

    @abc.abstractmethod
    def identify(self) -> FingerMatch | None:
        """Search the library for the last capture (step 1); None when nobody matches."""

    @abc.abstractmethod
    def enrol_begin(self, slot: int) -> None:
        """Prepare to enrol into ``slot`` (before the first capture)."""

    @abc.abstractmethod
    def enrol_finish(self, slot: int) -> int | None:
        """Combine the captures and store them in ``slot``. Returns the slot of an already
        stored identical finger instead of storing (duplicate), else None."""

    @abc.abstractmethod
    def read_template(self, slot: int) -> bytes:
        """The raw template bytes stored in ``slot``, exactly as the module sends them."""

    @abc.abstractmethod
    def write_template(self, slot: int, template: bytes) -> None:
        """Store raw template bytes (as read from a module of the same family) into ``slot``."""

    @abc.abstractmethod
    def delete(self, slot: int) -> None: ...

    @abc.abstractmethod
    def used_slots(self, hint: Collection[int] = ()) -> set[int]:
        """Slots holding a template, read from the module itself; ``hint`` names slots believed
        used (a family without an index table checks those first)."""

    def led(self, state: Led) -> None:  # noqa: B027 - families without an LED do nothing
        """Show ``state`` on the module's LED, where it has one."""


FAMILIES: dict[str, type[FingerprintModule]] = {}


def register(cls: type[FingerprintModule]) -> type[FingerprintModule]:
    FAMILIES[cls.family] = cls
    return cls
