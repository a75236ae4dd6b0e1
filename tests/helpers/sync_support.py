"""Test support for the sync area: a PostgreSQL the tests start themselves, a cutting TCP proxy,
and a unit runtime wired to the reference server."""

from __future__ import annotations

import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from core.clock import SystemClock
from core.config import KioskConfig
from core.runtime import Runtime

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throw-away PostgreSQL on a Unix socket in a temporary directory; yields its URL.
    Runs the server as the 'postgres' user when the tests run as root."""
    root = Path(tempfile.mkdtemp(prefix="presensi-pg-"))
    user: str | None = None
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        user = "postgres"
    port = free_port()
    data = root / "data"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    try:
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
            user=user,
            env=env,
        )
        subprocess.run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-k {root} -p {port} -c listen_addresses='' -c fsync=off",
                "start",
            ],
            check=True,
            capture_output=True,
            user=user,
            env=env,
        )
        import psycopg

        with psycopg.connect(f"postgresql://postgres@/postgres?host={root}&port={port}", autocommit=True) as conn:
            conn.execute("CREATE DATABASE presensi")
        yield f"postgresql://postgres@/presensi?host={root}&port={port}"
    finally:
        subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, user=user)
        shutil.rmtree(root, ignore_errors=True)


def unit_runtime(data_dir: Path, **sync: object) -> Runtime:
    """A unit (simulated hardware, clock trusted) with sync settings for fast tests."""
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "synced"
    # the unit's key: the test session's key file (tests/conftest.py), which the commands a test
    # starts in other processes read too, as on a unit
    config.sync.backoff_base_s = 0.01
    config.sync.backoff_max_s = 0.05
    config.sync.timeout_s = 5
    for key, value in sync.items():
        setattr(config.sync, key, value)
    return Runtime(config=config, data_dir=data_dir, clock=SystemClock())


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that cuts a share of connections after a random number of bytes,
    independently in each direction (both sockets are closed at the cut)."""

    def __init__(
        self, upstream_port: int, rng: random.Random, *, cut_share: float = 0.5, max_up: int = 40_000, max_down: int = 6_000
    ) -> None:
        self.upstream_port = upstream_port
        self.rng = rng
        self.cut_share = cut_share
        self.max_up, self.max_down = max_up, max_down
        self.cuts = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._listener.close()

    def _offset(self, limit: int) -> int | None:
        with self._lock:
            if self.rng.random() >= self.cut_share:
                return None
            return self.rng.randrange(0, limit)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
            closer = _Closer(client, upstream)
            for src, dst, limit in ((client, upstream, self.max_up), (upstream, client, self.max_down)):
                threading.Thread(target=self._pump, args=(src, dst, self._offset(limit), closer), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, cut_at: int | None, closer: _Closer) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                if cut_at is not None and sent + len(data) >= cut_at:
                    dst.sendall(data[: cut_at - sent])
                    with self._lock:
                        self.cuts += 1
                    closer.close()
                    return
                dst.sendall(data)
                sent += len(data)
        except OSError:
            closer.close()


class _Closer:
    def __init__(self, *socks: socket.socket) -> None:
        self.socks = socks
        self._done = threading.Lock()

    def close(self) -> None:
        if not self._done.acquire(blocking=False):
            return
        for s in self.socks:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
