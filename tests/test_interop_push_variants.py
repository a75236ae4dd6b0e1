"""The unit against PUSH (iclock) servers as they are in the field (issue 20.1–20.2, 22.1, 22.9).

The server here is written from the public protocol description (PROTOCOLS.md §4), not from the
unit's code: a handshake answering its options as text lines, ``POST /iclock/cdata`` storing
ATTLOG lines, ``GET /iclock/getrequest`` handing out commands. Its quirks are the real ones:
``ATTLOGStamp=9999`` hard-coded ("only new records"), ``None``, the key spelled ``Stamp`` or
``ATTLOGSTAMP``, a 200 with an empty body, and command lines a parser must survive.
"""

from __future__ import annotations

import random
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from core.clock import FakeClock, FixedClockState
from core.config import AdmsTargetConfig
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from core.store.roster import get_employee, upsert_employee
from sync.server.certs import demo_pki
from sync.targets.adms import parse_stamp
from sync.targets.base import TargetRunner, TargetUnavailable
from sync.targets.factory import build_target


class Iclock:
    """A PUSH server: ``stamp_line`` is what its handshake says about the stamp; ``reply`` what an
    upload is answered with; ``lose`` drops the next replies after storing."""

    def __init__(self, stamp_line: str, reply: str | None) -> None:
        self.stamp_line, self.reply = stamp_line, reply
        self.lines: list[str] = []
        self.commands: list[str] = []
        self.results: list[str] = []
        self.lose = 0
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, body: str, status: int = 200) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/iclock/cdata":
                    self._send(f"GET OPTION FROM: PK-PUSH\n{server.stamp_line}\nOPERLOGStamp=9999\nDelay=10\nRealtime=1\n")
                elif path == "/iclock/getrequest":
                    with server.lock:
                        text, server.commands = "\n".join(server.commands), []
                    self._send(text + "\n" if text else "OK")
                else:
                    self._send("", 404)

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                if url.path == "/iclock/devicecmd":
                    server.results += [line for line in body.splitlines() if line.startswith("ID=")]
                    self._send("OK")
                    return
                if parse_qs(url.query).get("table") != ["ATTLOG"]:
                    self._send("OK")
                    return
                rows = [line for line in body.splitlines() if line.strip()]
                with server.lock:
                    server.lines += rows
                    if server.lose:
                        server.lose -= 1
                        self.connection.close()  # stored, but the reply never arrives
                        return
                self._send(f"OK:{len(rows)}" if server.reply is None else server.reply)

        return Handler


@pytest.fixture
def pki(tmp_path: Path):  # type: ignore[no-untyped-def]
    return demo_pki(tmp_path / "pki")


def serve(iclock: Iclock, pki) -> Iterator[str]:  # type: ignore[no-untyped-def]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), iclock.handler())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.cert), str(pki.key))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def unit(tmp_path: Path) -> tuple[PunchStore, FakeClock]:
    clock = FakeClock(datetime(2026, 11, 23, 0, 1, tzinfo=UTC))
    return PunchStore(open_database(tmp_path / "presensi.db"), DeviceIdentity.generate(), clock, FixedClockState()), clock


def runner(store: PunchStore, clock: FakeClock, url: str, ca: Path, **options: object) -> TargetRunner:
    config = AdmsTargetConfig(name="lama", url=url, serial_number="PK-PUSH", ca_file=ca, **options)  # type: ignore[arg-type]
    return TargetRunner(store, build_target(config, store, clock, zone="Asia/Jakarta"), clock, batch=7, rng=random.Random(1))


def record(store: PunchStore, clock: FakeClock, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        clock.advance(60)
        store.record(PunchRequest(f"{199000000000000000 + i}", "card", kind="masuk"))


def rounds(run: TargetRunner, times: int) -> None:
    """Several sync rounds, each with a fresh handshake as after a restart of the poll loop."""
    for _ in range(times):
        try:
            run.target.handshake()  # type: ignore[attr-defined]
            run.run_once()
        except TargetUnavailable:
            continue


@pytest.mark.parametrize(
    ("stamp_line", "reply"),
    [
        ("ATTLOGStamp=9999", None),
        ("ATTLOGStamp=None", None),
        ("Stamp=0", None),
        ("ATTLOGSTAMP=0", None),
        ("ATTLOGStamp=0", ""),  # a 200 with an empty body
    ],
    ids=["stamp-9999", "stamp-None", "key-Stamp", "key-ATTLOGSTAMP", "empty-200"],
)
def test_every_punch_arrives_once(tmp_path: Path, pki, stamp_line: str, reply: str | None) -> None:  # type: ignore[no-untyped-def]
    iclock = Iclock(stamp_line, reply)
    store, clock = unit(tmp_path)
    for url in serve(iclock, pki):
        run = runner(store, clock, url, pki.ca_cert)
        record(store, clock, 25)
        rounds(run, 3)
        record(store, clock, 6, start=25)  # 26–31 after the first rounds, as in the report
        rounds(run, 3)
    pins = [line.split("\t")[0] for line in iclock.lines]
    assert len(pins) == 31 and len(set(pins)) == 31, f"{len(pins)} lines, {len(set(pins))} distinct"
    assert run.cursor() == 31


def test_a_lost_reply_repeats_nothing_when_the_server_says_it_stored(tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    iclock = Iclock("ATTLOGStamp=0", None)
    store, clock = unit(tmp_path)
    for url in serve(iclock, pki):
        run = runner(store, clock, url, pki.ca_cert)
        record(store, clock, 7)
        iclock.lose = 1
        with pytest.raises(TargetUnavailable):
            run.run_once()
        iclock.stamp_line = "ATTLOGStamp=7"  # the server stored the upload whose reply was lost
        rounds(run, 2)
    assert len(iclock.lines) == 7 and run.cursor() == 7


def test_the_stamp_is_read_as_servers_write_it() -> None:
    assert parse_stamp({"ATTLOGStamp": "27"}) == 27
    assert parse_stamp({"ATTLOGSTAMP": "27"}) == 27
    assert parse_stamp({"Stamp": "27"}) == 27
    assert parse_stamp({"ATTLOGStamp": "None"}) is None
    assert parse_stamp({"ATTLOGStamp": "²"}) is None  # str.isdigit() says yes; int() says no
    assert parse_stamp({}) is None


def test_a_servers_words_never_stop_the_target(tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    iclock = Iclock("ATTLOGStamp=²", None)
    iclock.commands = ["C:7", "C::INFO", "garbage", "C:8:INFO"]
    store, clock = unit(tmp_path)
    for url in serve(iclock, pki):
        run = runner(store, clock, url, pki.ca_cert)
        record(store, clock, 3)
        run.run_once()
        run.target.poll()  # type: ignore[attr-defined]
    assert iclock.results == ["ID=8&Return=0&CMD=INFO"]
    assert len(iclock.lines) == 3


CENTRAL = "198503302010011001"


def test_user_commands_are_off_by_default_and_never_touch_the_central_roster(tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    store, clock = unit(tmp_path)
    upsert_employee(
        store.conn, CENTRAL, "Budi Santoso", now=clock.now(), unit_code="DISKOMINFO", work_code="5HARI", source="roster"
    )
    store.conn.execute(
        "INSERT INTO cards (uid, employee_id, source, created_at) VALUES ('0A1B2C3D', ?, 'roster', 'x')", (CENTRAL,)
    )
    hostile = [
        f"C:1:DATA UPDATE USERINFO PIN={CENTRAL}\tName=Ghost\tCard=[0A1B2C3D]",
        "C:2:DATA UPDATE USERINFO PIN=199909092020121001\tName=Ghost\tCard=[0A1B2C3D]",
        f"C:3:DATA DELETE USERINFO PIN={CENTRAL}",
    ]
    iclock = Iclock("ATTLOGStamp=0", None)
    for url in serve(iclock, pki):
        iclock.commands = list(hostile)
        runner(store, clock, url, pki.ca_cert).target.poll()  # type: ignore[attr-defined]
        off = list(iclock.results)
        iclock.results.clear()
        iclock.commands = [
            *hostile,
            "C:4:DATA UPDATE USERINFO PIN=199909092020121002\tName=Dewi\nPIN=199909092020121003\tName=Rina",
        ]
        runner(store, clock, url, pki.ca_cert, apply_user_commands=True).target.poll()  # type: ignore[attr-defined]
        on = list(iclock.results)
    assert all("Return=-1002" in r for r in off), off
    assert [r.split("&")[1] for r in on] == ["Return=-1002", "Return=-1002", "Return=-1002", "Return=0"], on
    budi = get_employee(store.conn, CENTRAL)
    assert (
        budi is not None
        and budi.name == "Budi Santoso"
        and budi.active
        and (budi.unit_code, budi.work_code) == ("DISKOMINFO", "5HARI")
    )
    assert store.conn.execute("SELECT employee_id FROM cards WHERE uid = '0A1B2C3D'").fetchone()[0] == CENTRAL
    assert get_employee(store.conn, "199909092020121001") is None  # the card was not moved, nothing made
    assert {"199909092020121002", "199909092020121003"} <= {
        r[0] for r in store.conn.execute("SELECT id FROM employees WHERE source = 'adms'")
    }  # every record of a multi-record command


def test_user_commands_need_https() -> None:
    from sync.targets.adms import AdmsTarget

    target = AdmsTarget("lama", "http://adms.local", "SN1", zone="Asia/Jakarta", allow_plain_http=True, user_commands=True)
    result = target.run_command("1", "DATA UPDATE USERINFO PIN=1\tName=X")
    assert result.code == -1002
