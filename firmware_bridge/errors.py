"""Errors of the fingerprint bridge, all in the project's families (:mod:`core.errors`).

Parsers raise only :class:`FrameError` (a :class:`~core.errors.ProtocolError`); drivers add
:class:`ModuleTimeout` (a :class:`~core.errors.DeviceTimeout`) and :class:`ModuleRefused`,
the module's own confirmation code for something it would not do.
"""

from __future__ import annotations

from core.errors import DeviceError, DeviceTimeout, ProtocolError

SCREEN_MODULE = "Pemindai sidik jari bermasalah — gunakan wajah atau kartu"


class FrameError(ProtocolError):
    """Bytes on the wire that are not a valid frame (bad checksum, length, type or address)."""

    screen_text = SCREEN_MODULE


class ModuleTimeout(DeviceTimeout):
    """The module did not answer in time (wrong baud, unplugged, stalled)."""

    screen_text = SCREEN_MODULE


class ModuleRefused(DeviceError):
    """The module answered with an error code; ``code`` is that code, ``name`` its meaning."""

    screen_text = SCREEN_MODULE

    def __init__(self, message: str, *, code: int, name: str) -> None:
        super().__init__(message)
        self.code = code
        self.name = name


class WrongPassword(ModuleRefused):
    """The module's password is not the one configured."""


class LibraryFull(ModuleRefused):
    """No free slot is left in the module's library."""


class BadLocation(ModuleRefused):
    """A slot number outside the module's library."""
