"""PC/SC on the real stack: Debian's pcscd with the vsmartcard vpcd driver, and a virtual
contactless card (kiosk.cards.vpcd_card) that speaks vpcd's socket protocol and answers FF CA.

The test starts its own pcscd in the foreground with a private reader.conf.d (the vpcd port is
chosen free), so it never touches a system pcscd; it skips, saying why, when pcscd or the vpcd
driver is missing or another pcscd is running. A file lock keeps two test runs on one machine
from starting two daemons (pcscd's socket path is fixed).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core import health
from core.clock import FakeClock
from core.config import CardsConfig
from core.errors import DeviceError
from core.store.punches import PunchStore
from kiosk.cards.pcsc import PcscReader
from kiosk.cards.service import CardAttempt, CardService, Outcome
from kiosk.cards.vpcd_card import CONTACTLESS_ATR, VirtualContactlessCard, answer_apdu

WAIT_S = 15.0
PCSCD_PID = Path("/run/pcscd/pcscd.pid")
LOCK = Path("/tmp/presensi-test-pcscd.lock")


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``predicate`` (a daemon coming up has no event to wait on) until true, or fail saying what."""
    pause = threading.Event()
    for _ in range(int(timeout_s / 0.02)):
        if predicate():
            return
        pause.wait(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def _free_port_pair() -> int:
    """A port P with P+1 also free (vpcd opens one listening slot on each)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return int(port)
    raise RuntimeError("no two consecutive free ports")


def _running_pcscd() -> int | None:
    try:
        pid = int(PCSCD_PID.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


class Pcscd:
    """pcscd in the foreground with our own vpcd configuration."""

    def __init__(self, conf_dir: Path, log_path: Path, port: int) -> None:
        self.conf_dir = conf_dir
        self.log_path = log_path
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.reader = "Virtual PCD 00 00"

    def start(self) -> None:
        assert self.proc is None
        with self.log_path.open("ab") as log:
            debug = ["--debug", "--apdu"] if os.environ.get("PRESENSI_PCSCD_DEBUG") else []
            self.proc = subprocess.Popen(["pcscd", "--foreground", *debug, "-c", str(self.conf_dir)], stdout=log, stderr=log)
        wait_until(self._reader_listed, WAIT_S, f"pcscd to list the vpcd reader (log: {self.log_path})")

    def _reader_listed(self) -> bool:
        from smartcard import scard

        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"pcscd exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            return False
        try:
            hresult, readers = scard.SCardListReaders(context, [])
            return hresult == scard.SCARD_S_SUCCESS and self.reader in readers
        finally:
            scard.SCardReleaseContext(context)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    if shutil.which("pcscd") is None:
        pytest.skip("pcscd is not installed (apt-get install pcscd; see scripts/apt-packages.txt)")
    drivers = glob.glob("/usr/lib/pcsc/drivers/serial/libifdvpcd.so*")
    if not drivers:
        pytest.skip("the vpcd driver is missing (apt-get install vsmartcard-vpcd)")
    LOCK.touch(exist_ok=True)
    with LOCK.open("r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run of these tests finishes first
        other = _running_pcscd()
        if other is not None:
            pytest.skip(f"another pcscd (pid {other}) is running; stop it (systemctl stop pcscd.socket pcscd) to run this test")
        if not os.access(PCSCD_PID.parent if PCSCD_PID.parent.exists() else PCSCD_PID.parent.parent, os.W_OK):
            pytest.skip("pcscd needs to write /run/pcscd: run as root (or in the CI container)")
        root = tmp_path_factory.mktemp("pcscd")
        conf = root / "reader.conf.d"
        conf.mkdir()
        port = _free_port_pair()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x{port:04X}\n'
            f"LIBPATH      {sorted(drivers)[0]}\nCHANNELID    0x{port:04X}\n"
        )
        daemon = Pcscd(conf, root / "pcscd.log", port)
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()


def add_employee(store: PunchStore, emp_id: str, name: str, uid: str) -> None:
    store.conn.execute(
        "INSERT INTO employees (id, name, updated_at) VALUES (?, ?, '2026-11-01T00:00:00Z')",
        (emp_id, name),
    )
    store.conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES (?, ?, '2026-11-01T00:00:00Z')", (uid, emp_id))


@pytest.fixture
def running(pcscd: Pcscd, store: PunchStore, clock: FakeClock) -> Iterator[tuple[CardService, queue.Queue[CardAttempt]]]:
    add_employee(store, "198001012005011001", "Budi Santoso", "04A1B2C3D4E5F6")
    config = CardsConfig(reader="pcsc", device=pcscd.reader, reconnect_initial_s=0.05, reconnect_max_s=0.5)
    service = CardService(PcscReader(pcscd.reader, clock=clock), store, config=config, clock=clock)
    decisions: queue.Queue[CardAttempt] = queue.Queue()
    service.subscribe(decisions.put)
    service.start()
    assert service.wait_connected(WAIT_S)
    yield service, decisions
    service.stop()


def test_answer_apdu_follows_the_pcsc_get_data_rules() -> None:
    uid = bytes.fromhex("04A1B2C3")
    assert answer_apdu(uid, bytes.fromhex("FFCA000000")) == uid + b"\x90\x00"
    assert answer_apdu(uid, bytes.fromhex("FFCA000004")) == uid + b"\x90\x00"
    assert answer_apdu(uid, bytes.fromhex("FFCA000002")) == b"\x6c\x04"
    assert answer_apdu(uid, bytes.fromhex("FFCA010000")) == b"\x6b\x00"
    assert answer_apdu(uid, bytes.fromhex("00A4040000")) == b"\x6e\x00"
    assert answer_apdu(uid, bytes.fromhex("FFB0000010")) == b"\x6d\x00"
    assert answer_apdu(uid, b"\xff") == b"\x67\x00"


def test_insert_punches_remove_and_unknown_card(
    pcscd: Pcscd, running: tuple[CardService, queue.Queue[CardAttempt]], store: PunchStore
) -> None:
    _service, decisions = running
    card = VirtualContactlessCard("04A1B2C3D4E5F6", port=pcscd.port).insert()
    try:
        decision = decisions.get(timeout=WAIT_S)
        assert decision.outcome is Outcome.ACCEPTED, decision
        assert decision.employee_name == "Budi Santoso"
        assert decision.punch is not None and decision.punch.method == "card"
        assert store.count() == 1
        assert bytes.fromhex("FFCA000000") in card.apdus  # the UID came from the card, over the real stack
    finally:
        card.remove()
    stranger = VirtualContactlessCard("04CAFEBABE0001", port=pcscd.port).insert()
    try:
        refused = decisions.get(timeout=WAIT_S)
    finally:
        stranger.remove()
    assert refused.outcome is Outcome.REJECTED and refused.text == "Kartu tidak terdaftar"
    assert store.count() == 1
    assert decisions.empty()


def test_card_lying_on_the_reader_at_start_counts_as_inserted(pcscd: Pcscd, clock: FakeClock) -> None:
    with VirtualContactlessCard("04112233", port=pcscd.port) as card:
        wait_until(lambda: len(card.apdus) > 0 or card.disconnected.is_set() or _powered(pcscd), WAIT_S, "pcscd to see the card")
        with PcscReader(pcscd.reader, clock=clock) as reader:
            first = next((event for event in (reader.read(0.5) for _ in range(20)) if event is not None), None)
            again = reader.read(0.2)
        assert first is not None and first.uid == "04112233"
        assert again is None  # one event per presentation, not one per poll
        assert card.inserted
    assert "closed" in repr(reader)


def _powered(pcscd: Pcscd) -> bool:
    """Whether pcscd reports a card in the vpcd slot (it has powered it and read its ATR)."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    try:
        hresult, states = scard.SCardGetStatusChange(context, 0, [(pcscd.reader, scard.SCARD_STATE_UNAWARE)])
        return hresult == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


def test_reader_filter_that_matches_nothing_says_what_is_connected(pcscd: Pcscd) -> None:
    with pytest.raises(DeviceError, match="Virtual PCD 00 00"):
        PcscReader("ACR122U").open()


def test_pcscd_gone_and_back_the_reader_recovers_and_health_reports_the_gap(
    pcscd: Pcscd, running: tuple[CardService, queue.Queue[CardAttempt]], store: PunchStore, clock: FakeClock
) -> None:
    service, decisions = running
    pcscd.stop()
    assert service.wait_disconnected(WAIT_S)
    down = next(p for p in health.read_all(store.conn) if p.part == "card_reader")
    assert down.status is health.Health.FAIL
    clock.advance(7.0)
    pcscd.start()
    assert service.wait_connected(WAIT_S)
    back = next(p for p in health.read_all(store.conn) if p.part == "card_reader")
    assert back.status is health.Health.OK
    assert back.metrics["gaps"] == 1 and back.metrics["last_gap_s"] == pytest.approx(7.0)
    with VirtualContactlessCard("04A1B2C3D4E5F6", port=pcscd.port):
        decision = decisions.get(timeout=WAIT_S)
    assert decision.outcome is Outcome.ACCEPTED
    assert store.count() == 1


def test_pcscd_absent_is_a_device_error_that_says_what_to_do(pcscd: Pcscd) -> None:
    pcscd.stop()
    try:
        with pytest.raises(DeviceError, match="pcscd"):
            PcscReader().open()
    finally:
        with contextlib.suppress(AssertionError):
            pcscd.start()
    assert pcscd.proc is not None


def test_atr_is_the_pcsc_contactless_one() -> None:
    assert CONTACTLESS_ATR[0] == 0x3B and len(CONTACTLESS_ATR) == 20
