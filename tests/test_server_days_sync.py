"""Days kept current as units sync: an upload through the real protocol is followed by the day
book's refresh (after the answer is sent), so the punch appears in its attendance day."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sync_support import unit_runtime

from core.clock import SystemClock, local_time
from core.store.punches import PunchRequest, parse_instant
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.server.daybook import DayBook
from sync.service import run_once

NIP = "198503302010011001"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        admin = running.admin()
        admin.roster.add_unit("DISKOMINFO", "Dinas Kominfo")
        admin.roster.add_employee(NIP, "Budi", unit_code="DISKOMINFO", work_code="JEMBER-5H")
        admin.roster.publish()
        admin.storage.close()
        yield running


def test_an_uploaded_punch_reaches_its_day(server: ServerProcess, tmp_path: Path) -> None:
    runtime = unit_runtime(tmp_path / "unit")
    provision(runtime, server.url, server.admin().issue_token("DISKOMINFO"), server.ca_file)
    punch = runtime.store().record(PunchRequest(NIP, "card"))
    assert run_once(runtime)["ok"]
    admin = server.admin()
    days = DayBook(admin.storage, SystemClock())
    day = local_time(parse_instant(punch.instant), "Asia/Jakarta").date()
    # The refresh runs in the server process after the answer (a background task): the only
    # event this side can see is its write, so read until it is there. The bound only ends a
    # hung server; a slow machine is slower, never wrong.
    deadline = time.monotonic() + 300
    while (found := days.day(NIP, day)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found is not None, "the day was not computed within 5 minutes of the upload"
    assert [p["id"] for p in found["body"]["punches"]] == [punch.id]
    assert found["body"]["punches"][0]["device_id"] == runtime.identity().device_id
    assert days.versions(NIP, day)[0]["reason"].startswith("presensi diterima")
    admin.storage.close()
