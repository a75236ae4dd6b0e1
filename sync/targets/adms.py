"""ZKTeco PUSH ("ADMS"): the unit behaves as a PUSH device towards an existing attendance server.

The device initiates everything over HTTP(S) (PROTOCOLS.md §4):

- handshake ``GET /iclock/cdata?SN=…&options=all&pushver=2.4.1``: the server answers its options,
  among them ``ATTLOGStamp`` — the stamp of the last attendance upload it stored. The stamp is a
  hint, never a reason to skip: uploads resume after the unit's own acknowledged cursor, and move
  past it only to a stamp this unit itself sent in an upload whose reply was lost (so a lost reply
  repeats nothing). A stamp the unit never sent (``9999``, which many public servers hard-code for
  "only new records", ``None``, a stamp beyond the last punch) or one below the cursor changes
  nothing: nothing is skipped and nothing acknowledged is sent again without an explicit
  ``DATA QUERY ATTLOG`` range. The key is read as real servers write it (``ATTLOGStamp``,
  ``ATTLOGSTAMP``, ``Stamp``);
- ``POST /iclock/cdata?SN=…&table=ATTLOG&Stamp=…``: one line per punch
  ``PIN\\tYYYY-MM-DD HH:MM:SS\\tstatus\\tverify\\tworkcode\\t0\\t0``, answered ``OK:<n>``;
- ``GET /iclock/getrequest?SN=…``: ``OK`` or command lines ``C:<id>:<command>``; results go back
  with ``POST /iclock/devicecmd?SN=…`` as ``ID=<id>&Return=<code>&CMD=<name>``.

A ``200`` is an accepted upload unless its body says otherwise (``ERROR…``, ``FAIL…``): an empty
body is what several servers answer.

Commands are allow-listed: update/delete user info, query attendance, check, info. User commands
are off unless ``apply_user_commands`` is set, refused over plain http, and never touch an
employee or card the central roster (or a technician) made, never move a card from one person to
another, never clear codes (``core.store``-side rules in ``sync.targets.factory``). Everything
else — a ``Shell`` command above all, but also reboot, clearing logs or data, option changes — is
refused (``Return=-1002``) and logged. Nothing a server sends ever reaches a shell.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from core.errors import ConfigError, SyncError
from core.store.punches import Punch
from sync.targets.base import Delivery, TargetUnavailable
from sync.zk4370.codec import STATES, VERIFY_TYPES

log = logging.getLogger(__name__)

PUSH_VERSION = "2.4.1"
REFUSED = -1002  # "command not supported" as PUSH devices answer it
ALLOWED = ("DATA UPDATE USERINFO", "DATA DELETE USERINFO", "DATA QUERY ATTLOG", "CHECK", "INFO")
USER_COMMANDS = ("DATA UPDATE USERINFO", "DATA DELETE USERINFO")
STAMP_KEYS = ("attlogstamp", "stamp")
REFUSING_REPLIES = ("ERROR", "FAIL", "UNKNOWN", "DENIED")


class CommandRefused(Exception):
    """A user command the unit will not apply (its text says why, for the log)."""


def parse_stamp(options: dict[str, str]) -> int | None:
    """The server's attendance stamp, read as real servers write it; None when absent or not a
    plain decimal number (``None``, ``²``, ``-1``)."""
    lowered = {key.lower(): value.strip() for key, value in options.items()}
    for key in STAMP_KEYS:
        value = lowered.get(key)
        if value is not None:
            return int(value) if value.isascii() and value.isdecimal() else None
    return None


@dataclass(frozen=True)
class CommandResult:
    id: str
    name: str
    code: int
    extra: str = ""  # further lines (INFO)


class RosterCommands:
    """What allow-listed user commands may do to the unit's roster (injected)."""

    def __init__(
        self,
        upsert: Callable[[str, str, str | None], None],
        remove: Callable[[str], None],
        punches_between: Callable[[datetime, datetime], list[Punch]],
        info: Callable[[], dict[str, str]],
    ) -> None:
        self.upsert, self.remove, self.punches_between, self.info = upsert, remove, punches_between, info


def parse_fields(text: str) -> dict[str, str]:
    """``PIN=1\\tName=Budi\\tCard=123`` → dict (tab-separated ``key=value``)."""
    fields = {}
    for part in text.split("\t"):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


class AdmsTarget:
    type_key: ClassVar[str] = "adms"

    def __init__(
        self,
        name: str,
        url: str,
        serial_number: str,
        *,
        zone: str,
        roster: RosterCommands | None = None,
        user_commands: bool = False,
        ca_file: Path | None = None,
        allow_plain_http: bool = False,
        timeout_s: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        scheme = urlsplit(url).scheme
        if scheme == "http" and not allow_plain_http:
            raise ConfigError(
                f"refusing plain http to the ADMS server {url}: use https:// or set allow_plain_http for this target"
            )
        if scheme not in ("http", "https"):
            raise ConfigError(f"the ADMS server URL {url!r} is not an http(s) URL")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self.name = name
        self.url = url.rstrip("/")
        self.sn = serial_number
        self.zone = ZoneInfo(zone)
        self.roster = roster
        self.user_commands = user_commands
        self.plain_http = scheme == "http"
        self.options: dict[str, str] = {}
        self.server_stamp: int | None = None
        self._handshaken = False
        self._sent_stamps: set[int] = set()  # stamps of uploads this process posted
        self._http = httpx.Client(
            verify=verify, timeout=timeout_s, transport=transport, headers={"User-Agent": "iClock Proxy/1.09"}
        )

    def __repr__(self) -> str:
        return f"AdmsTarget({self.name}, {self.url}, SN={self.sn})"

    def close(self) -> None:
        self._http.close()

    # -- HTTP ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, params: dict[str, str], body: str | None = None) -> str:
        try:
            response = self._http.request(method, f"{self.url}{path}", params={"SN": self.sn, **params}, content=body)
        except httpx.HTTPError as exc:
            self._handshaken = False  # handshake again after an outage
            raise TargetUnavailable(f"cannot reach {self.url}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            self._handshaken = False
            raise TargetUnavailable(f"the ADMS server answered {response.status_code}")
        if response.status_code >= 400:
            raise SyncError(f"the ADMS server refused {path} ({response.status_code}): is SN {self.sn} registered there?")
        return response.text

    def handshake(self) -> dict[str, str]:
        text = self._call("GET", "/iclock/cdata", {"options": "all", "pushver": PUSH_VERSION, "language": "69"})
        options = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                options[key.strip()] = value.strip()
        self.options = options
        self.server_stamp = parse_stamp(options)
        self._handshaken = True
        log.info("ADMS %s: handshake, server stamp %s", self.name, self.server_stamp)
        return options

    # -- delivery --------------------------------------------------------------------------

    def resume_after(self, cursor: int) -> int:
        """Where uploads resume: the unit's acknowledged cursor, or further only to a stamp this
        unit sent itself (the server stored an upload whose reply was lost)."""
        if not self._handshaken:
            self.handshake()
        stamp = self.server_stamp
        self._sent_stamps = {sent for sent in self._sent_stamps if sent > cursor}  # settled ones are done
        if stamp is not None and stamp > cursor and stamp in self._sent_stamps:
            log.info("ADMS %s: the server stored our upload through %d (its reply was lost)", self.name, stamp)
            return stamp
        if stamp is not None and stamp != cursor:
            log.info("ADMS %s: server stamp %d is not one we sent after %d; resuming after our cursor", self.name, stamp, cursor)
        return cursor

    def attlog_line(self, punch: Punch) -> str:
        local = punch.at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        return f"{punch.employee_id}\t{local}\t{STATES.get(punch.kind, 0)}\t{VERIFY_TYPES.get(punch.method, 0)}\t0\t0\t0"

    def deliver(self, punches: Sequence[Punch], after_seq: int) -> Delivery:
        if not punches:
            return Delivery(after_seq)
        stamp = punches[-1].seq
        body = "\n".join(self.attlog_line(p) for p in punches) + "\n"
        self._sent_stamps.add(stamp)
        reply = self._call("POST", "/iclock/cdata", {"table": "ATTLOG", "Stamp": str(stamp)}, body).strip()
        if reply.upper().startswith(REFUSING_REPLIES):
            raise TargetUnavailable(f"the ADMS server did not accept the upload: {reply[:80]!r}")
        self.server_stamp = stamp
        return Delivery(stamp, delivered=len(punches))

    # -- commands --------------------------------------------------------------------------

    def poll(self) -> list[CommandResult]:
        """Fetch and answer the server's commands (allow-listed)."""
        text = self._call("GET", "/iclock/getrequest", {}).strip()
        if not text or text == "OK":
            return []
        commands: list[tuple[str, str, list[str]]] = []  # id, command, further records
        for line in text.splitlines():
            parts = line.strip().split(":", 2)
            if len(parts) == 3 and parts[0] == "C" and parts[1].strip():
                commands.append((parts[1].strip(), parts[2].strip(), []))
            elif commands and commands[-1][1].startswith(USER_COMMANDS) and "PIN=" in line:
                commands[-1][2].append(line.strip())  # a multi-record user command: one record a line
            elif line.strip():
                log.warning("ADMS %s: ignored a command line that is not C:<id>:<command>: %r", self.name, line[:60])
        results = [self.run_command(command_id, command, records) for command_id, command, records in commands]
        if not results:
            return []
        body = "\n".join(f"ID={r.id}&Return={r.code}&CMD={r.name}" + (f"\n{r.extra}" if r.extra else "") for r in results)
        self._call("POST", "/iclock/devicecmd", {}, body + "\n")
        return results

    def run_command(self, command_id: str, command: str, records: Sequence[str] = ()) -> CommandResult:
        """Run one command the server sent (``C:<id>:<command>``), only when allow-listed and
        wired; the result is what the unit answers for it."""
        allowed = next((name for name in ALLOWED if command == name or command.startswith(name + " ")), None)
        name = command.split(" ", 1)[0]
        if allowed is None:
            log.warning("ADMS %s: refused command %r from the server (not on the allow-list)", self.name, command[:60])
            return CommandResult(command_id, name, REFUSED)
        if allowed.startswith("DATA") and self.roster is None:
            log.warning("ADMS %s: refused %s (no roster wired to this target)", self.name, allowed)
            return CommandResult(command_id, "DATA", REFUSED)
        if allowed in USER_COMMANDS and not self.user_commands:
            log.warning("ADMS %s: refused %s (targets.apply_user_commands is off)", self.name, allowed)
            return CommandResult(command_id, "DATA", REFUSED)
        if allowed in USER_COMMANDS and self.plain_http:
            log.warning("ADMS %s: refused %s over plain http (user commands need https)", self.name, allowed)
            return CommandResult(command_id, "DATA", REFUSED)
        try:
            return self._run(command_id, allowed, command[len(allowed) :].strip(), records)
        except CommandRefused as exc:
            log.warning("ADMS %s: refused %s: %s", self.name, allowed, exc)
            return CommandResult(command_id, "DATA", REFUSED)
        except (ValueError, KeyError) as exc:
            log.warning("ADMS %s: bad %s command: %s", self.name, allowed, exc)
            return CommandResult(command_id, name, -1)

    def _run(self, command_id: str, allowed: str, args: str, records: Sequence[str] = ()) -> CommandResult:
        fields = parse_fields(args)
        if allowed == "DATA UPDATE USERINFO":
            assert self.roster is not None
            for record in [fields, *(parse_fields(r) for r in records)]:
                self.roster.upsert(record["PIN"], record.get("Name") or record["PIN"], record.get("Card") or None)
            return CommandResult(command_id, "DATA", 0)
        if allowed == "DATA DELETE USERINFO":
            assert self.roster is not None
            for record in [fields, *(parse_fields(r) for r in records)]:
                self.roster.remove(record["PIN"])
            return CommandResult(command_id, "DATA", 0)
        if allowed == "DATA QUERY ATTLOG":
            assert self.roster is not None
            start = datetime.strptime(fields["StartTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=self.zone)
            end = datetime.strptime(fields["EndTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=self.zone)
            punches = self.roster.punches_between(start, end)
            if punches:
                body = "\n".join(self.attlog_line(p) for p in punches) + "\n"
                self._call("POST", "/iclock/cdata", {"table": "ATTLOG", "Stamp": str(self.server_stamp or 0)}, body)
            return CommandResult(command_id, "DATA", len(punches))
        if allowed == "CHECK":
            self._handshaken = False  # handshake again, then upload what the server lacks
            return CommandResult(command_id, "CHECK", 0)
        info = self.roster.info() if self.roster else {}
        return CommandResult(command_id, "INFO", 0, "\n".join(f"{k}={v}" for k, v in info.items()))

    def delay_s(self, default: float) -> float:
        value = self.options.get("Delay", "")
        return float(value) if value.isdigit() else default
