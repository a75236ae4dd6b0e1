"""What may be asked of the privileged helper, checked the same way by both sides.

One request per connection: a line of UTF-8 JSON of at most :data:`MAX_REQUEST` bytes, answered by
one line ``{"ok": true, …}`` or ``{"ok": false, "error": "…"}``. Only the unit's own services are
named; every other value is a bounded integer. Nothing a caller sends becomes part of a command
line except a unit name from :data:`UNITS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: The socket of the maintenance page (restart, reboot, set-time, logs).
ADMIN_SOCKET = Path("/run/presensi-privileged.sock")
#: The socket of the port-4370 server (set-time only).
CLOCK_SOCKET = Path("/run/presensi-clock.sock")

#: The unit's own services: the only names the helper restarts or reads the journal of.
UNITS = frozenset(
    {
        "presensi-kiosk",
        "presensi-bridge",
        "presensi-sync",
        "presensi-screen",
        "presensi-targets",
        "presensi-zk4370",
        "presensi-server",
    }
)
ACTIONS = ("restart", "reboot", "set-time", "logs")

MAX_REQUEST = 4096
#: Journal lines a caller may ask for at once, and the bytes of the answer.
MAX_LOG_LINES = 5000
MAX_LOG_BYTES = 8 * 1024 * 1024
#: A clock set outside these years is a typing mistake, not a correction: the same years as
#: core.timekeeping's EARLIEST_TRUE_TIME and LATEST_TRUE_TIME (2026-01-01 up to 2034-01-01;
#: tests/test_privileged_helper.py keeps them equal; this module imports nothing heavy).
MIN_EPOCH = 1_767_225_600
MAX_EPOCH = 2_019_686_400


class RequestError(ValueError):
    """A request the helper refuses (the message says why, for the caller's error page)."""


@dataclass(frozen=True)
class Request:
    action: str
    unit: str = ""
    epoch: int = 0
    units: tuple[str, ...] = ()
    lines: int = 0

    def encode(self) -> bytes:
        body: dict[str, object] = {"action": self.action}
        if self.action == "restart":
            body["unit"] = self.unit
        elif self.action == "set-time":
            body["epoch"] = self.epoch
        elif self.action == "logs":
            body["units"] = list(self.units)
            body["lines"] = self.lines
        return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def _unit(name: object) -> str:
    if not isinstance(name, str) or name not in UNITS:
        raise RequestError(f"{str(name)[:60]!r} is not one of the unit's services ({', '.join(sorted(UNITS))})")
    return name


def _int(value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(f"{what} must be a whole number from {low} to {high}")
    return value


def decode(raw: bytes) -> Request:
    """The request in ``raw`` (one line), checked; :class:`RequestError` for anything else."""
    if len(raw) > MAX_REQUEST:
        raise RequestError(f"request longer than {MAX_REQUEST} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RequestError("request is not one line of JSON") from exc
    if not isinstance(body, dict):
        raise RequestError("request is not a JSON object")
    action = body.get("action")
    known = {"action", "unit", "epoch", "units", "lines"}
    if set(body) - known:
        raise RequestError(f"unknown fields: {', '.join(sorted(str(k)[:30] for k in set(body) - known))}")
    if action == "restart":
        return Request("restart", unit=_unit(body.get("unit")))
    if action == "reboot":
        return Request("reboot")
    if action == "set-time":
        return Request("set-time", epoch=_int(body.get("epoch"), MIN_EPOCH, MAX_EPOCH - 1, "epoch"))
    if action == "logs":
        units = body.get("units")
        if not isinstance(units, list) or not 1 <= len(units) <= len(UNITS):
            raise RequestError("units must be a list of the unit's services")
        return Request(
            "logs", units=tuple(dict.fromkeys(_unit(u) for u in units)), lines=_int(body.get("lines"), 1, MAX_LOG_LINES, "lines")
        )
    raise RequestError(f"unknown action {str(action)[:30]!r}; one of {', '.join(ACTIONS)}")
