""" "Belum terkirim" is one figure: after a real sync with the reference server, the kiosk header,
the dashboard, ``sync status`` and ``doctor`` all say what the server says it holds (issue 23.1:
the roster's cursor, a version number, used to hold the header's count up)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sync_support import unit_runtime

from core.store.punches import PunchRequest
from core.store.sync_state import get_cursor
from kiosk.checks.sync import sync as sync_check
from kiosk.demo.server import ServerProcess
from kiosk.web.status import sync_state
from sync.health import unsent
from sync.provision import provision
from sync.service import run_once
from sync.state import ROSTER_CURSOR


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def test_unsent_count_matches_the_server_after_a_sync(server: ServerProcess, tmp_path: Path) -> None:
    admin = server.admin()
    admin.roster.add_unit("DISKOMINFO", "Dinas Komunikasi dan Informatika")
    admin.roster.add_employee("198503302010011001", "Budi Santoso", unit_code="DISKOMINFO")
    admin.roster.publish()
    runtime = unit_runtime(tmp_path / "unit")
    provision(runtime, server.url, admin.issue_token("DISKOMINFO"), server.ca_file)
    store = runtime.store()
    for _ in range(4):
        store.record(PunchRequest("198503302010011001", "card"))
    assert run_once(runtime)["ok"]
    conn = store.conn
    # The roster's cursor is a version (1), far below the punches' acknowledged sequence (4).
    assert get_cursor(conn, ROSTER_CURSOR) < store.last_seq()
    held = server.admin().devices()[0]["acked_seq"]
    assert held == store.last_seq() == 4
    now = runtime.clock.now()
    assert unsent(conn, now).count == 0
    assert sync_state(conn, now).unsent == 0  # kiosk header and dashboard
    finding = next(f for f in sync_check(runtime) if f.part == "sync queue")
    assert finding.detail.startswith("0 punches unsent")
    # One more punch, not yet delivered: every view says one.
    store.record(PunchRequest("198503302010011001", "card"))
    assert unsent(conn, now).count == sync_state(conn, now).unsent == 1
