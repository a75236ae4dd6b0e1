"""Diagnostics, the server probe and the log filter of the maintenance page, in process: answers
in plain language for each fault, and each step of the way to the server against a real TLS
socket on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime
from pathlib import Path

from core.clock import ClockState, FakeClock
from kiosk.web.maintenance.diagnose import Facts, diagnose
from kiosk.web.sources.hostinfo import Interface
from kiosk.web.sources.logs import FileLogSource, LogFilter
from kiosk.web.sources.netprobe import ServerProbe
from kiosk.web.status import SyncState
from kiosk.web.tls import ensure_certificate


def test_logs_filter(tmp_path: Path) -> None:
    (tmp_path / "l.log").write_text(
        "2026-11-23 07:00:01,000 INFO a.b: one\n2026-11-23 07:00:02,000 ERROR c.d: two camera\nfree text\n"
    )
    src = FileLogSource(tmp_path / "l.log")
    assert [line.message for line in src.read(LogFilter(min_level="error"))] == ["two camera"]
    assert [line.message for line in src.read(LogFilter(contains="CAMERA"))] == ["two camera"]
    assert len(src.read(LogFilter())) == 3


def _sync(unsent: int = 0) -> SyncState:
    return SyncState(unsent, 0, unsent, None, None, None, None)


def test_diagnostics_answers_in_plain_language(tmp_path: Path) -> None:
    base = {
        "under_voltage": False,
        "interfaces": [Interface("eth0", True, True, ("10.1.1.5/24",), False)],
        "gateway": "192.168.1.1",
        "server_configured": True,
        "probe": [],
        "clock_state": ClockState.SYNCED,
        "disk": None,
        "min_free_mb": 64,
        "parts": [],
        "sync": _sync(),
        "integrity_ok": True,
        "integrity_message": "ok",
        "doctor": [],
    }
    answers = {a.step: a for a in diagnose(Facts(**base))}  # type: ignore[arg-type]
    assert answers["ip"].status == "fail" and "subnet yang salah" in answers["ip"].say_id
    assert answers["disk"].status == "fail"
    unplugged = {**base, "interfaces": [Interface("eth0", False, False, (), False)], "under_voltage": True}
    answers = {a.step: a for a in diagnose(Facts(**unplugged))}  # type: ignore[arg-type]
    assert "Kabel jaringan tidak tersambung" in answers["cable"].say_id
    assert "adaptor" in answers["power"].todo_id


def _tls_server(tmp_path: Path, clock: FakeClock) -> tuple[socket.socket, Path, threading.Event]:
    files = ensure_certificate(tmp_path / "srv", now=clock.now().replace(year=2026), hostnames=["central.test"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    return listener, files.cert, stop


def test_server_probe_shows_each_step(tmp_path: Path) -> None:
    listener, ca, stop = _tls_server(tmp_path, FakeClock(datetime.now(UTC)))
    port = listener.getsockname()[1]
    resolve = {"central.test": ["127.0.0.1"]}
    try:
        steps = ServerProbe(
            f"https://central.test:{port}",
            resolve=lambda h, p: resolve[h],
            ca_file=ca,
            authenticate=lambda: (True, "device accepted"),
        ).run()
        assert [(s.step, s.ok) for s in steps] == [("dns", True), ("tcp", True), ("tls", True), ("auth", True)]
        untrusted = ServerProbe(f"https://central.test:{port}", resolve=lambda h, p: resolve[h]).run()
        assert [(s.step, s.ok) for s in untrusted] == [("dns", True), ("tcp", True), ("tls", False), ("auth", None)]
        with socket.socket() as unused:  # a port nobody listens on
            unused.bind(("127.0.0.1", 0))
            free_port = unused.getsockname()[1]
        closed = ServerProbe(f"https://central.test:{free_port}", resolve=lambda h, p: resolve[h], timeout_s=1).run()
        assert [(s.step, s.ok) for s in closed][:2] == [("dns", True), ("tcp", False)]

        def no_dns(host: str, port: int) -> list[str]:
            raise OSError("Name or service not known")

        assert ServerProbe("https://nowhere.test", resolve=no_dns).run()[0].ok is False
    finally:
        stop.set()
        listener.close()
