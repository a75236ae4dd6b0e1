"""The services' side of the privileged helper: the maintenance page's system actions and logs,
and the clock setter of the port-4370 server."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from core.errors import DeviceError, PresensiError
from core.privileged_protocol import ADMIN_SOCKET, CLOCK_SOCKET, MAX_LOG_BYTES, MAX_LOG_LINES, Request

#: The helper answers within its own 60 s command timeout; a little more for its start.
CALL_TIMEOUT_S = 90.0


class PrivilegedClient:
    """One request per connection to the helper's socket at ``path``."""

    def __init__(self, path: Path = ADMIN_SOCKET, timeout_s: float = CALL_TIMEOUT_S) -> None:
        self.path = path
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"PrivilegedClient({self.path})"

    def call(self, request: Request) -> dict[str, object]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(str(self.path))
                sock.sendall(request.encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if len(data) > 2 * MAX_LOG_BYTES:
                        raise DeviceError("the privileged helper's answer is too long")
        except FileNotFoundError as exc:
            unit = "presensi-clock.socket" if self.path == CLOCK_SOCKET else "presensi-privileged.socket"
            raise DeviceError(f"the privileged helper is not running ({self.path}): systemctl enable --now {unit}") from exc
        except PermissionError as exc:
            raise DeviceError(f"this service may not use {self.path} (its unit file lacks the group)") from exc
        except OSError as exc:
            raise DeviceError(f"cannot reach the privileged helper at {self.path}: {exc}") from exc
        try:
            answer = json.loads(data)
        except ValueError as exc:
            raise DeviceError("the privileged helper gave no answer; see journalctl -u 'presensi-privileged@*'") from exc
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise PresensiError(f"the unit refused: {error or 'no reason given'}")
        return answer


def epoch_of(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("set_time needs an aware instant")
    return int(instant.astimezone(UTC).timestamp())


class HelperSystemActions:
    """The maintenance page's restart / reboot / set-time on a real unit, through the helper."""

    def __init__(self, allowed_units: Sequence[str], client: PrivilegedClient | None = None) -> None:
        self.allowed_units = tuple(allowed_units)
        self.client = client or PrivilegedClient(ADMIN_SOCKET)
        self.last_note = ""

    def __repr__(self) -> str:
        return f"HelperSystemActions(units={self.allowed_units})"

    def restart_service(self, unit: str) -> None:
        if unit not in self.allowed_units:
            raise PresensiError(f"{unit!r} is not a service this page may restart")
        self.client.call(Request("restart", unit=unit))

    def reboot(self) -> None:
        self.client.call(Request("reboot"))

    def set_time(self, instant: datetime) -> None:
        answer = self.client.call(Request("set-time", epoch=epoch_of(instant)))
        self.last_note = str(answer.get("note", ""))


class HelperClockSetter:
    """Steps the clock through the helper's clock socket (the port-4370 server's SetTime)."""

    def __init__(self, client: PrivilegedClient | None = None) -> None:
        self.client = client or PrivilegedClient(CLOCK_SOCKET)

    def set_time(self, instant: datetime) -> None:
        self.client.call(Request("set-time", epoch=epoch_of(instant)))


def journal_lines(client: PrivilegedClient, units: Sequence[str], lines: int) -> list[str]:
    """The newest ``lines`` journal entries (``journalctl -o json`` lines) of ``units``."""
    answer = client.call(Request("logs", units=tuple(units), lines=max(1, min(lines, MAX_LOG_LINES))))
    got = answer.get("lines")
    return [str(x) for x in got] if isinstance(got, list) else []
