"""core.notify against a unix datagram socket the test owns: the sd_notify protocol and the
watchdog that pings only while the main loop makes progress."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.notify import Notifier, Watchdog

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """systemd's side: a bound datagram socket and its address for $NOTIFY_SOCKET."""
    path = tmp_path / "notify.sock"
    if len(str(path)) > 100:  # sun_path is 108 bytes
        path = Path(f"/tmp/presensi-notify-{os.getpid()}-{id(tmp_path)}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()
    path.unlink(missing_ok=True)


def drain(sock: socket.socket) -> list[str]:
    """Every datagram already queued, without waiting."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(5)
    return out


def test_messages_reach_the_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, address = notify_socket
    notifier = Notifier.from_env({"NOTIFY_SOCKET": address})
    assert notifier.ready("siap melayani")
    assert sock.recv(4096) == b"READY=1\nSTATUS=siap melayani"
    notifier.status("baris satu\nbaris dua")
    assert sock.recv(4096) == b"STATUS=baris satu baris dua"
    notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    notifier.extend_timeout(1.5)
    assert sock.recv(4096) == b"EXTEND_TIMEOUT_USEC=1500000"
    notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    notifier.close()


def test_abstract_socket_address() -> None:
    name = f"presensi-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        assert Notifier(f"@{name}").ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_no_socket_means_no_op_and_a_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    assert not Notifier.from_env({}).ready()
    gone = Notifier(str(tmp_path / "nobody-listens.sock"))
    assert gone.ready() is False
    assert gone.watchdog() is False


def test_malformed_assignment_is_refused() -> None:
    with pytest.raises(ValueError):
        Notifier("/nonexistent").send("READY=1\nWATCHDOG=1")
    with pytest.raises(ValueError):
        Notifier("/nonexistent").send("READY")


def test_watchdog_usec_is_only_for_the_named_pid() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"}
    assert Notifier.from_env(env, pid=42).watchdog_usec == 30_000_000
    assert Notifier.from_env({**env, "WATCHDOG_PID": "42"}, pid=42).watchdog_usec == 30_000_000
    assert Notifier.from_env({**env, "WATCHDOG_PID": "41"}, pid=42).watchdog_usec is None
    assert Notifier.from_env({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "junk"}).watchdog_usec is None


def test_watchdog_pings_only_while_progress_is_fresh(notify_socket: tuple[socket.socket, str]) -> None:
    sock, address = notify_socket
    clock = FakeClock()
    notifier = Notifier(address, watchdog_usec=20_000_000)  # WatchdogSec=20
    dog = Watchdog(notifier, clock)
    assert dog.fresh_ns == 10_000_000_000 and dog.period_s == 5.0

    # A working loop: progress every 3 s, the ticker every 5 s → every tick pings.
    for _ in range(6):
        clock.advance(3)
        dog.progress()
        assert dog.tick()
    assert drain(sock) == ["WATCHDOG=1"] * 6

    # The loop stalls: 9.9 s of age is still fresh, 10.1 s is not.
    clock.advance(9.9)
    assert dog.tick()
    clock.advance(0.2)
    assert not dog.tick()
    clock.advance(30)
    assert not dog.tick()
    messages = drain(sock)
    assert messages[0] == "WATCHDOG=1"
    assert "WATCHDOG=1" not in messages[1:]
    assert any(m.startswith("STATUS=macet") for m in messages[1:])

    # It recovers: the next progress brings the pings back.
    dog.progress()
    assert dog.tick()
    assert drain(sock) == ["WATCHDOG=1"]


def test_without_systemd_watchdog_nothing_is_sent(notify_socket: tuple[socket.socket, str]) -> None:
    sock, address = notify_socket
    dog = Watchdog(Notifier(address), FakeClock())
    assert not dog.active
    dog.progress()
    assert not dog.tick()
    assert dog.start()._thread is None
    assert drain(sock) == []


def test_idle_wait_counts_as_progress() -> None:
    clock = FakeClock()
    dog = Watchdog(Notifier("/nonexistent", watchdog_usec=2_000_000), clock)
    stop = threading.Event()
    stop.set()
    clock.advance(100)
    assert dog.idle_wait(stop, 60)
    assert dog.idle_age_s() == 0.0


CHILD = """
import sys, threading
from core.clock import SystemClock
from core.notify import Notifier, Watchdog

mode = sys.argv[1]
notifier = Notifier.from_env()
watchdog = Watchdog(notifier, SystemClock())
turn = threading.Event()
with watchdog:
    notifier.ready("up")
    while True:
        if mode == "stall":
            sys.stdin.readline()      # a serial read that never returns
        else:
            turn.wait(0.01)           # one turn of real work
        watchdog.progress()
"""


def run_child(mode: str, address: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": "400000",  # WatchdogSec=0.4: fresh for 0.2 s, a tick every 0.1 s
        "PYTHONPATH": str(REPO),
    }
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen([sys.executable, "-c", CHILD, mode], env=env, stdin=subprocess.PIPE)


def collect(sock: socket.socket, *, until_pings: int | None = None, quiet_s: float = 1.5, cap: int = 200) -> list[str]:
    """Datagrams until ``until_pings`` pings arrived, or the socket was quiet for ``quiet_s``."""
    out: list[str] = []
    sock.settimeout(quiet_s)
    try:
        while len(out) < cap:
            out.append(sock.recv(4096).decode())
            if until_pings is not None and out.count("WATCHDOG=1") >= until_pings:
                break
    except TimeoutError:
        pass
    return out


def test_a_working_service_keeps_pinging(notify_socket: tuple[socket.socket, str]) -> None:
    sock, address = notify_socket
    child = run_child("work", address)
    try:
        sock.settimeout(30)
        while not sock.recv(4096).decode().startswith("READY=1"):
            pass
        messages = collect(sock, until_pings=15)
        assert messages.count("WATCHDOG=1") >= 15, messages
        assert not any(m.startswith("STATUS=macet") for m in messages)
    finally:
        child.kill()
        child.wait()


def test_a_stalled_service_stops_pinging(notify_socket: tuple[socket.socket, str]) -> None:
    sock, address = notify_socket
    child = run_child("stall", address)
    try:
        sock.settimeout(30)
        first = []
        while not any(m.startswith("READY=1") for m in first):
            first.append(sock.recv(4096).decode())
        # Only the pings within 0.2 s of the last progress (at most the start tick and two more),
        # then a "macet" status, then silence: 1.5 s without a datagram is ~4 watchdog periods.
        messages = first + collect(sock, quiet_s=1.5)
        pings = messages.count("WATCHDOG=1")
        assert pings <= 3, messages
        assert any(m.startswith("STATUS=macet") for m in messages), messages
        assert child.poll() is None  # it did not exit: it is stuck, which is what systemd must catch
    finally:
        child.kill()
        child.wait()
