"""The reference server as a child process with a CA made for it: for the demo, the benchmark and tests.

    with ServerProcess(workdir) as server:          # CA, certificate, config, database; started
                                                     # (in_process=True: on a thread of this process)
        token = server.admin().issue_token("DISKOMINFO")
        provision_and_sync(runtime, server, token)   # the unit now syncs to it over TLS

:func:`start_demo_server` does the first two lines for the demo.
"""

from __future__ import annotations

import logging
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from core.clock import SystemClock
from core.errors import SyncError
from core.runtime import Runtime
from sync.provision import provision
from sync.server.admin import ServerAdmin
from sync.server.certs import CertFiles, demo_pki
from sync.server.config import load_server_config
from sync.server.run import ServerThread
from sync.server.storage import Storage
from sync.service import run_once

log = logging.getLogger(__name__)


class ServerProcess:
    """``presensi server run`` in a child process over TLS on 127.0.0.1, its database in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int = 0,
        database_url: str | None = None,
        faults: dict[str, Any] | None = None,
        extra_config: str = "",
        python: str = sys.executable,
        in_process: bool = False,
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.database_url = database_url or f"sqlite:///{workdir / 'server.db'}"
        self.faults = faults or {}
        self.extra_config = extra_config
        self.python = python
        self.pki: CertFiles = demo_pki(workdir / "pki")
        self.config_path = workdir / "server.toml"
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.in_process = in_process
        self._thread: ServerThread | None = None
        self._write_config()

    def __repr__(self) -> str:
        state = f"running pid {self.proc.pid}" if self.proc and self.proc.poll() is None else "stopped"
        if self._thread is not None:
            state = "running in this process"
        return f"ServerProcess({self.url or self.workdir}, {state})"

    @property
    def ca_file(self) -> Path:
        return self.pki.ca_cert

    def _write_config(self) -> None:
        lines = [
            f'database_url = "{self.database_url}"',
            'host = "127.0.0.1"',
            f"port = {self.port}",
            f'tls_cert_file = "{self.pki.cert}"',
            f'tls_key_file = "{self.pki.key}"',
            "open_pages = true  # a loopback demo: the device and event pages without a back-office login",
            self.extra_config,
        ]
        if self.faults:
            lines.append("[faults]")
            lines += [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in self.faults.items()]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def admin(self) -> ServerAdmin:
        """Administration against the same database (in this process)."""
        config = load_server_config(self.config_path)
        return ServerAdmin(config, Storage(config.database_url), SystemClock())

    def start(self, timeout_s: float = 30.0) -> str:
        """Start the child (or the thread) and wait until it listens; returns its URL."""
        if self.in_process:
            if self._thread is None:
                config = load_server_config(self.config_path)
                self._thread = ServerThread(config, Storage(config.database_url))
                self.url = self._thread.start()
                self.port = int(self.url.rsplit(":", 1)[1])
                self._write_config()
            return self.url
        if self.proc is not None and self.proc.poll() is None:
            return self.url
        env = {**os.environ, "PRESENSI_LOG_LEVEL": os.environ.get("PRESENSI_SERVER_LOG_LEVEL", "warning")}
        self.proc = subprocess.Popen(
            [self.python, "-m", "kiosk.cli", "server", "run", "--server-config", str(self.config_path)],
            stdout=subprocess.PIPE,
            stderr=open(self.workdir / "server.log", "ab"),  # noqa: SIM115 - the child owns it
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    continue
                line = self.proc.stdout.readline()
                if not line:
                    break
                if line.startswith("listening on "):
                    self.url = line.removeprefix("listening on ").strip()
                    self.port = int(self.url.rsplit(":", 1)[1])
                    self._write_config()  # a restart reuses the same port
                    return self.url
        finally:
            selector.close()
        self.stop()
        log_text = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        raise SyncError(f"the reference server did not start; its log ends:\n{log_text}")

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_demo_server(workdir: Path, unit_code: str = "DEMO", *, in_process: bool = False) -> tuple[ServerProcess, str]:
    """A started reference server (a child process, or a thread of this one) with a demo CA and a
    unit; returns it and a provisioning token. Stop it with ``server.stop()``."""
    server = ServerProcess(workdir, in_process=in_process)
    admin = server.admin()
    admin.roster.add_unit(unit_code, "Unit demo")
    admin.roster.publish()
    token = admin.issue_token(unit_code)
    admin.storage.close()
    server.start()
    return server, token


def provision_and_sync(runtime: Runtime, server: ServerProcess, token: str) -> dict[str, Any]:
    """Provision the unit of ``runtime`` with ``server`` (pinning its CA) and run one sync round."""

    provision(runtime, server.url, token, server.ca_file)
    return run_once(runtime)
