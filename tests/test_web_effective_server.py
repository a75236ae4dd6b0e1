"""The dashboard and diagnostics read the server the sync service uses (issue 23.3): a unit
provisioned with ``presensi provision`` has no ``sync.server_url`` in its configuration, and
the page said "no server configured" while the sync service two lines below was synced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sync_support import unit_runtime
from helpers.web_app import client_for, fake_host, login, with_accounts

from kiosk.demo.server import ServerProcess
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.ports import Services, TapCapture
from sync.provision import provision
from sync.service import run_once


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def test_a_provisioned_unit_is_probed_at_its_server(server: ServerProcess, tmp_path: Path) -> None:
    runtime = unit_runtime(tmp_path / "unit")
    provision(runtime, server.url, server.admin().issue_token(), server.ca_file)
    assert run_once(runtime)["ok"]
    assert runtime.config.sync.server_url == ""  # only provisioning knows the server
    runtime.config.web.log_file = tmp_path / "presensi.log"
    (tmp_path / "presensi.log").write_text("")
    ctx = with_accounts(
        WebContext(
            config=runtime.config,
            connect=runtime.connect,
            services=Services(cards=TapCapture(), system=SimSystemActions()),
            clock=runtime.clock,
            data_dir=runtime.data_dir,
            host=fake_host(tmp_path / "host"),
            watch_punches=False,
        )
    )
    try:
        assert ctx.server_endpoint()[0] == server.url
        client = client_for(create_maintenance_app(ctx))
        csrf = login(client, "teknisi")
        answers = client.post("/api/diagnostics", headers={"x-csrf-token": csrf}).json()["answers"]
        server_answer = next(a for a in answers if a["step"] == "server")
        assert server_answer["status"] == "ok", server_answer
        assert "belum" not in server_answer["say"]
    finally:
        ctx.db.close_all()
