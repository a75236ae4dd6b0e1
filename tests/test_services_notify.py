"""Every long-running service, started as systemd starts it (Type=notify with a watchdog), says
READY=1 and keeps pinging WATCHDOG=1 while it works — against a notify socket the test owns."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    yield sock, path
    sock.close()


def expect_ready_and_pings(
    sock: socket.socket, proc: subprocess.Popen[bytes], *, pings: int = 2, timeout_s: float = 90
) -> list[str]:
    """Messages until READY=1 and ``pings`` WATCHDOG=1 after it (fails if the process dies)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    ready, count = False, 0
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the service exited ({proc.returncode}) after {seen}"
        sock.settimeout(max(0.1, min(2.0, deadline - time.monotonic())))
        try:
            data = sock.recv(4096).decode()
        except TimeoutError:
            continue
        seen.append(data)
        ready = ready or "READY=1" in data.splitlines()
        if ready and "WATCHDOG=1" in data.splitlines():
            count += 1
            if count >= pings:
                return seen
    raise AssertionError(f"no READY=1 and {pings} watchdog pings within {timeout_s} s: {seen}")


def start(args: list[str], sock_path: str, tmp_path: Path, config: str) -> subprocess.Popen[bytes]:
    (tmp_path / "kiosk.toml").write_text(config)
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "2000000", "PRESENSI_CLOCK_STATE": "synced"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "--config",
            str(tmp_path / "kiosk.toml"),
            *args,
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stderr.log", "wb"),
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


SIM_KIOSK = """
[unit]
hardware = "sim"
[camera]
source = "sim"
[cards]
reader = "sim"
[web]
screen_port = {screen}
maintenance_port = {maint}
maintenance_host = "127.0.0.1"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_kiosk_service(notify_socket: tuple[socket.socket, str], tmp_path: Path) -> None:
    sock, path = notify_socket
    proc = start(["run"], path, tmp_path, SIM_KIOSK.format(screen=free_port(), maint=free_port()))
    try:
        expect_ready_and_pings(sock, proc)
    finally:
        stop(proc)


def test_the_fingerprint_bridge_service(notify_socket: tuple[socket.socket, str], tmp_path: Path) -> None:
    sock, path = notify_socket
    proc = start(["bridge", "run"], path, tmp_path, '[unit]\nhardware = "sim"\n[fingerprint]\nmodule = "sim"\n')
    try:
        expect_ready_and_pings(sock, proc)
    finally:
        stop(proc)


def test_the_sync_and_server_services(notify_socket: tuple[socket.socket, str], tmp_path: Path) -> None:
    from kiosk.demo.server import start_demo_server

    sock, path = notify_socket
    server, token = start_demo_server(tmp_path / "server", unit_code="DEMO")
    try:
        ca = server.ca_file
        env = {**os.environ, "PRESENSI_CLOCK_STATE": "synced"}
        provisioned = subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk.cli",
                "provision",
                "--server",
                server.url,
                "--token",
                token,
                "--ca",
                str(ca),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert provisioned.returncode == 0, provisioned.stderr
        proc = start(["sync", "run"], path, tmp_path, "[sync]\nenabled = true\ninterval_s = 1\n")
        try:
            expect_ready_and_pings(sock, proc)
        finally:
            stop(proc)
    finally:
        server.stop()
    # The reference server on its own, as its unit starts it.
    second = tmp_path / "notify2.sock"
    sock2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock2.bind(str(second))
    env = {**os.environ, "NOTIFY_SOCKET": str(second), "WATCHDOG_USEC": "12000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "server", "run", "--server-config", str(server.config_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        expect_ready_and_pings(sock2, proc, pings=1)
    finally:
        stop(proc)
        sock2.close()
