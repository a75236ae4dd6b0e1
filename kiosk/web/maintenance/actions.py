"""The simulator of the maintenance page's system actions.

On a unit the actions go to the privileged helper (:class:`kiosk.privileged.client.HelperSystemActions`):
the kiosk service itself may not restart services, reboot or step the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.errors import PresensiError

log = logging.getLogger(__name__)


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
