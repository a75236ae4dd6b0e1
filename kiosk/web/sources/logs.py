"""Where the logs page reads from: the systemd journal or a log file (injectable)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from core.errors import PresensiError

log = logging.getLogger(__name__)

LEVELS = ("debug", "info", "warning", "error")
_PRIORITY = {0: "error", 1: "error", 2: "error", 3: "error", 4: "warning", 5: "info", 6: "info", 7: "debug"}
_LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\d[ T][\d:,.]+)\s+(?P<level>[A-Z]+)\s+(?P<unit>[\w.\-]+):\s?(?P<msg>.*)$")


#: Reads the newest N journal lines (JSON) of the given units.
JournalFetch = Callable[[Sequence[str], int], list[str]]


@dataclass(frozen=True)
class LogLine:
    at: str
    level: str
    unit: str
    message: str


@dataclass(frozen=True)
class LogFilter:
    contains: str = ""
    min_level: str = "debug"
    limit: int = 200

    def matches(self, line: LogLine) -> bool:
        if self.contains and self.contains.lower() not in f"{line.unit} {line.message}".lower():
            return False
        level = line.level.lower()
        return LEVELS.index(level if level in LEVELS else "info") >= LEVELS.index(self.min_level)


class LogSource(Protocol):
    def read(self, flt: LogFilter) -> list[LogLine]:
        """The newest matching lines, oldest first."""


class FileLogSource:
    """A log file written with the ``presensi`` format (``time LEVEL logger: message``)."""

    def __init__(self, path: Path, scan_lines: int = 20000) -> None:
        self.path = path
        self.scan_lines = scan_lines

    def __repr__(self) -> str:
        return f"FileLogSource({self.path})"

    def read(self, flt: LogFilter) -> list[LogLine]:
        try:
            with self.path.open(encoding="utf-8", errors="replace") as fh:
                tail = deque(fh, maxlen=self.scan_lines)
        except OSError as exc:
            return [LogLine("", "error", "logs", f"cannot read {self.path}: {exc.strerror}")]
        out: deque[LogLine] = deque(maxlen=flt.limit)
        for raw in tail:
            m = _LINE.match(raw.rstrip("\n"))
            line = LogLine(m["at"], m["level"].lower(), m["unit"], m["msg"]) if m else LogLine("", "info", "", raw.rstrip("\n"))
            if flt.matches(line):
                out.append(line)
        return list(out)


class JournalLogSource:
    """The journal of the configured units, as ``journalctl -o json`` lines.

    On a unit the kiosk service may not read the journal itself (it is not in ``systemd-journal``):
    the privileged helper reads it, for the unit's own services only (``fetch`` is then
    :func:`kiosk.privileged.client.journal_lines`). The simulator runs ``journalctl`` directly.
    """

    def __init__(self, units: Sequence[str], fetch: JournalFetch | None = None, journalctl: str = "journalctl") -> None:
        self.units = tuple(units)
        self.journalctl = journalctl
        self.fetch = fetch or self._run_journalctl

    def __repr__(self) -> str:
        return f"JournalLogSource({self.units})"

    def _run_journalctl(self, units: Sequence[str], lines: int) -> list[str]:
        argv = [self.journalctl, "--no-pager", "-o", "json", "-n", str(lines)]
        for unit in units:
            argv += ["-u", f"{unit}.service"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
        return done.stdout.splitlines()

    def read(self, flt: LogFilter) -> list[LogLine]:
        try:
            raw_lines = self.fetch(self.units, max(flt.limit * 5, 500))
        except (OSError, subprocess.TimeoutExpired, PresensiError) as exc:
            return [LogLine("", "error", "logs", f"cannot read the journal: {exc}")]
        out: deque[LogLine] = deque(maxlen=flt.limit)
        for raw in raw_lines:
            try:
                entry = json.loads(raw)
                at = datetime.fromtimestamp(int(entry["__REALTIME_TIMESTAMP"]) / 1e6, UTC).isoformat(timespec="seconds")
                line = LogLine(
                    at,
                    _PRIORITY.get(int(entry.get("PRIORITY", 6)), "info"),
                    str(entry.get("_SYSTEMD_UNIT", entry.get("SYSLOG_IDENTIFIER", ""))),
                    str(entry.get("MESSAGE", "")),
                )
            except (ValueError, KeyError, TypeError):
                continue
            if flt.matches(line):
                out.append(line)
        return list(out)
