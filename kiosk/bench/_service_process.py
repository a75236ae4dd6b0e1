"""One of the unit's services as the unit runs it: ``presensi …`` in its own process, started
as systemd starts it (``$NOTIFY_SOCKET``), ready when it says ``READY=1`` there (or, for a
command that does not notify, when it prints a given line)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from core.errors import PresensiError

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 600.0  # a gallery of thousands is unsealed before the kiosk says it is ready


class ServiceProcess:
    """``presensi ARGS… --config CONFIG`` as a child process; a context manager that always stops it."""

    def __init__(self, name: str, config: Path, args: list[str], workdir: Path, *, ready_line: str | None = None) -> None:
        self.name = name
        self.config = config
        self.args = args
        self.workdir = workdir
        self.ready_line = ready_line
        self.proc: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._socket: socket.socket | None = None
        self._output: list[str] = []

    def __repr__(self) -> str:
        state = "not started" if self.proc is None else f"pid {self.proc.pid}, exit {self.proc.poll()}"
        return f"<ServiceProcess {self.name} {' '.join(self.args)} ({state})>"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ServiceProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.ready_line is None:
            path = self.workdir / f"notify-{self.name}.sock"
            path.unlink(missing_ok=True)
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.bind(str(path))
            env["NOTIFY_SOCKET"] = str(path)
            threading.Thread(target=self._listen, name=f"notify-{self.name}", daemon=True).start()
        cmd = [sys.executable, "-m", "kiosk.cli", *self.args, "--config", str(self.config)]
        log.info("starting %s: %s", self.name, " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=self.workdir)
        threading.Thread(target=self._read_output, name=f"output-{self.name}", daemon=True).start()
        return self

    def _listen(self) -> None:
        assert self._socket is not None
        while not self._ready.is_set():
            try:
                message = self._socket.recv(4096).decode(errors="replace")
            except OSError:
                return
            if "READY=1" in message.splitlines():
                self._ready.set()

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._output.append(line.rstrip())
            del self._output[:-40]
            if self.ready_line is not None and self.ready_line in line:
                self._ready.set()
        self._ready.set()  # ended: wait_ready sees the exit

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Returns once the service said it is ready; PresensiError if it ended or never did."""
        assert self.proc is not None, "not started"
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            tail = "\n".join(self._output[-15:])
            raise PresensiError(f"{self.name} did not become ready (exit {self.proc.poll()}):\n{tail}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
