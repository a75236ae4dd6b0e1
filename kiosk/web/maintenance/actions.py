"""System actions behind the maintenance page: systemd and the clock, or a simulator.

Only fixed argument lists are run, and the only user-given parts are a unit name checked
against the configured list and a time parsed into a datetime first. No shell is ever used.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kiosk.errors import DeviceError, PresensiError

log = logging.getLogger(__name__)

Runner = Callable[[Sequence[str]], None]


def run_fixed(argv: Sequence[str]) -> None:
    """Run a fixed argument list (no shell); raises DeviceError with its stderr on failure."""
    try:
        subprocess.run(list(argv), check=True, capture_output=True, timeout=60, text=True)
    except subprocess.CalledProcessError as exc:
        raise DeviceError(f"{argv[0]} failed: {(exc.stderr or '').strip()[:200]}; see the logs page") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeviceError(f"cannot run {argv[0]}: {exc}") from exc


class SystemdActions:
    """The real unit: ``systemctl`` and ``date``; ``runner`` is injectable for tests."""

    def __init__(self, allowed_units: Sequence[str], runner: Runner = run_fixed) -> None:
        self.allowed_units = tuple(allowed_units)
        self._run = runner

    def __repr__(self) -> str:
        return f"SystemdActions(units={self.allowed_units})"

    def restart_service(self, unit: str) -> None:
        if unit not in self.allowed_units:
            raise PresensiError(f"{unit!r} is not a service this page may restart")
        self._run(["systemctl", "restart", f"{unit}.service"])

    def reboot(self) -> None:
        self._run(["systemctl", "reboot"])

    def set_time(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("set_time needs an aware instant")
        epoch = int(instant.astimezone(UTC).timestamp())
        self._run(["date", "--utc", f"--set=@{epoch}"])
        self._run(["hwclock", "--systohc", "--utc"])


@dataclass
class SimSystemActions:
    """The simulator (``unit.hardware = 'sim'``, demo, tests): records what was asked."""

    allowed_units: tuple[str, ...] = ("presensi-kiosk", "presensi-bridge", "presensi-sync")
    calls: list[tuple[str, str]] = field(default_factory=list)
    on_set_time: Callable[[datetime], None] | None = None

    def restart_service(self, unit: str) -> None:
        if unit not in self.allowed_units:
            raise PresensiError(f"{unit!r} is not a service this page may restart")
        self.calls.append(("restart", unit))

    def reboot(self) -> None:
        self.calls.append(("reboot", ""))

    def set_time(self, instant: datetime) -> None:
        self.calls.append(("set_time", instant.astimezone(UTC).isoformat()))
        if self.on_set_time is not None:
            self.on_set_time(instant)
