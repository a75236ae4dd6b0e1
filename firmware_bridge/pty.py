"""Pseudo-terminals for the module simulators: a pty whose slave end looks like a UART.

:class:`PtyPort` owns the master end (the simulated module's side), keeps a stable path (a
symlink such as ``/tmp/…/fingerprint``) pointing at the current slave device so a driver can
be configured with one port name across unplug/replug, and reads the baud the host set on the
slave (``TCGETS2``), so a simulator can refuse to understand a host at the wrong speed.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import logging
import os
import select
import termios
import tty
from pathlib import Path

log = logging.getLogger(__name__)

_TCGETS2 = 0x802C542A  # Linux: struct termios2, with the real c_ispeed even for custom rates
_SPEEDS = {
    getattr(termios, f"B{b}"): b
    for b in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
    if hasattr(termios, f"B{b}")
}


class PtyPort:
    """The master side of a pty. ``link`` is the path a driver opens."""

    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self.master: int | None = None
        self._slave_keepalive: int | None = None
        self.slave_name = ""
        self.plug()

    def __repr__(self) -> str:
        state = self.slave_name if self.master is not None else "unplugged"
        return f"PtyPort({self.path!r}, {state})"

    @property
    def path(self) -> str:
        """What a driver should open: the stable link when there is one, else the slave device."""
        return str(self.link) if self.link is not None else self.slave_name

    @property
    def plugged(self) -> bool:
        return self.master is not None

    def plug(self) -> None:
        """A fresh pty (like a USB adapter enumerating again); the link follows it."""
        if self.master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = termios.B57600
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        os.set_blocking(master, False)
        self.master, self._slave_keepalive = master, slave
        self.slave_name = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.slave_name)
            tmp.replace(self.link)
        log.debug("pty %s plugged in at %s", self.slave_name, self.path)

    def unplug(self) -> None:
        """Close both of our ends and remove the link: the host's reads fail as on a pulled cable."""
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        for fd in (self.master, self._slave_keepalive):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave_keepalive = None

    close = unplug

    def host_baud(self) -> int | None:
        """The speed the host set on the slave end, or None when unknown."""
        if self.master is None:
            return None
        try:
            buf = array.array("i", [0] * 16)
            fcntl.ioctl(self.master, _TCGETS2, buf)
            return int(buf[9])
        except OSError:
            try:
                return _SPEEDS.get(termios.tcgetattr(self.master)[4])
            except termios.error:
                return None

    def read(self, timeout: float) -> bytes | None:
        """Bytes from the host; b"" on timeout; None when the pty is gone."""
        master = self.master
        if master is None:
            return None
        try:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                return b""
            return os.read(master, 4096)
        except BlockingIOError:
            return b""
        except OSError:
            # EIO: no process holds the slave open at the moment; the host will reopen it.
            return b""

    def write(self, data: bytes) -> None:
        master = self.master
        if master is None:
            return
        view = memoryview(data)
        while view:
            try:
                written = os.write(master, view)
            except BlockingIOError:
                select.select([], [master], [], 0.05)
                continue
            except OSError as exc:
                log.debug("pty write failed: %s", exc)
                return
            view = view[written:]

    def discard_input(self) -> None:
        if self.master is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcflush(self.master, termios.TCIFLUSH)
