"""What every page of the unit works with (:class:`WebContext`): configuration, clock, database
connections per thread, accounts, services, the templates; built once by :mod:`kiosk.web.runner`."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from fastapi.templating import Jinja2Templates

from core.clock import Clock, ClockStateSource, FixedClockState, zone_abbreviation
from core.config import KioskConfig
from core.credentials import LockoutPolicy
from core.privileged_protocol import ADMIN_SOCKET
from core.store.accounts import Accounts
from kiosk.checks.findings import Finding
from kiosk.privileged.client import PrivilegedClient, journal_lines
from kiosk.web.ports import DecisionHub, FrameSource, Services
from kiosk.web.sources.export import CsvExporter, Exporter, UsbTargets
from kiosk.web.sources.hostinfo import HostInfo
from kiosk.web.sources.logs import FileLogSource, JournalLogSource, LogSource
from kiosk.web.sources.netprobe import ProbeStep, ServerProbe
from sync.state import effective_server

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


class ThreadConnections:
    """One SQLite connection per thread (request handlers run on a thread pool)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ThreadConnections(open={len(self._all)})"

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def new(self) -> sqlite3.Connection:
        """A fresh connection the caller owns (watchers, exports)."""
        return self._connect()

    def close_all(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


@dataclass
class WebContext:
    """Everything the two apps are built from. Only the first four are required."""

    config: KioskConfig
    connect: Callable[[], sqlite3.Connection]
    services: Services
    clock: Clock
    data_dir: Path = Path(".")
    clock_state: ClockStateSource = field(default_factory=FixedClockState)
    hub: DecisionHub = field(default_factory=DecisionHub)
    frames: FrameSource | None = None
    logs: LogSource | None = None
    exporter: Exporter | None = None
    usb: UsbTargets | None = None
    host: HostInfo = field(default_factory=HostInfo)
    probe: Callable[[], list[ProbeStep]] | None = None
    doctor: Callable[[], list[Finding]] | None = None
    config_path: Path | None = None
    tls_fingerprint: str | None = None
    maintenance_url: str | None = None
    device_id: str = ""
    watch_punches: bool = True
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.db = ThreadConnections(self.connect)
        web = self.config.web
        if self.logs is None:
            if web.log_file:
                self.logs = FileLogSource(web.log_file)
            elif self.config.unit.hardware == "sim":
                self.logs = JournalLogSource(web.services)
            else:
                self.logs = JournalLogSource(web.services, fetch=partial(journal_lines, PrivilegedClient(ADMIN_SOCKET)))
        if self.exporter is None:
            self.exporter = CsvExporter(self.db.get, self.clock, self.config.unit.zone)
        if self.usb is None:
            self.usb = UsbTargets(web.usb_root, require_mount=self.config.unit.hardware != "sim")
        if self.probe is None:
            self.probe = self._probe_server

    def server_endpoint(self) -> tuple[str, Path | None]:
        """(URL, CA) the sync service uses: the configuration, else what provisioning recorded."""
        sync = self.config.sync
        return effective_server(self.db.get(), self.data_dir, sync.server_url, sync.ca_file)

    def _probe_server(self) -> list[ProbeStep]:
        url, ca = self.server_endpoint()
        return ServerProbe(url, ca_file=ca, timeout_s=self.config.web.probe_timeout_s).run()

    def accounts(self) -> Accounts:
        web = self.config.web

        return Accounts(
            self.db.get(),
            self.clock,
            idle=timedelta(minutes=web.session_minutes),
            max_age=timedelta(hours=web.session_max_hours),
            lockout=LockoutPolicy(web.lockout_after, web.lockout_base_s, web.lockout_max_s),
        )

    @property
    def zone(self) -> str:
        return self.config.unit.zone

    @property
    def zone_abbr(self) -> str:
        return zone_abbreviation(self.config.unit.zone)

    @property
    def export_dir(self) -> Path:
        path = self.data_dir / "exports"
        path.mkdir(parents=True, exist_ok=True)
        return path


def templates() -> Jinja2Templates:
    env = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env.env.autoescape = True
    return env
