"""The kiosk screen shows the clock's state, and says the clock is wrong the moment an event pack
issued later than it is loaded (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from core.clock import ClockState, FakeClock
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.schedule.event_mode import EventBook
from core.schedule.events import sign_pack, verify_pack
from core.schedule.local_packs import sample_pack, sample_people
from core.store.db import open_database
from core.timekeeping import FixedTimeFacts, TimeKeeper
from kiosk.bench.event import server_public_hex
from kiosk.web.app import create_screen_app
from kiosk.web.context import WebContext
from kiosk.web.ports import Services

NOW = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


def screen_status(tmp_path: Path, clock: FakeClock, keeper: TimeKeeper) -> dict[str, object]:
    config = KioskConfig()
    config.unit.hardware = "sim"
    ctx = WebContext(
        config=config,
        connect=lambda: open_database(tmp_path / "presensi.db"),
        services=Services(),
        clock=clock,
        data_dir=tmp_path,
        clock_state=keeper,
        watch_punches=False,
    )
    with TestClient(create_screen_app(ctx), base_url="http://127.0.0.1") as client:
        response = client.get("/api/screen/status")
    assert response.status_code == 200
    return dict(response.json())


def test_the_screen_says_the_clock_is_wrong_once_a_later_pack_is_loaded(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    conn = open_database(tmp_path / "presensi.db")
    keeper = TimeKeeper(conn, clock, DeviceIdentity.generate(), facts=FixedTimeFacts(ClockState.SYNCED))
    before = screen_status(tmp_path, clock, keeper)
    assert (before["clock_state"], before["clock_wrong"]) == ("synced", False)

    # A pack issued a day after this unit's clock reads, verified and saved as `presensi event load` does.
    key = Ed25519PrivateKey.generate()
    envelope = sign_pack(sample_pack(sample_people(12), start=NOW + timedelta(days=3)), key, signer="server")
    pack = verify_pack(envelope, server_public_hex(key))
    EventBook(conn, clock).save(pack, envelope, activate=True)

    after = screen_status(tmp_path, clock, keeper)
    assert (after["clock_state"], after["clock_wrong"]) == ("unsynced", True)
    assert "paket acara APEL-SAMPLE" in str(after["clock_detail"])


def test_an_rtc_clock_is_shown_as_such(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    keeper = TimeKeeper(open_database(tmp_path / "presensi.db"), clock, None, facts=FixedTimeFacts(ClockState.RTC))
    status = screen_status(tmp_path, clock, keeper)
    assert (status["clock_state"], status["clock_wrong"]) == ("rtc", False) and "RTC" in str(status["clock_detail"])
