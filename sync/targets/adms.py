"""ZKTeco PUSH ("ADMS"): the unit behaves as a PUSH device towards an existing attendance server.

The device initiates everything over HTTP(S) (PROTOCOLS.md §4):

- handshake ``GET /iclock/cdata?SN=…&options=all&pushver=2.4.1``: the server answers its options,
  among them ``ATTLOGStamp`` — the stamp of the last attendance upload it stored. Uploads resume
  right after that stamp (our stamp is the punch's sequence number), so an outage or a lost reply
  neither loses nor repeats punches;
- ``POST /iclock/cdata?SN=…&table=ATTLOG&Stamp=…``: one line per punch
  ``PIN\\tYYYY-MM-DD HH:MM:SS\\tstatus\\tverify\\tworkcode\\t0\\t0``, answered ``OK:<n>``;
- ``GET /iclock/getrequest?SN=…``: ``OK`` or command lines ``C:<id>:<command>``; results go back
  with ``POST /iclock/devicecmd?SN=…`` as ``ID=<id>&Return=<code>&CMD=<name>``.

Commands are allow-listed: update/delete user info, query attendance, check, info. Everything
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

from kiosk.errors import ConfigError, SyncError
from kiosk.store.punches import Punch
from sync.targets.base import Delivery, TargetUnavailable
from sync.zk4370.codec import STATES, VERIFY_TYPES

log = logging.getLogger(__name__)

PUSH_VERSION = "2.4.1"
REFUSED = -1002  # "command not supported" as PUSH devices answer it
ALLOWED = ("DATA UPDATE USERINFO", "DATA DELETE USERINFO", "DATA QUERY ATTLOG", "CHECK", "INFO")


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
        self.plain_http = scheme == "http"
        self.options: dict[str, str] = {}
        self.server_stamp: int | None = None
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
            self.server_stamp = None  # handshake again after an outage
            raise TargetUnavailable(f"cannot reach {self.url}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            self.server_stamp = None
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
        stamp = options.get("ATTLOGStamp", "0")
        self.server_stamp = int(stamp) if stamp.isdigit() else 0
        log.info("ADMS %s: handshake, server has attendance up to stamp %s", self.name, self.server_stamp)
        return options

    # -- delivery --------------------------------------------------------------------------

    def resume_after(self, cursor: int) -> int:
        """Where uploads resume: right after the server's stamp (it knows what it stored)."""
        if self.server_stamp is None:
            self.handshake()
        assert self.server_stamp is not None
        if self.server_stamp != cursor:
            log.info("ADMS %s: resuming after stamp %d (our cursor was %d)", self.name, self.server_stamp, cursor)
        return self.server_stamp

    def attlog_line(self, punch: Punch) -> str:
        local = punch.at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        return f"{punch.employee_id}\t{local}\t{STATES.get(punch.kind, 0)}\t{VERIFY_TYPES.get(punch.method, 0)}\t0\t0\t0"

    def deliver(self, punches: Sequence[Punch], after_seq: int) -> Delivery:
        if not punches:
            return Delivery(after_seq)
        stamp = punches[-1].seq
        body = "\n".join(self.attlog_line(p) for p in punches) + "\n"
        reply = self._call("POST", "/iclock/cdata", {"table": "ATTLOG", "Stamp": str(stamp)}, body).strip()
        if not reply.startswith("OK"):
            raise TargetUnavailable(f"the ADMS server did not accept the upload: {reply[:80]!r}")
        self.server_stamp = stamp
        return Delivery(stamp, delivered=len(punches))

    # -- commands --------------------------------------------------------------------------

    def poll(self) -> list[CommandResult]:
        """Fetch and answer the server's commands (allow-listed)."""
        text = self._call("GET", "/iclock/getrequest", {}).strip()
        if not text or text == "OK":
            return []
        results = []
        for line in text.splitlines():
            if not line.startswith("C:"):
                continue
            _c, command_id, command = line.split(":", 2)
            results.append(self.execute(command_id, command))
        body = "\n".join(f"ID={r.id}&Return={r.code}&CMD={r.name}" + (f"\n{r.extra}" if r.extra else "") for r in results)
        self._call("POST", "/iclock/devicecmd", {}, body + "\n")
        return results

    def execute(self, command_id: str, command: str) -> CommandResult:
        allowed = next((name for name in ALLOWED if command == name or command.startswith(name + " ")), None)
        name = command.split(" ", 1)[0]
        if allowed is None:
            log.warning("ADMS %s: refused command %r from the server (not on the allow-list)", self.name, command[:60])
            return CommandResult(command_id, name, REFUSED)
        if allowed.startswith("DATA") and self.roster is None:
            log.warning("ADMS %s: refused %s (targets.apply_user_commands is off)", self.name, allowed)
            return CommandResult(command_id, "DATA", REFUSED)
        try:
            return self._run(command_id, allowed, command[len(allowed) :].strip())
        except (ValueError, KeyError) as exc:
            log.warning("ADMS %s: bad %s command: %s", self.name, allowed, exc)
            return CommandResult(command_id, name, -1)

    def _run(self, command_id: str, allowed: str, args: str) -> CommandResult:
        fields = parse_fields(args)
        if allowed == "DATA UPDATE USERINFO":
            assert self.roster is not None
            self.roster.upsert(fields["PIN"], fields.get("Name") or fields["PIN"], fields.get("Card") or None)
            return CommandResult(command_id, "DATA", 0)
        if allowed == "DATA DELETE USERINFO":
            assert self.roster is not None
            self.roster.remove(fields["PIN"])
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
            self.server_stamp = None  # handshake again, then upload what the server lacks
            return CommandResult(command_id, "CHECK", 0)
        info = self.roster.info() if self.roster else {}
        return CommandResult(command_id, "INFO", 0, "\n".join(f"{k}={v}" for k, v in info.items()))

    def delay_s(self, default: float) -> float:
        value = self.options.get("Delay", "")
        return float(value) if value.isdigit() else default
