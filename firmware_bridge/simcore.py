"""What both module simulators share: the pty thread, line pacing, faults and the control API.

A family simulator subclasses :class:`ModuleSimulator` and implements ``handle(data)`` (bytes
from the host, returns nothing; answers go through :meth:`send`). The control API a test or the
demo uses is the same for every family::

    sim.place_finger("199001012019032002/1")   # a stored identity, or any new name
    sim.place_smudge(); sim.lift()
    sim.corrupt_next_frame(); sim.stall(after_frames=1); sim.unstall()
    sim.unplug(); sim.replug()

Output is paced at the baud the module runs at (10 bits a byte), and input is charged the time
it would have taken on the wire, so round trips over the pty are those of a real line.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware_bridge.link import wire_seconds
from firmware_bridge.pty import PtyPort

log = logging.getLogger(__name__)


class Glass:
    """What is on the sensor: nothing, a named finger, or a smudge."""

    def __init__(self) -> None:
        self.finger: str | None = None
        self.smudge = False
        self.placements = 0
        self.empty_polls = 0  # times the host asked and the glass was empty

    @property
    def empty(self) -> bool:
        return self.finger is None and not self.smudge


class ModuleSimulator(abc.ABC):
    """A simulated module on a pty. Start with ``start()`` or ``with``; ``port`` is what to open."""

    family = ""

    def __init__(
        self,
        *,
        link: Path | None = None,
        library_file: Path | None = None,
        baud: int = 57600,
        pace: bool = True,
        check_baud: bool = True,
    ) -> None:
        self.pty = PtyPort(link)
        self.library_file = library_file
        self.baud = baud
        self.pace = pace
        self.check_baud = check_baud
        self.glass = Glass()
        self.library: dict[int, bytes] = {}
        self.commands: list[int] = []  # every command code handled, in order
        self.led_history: list[tuple[int, ...]] = []
        self.power_cycles = 0
        self._corrupt_next = False
        self._stall_after: int | None = None
        self._stall_on: tuple[int, int] | None = None
        self._stalled = False
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._line_free_at = 0.0
        self._load_library()

    def __repr__(self) -> str:
        state = "stalled" if self._stalled else ("running" if self._thread else "stopped")
        return f"{type(self).__name__}({self.port!r}, {self.baud} baud, {len(self.library)} templates, {state})"

    def __enter__(self) -> ModuleSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> str:
        return self.pty.path

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.family}", daemon=True)
        self._thread.start()
        self.power_on()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.pty.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            data = self.pty.read(0.05)
            if not data:
                continue
            arrived = time.monotonic()
            with self._lock:
                if self._stalled:
                    continue
                host = self.pty.host_baud()
                if self.check_baud and host is not None and host != self.baud:
                    log.debug("%s simulator at %d baud ignores %d bytes sent at %d", self.family, self.baud, len(data), host)
                    continue
                if self.pace:
                    self._line_free_at = max(self._line_free_at, arrived) + wire_seconds(len(data), self.baud)
                try:
                    self.handle(data)
                except Exception:
                    log.exception("%s simulator failed on a command", self.family)

    @abc.abstractmethod
    def handle(self, data: bytes) -> None:
        """Answer one command frame as the module family does."""

    def power_on(self) -> None:
        """What the module does when power comes (start, replug, unstall)."""
        self.power_cycles += 1

    # -- output ------------------------------------------------------------------------------

    def send(self, frame: bytes, *, corruptible: bool = True) -> None:
        """Put one frame on the line, paced at the module's baud, applying pending faults."""
        if self._stalled:
            return
        if self._stall_after is not None:
            if self._stall_after <= 0:
                self._enter_stall()
                return
            self._stall_after -= 1
        if corruptible and self._corrupt_next:
            self._corrupt_next = False
            mangled = bytearray(frame)
            mangled[len(mangled) // 2] ^= 0x5A
            frame = bytes(mangled)
        if self.pace:
            now = time.monotonic()
            start = max(now, self._line_free_at)
            done = start + wire_seconds(len(frame), self.baud)
            self._line_free_at = done
            if done > now:
                self._stop.wait(done - now)
        self.pty.write(frame)
        if self._stall_after == 0:
            self._enter_stall()  # silent from right after this frame: mid-transfer

    def _enter_stall(self) -> None:
        self._stalled = True
        self._stall_after = None
        log.info("%s simulator stalls", self.family)
        self._notify()

    # -- the control API ---------------------------------------------------------------------

    def place_finger(self, name: str) -> None:
        """Put finger ``name`` on the glass (an enrolled identity or a new one)."""
        with self._lock:
            self.glass.finger, self.glass.smudge = name, False
            self.glass.placements += 1
        self._notify()

    def place_smudge(self) -> None:
        """A finger that gives a smudged, unusable image."""
        with self._lock:
            self.glass.finger, self.glass.smudge = None, True
            self.glass.placements += 1
        self._notify()

    def lift(self) -> None:
        with self._lock:
            self.glass.finger, self.glass.smudge = None, False
        self._notify()

    def lift_and_wait_seen(self, timeout: float = 5.0) -> bool:
        """Lift, then wait until the host has polled the empty glass and read the answer (as a
        person's hand takes longer to come back than a poll interval)."""
        polls = self.glass.empty_polls
        self.lift()
        if not self.wait_for(lambda: self.glass.empty_polls > polls, timeout):
            return False
        # The host sends its next command only after reading that answer: then it has seen it.
        sent = len(self.commands)
        return self.wait_for(lambda: len(self.commands) > sent, timeout)

    def corrupt_next_frame(self) -> None:
        """Flip a byte in the middle of the next frame the module sends."""
        with self._lock:
            self._corrupt_next = True

    def stall(self, after_frames: int = 0, *, on_command: int | None = None) -> None:
        """Go silent after sending ``after_frames`` more frames and stay silent, ignoring
        everything, until :meth:`unstall`. With ``on_command`` the count starts when that
        command arrives: ``stall(1, on_command=0x09)`` acks a DownChar and then ignores its
        data packets; ``stall(2, on_command=0x08)`` sends one data packet of an UpChar."""
        with self._lock:
            if on_command is None:
                self._stall_after = after_frames
            else:
                self._stall_on = (on_command, after_frames)

    def unstall(self) -> None:
        """End a stall as a power cycle would: the module boots again."""
        with self._lock:
            self._stall_after = None
            self._stall_on = None
            self._stalled = False
            self.pty.discard_input()
            self.power_on()
        self._notify()

    @property
    def stalled(self) -> bool:
        return self._stalled

    def unplug(self) -> None:
        """Pull the cable: the port disappears and the host's reads fail."""
        with self._lock:
            self.pty.unplug()
        self._notify()

    def replug(self) -> None:
        """Plug it back: a fresh port at the same path, the module boots."""
        with self._lock:
            self.pty.plug()
            self._line_free_at = 0.0
            self._stalled = False
            self._stall_after = None
            self._stall_on = None
            self.power_on()
        self._notify()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds (checked whenever the simulator handles a command)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
        return True

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _handled(self, code: int) -> None:
        self.commands.append(code)
        if self._stall_on is not None and self._stall_on[0] == code:
            self._stall_after = self._stall_on[1]
            self._stall_on = None
        self._notify()

    # -- the library file --------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Non-volatile settings a family keeps beside its library (baud, password …)."""
        return {}

    def apply_settings(self, settings: dict[str, Any]) -> None:  # noqa: B027 - optional hook: families without settings keep none
        """Restore what :meth:`settings` saved."""

    def _load_library(self) -> None:
        if self.library_file is None or not self.library_file.exists():
            return
        data = json.loads(self.library_file.read_text(encoding="utf-8"))
        if data.get("family") != self.family:
            raise ValueError(f"{self.library_file} is a {data.get('family')} library, not {self.family}")
        self.library = {int(slot): bytes.fromhex(tpl) for slot, tpl in data.get("slots", {}).items()}
        self.apply_settings(data.get("settings", {}))

    def save_library(self) -> None:
        if self.library_file is None:
            return
        data = {
            "family": self.family,
            "settings": self.settings(),
            "slots": {str(slot): tpl.hex() for slot, tpl in sorted(self.library.items())},
        }
        tmp = self.library_file.with_name(self.library_file.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.library_file)
