"""An RDM6300 module on a pseudo-terminal, for tests and for trying the reader on a laptop.

The simulator owns the master side of a pty and writes the module's frames into it; the reader
under test opens the slave side (``port``) exactly as it would open ``/dev/ttyUSB0``. Give a
``link`` path to get a stable name that survives :meth:`unplug` / :meth:`replug` (the pty's own
name changes on replug, like a USB adapter that comes back as another ttyUSB node; udev rules
give real units the same kind of stable link).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tty
from pathlib import Path
from types import TracebackType
from typing import Self

from core.card_uid import normalise_uid
from core.errors import DeviceError
from kiosk.cards.uart import encode_frame

log = logging.getLogger(__name__)


class Rdm6300Simulator:
    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""

    @property
    def port(self) -> str:
        """What the reader should open: the stable link if there is one, else the pty."""
        if self.link is not None:
            return str(self.link)
        if not self._slave_name:
            raise DeviceError("the RDM6300 simulator is not started")
        return self._slave_name

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> Self:
        if self._master is not None:
            return self
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as they are
        self._master, self._slave = master, slave
        self._slave_name = os.ttyname(slave)
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self._slave_name)
        log.info("RDM6300 simulator on %s", self.port)
        return self

    def tap(self, uid: str, repeats: int = 3) -> str:
        """A card in the field: the module sends its frame ``repeats`` times. Returns the 10-hex id."""
        normalised = normalise_uid(uid, "hex")
        self.send_raw(encode_frame(normalised) * repeats)
        return normalised

    def send_raw(self, data: bytes) -> None:
        """Bytes as they come off the wire (garbage, cut frames)."""
        if self._master is None:
            raise DeviceError("the RDM6300 simulator is unplugged")
        view = memoryview(data)
        while view:
            written = os.write(self._master, view)
            view = view[written:]

    def unplug(self) -> None:
        """The adapter disappears: the reader's next read fails and the port name goes away."""
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def replug(self) -> Self:
        self.unplug()
        return self.start()

    def close(self) -> None:
        self.unplug()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"on {self._slave_name}" if self._master is not None else "unplugged"
        return f"Rdm6300Simulator({state})"
